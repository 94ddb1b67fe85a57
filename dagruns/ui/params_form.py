"""The trigger form, generated from a DAG version's params (their JSON schemas), as Airflow's
trigger form is: one field per param with a widget for its type, its description as help, and
each field's validation error shown next to it, in our words (dagruns/ui/schema_messages.py).
DAGs without params get a JSON conf editor.

A DAG with params also has Airflow 3's raw-JSON mode: the whole conf in one JSON editor, so
keys that are not params can be passed too. The person toggles between the modes; each
switch carries what was entered over (form → JSON writes the fields as JSON; JSON → form
fills the fields and keeps the other keys in a hidden field, listed under the form)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from dagruns.sdk.exceptions import ParamValidationError
from dagruns.sdk.params import validate_params
from dagruns.ui.schema_messages import explain, explain_missing

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
        errors.update(param_errors(params, conf))
    else:
        valid = {k: v for k, v in conf.items() if k not in errors}
        for name, problem in param_errors(params, valid).items():
            if name in conf:
                errors.setdefault(name, problem)
    return conf, errors, raw


def param_errors(params: dict[str, dict[str, Any]], conf: dict[str, Any]) -> dict[str, str]:
    """Each param's problem with `conf`, in the form's words (empty when all is well)."""
    try:
        validate_params(params, conf, explain)
    except ParamValidationError as exc:
        found = exc.errors or {"conf": str(exc)}
        return {name: explain_missing(problem) for name, problem in found.items()}
    return {}


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


MODES = ("form", "json")


@dataclass
class ConfInput:
    """What the trigger form read for the conf, and how to show it again."""

    mode: str  # form | json
    conf: dict[str, Any] | None
    errors: dict[str, str]  # by param name, or "conf" for the JSON editor as a whole
    fields: list[ParamField]
    conf_text: str  # the JSON editor's content
    extra_text: str = ""  # form mode: keys that are not params, carried as JSON

    @property
    def extra_keys(self) -> list[str]:
        extra, _ = parse_conf_json(self.extra_text)
        return sorted(extra or {})


def _pretty(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def initial(params: dict[str, dict[str, Any]]) -> ConfInput:
    """The form as first shown: the params' defaults, in form mode."""
    # A param without a default is left out: submitted so, it is asked for by name.
    defaults = {
        name: spec.get("default") for name, spec in params.items() if spec.get("has_default", True)
    }
    return ConfInput("form", None, {}, fields_for(params), _pretty(defaults))


def read(params: dict[str, dict[str, Any]], data) -> ConfInput:
    """The conf from a submitted trigger form of a DAG with params, in the mode it was sent
    from (`mode`), or, when a mode button was pressed (`switch_mode`), converted to that mode
    without judging it yet."""
    mode, switch = data.get("mode", "form"), data.get("switch_mode", "")
    if mode not in MODES:
        raise ValueError(f"mode must be form or json, not {mode!r}")
    if switch not in ("", *MODES):
        raise ValueError(f"switch_mode must be form or json, not {switch!r}")
    return _read_form(params, data, switch) if mode == "form" else _read_json(params, data, switch)


def _read_form(params: dict[str, dict[str, Any]], data, switch: str) -> ConfInput:
    conf, errors, raw = parse(params, data)
    extra_text = data.get("extra_conf", "")
    extra, problem = parse_conf_json(extra_text)
    if problem:
        errors["conf"] = f"The keys carried over from the JSON editor: {problem}"
    extra = extra or {}
    if switch == "json":
        # A field that could not be converted goes over as the text typed.
        shown = {name: conf.get(name, raw.get(name)) for name in params} | extra
        return ConfInput("json", None, {}, fields_for(params), _pretty(shown))
    fields = fields_for(params, raw)
    for f in fields:
        f.error = errors.get(f.name, "")
    merged = None if errors else {**extra, **conf}
    return ConfInput("form", merged, errors, fields, _pretty({**conf, **extra}), extra_text)


def _read_json(params: dict[str, dict[str, Any]], data, switch: str) -> ConfInput:
    text = data.get("conf", "")
    conf, problem = parse_conf_json(text)
    if conf is None:
        return ConfInput("json", None, {"conf": problem}, fields_for(params), text)
    if switch == "form":
        extra = {k: v for k, v in conf.items() if k not in params}
        fields = fields_for(params, {k: v for k, v in conf.items() if k in params})
        return ConfInput("form", None, {}, fields, text, json.dumps(extra) if extra else "")
    errors = param_errors(params, conf)
    return ConfInput("json", None if errors else conf, errors, fields_for(params), text)
