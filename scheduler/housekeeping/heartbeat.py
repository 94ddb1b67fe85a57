"""Beat's heartbeat: a Job row of type `celery_beat`, as the scheduler, DAG processor and
triggerer keep theirs, so /monitor/health and the home page show whether a beat is alive.

Every beat process keeps its own row, the one holding the housekeeping lock and a standby
alike: a standby is a live beat, ready to take over. The row is beaten from a thread of its
own every ORCH_SCHEDULER_HEARTBEAT_SEC, not from the jobs: a long housekeeping job (a large
retention clean-up) must not make a working beat look dead.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from dagruns.domain.health import BEAT
from dagruns.domain.jobs import end_job, heartbeat, start_job
from dagruns.models import Job

log = logging.getLogger(__name__)

MIN_INTERVAL = 0.5


class BeatHeartbeat(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="beat-heartbeat", daemon=True)
        self.every = max(MIN_INTERVAL, float(settings.ORCH.scheduler_heartbeat_sec))
        self.job: Job | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                self._beat()
                self._stop_event.wait(self.every)
            if self.job is not None:
                with contextlib.suppress(DatabaseError):
                    end_job(self.job)
        finally:
            connection.close()

    def _beat(self) -> None:
        close_old_connections()
        try:
            if self.job is None:
                self.job = start_job(BEAT)
                log.info("beat: heartbeat as job %d", self.job.pk)
            else:
                heartbeat(self.job)
        except DatabaseError as exc:
            # The health endpoint shows the beat unhealthy meanwhile; it beats again once the
            # database answers.
            log.warning("beat: cannot record its heartbeat: %s", exc)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)
