import pytest

from dagruns.sdk import DAG, AirflowException, SerializedOperator


def test_it_carries_class_level_settings_as_instance_attributes():
    with DAG("d"):
        op = SerializedOperator(
            task_id="t",
            task_type="SqlOperator",
            operator_module="plugins.sql",
            ui_color="#123",
            template_fields=["sql"],
            template_ext=[".sql"],
            template_values={"sql": "select 1", "task_id": "shadow"},
            inherits_from_empty_operator=True,
            retries=4,
        )
    assert (op.task_type, op.operator_module) == ("SqlOperator", "plugins.sql")
    assert op.template_fields == ("sql",) and op.template_ext == (".sql",)
    assert op.sql == "select 1"
    assert op.task_id == "t"  # a template field may not shadow a task attribute
    assert op.inherits_from_empty_operator and op.ui_color == "#123"
    assert op.retries == 4


def test_it_cannot_execute():
    op = SerializedOperator(task_id="t", task_type="X", operator_module="m")
    with pytest.raises(AirflowException, match="re-imports the DAG file"):
        op.execute({})
