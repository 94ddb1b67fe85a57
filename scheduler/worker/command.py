"""`manage.py celery worker [-q default,etl] [-c CONCURRENCY] [-H NAME] [-l LEVEL] [--pods]`: a
Celery worker that runs tries (Airflow's `airflow celery worker`). The same worker starts with
`celery -A orchestrator_site worker -Q default,etl -c 4` (except `--pods`, ours only).

`--pods` runs every try this worker takes in a Kubernetes pod instead of a local runner process
(scheduler/worker/pods.py), configured by the worker's Kubernetes settings (ORCH_KUBERNETES_NAMESPACE and the others); without
it, only the tries whose task's executor_config has a pod_override or pod_template_file do.

manage.py hands `celery worker` here before Django starts: a worker imports no Django, no ORM
and no database settings (the seed's security rule). It needs the broker
(ORCH_CELERY_BROKER_URL, or ORCH_REDIS_URL), the Execution API (the scheduler's ORCH_API_URL
travels in each workload; the worker's own ORCH_API_URL, when set, wins) and the DAGs folder
(the path in each workload; a shared folder, as the design says).

Defaults, and where we differ from Airflow: `--queues default` (Airflow's `[operators]
default_queue`), `--concurrency 16` (Airflow's `[celery] worker_concurrency`: pool threads,
each running one try at a time), `--hostname celery@<host>` (Celery's default node name; `%h`
expands to the host name, as in Celery). The pool is Celery's `threads` pool where Airflow's
default is `prefork`: each try runs in a runner process forked from the worker's forkserver
either way, and a thread waits on it at a fraction of a pool process's cost
(scheduler/worker/forked.py). Airflow's `--autoscale`, `--daemon`, `--pid`,
`--log-file`, `--umask` and `--skip-serve-logs` are not offered: a process manager runs the
worker, logs go to stderr, and task logs travel through the Execution API, so there is nothing
to serve. Mingle and gossip are off (a worker needs nothing from its peers; starting is faster).

A broker that is unreachable at start is waited for, with a line on stderr naming the variable
and the problem and a growing pause (up to 30 s) between attempts: no crash loop. SIGTERM is
Celery's warm shutdown: the worker takes no new message, lets running tries finish, and gives
the messages it took but did not start back to the broker; a second SIGTERM (or SIGQUIT) is a
cold shutdown.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

# The package's __init__ imports no Django (scheduler/housekeeping/__init__.py).
from scheduler.housekeeping import QUEUE as HOUSEKEEPING_QUEUE

HELP = (
    "Run a Celery worker: it takes tries from the broker's queues and runs each through the "
    "task runner, forked from a warm forkserver. Needs the broker and the Execution API, no "
    "database."
)
DEFAULT_QUEUES = "default"

DEFAULT_CONCURRENCY = 16  # Airflow's [celery] worker_concurrency
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
BROKER_RETRY_MAX = 30.0


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _queues(raw: str) -> list[str]:
    queues = [q.strip() for q in raw.split(",") if q.strip()]
    if not queues:
        raise argparse.ArgumentTypeError(f"{raw!r} names no queue")
    if HOUSEKEEPING_QUEUE in queues:
        # Beat's jobs need the database, which a worker never has: only `manage.py celery
        # beat` consumes that queue.
        raise argparse.ArgumentTypeError(
            f"{HOUSEKEEPING_QUEUE!r} is Celery beat's housekeeping queue, which only "
            "`manage.py celery beat` consumes"
        )
    return queues


def add_arguments(parser: Any) -> None:
    parser.add_argument(
        "-q",
        "--queues",
        type=_queues,
        default=_queues(DEFAULT_QUEUES),
        help="comma-separated queues this worker takes tries from (a task's `queue` argument; "
        f"default: {DEFAULT_QUEUES})",
    )
    parser.add_argument(
        "-c",
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        help=f"tries run at once (pool threads; default {DEFAULT_CONCURRENCY}, as Airflow's)",
    )
    parser.add_argument(
        "-H",
        "--hostname",
        "--celery-hostname",
        dest="hostname",
        default=None,
        help="the worker's name, unique per worker (default celery@<host>; %%h is the host)",
    )
    parser.add_argument(
        "-l",
        "--loglevel",
        type=str.upper,
        choices=LOG_LEVELS,
        default=None,
        help="the worker's log level (default: ORCH_LOG_LEVEL)",
    )
    parser.add_argument(
        "--pods",
        action="store_true",
        help="run every try in a Kubernetes pod (built as the Kubernetes executor builds it, "
        "from this worker's Kubernetes settings, ORCH_KUBERNETES_NAMESPACE and the others) instead of a local runner process",
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="manage.py celery worker", description=HELP)
    add_arguments(parser)
    options = parser.parse_args(argv)

    from orchestrator_site.broker import broker_url, broker_variable, safe_url
    from orchestrator_site.config import SettingError, load_settings

    try:
        orch = load_settings()
        url = broker_url(orch)
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    variable = broker_variable(orch)
    if not wait_for_broker(url, variable, safe_url(url)):
        return 0  # stopped (SIGTERM/SIGINT) while waiting: nothing was running
    from orchestrator_site.celery import app

    if options.pods:
        from scheduler.worker import pods

        pods.run_every_try_in_a_pod()
    celery_argv = [
        "worker",
        "--queues", ",".join(options.queues),
        "--concurrency", str(options.concurrency),
        "--loglevel", options.loglevel or orch.log_level,
        "--pool", "threads",  # see scheduler/worker/forked.py
        "--without-mingle",
        "--without-gossip",
    ]  # fmt: skip
    if options.hostname:
        celery_argv += ["--hostname", options.hostname]
    try:
        app.worker_main(celery_argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def wait_for_broker(url: str, variable: str, shown: str) -> bool:
    """Until the broker answers a PING: True; False when stopped by a signal meanwhile."""
    import redis

    stopped = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopped
        stopped = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    delay = 1.0
    try:
        while not stopped:
            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
            try:
                client.ping()
                return True
            except redis.RedisError as exc:
                print(
                    f"error: cannot reach the Celery broker {shown} ({variable}): {exc}; "
                    f"retrying in {delay:g} s",
                    file=sys.stderr,
                    flush=True,
                )
            finally:
                client.close()
            deadline = time.monotonic() + delay
            while not stopped and time.monotonic() < deadline:
                time.sleep(0.1)
            delay = min(BROKER_RETRY_MAX, delay * 2)
        return False
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
