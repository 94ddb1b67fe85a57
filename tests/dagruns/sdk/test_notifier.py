"""Airflow's BaseNotifier: a callback object that renders its template fields with the
callback's context, then notifies."""

from __future__ import annotations

from datetime import datetime

import pytest

from dagruns.sdk import DAG, BaseNotifier


class Recorder(BaseNotifier):
    template_fields = ("message", "channel")

    def __init__(self, message, channel="ops"):
        super().__init__()
        self.message, self.channel = message, channel
        self.sent = []

    def notify(self, context):
        self.sent.append((self.message, self.channel))


def test_a_notifier_renders_its_fields_with_the_dags_template_environment_then_notifies():
    dag = DAG("d", start_date=datetime(2024, 1, 1), user_defined_macros={"team": "data"})
    notifier = Recorder("{{ team }}: {{ dag.dag_id }} on #{{ channel }}")
    context = {"dag": dag}
    notifier(context)
    assert notifier.sent == [("data: d on #ops", "ops")]
    assert context == {"dag": dag}  # the caller's context is left as it was


def test_a_notifier_that_fails_raises_and_one_without_notify_says_so():
    with pytest.raises(NotImplementedError, match="BaseNotifier does not implement notify"):
        BaseNotifier()({})
    with pytest.raises(TypeError, match="context alone"):
        Recorder("x")({}, [], [], [])
