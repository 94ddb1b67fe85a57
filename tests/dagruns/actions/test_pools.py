"""Pool actions: the default pool is protected; usage is counted per state."""

from __future__ import annotations

import pytest

from dagruns.actions import pools as p
from dagruns.actions.audit import Actor
from dagruns.models import AuditEvent, Pool

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="tester")


def test_create_update_delete_are_audited():
    p.do_create_pool("gpu", 2, ACTOR, description="cards")
    p.do_update_pool("gpu", ACTOR, new_name="gpus", slots=3)
    assert Pool.objects.get(name="gpus").slots == 3
    p.do_delete_pool("gpus", ACTOR)
    assert list(AuditEvent.objects.order_by("id").values_list("event", flat=True)) == [
        "pool_create",
        "pool_update",
        "pool_delete",
    ]


def test_bad_slots_and_names_are_refused():
    for slots in (-2, "many", True, 2**40):
        with pytest.raises(p.PoolInvalid):
            p.do_create_pool("x", slots, ACTOR)
    with pytest.raises(p.PoolInvalid):
        p.do_create_pool("", 1, ACTOR)
    with pytest.raises(p.PoolExists):
        p.do_create_pool("default_pool", 1, ACTOR)


def test_the_default_pool_can_only_be_resized():
    with pytest.raises(p.PoolInvalid):
        p.do_delete_pool("default_pool", ACTOR)
    with pytest.raises(p.PoolInvalid):
        p.do_update_pool("default_pool", ACTOR, new_name="x")
    p.do_update_pool("default_pool", ACTOR, slots=10, include_deferred=True)
    assert Pool.objects.get(name="default_pool").slots == 10


def test_set_creates_or_updates_and_import_is_all_or_nothing():
    p.do_set_pool("a", 1, ACTOR, description="one")
    p.do_set_pool("a", 5, ACTOR, description="five")
    assert Pool.objects.get(name="a").slots == 5
    with pytest.raises(p.PoolInvalid):
        p.do_import_pools({"b": {"slots": 1}, "c": {"description": "no slots"}}, ACTOR)
    assert not Pool.objects.filter(name="b").exists()
    assert p.do_import_pools(p.export_pools(), ACTOR) == ["a", "default_pool"]
