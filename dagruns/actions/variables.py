"""Creating, changing and deleting variables; used alike by the REST API and the CLI.

Values are stored as text (encrypted at rest by the model). The audit log records the key,
never the value, since variables hold secrets.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import IntegrityError, transaction

from dagruns.actions.audit import Actor, record
from dagruns.actions.dry_run import with_dry_run
from dagruns.actions.text import check_no_nul
from dagruns.models import Variable
from dagruns.models.dag import ID_MAX_LENGTH

UNSET: Any = object()
ON_EXISTING = ("overwrite", "fail", "skip")


class VariableError(ValueError):
    """The variable cannot be stored as asked; the message says why."""


class VariableNotFound(LookupError):
    def __init__(self, key: str) -> None:
        super().__init__(f"The Variable with key: `{key}` was not found")
        self.key = key


class VariableExists(VariableError):
    def __init__(self, key: str) -> None:
        super().__init__(f"The Variable with key: `{key}` already exists")
        self.key = key


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not key.strip():
        raise VariableError("a variable key must be a non-empty string")
    if len(key) > ID_MAX_LENGTH:
        raise VariableError(f"a variable key may have at most {ID_MAX_LENGTH} characters")
    check_no_nul(key, "key", VariableError)
    return key


def value_text(value: Any) -> str:
    """Strings as they are; any other JSON value as its JSON text (Airflow's serialize_json).
    A NUL character is refused like everywhere else."""
    check_no_nul(value, "value", VariableError)
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise VariableError(f"a variable value must be JSON: {exc}") from None


def check_text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise VariableError(f"{name} must be a string")
    check_no_nul(value, name, VariableError)
    return value


def get_variable(key: str) -> Variable:
    try:
        return Variable.objects.get(key=key)
    except Variable.DoesNotExist:
        raise VariableNotFound(key) from None


@with_dry_run
def do_create_variable(
    key: str, value: Any, actor: Actor, *, description: str | None = None
) -> Variable:
    """Create a variable; VariableExists if the key is taken (REST POST: 409)."""
    key = check_key(key)
    var = Variable(key=key, description=check_text("description", description))
    var.val = value_text(value)
    try:
        with transaction.atomic():
            var.save()
            record(actor, "variable_create", extra={"key": key})
    except IntegrityError:
        raise VariableExists(key) from None
    return var


@with_dry_run
def do_set_variable(
    key: str,
    value: Any,
    actor: Actor,
    *,
    description: str | None = UNSET,
    audit_fields: dict[str, Any] | None = None,
) -> Variable:
    """Create or replace (Airflow's `variables set`); the description is kept unless given.
    `audit_fields`: what else the audit row records (the task instance, for a task's write)."""
    key = check_key(key)
    text = value_text(value)
    with transaction.atomic():
        var = Variable.objects.select_for_update().filter(key=key).first()
        created = var is None
        if var is None:
            var = Variable(key=key)
        var.val = text
        if description is not UNSET:
            var.description = check_text("description", description)
        var.save()
        record(
            actor,
            "variable_create" if created else "variable_update",
            extra={"key": key},
            **(audit_fields or {}),
        )
    return var


@with_dry_run
def do_update_variable(
    key: str,
    actor: Actor,
    *,
    value: Any = UNSET,
    description: Any = UNSET,
) -> Variable:
    """Change the given fields of an existing variable (REST PATCH)."""
    with transaction.atomic():
        var = Variable.objects.select_for_update().filter(key=key).first()
        if var is None:
            raise VariableNotFound(key)
        changed = []
        if value is not UNSET:
            var.val = value_text(value)
            changed.append("value")
        if description is not UNSET:
            var.description = check_text("description", description)
            changed.append("description")
        var.save()
        record(actor, "variable_update", extra={"key": key, "fields": changed})
    return var


@with_dry_run
def do_delete_variable(
    key: str, actor: Actor, *, audit_fields: dict[str, Any] | None = None
) -> None:
    with transaction.atomic():
        deleted, _ = Variable.objects.filter(key=key).delete()
        if not deleted:
            raise VariableNotFound(key)
        record(actor, "variable_delete", extra={"key": key}, **(audit_fields or {}))


def parse_import(data: Any) -> dict[str, tuple[Any, str | None | Any]]:
    """Airflow's export format, `{key: value}`, or `{key: {"value": …, "description": …}}`
    as Airflow 3 also reads. Returns key → (value, description or UNSET)."""
    if not isinstance(data, dict):
        raise VariableError("a variables file must hold a JSON object of key → value")
    parsed: dict[str, tuple[Any, Any]] = {}
    for key, item in data.items():
        if isinstance(item, dict) and "value" in item and set(item) <= {"value", "description"}:
            parsed[key] = (item["value"], item.get("description", UNSET))
        else:
            parsed[key] = (item, UNSET)
    return parsed


@with_dry_run
def do_import_variables(
    data: Any, actor: Actor, *, on_existing: str = "overwrite"
) -> dict[str, list[str]]:
    """Import many at once, all or nothing. `on_existing`: overwrite, fail or skip."""
    if on_existing not in ON_EXISTING:
        raise VariableError(f"on_existing must be one of {', '.join(ON_EXISTING)}")
    items = parse_import(data)
    for key in items:
        check_key(key)
    result: dict[str, list[str]] = {"created": [], "updated": [], "skipped": []}
    with transaction.atomic():
        existing = set(Variable.objects.filter(key__in=list(items)).values_list("key", flat=True))
        if on_existing == "fail" and existing:
            raise VariableError(f"variables already exist: {', '.join(sorted(existing))}")
        for key, (value, description) in items.items():
            if key in existing and on_existing == "skip":
                result["skipped"].append(key)
                continue
            do_set_variable(key, value, actor, description=description)
            result["updated" if key in existing else "created"].append(key)
    return result


def export_variables() -> dict[str, Any]:
    """Airflow's export format: key → value, JSON values decoded where they are JSON."""
    out: dict[str, Any] = {}
    for var in Variable.objects.order_by("key"):
        text = var.val
        try:
            out[var.key] = json.loads(text)
        except ValueError:
            out[var.key] = text
    return out
