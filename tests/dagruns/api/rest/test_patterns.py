"""`*_pattern` filters: Airflow's `ILIKE '%pattern%'` (`%` any run, `_` one character),
matched by the database's LIKE so that no pattern costs more than a scan of the data.

The hostile case (50 wildcards then a character that matches nothing) froze the whole server
for minutes when patterns were regular expressions evaluated in Python on SQLite; here it
runs on every list endpoint that has a pattern, over real HTTP, with a concurrent request.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from django.contrib.auth.models import Group
from django.utils import timezone

from dagruns.actions.xcoms import do_set_xcom
from dagruns.api.rest.auth import issue_token
from dagruns.api.rest.pagination import PATTERN_MAX_LENGTH, like_contains_value, pattern_filter
from dagruns.domain.roles import Role
from dagruns.models import (
    DEFAULT_POOL_NAME,
    AuditEvent,
    Connection,
    DagImportError,
    DagTag,
    Pool,
    Variable,
)
from tests.builders import make_run
from tests.personas import make_user

# 50 wildcards, then a character no value holds: every database must give up quickly.
HOSTILE = "%_" * 25 + "\u2603"
# A client timeout far above any honest answer: the assertion is that the server answers.
CLIENT_TIMEOUT = 30.0


def _values(pattern: str) -> list[str]:
    return sorted(
        Variable.objects.filter(pattern_filter("key", pattern)).values_list("key", flat=True)
    )


@pytest.mark.django_db
def test_a_pattern_is_sql_like_matched_anywhere_and_ignoring_ascii_case():
    for key in ["etl_daily", "ETL-hourly", "load", "a%b", "back\\slash", "x_y"]:
        Variable.objects.create(key=key)
    assert _values("etl") == ["ETL-hourly", "etl_daily"]
    assert _values("e_l") == ["ETL-hourly", "etl_daily"]
    assert _values("l%d") == ["etl_daily", "load"]
    # `_` is a wildcard (Airflow's semantics), `%` too; a backslash is an ordinary character.
    assert _values("x_y") == ["x_y"]
    assert _values("a%b") == ["a%b"]
    assert _values("b%s") == ["back\\slash"]
    assert _values("k\\s") == ["back\\slash"]
    assert _values("nothing") == []


def test_runs_of_percent_collapse_and_backslashes_are_escaped():
    assert like_contains_value("%%%a%%") == "%a%"
    assert like_contains_value("a\\b") == "%a\\\\b%"


@pytest.mark.django_db
def test_a_pattern_longer_than_the_limit_is_a_400_naming_the_parameter_and_the_limit(admin):
    response = admin.get("/variables", params={"variable_key_pattern": "a" * 201})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "variable_key_pattern" in detail and str(PATTERN_MAX_LENGTH) in detail
    at_limit = admin.get("/variables", params={"variable_key_pattern": "a" * PATTERN_MAX_LENGTH})
    assert at_limit.status_code == 200


@pytest.fixture
def served(live_server) -> dict[str, Any]:
    """Something for every pattern to look at, served over real HTTP, and an admin token."""
    for role in Role:
        Group.objects.get_or_create(name=role.group_name)
    Pool.objects.get_or_create(name=DEFAULT_POOL_NAME, defaults={"slots": 128})
    run = make_run(dag_id="etl")
    do_set_xcom(run, "extract", "return_value", {"rows": 3})
    DagTag.objects.create(dag_id="etl", name="finance")
    for n in range(20):
        Variable.objects.create(key=f"var_{n}_{'x' * 40}")
        Connection.objects.create(conn_id=f"conn_{n}_{'x' * 40}", conn_type="http")
        Pool.objects.create(name=f"pool_{n}_{'x' * 40}", slots=1)
        AuditEvent.objects.create(event=f"event_{n}_{'x' * 40}", owner="ada", dag_id="etl")
    DagImportError.objects.create(
        filename="/dags/" + "b" * 60 + ".py", message="boom", timestamp=timezone.now()
    )
    token = issue_token(make_user("ada", Role.ADMIN))
    return {"url": live_server.url, "headers": {"Authorization": f"Bearer {token}"}}


def _pattern_requests(served: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, parameter) for every GET operation of the published document with a pattern."""
    document = requests.get(f"{served['url']}/api/v2/openapi.json", timeout=CLIENT_TIMEOUT).json()
    found = []
    for path, operations in document["paths"].items():
        operation = operations.get("get")
        # listMapped needs a real run and a mapped task (no `~`): its patterns are tested in
        # test_mapped_task_instances.py.
        if not operation or path.endswith("/listMapped"):
            continue
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            # `*_prefix_pattern`s are refused by name (a 400), tested with their lists.
            if parameter["in"] == "query" and name.endswith("_pattern") and "_prefix_" not in name:
                concrete = path.removeprefix("/api/v2")
                for segment in ("dag_id", "dag_run_id", "task_id"):
                    concrete = concrete.replace("{" + segment + "}", "~")
                found.append((concrete, name))
    return found


def _timed_get(served: dict[str, Any], path: str, params: dict[str, str]):
    started = time.monotonic()
    response = requests.get(
        f"{served['url']}/api/v2{path}",
        params=params,
        headers=served["headers"],
        timeout=CLIENT_TIMEOUT,
    )
    return response, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_hostile_pattern_on_every_list_endpoint_answers_and_a_concurrent_request_stays_fast(
    served, capsys
):
    targets = _pattern_requests(served)
    # Every pattern parameter the API publishes, on every list endpoint that has one.
    assert len(targets) == 23, targets
    with ThreadPoolExecutor(max_workers=4) as pool:
        hostile = [pool.submit(_timed_get, served, p, {name: HOSTILE}) for p, name in targets]
        # While the hostile requests are in flight, someone else asks for something simple.
        health, health_seconds = _timed_get(served, "/monitor/health", {})
        answers = [
            (target, *future.result()) for target, future in zip(targets, hostile, strict=True)
        ]
    assert health.status_code == 200
    slowest = 0.0
    for (path, name), response, seconds in answers:
        assert response.status_code == 200, (path, name, response.text)
        assert response.json()["total_entries"] == 0, (path, name)
        slowest = max(slowest, seconds)
    with capsys.disabled():
        print(
            f"\n[patterns] {len(answers)} hostile requests: slowest {slowest:.3f}s; "
            f"concurrent /monitor/health {health_seconds:.3f}s"
        )
    # The same endpoints still find what a pattern really matches.
    found, _ = _timed_get(served, "/variables", {"variable_key_pattern": "var\\_1_\\_%"})
    assert found.json()["total_entries"] == 0  # `\` is literal, nothing holds one
    found, _ = _timed_get(served, "/variables", {"variable_key_pattern": "VAR_1_%x"})
    assert found.json()["total_entries"] == 11  # var_1_… and var_10_… to var_19_…
