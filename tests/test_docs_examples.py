"""The DAG in docs/authoring.md is real: the processor loads it without an import error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dagruns.models import DagImportError, DagModel
from scheduler.processor.loop import DagProcessor

DOC = Path(__file__).resolve().parents[1] / "docs" / "authoring.md"


@pytest.mark.django_db
def test_the_authoring_guide_example_parses(dags_folder):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert blocks, "the guide has a python example"
    (dags_folder / "orders.py").write_text(blocks[0])
    DagProcessor().run_once()
    assert not DagImportError.objects.exists(), list(DagImportError.objects.values("message"))
    dag = DagModel.objects.get(dag_id="orders")
    tasks = {t["task_id"] for t in dag.latest_version().serialized["tasks"]}
    assert tasks == {"extract", "total", "publish.announce", "big_day", "celebrate"}
