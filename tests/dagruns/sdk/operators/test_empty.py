from dagruns.sdk import EmptyOperator


def test_it_does_nothing_and_is_marked_for_the_scheduler():
    task = EmptyOperator(task_id="t")
    assert task.execute({}) is None
    assert task.inherits_from_empty_operator is True
    assert task.ui_color == "#e8f7e4"
