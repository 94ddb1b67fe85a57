"""The trigger form's raw-JSON mode (Airflow 3's): a DAG with params takes its whole conf as
JSON, extra keys included; the toggle carries what was entered between the modes; problems
are named per param in our words, not jsonschema's."""

from __future__ import annotations

import json

import pytest

from dagruns.models import DagRun
from tests.builders import store_dag

pytestmark = pytest.mark.django_db

PARAMS = {
    "name": {"default": "world", "description": None, "schema": {"type": "string", "minLength": 1}},
    "times": {
        "default": 2,
        "description": None,
        "schema": {"type": "integer", "minimum": 1, "maximum": 10},
    },
    "color": {"default": "green", "description": None, "schema": {"enum": ["red", "green"]}},
}
FORM = {"mode": "form", "param:name": "Ada", "param:times": "3", "param:color": "red"}


@pytest.fixture
def greet():
    return store_dag("greet", {"hello": []}, params=PARAMS)


def test_switching_to_json_carries_the_fields_over_and_judges_nothing_yet(user, greet):
    response = user.post("/dags/greet/trigger", {**FORM, "switch_mode": "json"})
    assert response.status_code == 200 and DagRun.objects.count() == 0
    assert response.context["mode"] == "json"
    assert json.loads(response.context["conf_text"]) == {"name": "Ada", "times": 3, "color": "red"}
    html = response.content.decode()
    assert '<textarea id="conf" name="conf"' in html
    assert 'data-mode="json" disabled' in html  # the mode shown is the pressed one


def test_json_mode_passes_extra_keys_to_the_run(user, greet):
    conf = {"name": "Ada", "times": 4, "color": "green", "batch": [1, 2]}
    review = user.post("/dags/greet/trigger", {"mode": "json", "conf": json.dumps(conf)})
    assert json.loads(review.context["conf_json"]) == conf
    user.post("/dags/greet/trigger", {"confirm": "1", "conf_json": review.context["conf_json"]})
    assert DagRun.objects.get().conf == conf


def test_json_mode_fills_in_defaults_for_params_left_out(user, greet):
    review = user.post("/dags/greet/trigger", {"mode": "json", "conf": '{"batch": 1}'})
    assert json.loads(review.context["conf_json"]) == {"batch": 1}
    assert review.context["errors"] == {}


def test_json_mode_names_each_bad_param_in_plain_words(user, greet):
    conf = {"name": "", "times": "three", "color": "blue"}
    response = user.post("/dags/greet/trigger", {"mode": "json", "conf": json.dumps(conf)})
    assert DagRun.objects.count() == 0
    assert response.context["mode"] == "json"
    assert response.context["errors"] == {
        "name": "Must not be empty.",
        "times": "Must be a whole number, not text.",
        "color": 'Must be one of "red", "green" (you entered "blue").',
    }
    html = response.content.decode()
    assert 'data-param-error="times"' in html
    assert "should be non-empty" not in html and "is not of type" not in html
    assert "three" in html  # the editor keeps what was typed


@pytest.mark.parametrize(
    ("text", "problem"),
    [("{nope", "Not valid JSON"), ("[1]", "The conf must be a JSON object")],
)
def test_json_that_cannot_be_read_is_an_error_on_the_editor(user, greet, text, problem):
    for extra in ({}, {"switch_mode": "form"}):  # submitting or switching back alike
        response = user.post("/dags/greet/trigger", {"mode": "json", "conf": text, **extra})
        assert response.context["mode"] == "json"
        assert problem in response.context["errors"]["conf"]
        assert DagRun.objects.count() == 0


def test_switching_back_to_the_form_keeps_the_extra_keys(user, greet):
    conf = {"name": "Bo", "times": 5, "color": "red", "batch": 7}
    form = user.post(
        "/dags/greet/trigger", {"mode": "json", "conf": json.dumps(conf), "switch_mode": "form"}
    )
    assert form.context["mode"] == "form"
    html = form.content.decode()
    assert 'name="param:name" value="Bo"' in html
    assert 'name="extra_conf" value="{&quot;batch&quot;: 7}"' in html
    assert "<code>batch</code>" in html
    review = user.post(
        "/dags/greet/trigger",
        {**FORM, "param:name": "Bo", "extra_conf": form.context["extra_text"]},
    )
    assert json.loads(review.context["conf_json"])["batch"] == 7


def test_an_unknown_mode_is_refused_naming_it(user, greet):
    response = user.post("/dags/greet/trigger", {**FORM, "mode": "yaml"})
    assert response.status_code == 400
    assert "mode must be form or json" in response.content.decode()


def test_a_param_without_default_is_left_out_of_the_json_and_asked_for(user):
    params = {**PARAMS, "target": {"default": None, "has_default": False, "schema": {}}}
    store_dag("needs", {"t": []}, params=params)
    assert "target" not in json.loads(user.get("/dags/needs/trigger").context["conf_text"])
    shown = user.post("/dags/needs/trigger", {"mode": "form", "switch_mode": "json"})
    assert "target" in json.loads(shown.context["conf_text"])  # the form's (empty) field
    fresh = user.post("/dags/needs/trigger", {"mode": "json", "conf": '{"times": 3}'})
    assert fresh.context["errors"] == {
        "target": "Required: enter a value (this param has no default)."
    }
