"""Deploy checks flag the embedded defaults."""

import pytest
from django.core.management import call_command
from django.db import connection


@pytest.mark.database  # the warnings depend on the engine (no query: marked by hand)
def test_deploy_checks_warn_about_the_embedded_defaults(capsys, settings):
    settings.ALLOWED_HOSTS = ["*"]  # the default; pytest-django replaces it for tests
    call_command("check", "--deploy", "--fail-level", "CRITICAL")
    out = capsys.readouterr()
    text = out.out + out.err
    assert "orchestrator.W001" in text  # derived Fernet key
    assert "orchestrator.W003" in text  # any host
    # SQLite is flagged; PostgreSQL is what it recommends.
    assert ("orchestrator.W002" in text) == (connection.vendor == "sqlite")
