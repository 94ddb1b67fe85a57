"""Template helpers of the dashboard: states, durations, role checks, UI URLs."""

from __future__ import annotations

from django import template

from dagruns.domain.masking import masked as mask_secrets
from dagruns.domain.roles import Role, has_role
from dagruns.models.states import STATE_COLOURS
from dagruns.ui import format as fmt
from dagruns.ui import urls

register = template.Library()

LEGEND = [s for s in STATE_COLOURS if s is not None]


@register.filter
def state(value) -> str:
    return value or "none"


@register.filter
def duration(seconds) -> str:
    return fmt.duration(seconds)


@register.filter
def when(value) -> str:
    """`{{ run.start_date|when }}`: a `<time>` in the viewer's zone, its full date on hover."""
    return fmt.time_html(value)


@register.filter
def when_text(value) -> str:
    """`{{ run.start_date|when_text }}`: the same date as plain text, for attributes and
    `<option>`s, where markup cannot go."""
    return fmt.when(value)


@register.filter
def size(value) -> str:
    return fmt.size(value)


@register.filter
def details(value) -> str:
    """`{{ event.extra|details }}`: recorded key/values, seconds and bytes in human units."""
    return fmt.details(value)


@register.filter
def masked(value):
    """`{{ run.note|masked }}`: text a task or a person wrote, secrets replaced by ***."""
    return mask_secrets(value)


@register.filter
def can(user, role_name: str) -> bool:
    """`{% if user|can:"User" %}` — only for showing buttons; views check for themselves."""
    return has_role(user, Role[role_name.upper()])


@register.simple_tag
def ti_url(dag_id: str, run_id: str, task_id: str) -> str:
    return urls.ti_url(dag_id, run_id, task_id)


@register.simple_tag
def run_url(dag_id: str, run_id: str) -> str:
    return urls.run_url(dag_id, run_id)


@register.simple_tag
def dag_url(dag_id: str, tab: str = "grid") -> str:
    return urls.dag_url(dag_id, tab)


@register.simple_tag
def query(url: str, **params) -> str:
    return urls.with_query(url, **params)


@register.inclusion_tag("dagruns/_legend.html")
def legend():
    return {"states": LEGEND}


@register.filter
def get_flag(flags, name: str) -> bool:
    return bool(flags and flags.get(name))


@register.filter
def clock(value) -> str:
    """Short form for narrow tables: a `<time>` showing month-day and time in the viewer's
    zone (the full date with its zone is in the title)."""
    return fmt.time_html(value, short=True)
