"""Deploy checks flag the embedded defaults."""

from django.core.management import call_command


def test_deploy_checks_warn_about_the_embedded_defaults(capsys, settings):
    settings.ALLOWED_HOSTS = ["*"]  # the default; pytest-django replaces it for tests
    call_command("check", "--deploy", "--fail-level", "CRITICAL")
    out = capsys.readouterr()
    for check_id in ("orchestrator.W001", "orchestrator.W002", "orchestrator.W003"):
        assert check_id in out.out + out.err
