"""Property-based run of schemathesis over our OpenAPI document: for every operation, generated
requests (valid and invalid) never get a 5xx, and every response matches the documented status
codes, content types and schemas.

Bounded: a fixed number of examples per operation, derandomized (the same requests every run),
no deadline per example and a total budget well under two minutes. Half of the generated path
parameters are swapped for ids that exist, so success paths are exercised too, not only 404s.
"""

from __future__ import annotations

import itertools
import time

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from dagruns.actions.xcoms import do_set_xcom
from dagruns.api.rest.auth import issue_token
from dagruns.domain.roles import Role
from dagruns.models import Connection, Variable
from tests.builders import make_run
from tests.personas import make_user

MAX_EXAMPLES = 10
# A backstop for slow machines: operations left when it is used up are skipped, not run.
TIME_BUDGET_SECONDS = 100.0
_started = time.monotonic()

schema = schemathesis.openapi.from_wsgi("/api/v2/openapi.json", get_wsgi_application())

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.specs.openapi.checks.status_code_conformance,
    schemathesis.specs.openapi.checks.content_type_conformance,
    schemathesis.specs.openapi.checks.response_schema_conformance,
]
_swap = itertools.count()


@pytest.fixture
def in_process_requests():
    """Requests go through the WSGI handler in this thread, inside the test's transaction:
    keep Django from closing that connection at each request's end (as its test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def known(db, in_process_requests):
    run = make_run(dag_id="etl")
    do_set_xcom(run, "extract", "return_value", {"rows": 3})
    Variable.objects.create(key="known")
    Connection.objects.create(conn_id="known", conn_type="http")
    admin = make_user("schemathesis", Role.ADMIN)
    return {
        "token": issue_token(admin),
        "ids": {
            "dag_id": "etl",
            "dag_run_id": run.run_id,
            "task_id": "extract",
            "xcom_key": "return_value",
            "variable_key": "known",
            "connection_id": "known",
            "pool_name": "default_pool",
        },
    }


@pytest.mark.slow
@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error_or_an_undocumented_response(case, known):
    if time.monotonic() - _started > TIME_BUDGET_SECONDS:
        pytest.skip("the schemathesis time budget is used up")
    if case.path_parameters and next(_swap) % 2:
        for name, value in known["ids"].items():
            if name in case.path_parameters and case.path_parameters[name] != "~":
                case.path_parameters[name] = value
    case.call_and_validate(headers={"Authorization": f"Bearer {known['token']}"}, checks=CHECKS)
