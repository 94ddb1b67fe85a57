"""Creating, resizing and deleting pools; used alike by the REST API and the CLI.

The default pool always exists: it cannot be deleted or renamed, and only its slots and
include_deferred may change (as in Airflow).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum

from dagruns.actions.audit import Actor, record
from dagruns.actions.dry_run import with_dry_run
from dagruns.actions.text import check_no_nul
from dagruns.models import DEFAULT_POOL_NAME, Pool, TaskInstance, TaskInstanceState

UNSET: Any = object()
NAME_MAX_LENGTH = 256
# Counted per state; "occupied" is running + queued (+ deferred with include_deferred).
USAGE_STATES = (
    TaskInstanceState.RUNNING,
    TaskInstanceState.QUEUED,
    TaskInstanceState.SCHEDULED,
    TaskInstanceState.DEFERRED,
)


class PoolInvalid(ValueError):
    """The pool cannot be stored as asked; the message says why."""


class PoolNotFound(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"The Pool with name: `{name}` was not found")
        self.name = name


class PoolExists(PoolInvalid):
    def __init__(self, name: str) -> None:
        super().__init__(f"The Pool with name: `{name}` already exists")
        self.name = name


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise PoolInvalid("a pool name must be a non-empty string")
    if len(name) > NAME_MAX_LENGTH:
        raise PoolInvalid(f"a pool name may have at most {NAME_MAX_LENGTH} characters")
    check_no_nul(name, "name", PoolInvalid)
    return name


def check_slots(slots: Any) -> int:
    if isinstance(slots, bool):
        raise PoolInvalid("slots must be a whole number")
    try:
        value = int(slots)
    except (TypeError, ValueError):
        raise PoolInvalid(f"slots must be a whole number, not {slots!r}") from None
    if value < -1:
        raise PoolInvalid("slots must be -1 (unlimited) or more")
    if value > 2**31 - 1:
        raise PoolInvalid("slots is too large")
    return value


def check_description(description: Any) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise PoolInvalid("description must be a string")
    check_no_nul(description, "description", PoolInvalid)
    return description


def get_pool(name: str) -> Pool:
    try:
        return Pool.objects.get(name=name)
    except Pool.DoesNotExist:
        raise PoolNotFound(name) from None


def usage(names: list[str] | None = None) -> dict[str, dict[str, int]]:
    """Slots taken per pool and state, in one query."""
    rows = TaskInstance.objects.filter(state__in=USAGE_STATES)
    if names is not None:
        rows = rows.filter(pool__in=names)
    out: dict[str, dict[str, int]] = {}
    for row in rows.values("pool", "state").annotate(slots=Sum("pool_slots")):
        # str(): the column is nullable, but the filter above keeps only USAGE_STATES.
        out.setdefault(row["pool"], {})[str(row["state"])] = int(row["slots"] or 0)
    return out


@with_dry_run
def do_create_pool(
    name: str,
    slots: Any,
    actor: Actor,
    *,
    description: str | None = None,
    include_deferred: bool = False,
) -> Pool:
    """Create a pool; PoolExists if the name is taken (REST POST: 409)."""
    pool = Pool(
        name=check_name(name),
        slots=check_slots(slots),
        description=check_description(description),
        include_deferred=bool(include_deferred),
    )
    try:
        with transaction.atomic():
            pool.save()
            record(actor, "pool_create", extra={"pool": name, "slots": pool.slots})
    except IntegrityError:
        raise PoolExists(name) from None
    return pool


@with_dry_run
def do_update_pool(
    name: str,
    actor: Actor,
    *,
    new_name: Any = UNSET,
    slots: Any = UNSET,
    description: Any = UNSET,
    include_deferred: Any = UNSET,
) -> Pool:
    """Change the given fields of an existing pool."""
    with transaction.atomic():
        pool = Pool.objects.select_for_update().filter(name=name).first()
        if pool is None:
            raise PoolNotFound(name)
        if pool.is_default and (
            (new_name is not UNSET and new_name != name) or description is not UNSET
        ):
            raise PoolInvalid("Only slots and include_deferred can be modified on the default pool")
        changed: dict[str, Any] = {}
        if new_name is not UNSET and new_name != name:
            pool.name = check_name(new_name)
            changed["name"] = pool.name
        if slots is not UNSET:
            pool.slots = check_slots(slots)
            changed["slots"] = pool.slots
        if description is not UNSET:
            pool.description = check_description(description)
            changed["description"] = True
        if include_deferred is not UNSET:
            pool.include_deferred = bool(include_deferred)
            changed["include_deferred"] = pool.include_deferred
        try:
            with transaction.atomic():
                pool.save()
        except IntegrityError:
            raise PoolExists(pool.name) from None
        record(actor, "pool_update", extra={"pool": name, "changed": changed})
    return pool


@with_dry_run
def do_set_pool(
    name: str, slots: Any, actor: Actor, *, description: str | None = None, include_deferred=False
) -> Pool:
    """Create or update (Airflow's `pools set`)."""
    if Pool.objects.filter(name=name).exists():
        fields: dict[str, Any] = {"slots": slots, "include_deferred": include_deferred}
        if name != DEFAULT_POOL_NAME:
            fields["description"] = description
        return do_update_pool(name, actor, **fields)
    return do_create_pool(
        name, slots, actor, description=description, include_deferred=include_deferred
    )


@with_dry_run
def do_delete_pool(name: str, actor: Actor) -> None:
    if name == DEFAULT_POOL_NAME:
        raise PoolInvalid("Default Pool can't be deleted")
    with transaction.atomic():
        deleted, _ = Pool.objects.filter(name=name).delete()
        if not deleted:
            raise PoolNotFound(name)
        record(actor, "pool_delete", extra={"pool": name})


def export_pools() -> dict[str, dict[str, Any]]:
    """Airflow's export format: name → {slots, description, include_deferred}."""
    return {
        p.name: {
            "slots": p.slots,
            "description": p.description,
            "include_deferred": p.include_deferred,
        }
        for p in Pool.objects.order_by("name")
    }


@with_dry_run
def do_import_pools(data: Any, actor: Actor) -> list[str]:
    """Create or update every pool in Airflow's export format, all or nothing."""
    if not isinstance(data, dict):
        raise PoolInvalid("a pools file must hold a JSON object of name → {slots, description}")
    names = []
    with transaction.atomic():
        for name, item in data.items():
            if not isinstance(item, dict) or "slots" not in item:
                raise PoolInvalid(f"pool {name!r} needs at least 'slots'")
            do_set_pool(
                name,
                item["slots"],
                actor,
                description=item.get("description"),
                include_deferred=bool(item.get("include_deferred", False)),
            )
            names.append(name)
    return names
