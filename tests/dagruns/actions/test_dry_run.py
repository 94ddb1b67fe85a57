"""Variables, pools, connections and users: a dry run refuses what the action refuses and
returns what it would write, leaving no row, no audit and no event behind."""

from __future__ import annotations

import pytest

from dagruns.actions import connections, pools, users, variables
from dagruns.actions.audit import Actor
from dagruns.models import AuditEvent, Connection, Pool, Variable

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="tester")


def snapshot() -> tuple:
    return (
        sorted(Variable.objects.values_list("key", flat=True)),
        sorted(Pool.objects.values_list("name", "slots")),
        sorted(Connection.objects.values_list("conn_id", "host")),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize(
    "call, check",
    [
        (
            lambda **kw: variables.do_set_variable("k", "v", ACTOR, **kw),
            lambda result: result.val == "v",
        ),
        (
            lambda **kw: variables.do_import_variables({"a": "1", "b": "2"}, ACTOR, **kw),
            lambda result: sorted(result["created"]) == ["a", "b"],
        ),
        (
            lambda **kw: pools.do_create_pool("gpus", 3, ACTOR, **kw),
            lambda result: result.slots == 3,
        ),
        (
            lambda **kw: connections.do_create_connection(
                "db", {"conn_type": "postgres", "host": "h"}, ACTOR, **kw
            ),
            lambda result: result.host == "h",
        ),
        (
            lambda **kw: connections.do_import_connections(
                {"db": "postgres://h:5432/s"}, ACTOR, **kw
            ),
            lambda result: result["created"] == ["db"],
        ),
        (
            lambda **kw: pools.do_delete_pool("default_pool", ACTOR, **kw),
            None,
        ),
    ],
    ids=[
        "set-variable",
        "import-variables",
        "create-pool",
        "create-connection",
        "import-connections",
        "delete-default-pool",
    ],
)
def test_a_dry_run_returns_the_change_and_leaves_nothing(call, check, published, on_commit):
    before = snapshot()
    if check is None:
        with pytest.raises(pools.PoolInvalid):
            call(dry_run=True)
        return
    with on_commit():
        result = call(dry_run=True)
    assert check(result)
    assert snapshot() == before and published == []
    assert check(call())
    assert snapshot() != before


def test_a_dry_user_creation_leaves_no_user():
    from django.contrib.auth.models import User

    users.do_create_user("ann", "Viewer", ACTOR, password="pw-123456789", dry_run=True)
    assert not User.objects.filter(username="ann").exists()
