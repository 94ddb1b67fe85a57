"""`manage.py pools …` in Airflow's shape."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dagruns.models import Pool

pytestmark = pytest.mark.django_db


def pools(*argv: str) -> str:
    out = StringIO()
    call_command("pools", *argv, stdout=out)
    return out.getvalue()


def test_set_get_list_delete():
    row = json.loads(pools("set", "gpu", "2", "cards", "-o", "json"))[0]
    assert row == {"pool": "gpu", "slots": 2, "description": "cards", "include_deferred": False}
    pools("set", "gpu", "4", "more cards", "--include-deferred")
    assert json.loads(pools("get", "gpu", "-o", "json"))[0]["slots"] == 4
    names = [r["pool"] for r in json.loads(pools("list", "-o", "json"))]
    assert names == ["default_pool", "gpu"]
    pools("delete", "gpu")
    assert not Pool.objects.filter(name="gpu").exists()


def test_errors_are_clear():
    with pytest.raises(CommandError, match="whole number"):
        pools("set", "x", "many", "d")
    with pytest.raises(CommandError, match="can't be deleted"):
        pools("delete", "default_pool")
    with pytest.raises(CommandError, match="not found"):
        pools("get", "nope")


def test_export_then_import(tmp_path):
    pools("set", "gpu", "2", "cards")
    path = tmp_path / "pools.json"
    pools("export", str(path))
    assert json.loads(path.read_text())["gpu"] == {
        "slots": 2,
        "description": "cards",
        "include_deferred": False,
    }
    Pool.objects.filter(name="gpu").delete()
    assert pools("import", str(path)) == "Uploaded 2 pool(s)\n"
    assert Pool.objects.get(name="gpu").description == "cards"
