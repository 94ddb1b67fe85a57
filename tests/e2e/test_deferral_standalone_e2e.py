"""`manage.py standalone` runs a triggerer: a deferrable task works out of the box, and a stop
leaves none of its processes behind."""

from __future__ import annotations

import pytest

from tests.e2e.standalone_tree import StandaloneTree
from tests.polling import wait_until

pytestmark = pytest.mark.slow

DAG_SOURCE = """\
from datetime import datetime, timedelta
from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger
from airflow.sdk import DAG, BaseOperator


class Naps(BaseOperator):
    def execute(self, context):
        self.defer(trigger=TimeDeltaTrigger(timedelta(seconds=1)), method_name="woke")

    def woke(self, context, event=None):
        print("woke up at", event.isoformat())


with DAG("naps", schedule=None, start_date=datetime(2024, 1, 1)):
    Naps(task_id="nap")
"""


@pytest.fixture
def tree(tmp_path):
    tree = StandaloneTree(tmp_path / "home")
    try:
        yield tree
    finally:
        tree.close()


def test_a_deferrable_task_resumes_in_standalone_and_the_triggerer_stops_with_it(tree):
    tree.add_dag("naps.py", DAG_SOURCE)
    tree.start()
    wait_until(
        lambda: any("triggerer" in " ".join(p.cmdline()[2:3]) for p in tree.tree()),
        "the triggerer to start",
        timeout=120,
    )
    tree.wait_parsed("naps")
    tree.trigger("naps", "first")
    wait_until(lambda: tree.run_state("first") == "success", "the run to succeed", timeout=300)
    assert tree.tries("first") == {"nap": ("success", 1, 0)}
    assert "woke up at" in tree.log("naps", "first", "nap")
    assert tree.stop() == 0
    assert tree.leftovers() == []
