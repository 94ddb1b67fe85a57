"""`/pools`: CRUD with Airflow's slot counts; the default pool is protected."""

from __future__ import annotations

import pytest

from dagruns.models import Pool, TaskInstance

pytestmark = pytest.mark.django_db


def test_create_read_update_delete(op, world):
    created = op.post("/pools", {"name": "gpu", "slots": 2, "description": "cards"})
    assert created.status_code == 201
    assert created.json()["open_slots"] == 2 and created.json()["include_deferred"] is False
    renamed = op.patch("/pools/gpu", {"pool": "gpus", "slots": 3})
    assert renamed.json()["name"] == "gpus" and renamed.json()["slots"] == 3
    assert op.delete("/pools/gpus").status_code == 204
    assert op.get("/pools/gpus").status_code == 404


def test_slots_in_use_are_counted_per_state(op, world):
    TaskInstance.objects.filter(task_id="extract").update(pool="etl_pool", state="running")
    TaskInstance.objects.filter(task_id="load").update(pool="etl_pool", state="queued")
    pool = op.get("/pools/etl_pool").json()
    assert pool["running_slots"] == 1 and pool["queued_slots"] == 1
    assert pool["occupied_slots"] == 2 and pool["open_slots"] == 2


def test_an_unlimited_pool_has_minus_one_open_slots(op, world):
    op.post("/pools", {"name": "free", "slots": -1})
    assert op.get("/pools/free").json()["open_slots"] == -1


def test_the_default_pool_cannot_be_deleted_or_renamed_but_can_be_resized(op, world):
    assert op.delete("/pools/default_pool").status_code == 400
    assert op.patch("/pools/default_pool", {"pool": "other"}).status_code == 400
    assert op.patch("/pools/default_pool", {"slots": 64}).json()["slots"] == 64
    assert Pool.objects.get(name="default_pool").slots == 64


def test_a_taken_name_is_409(op, world):
    assert op.post("/pools", {"name": "etl_pool", "slots": 1}).status_code == 409
    assert op.patch("/pools/etl_pool", {"pool": "default_pool"}).status_code == 409


def test_slots_below_minus_one_are_refused(op, world):
    assert op.post("/pools", {"name": "x", "slots": -2}).status_code == 422
    assert op.patch("/pools/etl_pool", {"slots": -2}).status_code == 422
