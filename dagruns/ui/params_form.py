"""The trigger form, generated from a DAG version's params (their JSON schemas), as Airflow's
trigger form is: one field per param with a widget for its type, its description as help, and
each field's validation error shown next to it. DAGs without params get a JSON conf editor."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from dagruns.sdk.exceptions import ParamValidationError
from dagruns.sdk.params import validate_params

PREFIX = "param:"


@dataclass
class ParamField:
    name: str
    widget: str  # text | integer | number | checkbox | select | json | date
    value: str = ""
    checked: bool = False
    description: str = ""
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    minimum: Any = None
    maximum: Any = None
    error: str = ""
    type_label: str = ""

    @property
    def input_name(self) -> str:
        return PREFIX + self.name


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return [k for k in kind if k != "null"] or ["null"]
    return [kind] if isinstance(kind, str) else []


def _widget(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "select"
    types = _types(schema)
    if len(types) != 1:
        return "json"
    kind = types[0]
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return kind
    if kind == "string":
        return "date" if schema.get("format") == "date" else "text"
    return "json"


def _display(widget: str, value: Any) -> str:
    if value is None:
        return ""
    if widget == "json":
        return json.dumps(value, indent=2, ensure_ascii=False)
    if widget == "select":
        return json.dumps(value) if not isinstance(value, str) else value
    return str(value)


def fields_for(
    params: dict[str, dict[str, Any]], values: dict[str, Any] | None = None
) -> list[ParamField]:
    """Fields showing each param's default, or `values` (what the person typed) when given."""
    result = []
    for name, spec in params.items():
        schema = spec.get("schema") or {}
        widget = _widget(schema)
        has_default = spec.get("has_default", True)
        value = values[name] if values is not None and name in values else spec.get("default")
        f = ParamField(
            name=name,
            widget=widget,
            description=spec.get("description") or schema.get("description") or "",
            required=not has_default,
            minimum=schema.get("minimum"),
            maximum=schema.get("maximum"),
            type_label="choice" if widget == "select" else "/".join(_types(schema)) or "any JSON",
        )
        if widget == "checkbox":
            f.checked = bool(value)
        elif values is not None and name in values and isinstance(values[name], str):
            f.value = values[name] if widget != "json" else values[name]
        else:
            f.value = _display(widget, value)
        if widget == "select":
            f.options = [
                (v if isinstance(v, str) else json.dumps(v), str(v)) for v in schema["enum"]
            ]
        result.append(f)
    return result


def parse(
    params: dict[str, dict[str, Any]], data
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """(conf, errors by param name, raw values to redisplay) from a submitted form."""
    conf: dict[str, Any] = {}
    errors: dict[str, str] = {}
    raw: dict[str, Any] = {}
    for name, spec in params.items():
        schema = spec.get("schema") or {}
        widget = _widget(schema)
        key = PREFIX + name
        if widget == "checkbox":
            conf[name] = key in data
            raw[name] = conf[name]
            continue
        text = data.get(key, "")
        raw[name] = text
        nullable = (
            "null" in (schema.get("type") or []) if isinstance(schema.get("type"), list) else False
        )
        if text.strip() == "" and widget not in ("text", "select"):
            if nullable or spec.get("has_default", True) and spec.get("default") is None:
                conf[name] = None
            else:
                errors[name] = "This field is required."
            continue
        try:
            conf[name] = _convert(widget, text, schema)
        except ValueError as exc:
            errors[name] = str(exc)
    if not errors:
        try:
            validate_params(params, conf)
        except ParamValidationError as exc:
            errors.update(exc.errors or {"__all__": str(exc)})
    else:
        try:
            validate_params(params, {k: v for k, v in conf.items() if k not in errors})
        except ParamValidationError as exc:
            for name, problem in (exc.errors or {}).items():
                if name in conf:
                    errors.setdefault(name, problem)
    return conf, errors, raw


def _convert(widget: str, text: str, schema: dict[str, Any]) -> Any:
    if widget == "integer":
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError("Enter a whole number.") from None
    if widget == "number":
        try:
            number = float(text.strip())
        except ValueError:
            raise ValueError("Enter a number.") from None
        return int(number) if number.is_integer() and "." not in text else number
    if widget == "json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"Not valid JSON: {exc}") from None
    if widget == "select":
        for option in schema.get("enum") or ():
            if (option if isinstance(option, str) else json.dumps(option)) == text:
                return option
        raise ValueError("Choose one of the listed values.")
    return text


def parse_conf_json(text: str) -> tuple[dict[str, Any] | None, str]:
    """The JSON conf editor's content as a dict, or (None, the problem)."""
    text = (text or "").strip() or "{}"
    try:
        value = json.loads(text)
    except ValueError as exc:
        return None, f"Not valid JSON: {exc}"
    if not isinstance(value, dict):
        return None, "The conf must be a JSON object ({…})."
    return value, ""
