"""Airflow's `BaseNotifier` (`airflow.sdk.BaseNotifier`, `airflow.sdk.bases.notifier`,
Airflow 2's `airflow.notifications.basenotifier`): a callable to give `on_*_callback`, which
renders its `template_fields` with the callback's context and calls `notify(context)`.

Pure Python, like the rest of the SDK: what `notify` reaches (a chat, a mail server) is the
DAG author's code. Difference: `async_notify` (Airflow's deadline alerts in the triggerer) is
never called here; there are no deadline alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from .templating import create_template_env, render_template


class BaseNotifier:
    """Subclass it, set `template_fields`, implement `notify(context)`; pass an instance as
    a task's or a DAG's `on_success_callback`/`on_failure_callback`/…"""

    template_fields: Sequence[str] = ()
    template_ext: Sequence[str] = ()

    def __init__(self, context: Mapping[str, Any] | None = None) -> None:
        self.context = dict(context or {})

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"{type(self).__module__}.{type(self).__name__}")

    def render_template_fields(self, context: Mapping[str, Any], jinja_env: Any = None) -> None:
        """Render every template field in place, with the DAG's template environment."""
        dag = context.get("dag")
        env = jinja_env or (dag.get_template_env() if dag is not None else create_template_env())
        for field in self.template_fields:
            setattr(
                self, field, render_template(getattr(self, field), context, env, self.template_ext)
            )

    def notify(self, context: Mapping[str, Any]) -> None:
        """Send the notification (implement it)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement notify()")

    async def async_notify(self, context: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def __call__(self, *args: Any) -> None:
        if len(args) != 1:
            # Airflow's other form is the SLA-miss callback's, and Airflow 3 removed SLAs.
            raise TypeError(
                f"{type(self).__name__} is called with a callback's context alone, got "
                f"{len(args)} arguments"
            )
        # Airflow merges the template fields' values into the context, so templates may name
        # them; a copy here, so one notifier does not change what the next callback sees.
        context = {**args[0], **{f: getattr(self, f) for f in self.template_fields}}
        self.render_template_fields(context)
        try:
            self.notify(context)
        except Exception as err:
            self.log.error("Failed to send notification (sync): %s", err)
            raise
