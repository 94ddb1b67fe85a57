"""The Celery application (`celery -A orchestrator_site worker` finds it here).

Django-free on purpose: a Celery worker runs task runners and talks only to the broker and the
Execution API (the seed's security rule: no database, no credentials for it), so importing this
app must not import Django, the ORM or our settings module. Its configuration comes from the
same `ORCH_*` environment through `orchestrator_site.config`, which imports no Django either.

The broker is `ORCH_CELERY_BROKER_URL`, defaulting to `ORCH_REDIS_URL`; the result backend (where
a worker leaves each runner's exit code for the executor's `sync()`, as Airflow's Celery
executor reads task states from its result backend) is the same Redis.

Delivery (issue 11, "Delivery that never loses or doubles a try"): messages are acknowledged
late (after the runner ended), so a message whose worker is lost goes back to the queue (and,
under `-P prefork`, is rejected back at once when only its pool process is lost); a worker
takes a message only when one of its pool threads is free
(`worker_disable_prefetch`, prefetch multiplier 1), so nothing waits in one worker's memory
while another is idle, and a warm shutdown has little to hand back. A message delivered twice
runs once: the second runner's claim is refused by the Execution API (the try is no longer
queued).

Priorities (Redis): kombu emulates them with one list per level; we use all ten levels
(`priority_steps` 0..9, where 0 is served first). `scheduler/executors/celery.py` maps a task's
`priority_weight` onto them (see `message_priority`).
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.backends.redis import RedisBackend
from pydantic import BaseModel, Field

# broker_url and safe_url live in orchestrator_site/broker.py (no Celery import there, for the
# API server); importable from here too, where the rest of the Celery wiring is.
from orchestrator_site.broker import broker_url, configured_broker_url, safe_url
from orchestrator_site.config import OrchSettings, load_settings

__all__ = ["app", "broker_url", "make_app", "safe_url"]

# The one task every try travels in (scheduler/tasks.py); the executor sends it by name, so the
# scheduler never imports the worker's side.
RUN_TRY_TASK = "orchestrator.run_try"
# The remote-control command the executor broadcasts to terminate a try (scheduler/worker/hooks).
TERMINATE_TRY_COMMAND = "orchestrator_terminate_try"
DEFAULT_QUEUE = "default"
PRIORITY_LEVELS = list(range(10))  # kombu's Redis priority lists; 0 is served first
# Seconds before a message taken but not acknowledged (its worker died) is delivered again.
# Longer than any try should take in practice; a try that outlives it gets a second delivery,
# which its claim refuses (see the module docstring).
VISIBILITY_TIMEOUT = 6 * 3600
# Runner exit codes wait this long in the backend for a scheduler to read them.
RESULT_EXPIRES = 24 * 3600


class RunTryResult(BaseModel):
    """What RUN_TRY_TASK returns when the runner's exit code alone does not say enough (a try
    run in a pod, scheduler/worker/pods.py): the code, why the try ended so when the worker
    knows better (the pod never started, was OOMKilled or deleted), and lines for the try's
    log (what the pod's container printed). A plain `int` is the exit code alone."""

    returncode: int
    reason: str | None = None
    details: list[str] = Field(default_factory=list)


class PublishedResultsBackend(RedisBackend):
    """The Redis result backend as the Celery executor reads it: from the results the backend
    publishes, through one pattern subscription for all of them, and an occasional MGET
    (scheduler/executors/celery.py); never waited on task by task. Celery's own sender
    subscribes to each task's channel as it sends the task (for `AsyncResult.get()`, which
    nothing of ours calls) and unsubscribes when the AsyncResult is dropped: two more requests
    to Redis for every try sent, on the hop between one task and the next."""

    def on_task_call(self, producer: Any, task_id: str) -> None:
        return None


def make_app(orch: OrchSettings | None = None, *, sender: bool = False) -> Celery:
    """The app; with `sender`, as the Celery executor sends with it (PublishedResultsBackend)."""
    orch = orch or load_settings()
    # Not validated here: this module builds `app` at import, settings or not; what uses it
    # (the executor, the worker, beat) calls broker_url() first and says what is wrong.
    url = configured_broker_url(orch) or None
    celery_app = Celery("orchestrator", include=["scheduler.tasks"])
    # Celery's "<backend class>+<url>" form: the class, on the same Redis.
    backend = f"{__name__}:{PublishedResultsBackend.__name__}+{url}" if sender and url else url
    transport = {
        "priority_steps": PRIORITY_LEVELS,
        "queue_order_strategy": "priority",
        "visibility_timeout": VISIBILITY_TIMEOUT,
        # A dead or half-open Redis must not hang a publish (the scheduler's hot loop).
        "socket_timeout": 10,
        "socket_connect_timeout": 5,
    }
    celery_app.conf.update(
        broker_url=url,
        result_backend=backend,
        broker_transport_options=transport,
        result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        redis_socket_timeout=10,
        redis_socket_connect_timeout=5,
        redis_retry_on_timeout=False,
        result_expires=RESULT_EXPIRES,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        result_extended=False,
        timezone="UTC",
        enable_utc=True,
        task_default_queue=DEFAULT_QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        # Each try runs in a process of its own (forked by the worker's forkserver), so a pool
        # thread is enough to wait on it (scheduler/worker/forked.py); `celery -A
        # orchestrator_site worker` gets the same pool as `manage.py celery worker`.
        worker_pool="threads",
        worker_prefetch_multiplier=1,
        worker_disable_prefetch=True,
        # A runner's exit code is data; a task never raises on its account.
        task_track_started=False,
        task_send_sent_event=False,
        worker_send_task_events=False,
        # Keep retrying the broker (a Redis restart, a worker started before Redis): a worker
        # that gives up is a worker someone must restart.
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        # Running tries keep going when the broker connection drops (Redis restarted); their
        # end reaches the Execution API, which does not need the broker.
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return celery_app


app = make_app()
