"""Stable, short DOM ids for things whose natural keys may hold any character.

Task and run ids can contain quotes, `<`, `/` or unicode, so they never appear in an `id`
attribute or a CSS selector: a page and a live-update fragment both derive the same opaque
key from them, and the real ids travel only in escaped `data-*` attributes.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache


@lru_cache(maxsize=65536)
def key(value: str) -> str:
    """10 hex digits of sha1: collisions inside one DAG are vanishingly unlikely."""
    return hashlib.sha1(value.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def cell_id(run_pk: int, task_id: str) -> str:
    return f"c{run_pk}_{key(task_id)}"


def group_cell_id(run_pk: int, group_id: str) -> str:
    return f"g{run_pk}_{key('group:' + group_id)}"


def node_id(run_pk: int, task_id: str) -> str:
    return f"n{run_pk}_{key(task_id)}"


def run_bar_id(run_pk: int) -> str:
    return f"r{run_pk}"
