"""Migration 0004 encrypts the XCom values already stored, and going back decrypts them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dagruns.domain.crypto import decrypt

BEFORE = [("dagruns", "0003_role_groups")]
AFTER = [("dagruns", "0004_xcom_encrypted_value")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_existing_xcoms_are_encrypted_and_decrypted_back():
    old = _migrate(BEFORE)
    when = datetime(2024, 1, 1, tzinfo=UTC)
    dag = old.get_model("dagruns", "DagModel").objects.create(dag_id="d", fileloc="/d.py")
    run = old.get_model("dagruns", "DagRun").objects.create(
        dag=dag, run_id="r", run_type="manual", state="success", run_after=when
    )
    XCom = old.get_model("dagruns", "XCom")
    XCom.objects.create(dag_run=run, dag_id="d", run_id="r", task_id="t", key="k", value={"a": 1})
    XCom.objects.create(dag_run=run, dag_id="d", run_id="r", task_id="t", key="n", value=None)
    try:
        new = _migrate(AFTER)
        rows = {x.key: x for x in new.get_model("dagruns", "XCom").objects.all()}
        assert rows["k"].encrypted_value.startswith("gAAAA")  # a Fernet token, not JSON
        assert decrypt(rows["k"].encrypted_value) == '{"a":1}'
        assert rows["n"].encrypted_value == ""

        back = _migrate(BEFORE)
        assert back.get_model("dagruns", "XCom").objects.get(key="k").value == {"a": 1}
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("dagruns"))
