"""The audit log as people read it (Airflow's event log): filtered by DAG, run, task, event,
who and date range, newest first, paginated — shared by `/audit/` and a DAG's Events tab.

The task runner records every move of every try (running, success, failed …); on a busy DAG
those rows bury what people did. They are left out unless asked for (`runner=1`, the
"include task runner events" box), so the log shows who triggered, cleared, marked or paused
first. A bad value is refused with a message naming the field, never silently dropped.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from dagruns.actions.tries import RUNNER_ACTOR
from dagruns.models import AuditEvent
from dagruns.ui import format as fmt
from dagruns.ui.urls import with_query

PAGE_SIZE = 50
RUNNER_OWNER = RUNNER_ACTOR.name
TEXT_FIELDS = ("dag_id", "run_id", "task_id", "event", "owner")


class BadFilter(ValueError):
    """A query parameter the log cannot use; the message names it."""


@dataclass(frozen=True)
class EventFilters:
    dag_id: str = ""
    run_id: str = ""
    task_id: str = ""
    event: str = ""
    owner: str = ""
    after: str = ""  # YYYY-MM-DD, inclusive (a day in the viewer's timezone)
    before: str = ""  # YYYY-MM-DD, inclusive (a day in the viewer's timezone)
    runner: str = ""  # "1": include the task runner's events

    @property
    def include_runner(self) -> bool:
        return self.runner == "1"

    def query(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}

    @property
    def any_set(self) -> bool:
        return any(v for k, v in asdict(self).items() if k != "runner")


def _day(name: str, text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadFilter(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None


def parse_filters(params, **fixed: str) -> EventFilters:
    """The filters of a request's query (`params`: request.GET); `fixed` ones (the DAG of a
    DAG's Events tab) may be repeated in the query but not contradicted. BadFilter names the
    first bad value."""
    values = {name: (params.get(name) or "").strip() for name in TEXT_FIELDS}
    for name, value in fixed.items():
        if values[name] and values[name] != value:
            raise BadFilter(f"{name}: this page shows {value}'s events, not {values[name]}'s")
        values[name] = value
    after, before = (params.get("after") or "").strip(), (params.get("before") or "").strip()
    first, last = _day("after", after), _day("before", before)
    if first and last and first > last:
        raise BadFilter(f"after ({after}) is later than before ({before})")
    runner = (params.get("runner") or "").strip()
    if runner not in ("", "0", "1"):
        raise BadFilter(f"runner: {runner!r} must be 1 (include task runner events) or 0")
    return EventFilters(**values, after=after, before=before, runner=runner if runner else "")


def filtered(filters: EventFilters) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    for name in ("dag_id", "run_id", "task_id", "event"):
        value = getattr(filters, name)
        if value:
            events = events.filter(**{name: value})
    if filters.owner:
        events = events.filter(owner__icontains=filters.owner)
    first, last = _day("after", filters.after), _day("before", filters.before)
    # Days as the viewer reads the table: midnight to midnight in their timezone.
    zone = fmt.viewer_zone()
    if first:
        events = events.filter(when__gte=datetime.combine(first, time.min, zone))
    if last:
        events = events.filter(when__lt=datetime.combine(last + timedelta(days=1), time.min, zone))
    if not filters.include_runner:
        events = events.exclude(owner=RUNNER_OWNER)
    return events.order_by("-when", "-id")


def event_names(filters: EventFilters) -> list[str]:
    """The events recorded in this scope (a DAG's, or every one), for the event filter."""
    events = AuditEvent.objects.all()
    if filters.dag_id:
        events = events.filter(dag_id=filters.dag_id)
    return list(events.values_list("event", flat=True).distinct().order_by("event"))


def page_context(path: str, params, filters: EventFilters, *, dag_page: bool = False) -> dict:
    """Everything the event table and its pager show: the page of events, the filters, the
    event names for the select, and the newer/older links (keeping the filters; a DAG's page
    has its DAG in its path)."""
    page: Page = Paginator(filtered(filters), PAGE_SIZE).get_page(params.get("page"))
    for event in page.object_list:
        # A display value for the template only (see views/runs.py's duration_text): the
        # exact recorded values, on hover.
        event.extra_text = (  # type: ignore[attr-defined]
            json.dumps(event.extra, ensure_ascii=False, sort_keys=True) if event.extra else ""
        )
    context: dict = {"page": page, "filters": filters, "event_names": event_names(filters)}
    query = filters.query()
    if dag_page:
        query.pop("dag_id", None)
    if page.has_previous():
        context["prev_url"] = with_query(path, **query, page=page.previous_page_number())
    if page.has_next():
        context["next_url"] = with_query(path, **query, page=page.next_page_number())
    return context
