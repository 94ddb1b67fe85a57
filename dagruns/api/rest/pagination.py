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
from django.db.models import CharField, F, Lookup, Q, QuerySet, TextField
from ninja import Schema
from pydantic import Field

from dagruns.api.rest.errors import bad_request

DEFAULT_LIMIT = 50


def maximum_limit() -> int:
    return settings.ORCH.api_maximum_page_limit


class PageParams(Schema):
    """`limit` and `offset`, as query parameters, for the lists Airflow does not sort on
    request (providers, plugins): they take no `order_by`."""

    limit: int = Field(DEFAULT_LIMIT, ge=0)
    offset: int = Field(0, ge=0)


class ListParams(PageParams):
    """`limit`, `offset` and `order_by`, as query parameters (`params: Query[ListParams]`)."""

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


# Longest `*_pattern` accepted. LIKE costs time proportional to the data on SQLite and
# PostgreSQL whatever the pattern, but a bound keeps one request's work (and the query text
# the database has to compile) small; Airflow has none, real names are far shorter.
PATTERN_MAX_LENGTH = 200


class LikeContains(Lookup):
    """`field__like_contains=pattern`: Airflow's `*_pattern` filter, `ILIKE '%pattern%'` where
    `%` matches any run and `_` one character. Matched by the database's own LIKE, whose
    matcher is linear-ish in the value and never backtracks exponentially (unlike a regular
    expression, which SQLite evaluates in Python inside the server). A backslash is an ordinary
    character on every database (PostgreSQL's LIKE would otherwise treat it as an escape)."""

    lookup_name = "like_contains"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, tuple[str]]:
        return "%s", (like_contains_value(str(value)),)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        # SQLite's LIKE ignores ASCII case already (as SQLAlchemy's ilike there); PostgreSQL
        # has ILIKE.
        operator = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        return f"{lhs} {operator} {rhs} ESCAPE '\\'", (*lhs_params, *rhs_params)


CharField.register_lookup(LikeContains)
TextField.register_lookup(LikeContains)


def like_contains_value(pattern: str) -> str:
    """The LIKE operand for a pattern matched anywhere in the value: `\\` escaped (our
    ESCAPE character), runs of `%` collapsed (`%%%` means what `%` means), `%` around."""
    escaped = pattern.replace("\\", "\\\\")
    return re.sub("%+", "%", f"%{escaped}%")


def pattern_filter(field: str, pattern: str | None, name: str | None = None) -> Q:
    """Rows whose `field` matches an Airflow `*_pattern` query parameter (`name`, used in the
    error for a pattern longer than PATTERN_MAX_LENGTH)."""
    if not pattern:
        return Q()
    if len(pattern) > PATTERN_MAX_LENGTH:
        raise bad_request(
            f"{name or field + '_pattern'}: a pattern may be at most {PATTERN_MAX_LENGTH} "
            f"characters long (this one has {len(pattern)})"
        )
    return Q(**{f"{field}__like_contains": pattern})


def range_filter(field: str, **bounds: Any) -> Q:
    """`gte`/`gt`/`lte`/`lt` bounds on one field (None bounds are ignored)."""
    q = Q()
    for op, value in bounds.items():
        if value is not None:
            q &= Q(**{f"{field}__{op}": value})
    return q
