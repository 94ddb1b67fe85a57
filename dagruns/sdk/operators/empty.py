"""EmptyOperator: a placeholder task that does nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..baseoperator import BaseOperator


class EmptyOperator(BaseOperator):
    """Does nothing. Serialized with ``inherits_from_empty_operator=True`` so the scheduler
    can mark it successful without sending it to a worker (unless it has callbacks)."""

    ui_color = "#e8f7e4"
    inherits_from_empty_operator = True

    def execute(self, context: Mapping[str, Any]) -> None:
        pass
