from dagruns.sdk import TriggerRule


def test_it_knows_all_airflow_3_trigger_rules():
    assert TriggerRule.all_triggers() == {
        "all_success",
        "all_failed",
        "all_done",
        "all_done_min_one_success",
        "all_done_setup_success",
        "all_skipped",
        "one_success",
        "one_failed",
        "one_done",
        "none_failed",
        "none_failed_min_one_success",
        "none_skipped",
        "always",
    }


def test_it_accepts_members_and_plain_strings():
    assert TriggerRule.is_valid(TriggerRule.ONE_FAILED)
    assert TriggerRule.is_valid("one_failed")


def test_it_rejects_unknown_rules():
    assert not TriggerRule.is_valid("dummy")
    assert not TriggerRule.is_valid(None)


def test_members_compare_and_print_as_their_value():
    assert TriggerRule.ALL_DONE == "all_done"
    assert str(TriggerRule.ALL_DONE) == "all_done"
