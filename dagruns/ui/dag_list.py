"""The DAG list's query (search, filters, sort: all in the URL, so a link keeps them) and its
rows (last runs with dates and durations, next run with its zone, import-error flag, star).

The query follows Airflow 3's DAG list: `last_dag_run_state` (the state of each DAG's latest
run), paused/active (`status`), several `tags` matched as `tags_match_mode` says (`any`, the
default, or `all`), `favorite=true` (the signed-in user's starred DAGs) and `sort` with
Airflow's keys (`-` for descending). A value outside these is refused naming the parameter.

Every page costs the same few queries whatever the number of DAGs or runs: the page of DAGs
(with the latest run's state and start, the star and the DAG's timezone as subqueries), its
tags, the last runs of the page's DAGs (one window query) and the running counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import RowNumber
from django.http import QueryDict
from django.utils import timezone

from dagruns.domain.dag_filters import TAG_MATCH_MODES, filter_tags
from dagruns.models import DagFavorite, DagModel, DagRun, DagVersion
from dagruns.models.states import DagRunState
from dagruns.ui import format as fmt
from dagruns.ui.grid_labels import tip
from dagruns.ui.timezones import zone_name as zone_name_of
from dagruns.ui.timezones import zone_named

LAST_RUNS = 10
STATUSES = ("all", "active", "paused")
RUN_STATES = ("all", *[s.value for s in DagRunState])
# Airflow 3's sort keys (its DAG list's "Sort by" select), each ascending or, with "-",
# descending; what they sort by here. Nulls (never ran, no next run) come last either way.
SORT_FIELDS = {
    "dag_id": "dag_id",
    "dag_display_name": "dag_display_name",
    "next_dagrun": "next_dagrun_create_after",
    "last_run_state": "last_run_state",
    "last_run_start_date": "last_run_start_date",
}
SORT_LABELS = {
    "dag_id": "DAG id (A–Z)",
    "-dag_id": "DAG id (Z–A)",
    "next_dagrun": "Next run (earliest first)",
    "-next_dagrun": "Next run (latest first)",
    "-last_run_start_date": "Last run (latest first)",
    "last_run_start_date": "Last run (earliest first)",
    "last_run_state": "Last run state (A–Z)",
    "-last_run_state": "Last run state (Z–A)",
    "dag_display_name": "Display name (A–Z)",
    "-dag_display_name": "Display name (Z–A)",
}


class BadListQuery(ValueError):
    """A query parameter the list does not know how to apply (names it and what it takes)."""


def _one_of(params: QueryDict, name: str, allowed: tuple[str, ...] | list[str], default: str):
    value = params.get(name, "").strip() or default
    if value not in allowed:
        raise BadListQuery(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


@dataclass(frozen=True)
class ListQuery:
    """What the person asked the list for, read from the URL's query string."""

    q: str = ""
    tags: tuple[str, ...] = ()
    tags_match_mode: str = "any"
    status: str = "all"
    last_dag_run_state: str = "all"
    favorite: bool = False
    sort: str = "dag_id"

    @classmethod
    def parse(cls, params: QueryDict) -> ListQuery:
        # `tag` is the list's older single-tag parameter (bookmarks still carry it).
        tags = [t.strip() for t in params.getlist("tags") + params.getlist("tag") if t.strip()]
        favorite = params.get("favorite", "").strip().lower()
        if favorite not in ("", "true", "false"):
            raise BadListQuery(f"favorite must be true or false, not {favorite!r}")
        return cls(
            q=params.get("q", "").strip(),
            tags=tuple(dict.fromkeys(tags)),
            tags_match_mode=_one_of(params, "tags_match_mode", TAG_MATCH_MODES, "any"),
            status=_one_of(params, "status", STATUSES, "all"),
            last_dag_run_state=_one_of(params, "last_dag_run_state", RUN_STATES, "all"),
            favorite=favorite == "true",
            sort=_one_of(params, "sort", list(SORT_LABELS), "dag_id"),
        )

    @property
    def filtered(self) -> bool:
        return bool(
            self.q
            or self.tags
            or self.status != "all"
            or self.last_dag_run_state != "all"
            or self.favorite
        )

    @property
    def tags_text(self) -> str:
        joiner = " and " if self.tags_match_mode == "all" else " or "
        return joiner.join(self.tags)

    def url(self, **changes: Any) -> str:
        """A link to the list with this query (and `changes`): `?…`, or `?` for the defaults."""
        return "?" + urlencode(self.params(**changes))

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """This query as URL parameters (defaults left out), with `changes` applied."""
        values = {
            "q": self.q,
            "tags": list(self.tags),
            "tags_match_mode": self.tags_match_mode if len(self.tags) > 1 else "any",
            "status": self.status,
            "last_dag_run_state": self.last_dag_run_state,
            "favorite": "true" if self.favorite else "",
            "sort": self.sort,
            **changes,
        }
        defaults = {
            "tags_match_mode": "any",
            "status": "all",
            "last_dag_run_state": "all",
            "sort": "dag_id",
        }
        pairs: list[tuple[str, str]] = []
        for name, value in values.items():
            for one in value if isinstance(value, list) else [value]:
                if one not in ("", None) and defaults.get(name) != one:
                    pairs.append((name, str(one)))
        return pairs


# The columns whose headers sort, and the sort a first click on each asks for.
HEADER_SORTS = {
    "dag_id": "dag_id",
    "next_dagrun": "next_dagrun",
    "last_run_start_date": "-last_run_start_date",
}


def header_links(query: ListQuery) -> tuple[dict[str, str], dict[str, str]]:
    """Per sortable column: the link a click on its header follows (the other direction when
    it is the current sort) and its `aria-sort`."""
    links, aria = {}, {}
    for key, first in HEADER_SORTS.items():
        if query.sort.lstrip("-") == key:
            descending = query.sort.startswith("-")
            aria[key] = "descending" if descending else "ascending"
            links[key] = query.url(sort=key if descending else "-" + key)
        else:
            aria[key] = "none"
            links[key] = query.url(sort=first)
    return links, aria


def _latest_run(column: str) -> Subquery:
    latest = DagRun.objects.filter(dag_id=OuterRef("dag_id")).order_by("-run_after", "-id")
    return Subquery(latest.values(column)[:1])


def dags_for(query: ListQuery, user) -> QuerySet[DagModel]:
    """The active DAGs the query selects, annotated and in the order asked for."""
    latest_version = DagVersion.objects.filter(dag_id=OuterRef("dag_id")).order_by(
        "-version_number"
    )
    dags = DagModel.objects.filter(is_active=True).annotate(
        last_run_state=_latest_run("state"),
        last_run_start_date=_latest_run("start_date"),
        is_favorite=Exists(DagFavorite.objects.filter(dag_id=OuterRef("dag_id"), user=user))
        if user.is_authenticated
        else Value(False),
        dag_timezone=Subquery(latest_version.values("serialized__timezone")[:1]),
    )
    if query.q:
        dags = dags.filter(
            Q(dag_id__icontains=query.q)
            | Q(dag_display_name__icontains=query.q)
            | Q(description__icontains=query.q)
        )
    dags = filter_tags(dags, query.tags, query.tags_match_mode)
    if query.status != "all":
        dags = dags.filter(is_paused=query.status == "paused")
    if query.last_dag_run_state != "all":
        dags = dags.filter(last_run_state=query.last_dag_run_state)
    if query.favorite:
        dags = dags.filter(is_favorite=True)
    column = F(SORT_FIELDS[query.sort.lstrip("-")])
    ordered = (
        column.desc(nulls_last=True) if query.sort.startswith("-") else column.asc(nulls_last=True)
    )
    return dags.order_by(ordered, "dag_id").prefetch_related("tags")


@dataclass
class RecentRun:
    """One of a DAG's last runs as the list draws it: a bar as tall as its duration."""

    run: DagRun
    seconds: float | None
    height: int = 100  # % of the row's longest run
    label: str = ""  # accessible name and tooltip

    @property
    def state(self) -> str:
        return self.run.state


@dataclass
class Row:
    dag: DagModel
    tags: list[str]
    runs: list[RecentRun] = field(default_factory=list)
    running: int = 0
    next_run_tip: str = ""

    @property
    def last(self) -> RecentRun | None:
        return self.runs[-1] if self.runs else None


def _run_label(run: DagRun, seconds: float | None) -> str:
    return tip(
        [
            ("", run.run_id),
            ("State", run.state),
            ("Run after", fmt.when(run.run_after)),
            ("Start", fmt.when(run.start_date)),
            ("End", fmt.when(run.end_date)),
            ("Duration", fmt.duration(seconds) + (" so far" if run.end_date is None else "")),
        ]
    )


def recent_runs(runs: list[DagRun], now: datetime) -> list[RecentRun]:
    """Oldest first; a run still going counts its time so far."""
    shown = []
    for run in sorted(runs, key=lambda r: (r.run_after, r.pk)):
        seconds = fmt.between(run.start_date, run.end_date or (now if run.start_date else None))
        shown.append(RecentRun(run, seconds, label=_run_label(run, seconds)))
    longest = max((r.seconds or 0 for r in shown), default=0)
    for r in shown:
        # A floor, so a run of a few seconds beside an hour-long one still shows (and clicks).
        r.height = max(20, round(100 * (r.seconds or 0) / longest)) if longest else 20
    return shown


def next_run_tip(dag: DagModel) -> str:
    """The next run in the viewer's zone, and in the DAG's own timezone when that is another
    one (as Airflow shows a DAG's next run with its timezone)."""
    when = dag.next_dagrun_create_after
    if when is None:
        return ""
    lines = [("", f"Next run {fmt.when(when)}")]
    zone_name = getattr(dag, "dag_timezone", None) or "UTC"
    dag_zone = zone_named(zone_name)
    if dag_zone is not None and zone_name != zone_name_of(fmt.viewer_zone()):
        lines.append((f"In {zone_name}", fmt.when(when, dag_zone)))
    if dag.next_dagrun is not None:
        lines.append(("Logical date", fmt.when(dag.next_dagrun)))
    return tip(lines)


def rows_for(dags: list[DagModel]) -> list[Row]:
    """The rows of one page of DAGs: two queries (last runs, running counts)."""
    ids = [d.dag_id for d in dags]
    last_runs: dict[str, list[DagRun]] = defaultdict(list)
    running: dict[str, int] = {}
    if ids:
        ranked = (
            DagRun.objects.filter(dag_id__in=ids)
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("dag_id")],
                    order_by=[F("run_after").desc(), F("id").desc()],
                )
            )
            .filter(rank__lte=LAST_RUNS)
            .only(
                "pk",
                "dag_id",
                "run_id",
                "state",
                "run_after",
                "run_type",
                "start_date",
                "end_date",
            )
        )
        for run in ranked:
            last_runs[run.dag_id].append(run)
        running = dict(
            DagRun.objects.filter(dag_id__in=ids, state=DagRunState.RUNNING)
            .values("dag_id")
            .annotate(n=Count("id"))
            .values_list("dag_id", "n")
        )
    now = timezone.now()
    return [
        Row(
            dag=dag,
            tags=sorted(t.name for t in dag.tags.all()),
            runs=recent_runs(last_runs.get(dag.dag_id, []), now),
            running=running.get(dag.dag_id, 0),
            next_run_tip=next_run_tip(dag),
        )
        for dag in dags
    ]
