"""jsonschema's failures in the trigger form's words: what is wrong and what is allowed."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from dagruns.sdk.params import NO_VALUE
from dagruns.ui.schema_messages import explain, explain_missing


def _said(value, schema) -> str:
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    error = next(iter(validator.iter_errors(value)))
    return explain(error)


@pytest.mark.parametrize(
    ("value", "schema", "said"),
    [
        ("", {"type": "string", "minLength": 1}, "Must not be empty."),
        ("ab", {"minLength": 3}, "Must be at least 3 characters long (it has 2)."),
        ("abcd", {"maxLength": 3}, "Must be at most 3 characters long (it has 4)."),
        (0, {"minimum": 1}, "Must be at least 1 (you entered 0)."),
        (11, {"maximum": 10}, "Must be at most 10 (you entered 11)."),
        (1, {"exclusiveMinimum": 1}, "Must be more than 1 (you entered 1)."),
        (7, {"multipleOf": 5}, "Must be a multiple of 5 (you entered 7)."),
        ("x", {"type": ["integer", "null"]}, "Must be a whole number or empty (null), not text."),
        (True, {"type": "integer"}, "Must be a whole number, not true/false."),
        ("b", {"enum": ["a", 1]}, 'Must be one of "a", 1 (you entered "b").'),
        ("2024-13-45", {"type": "string", "format": "date"}, "Must be a date like 2024-01-31."),
        ("x1", {"pattern": "^[a-z]+$"}, "Must match the pattern ^[a-z]+$."),
        ([1, 1], {"uniqueItems": True}, "Must not list the same item twice."),
        ([], {"minItems": 1}, "Must have at least 1 item (it has 0)."),
        ({"a": 1}, {"required": ["a", "b"]}, "Missing the key b."),
        (
            {"a": 1, "z": 2},
            {"properties": {"a": {}}, "additionalProperties": False},
            "Keys not allowed here: z.",
        ),
        ([1, "x"], {"items": {"type": "integer"}}, "At 1: Must be a whole number, not text."),
    ],
)
def test_each_schema_keyword_has_a_plain_sentence(value, schema, said):
    assert _said(value, schema) == said


def test_a_keyword_without_a_sentence_keeps_jsonschemas_message_as_a_sentence():
    said = _said({"a": 1}, {"propertyNames": {"maxLength": 0}})
    assert said.endswith(".") and said[0].isupper()


def test_a_param_without_value_or_default_is_asked_for():
    assert explain_missing(NO_VALUE).startswith("Required")
    assert explain_missing("Must not be empty.") == "Must not be empty."
