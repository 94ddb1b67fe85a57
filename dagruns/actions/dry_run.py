"""A dry run for actions whose change is the rows they write (variables, pools, connections,
users): the action runs for real inside a transaction that is then rolled back. Every check
refuses exactly as it would, and the result is exactly what the change would be; nothing
stays: no rows, no audit, no events (on-commit callbacks of a rolled-back block are dropped).

Actions with a preview people confirm (clear, mark, run state, delete run, trigger) compute
theirs explicitly instead: they list what would change without writing it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import transaction

R = TypeVar("R")


def with_dry_run(action: Callable[..., R]) -> Callable[..., R]:
    """Give `action` a keyword `dry_run` (default False) that rolls its writes back."""

    @functools.wraps(action)
    def run(*args: Any, dry_run: bool = False, **kwargs: Any) -> R:
        if not dry_run:
            return action(*args, **kwargs)
        with transaction.atomic():
            result = action(*args, **kwargs)
            transaction.set_rollback(True)
        return result

    return run
