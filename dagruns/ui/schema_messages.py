"""The trigger form's words for a param that fails its JSON schema.

jsonschema says `'' should be non-empty` or `5 is greater than the maximum of 3`; a person
filling in a form needs what is wrong and what is allowed: "Must not be empty.", "Must be at
most 3 (you entered 5).". Each of jsonschema's validators (the schema keyword that failed)
gets a sentence here; one we have no sentence for keeps jsonschema's message. A problem
inside a list or an object names where (`At items/2: …`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from jsonschema.exceptions import ValidationError

from dagruns.sdk.params import NO_VALUE

TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "empty (null)",
}
FORMAT_EXAMPLES = {
    "date": "a date like 2024-01-31",
    "date-time": "a date and time like 2024-01-31T12:00:00+00:00",
    "time": "a time like 12:00:00+00:00",
    "email": "an email address",
    "uri": "a URI like https://example.com/x",
}


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "…"


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _min_length(limit: int, value: Any) -> str:
    if limit == 1 and value == "":
        return "Must not be empty."
    return f"Must be at least {_plural(limit, 'character')} long (it has {len(value)})."


def _type(kinds: Any, value: Any) -> str:
    wanted = [kinds] if isinstance(kinds, str) else list(kinds)
    words = " or ".join(TYPE_WORDS.get(k, k) for k in wanted)
    return f"Must be {words}, not {_type_of(value)}."


def _required(names: list[str], value: Any) -> str:
    missing = [n for n in names if isinstance(value, dict) and n not in value]
    return f"Missing the key{'s' if len(missing) > 1 else ''} {', '.join(missing)}."


def _extra_keys(allowed: Any, value: Any, schema: dict[str, Any]) -> str:
    known = set(schema.get("properties") or {})
    extra = sorted(k for k in value if k not in known) if isinstance(value, dict) else []
    return f"Keys not allowed here: {', '.join(extra)}."


WORDING: dict[str, Callable[[Any, Any, dict[str, Any]], str]] = {
    "minLength": lambda limit, value, _: _min_length(limit, value),
    "maxLength": lambda limit, value, _: (
        f"Must be at most {_plural(limit, 'character')} long (it has {len(value)})."
    ),
    "minimum": lambda limit, value, _: f"Must be at least {limit} (you entered {value}).",
    "maximum": lambda limit, value, _: f"Must be at most {limit} (you entered {value}).",
    "exclusiveMinimum": lambda limit, value, _: f"Must be more than {limit} (you entered {value}).",
    "exclusiveMaximum": lambda limit, value, _: f"Must be less than {limit} (you entered {value}).",
    "multipleOf": lambda step, value, _: f"Must be a multiple of {step} (you entered {value}).",
    "type": lambda kinds, value, _: _type(kinds, value),
    "enum": lambda options, value, _: (
        f"Must be one of {', '.join(_shown(o) for o in options)} (you entered {_shown(value)})."
    ),
    "const": lambda const, value, _: f"Must be exactly {_shown(const)}.",
    "pattern": lambda pattern, value, _: f"Must match the pattern {pattern}.",
    "format": lambda fmt, value, _: f"Must be {FORMAT_EXAMPLES.get(fmt, f'a valid {fmt}')}.",
    "minItems": lambda n, value, _: (
        f"Must have at least {_plural(n, 'item')} (it has {len(value)})."
    ),
    "maxItems": lambda n, value, _: (
        f"Must have at most {_plural(n, 'item')} (it has {len(value)})."
    ),
    "uniqueItems": lambda _u, value, _: "Must not list the same item twice.",
    "required": lambda names, value, _: _required(names, value),
    "additionalProperties": _extra_keys,
    "minProperties": lambda n, value, _: f"Must have at least {_plural(n, 'key')}.",
    "maxProperties": lambda n, value, _: f"Must have at most {_plural(n, 'key')}.",
    "anyOf": lambda _a, value, _: "Does not match any of the allowed forms.",
    "oneOf": lambda _a, value, _: "Must match exactly one of the allowed forms.",
    "not": lambda _n, value, _: "This value is not allowed.",
}


def explain(err: ValidationError) -> str:
    """One sentence saying what is wrong with the value and what the schema allows."""
    words = WORDING.get(str(err.validator))
    schema = err.schema if isinstance(err.schema, dict) else {}
    try:
        text = words(err.validator_value, err.instance, schema) if words else None
    except (TypeError, ValueError):  # a schema shaped unlike the keyword's spec
        text = None
    if text is None:
        text = err.message[:1].upper() + err.message[1:] + "."
    where = "/".join(str(part) for part in err.absolute_path)
    return f"At {where}: {text}" if where else text


def explain_missing(problem: str) -> str:
    """validate_params' "no value" problem in the form's words; others pass unchanged."""
    return (
        "Required: enter a value (this param has no default)." if problem == NO_VALUE else problem
    )
