"""Airflow's list conventions: `limit` (default 50, capped at the maximum page size, 100 as
Airflow's `[api] maximum_page_limit`), `offset`, `order_by` (a field name, `-` for
descending, repeatable; an unknown field is a 400) and `total_entries` in every list response.

Each list runs exactly two queries for its data whatever the page size: one COUNT and one
SELECT of the page with its related rows joined in (callers pass a queryset that already has
its `select_related`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from ninja import Schema
from pydantic import Field

from dagruns.api.rest.errors import bad_request

DEFAULT_LIMIT = 50


def maximum_limit() -> int:
    return settings.ORCH.api_maximum_page_limit


class ListParams(Schema):
    """`limit`, `offset` and `order_by`, as query parameters (`params: Query[ListParams]`)."""

    limit: int = Field(DEFAULT_LIMIT, ge=0)
    offset: int = Field(0, ge=0)
    order_by: list[str] = Field(default_factory=list)


class UpdateMask(Schema):
    """Airflow's `update_mask`: which fields of a PATCH body to apply (default: those set)."""

    update_mask: list[str] = Field(default_factory=list)


def page(queryset: QuerySet, limit: int, offset: int) -> tuple[list[Any], int]:
    """(rows of the page, total matching rows). A limit over the maximum is capped, as
    Airflow does, rather than refused."""
    limit = min(limit, maximum_limit())
    total = queryset.count()
    # Past the end there is nothing to read (and an OFFSET beyond 2**63 would not even fit
    # the database's integer).
    rows = list(queryset[offset : offset + limit]) if limit and offset < total else []
    return rows, total


def order(
    queryset: QuerySet,
    order_by: Sequence[str] | str | None,
    allowed: Mapping[str, str],
    default: str | list[str],
    tiebreak: str = "pk",
) -> QuerySet:
    """Sort by Airflow's `order_by` values; `allowed` maps API names to ORM paths."""
    if not order_by:
        values = [default] if isinstance(default, str) else list(default)
    elif isinstance(order_by, str):
        values = [order_by]
    else:
        values = list(order_by)
    terms = []
    for raw in values:
        value = raw.strip()
        name = value.lstrip("-")
        if name not in allowed:
            raise bad_request(
                f"Ordering with '{name}' is disallowed or the attribute does not exist on "
                f"the model. Allowed: {', '.join(sorted(allowed))}"
            )
        path = allowed[name]
        # NULLs last ascending and first descending, on SQLite and PostgreSQL alike.
        if value.startswith("-"):
            terms.append(F(path).desc(nulls_last=True))
        else:
            terms.append(F(path).asc(nulls_last=True))
    # Airflow adds the primary key, in the direction of the last term, so pages never overlap.
    descending = values[-1].strip().startswith("-")
    terms.append(F(tiebreak).desc() if descending else F(tiebreak).asc())
    return queryset.order_by(*terms)


def like_to_regex(pattern: str) -> str:
    """An Airflow `*_pattern` (SQL LIKE: `%` any run, `_` one character, matched anywhere in
    the value, case-insensitively as Airflow's ILIKE '%…%') as a regular expression."""
    parts = []
    for char in pattern:
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def pattern_filter(field: str, pattern: str | None) -> Q:
    if not pattern:
        return Q()
    if "%" not in pattern and "_" not in pattern:
        return Q(**{f"{field}__icontains": pattern})
    return Q(**{f"{field}__iregex": like_to_regex(pattern)})


def range_filter(field: str, **bounds: Any) -> Q:
    """`gte`/`gt`/`lte`/`lt` bounds on one field (None bounds are ignored)."""
    q = Q()
    for op, value in bounds.items():
        if value is not None:
            q &= Q(**{f"{field}__{op}": value})
    return q
