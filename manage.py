#!/usr/bin/env python
"""Django's command-line utility: every orchestrator process starts here."""

import os
import sys


def main() -> None:
    if sys.argv[1:3] == ["celery", "worker"]:
        # A Celery worker runs without Django: no ORM, no database settings (see
        # scheduler/worker/command.py); it only needs the broker and the Execution API.
        from scheduler.worker.command import main as worker_main

        sys.exit(worker_main(sys.argv[3:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestrator_site.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from orchestrator_site.config import SettingError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A malformed ORCH_* variable is the operator's to fix: say which, not where it broke.
        if isinstance(exc.__cause__, SettingError):
            sys.exit(f"error: {exc}")
        raise


if __name__ == "__main__":
    main()
