"""The task process's answer to the SDK's runtime seam (dagruns/sdk/runtime.py).

`Variable.get/set/delete`, `Connection.get`, `BaseHook` and `context["var"]`/`["conn"]` in a
running task all come here; every call is a request to the supervisor (comms.py), which makes
the Execution API call and registers fetched secrets with its log masker before it answers.
HTTP statuses become the SDK's errors: 404 is "not found" (VariableNotFound,
AirflowNotFoundException), anything else an AirflowException naming the call and the reason.
"""

from __future__ import annotations

from typing import Any, Protocol

from dagruns.sdk.exceptions import (
    AirflowException,
    AirflowNotFoundException,
    DagRunAlreadyExists,
    VariableNotFound,
)
from scheduler.runner.comms import RequestFailed


class Comms(Protocol):
    def request(self, op: str, **arguments: Any) -> Any: ...


class CommsRuntime:
    """A TaskRuntime over the control channel to the supervisor."""

    def __init__(self, comms: Comms) -> None:
        self._comms = comms

    def get_variable(self, key: str) -> str:
        try:
            return self._comms.request("get_variable", key=key)
        except RequestFailed as exc:
            if exc.status == 404:
                raise VariableNotFound(key) from None
            raise AirflowException(f"Could not read variable {key!r}: {exc.message}") from None

    def set_variable(self, key: str, value: str, description: str | None) -> None:
        try:
            self._comms.request("set_variable", key=key, value=value, description=description)
        except RequestFailed as exc:
            raise AirflowException(f"Could not set variable {key!r}: {exc.message}") from None

    def delete_variable(self, key: str) -> None:
        try:
            self._comms.request("delete_variable", key=key)
        except RequestFailed as exc:
            raise AirflowException(f"Could not delete variable {key!r}: {exc.message}") from None

    def get_connection(self, conn_id: str) -> dict[str, Any]:
        try:
            return self._comms.request("get_connection", conn_id=conn_id)
        except RequestFailed as exc:
            if exc.status == 404:
                raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn't defined") from None
            raise AirflowException(
                f"Could not read connection {conn_id!r}: {exc.message}"
            ) from None

    def mask(self, *values: Any) -> None:
        self._comms.request("mask", values=[v for v in values if v not in (None, "")])

    # -- @asset functions' inlet parameters -------------------------------------------------

    def get_asset_by_name(self, name: str) -> dict[str, Any]:
        try:
            return self._comms.request("get_asset_by_name", name=name)
        except RequestFailed as exc:
            if exc.status == 404:
                raise AirflowNotFoundException(f"No asset named {name!r}") from None
            raise AirflowException(f"Could not read asset {name!r}: {exc.message}") from None

    # -- TriggerDagRunOperator -------------------------------------------------------------

    def trigger_dag_run(
        self,
        dag_id: str,
        run_id: str,
        *,
        logical_date: str | None,
        conf: dict[str, Any] | None,
        reset_dag_run: bool,
    ) -> None:
        try:
            self._comms.request(
                "trigger_dag_run",
                dag_id=dag_id,
                run_id=run_id,
                logical_date=logical_date,
                conf=conf,
                reset_dag_run=reset_dag_run,
            )
        except RequestFailed as exc:
            if exc.status == 409:
                raise DagRunAlreadyExists(dag_id, run_id) from None
            raise AirflowException(
                f"Could not trigger DAG {dag_id!r} (run {run_id!r}): {exc.message}"
            ) from None

    def get_dag_run_state(self, dag_id: str, run_id: str) -> str:
        try:
            return self._comms.request("get_dag_run_state", dag_id=dag_id, run_id=run_id)
        except RequestFailed as exc:
            raise AirflowException(
                f"Could not read the state of run {run_id!r} of DAG {dag_id!r}: {exc.message}"
            ) from None
