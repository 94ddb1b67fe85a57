#!/usr/bin/env python
"""Django's command-line utility: every orchestrator process starts here."""

import os
import sys


def main() -> None:
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
