from dagruns.sdk import DAG, EmptyOperator, ShortCircuitOperator


def build(condition, ignore=True):
    with DAG("d"):
        check = ShortCircuitOperator(
            task_id="check",
            python_callable=lambda: condition,
            ignore_downstream_trigger_rules=ignore,
        )
        near = EmptyOperator(task_id="near")
        far = EmptyOperator(task_id="far")
        cleanup = EmptyOperator(task_id="cleanup").as_teardown()
        check >> near >> far
        check >> cleanup
    return check


def test_it_returns_the_condition():
    assert build(True).execute({}) is True
    assert build(0).execute({}) == 0


def test_by_default_everything_downstream_is_skipped_except_teardowns():
    assert build(False).tasks_to_skip() == {"near", "far"}


def test_respecting_trigger_rules_skips_only_direct_downstream():
    check = build(False, ignore=False)
    assert check.ignore_downstream_trigger_rules is False
    assert check.tasks_to_skip() == {"near"}


def test_it_is_flagged_for_the_scheduler():
    check = build(True)
    assert check.is_short_circuit and check.ignore_downstream_trigger_rules
