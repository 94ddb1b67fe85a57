"""Testing a connection: its hook's `test_connection()`, run in this process (the API server),
as Airflow 3.0's `POST /api/v2/connections/test` does. Used alike by the REST API and the
connection admin's Test button.

Gated by ORCH_TEST_CONNECTION (Airflow's `[core] test_connection`, Disabled by default): a test
makes the API server reach whatever a connection names. The connection tested is the stored
one (if any) with the submitted fields over it: a password left empty keeps the stored one and
`***` in the extra keeps the stored value, as saving the form would, so a form can be tested
before it is saved without retyping secrets. Nothing is saved; the test is audited (which
connection, whether it worked), never its values.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from dagruns.actions import connections as conn_actions
from dagruns.actions.audit import Actor, record
from dagruns.models import Connection
from dagruns.sdk import runtime
from dagruns.sdk.connection import Connection as SdkConnection
from dagruns.sdk.exceptions import AirflowNotFoundException

# Airflow's words, for its UI and clients that match on them.
TESTING_DISABLED = (
    "Testing connections is disabled in Airflow configuration. "
    "Contact your deployment admin to enable it."
)


class ConnectionTestingDisabled(PermissionError):
    """ORCH_TEST_CONNECTION is not `Enabled` (REST: 403 with Airflow's message)."""

    def __init__(self) -> None:
        super().__init__(TESTING_DISABLED)


def testing_mode() -> str:
    """`Disabled`, `Enabled` or `Hidden` (ORCH_TEST_CONNECTION)."""
    return settings.ORCH.test_connection


def check_testing_enabled() -> None:
    if testing_mode() != "Enabled":
        raise ConnectionTestingDisabled()


class _OneConnection:
    """A task runtime that serves exactly the connection under test to its hook."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields

    def get_connection(self, conn_id: str) -> dict[str, Any]:
        if conn_id != self.fields["conn_id"]:
            raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn't defined")
        return self.fields

    def get_variable(self, key: str) -> str:
        raise runtime.NoTaskRuntime(f"Variable.get({key!r}) is not available to a connection test")

    def set_variable(self, key: str, value: str, description: str | None) -> None:
        raise runtime.NoTaskRuntime(f"Variable.set({key!r}) is not available to a connection test")

    def delete_variable(self, key: str) -> None:
        raise runtime.NoTaskRuntime(
            f"Variable.delete({key!r}) is not available to a connection test"
        )

    def mask(self, *values: Any) -> None:
        return None


def tested_fields(conn_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The connection to test: the stored one (if any) with `fields` over it; an empty
    password keeps the stored one and masked extra values keep the stored values."""
    conn_id = conn_actions.check_conn_id(conn_id)
    clean = conn_actions.check_fields(fields)
    if not clean.get("conn_type"):
        raise conn_actions.ConnectionInvalid("conn_type is required")
    stored = Connection.objects.filter(conn_id=conn_id).first()
    result = conn_actions.connection_fields(stored, secrets="clear") if stored else {}
    result["conn_id"] = conn_id
    for name, value in clean.items():
        if name == "password" and not value:
            continue
        if name == "extra" and value and stored is not None:
            value = conn_actions.merged_extra_text(value, stored)
        result[name] = value if value not in ("", None) else None
    return result


def do_test_connection(conn_id: str, fields: dict[str, Any], actor: Actor) -> tuple[bool, str]:
    """(worked, message) of the connection's hook test; ConnectionTestingDisabled unless
    ORCH_TEST_CONNECTION is Enabled, ConnectionInvalid for fields that could not be saved."""
    check_testing_enabled()
    values = tested_fields(conn_id, fields)
    conn = SdkConnection.from_dict(values)
    with runtime.serving(_OneConnection(values)):
        status, message = conn.test_connection()
    record(actor, "connection_test", extra={"conn_id": values["conn_id"], "status": status})
    return status, message
