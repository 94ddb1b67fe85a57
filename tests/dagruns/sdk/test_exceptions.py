from dagruns.sdk import (
    AirflowDagCycleException,
    AirflowDagDuplicatedIdException,
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    AirflowTaskTimeout,
    DagDefinitionError,
    DuplicateTaskIdFound,
    ParamValidationError,
)


def test_definition_errors_share_one_base_the_processor_can_catch():
    for error in (DuplicateTaskIdFound, AirflowDagCycleException, AirflowDagDuplicatedIdException):
        assert issubclass(error, DagDefinitionError)
    assert issubclass(DagDefinitionError, AirflowException)
    assert issubclass(DagDefinitionError, ValueError)


def test_task_signals_are_airflow_exceptions():
    assert issubclass(AirflowSkipException, AirflowException)
    assert issubclass(AirflowFailException, AirflowException)


def test_task_timeout_is_not_caught_by_except_exception():
    assert issubclass(AirflowTaskTimeout, BaseException)
    assert not issubclass(AirflowTaskTimeout, Exception)


def test_param_validation_error_carries_every_bad_field():
    error = ParamValidationError("bad", {"a": "too small", "b": "missing"})
    assert error.errors == {"a": "too small", "b": "missing"}
    assert isinstance(error, AirflowException)
    assert not isinstance(error, DagDefinitionError)
