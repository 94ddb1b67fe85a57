"""Each container of deploy/ runs a real command of this project, with arguments its parser
accepts, and probes that reach a real endpoint."""

from __future__ import annotations

import argparse
import ast
import importlib.util
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.core.management.base import CommandError
from django.urls import resolve

from scheduler.worker import command as celery_worker_command
from tests.deploy.manifests import Container, by_kind_and_name, containers

pytestmark = pytest.mark.sqlite_only  # no database: it reads files and parsers

HEALTH = "/api/v2/monitor/health"
REPLICAS = {
    "orchestrator-api-server": 2,
    "orchestrator-scheduler": 2,
    "orchestrator-dag-processor": 1,
    "orchestrator-triggerer": 1,
    "orchestrator-celery-beat": 1,
}


def manage_py_argv(container: Container) -> list[str] | None:
    """What follows manage.py in the container's command line (None: not manage.py)."""
    argv = container.argv
    for index, word in enumerate(argv):
        if word.endswith("manage.py"):
            assert argv[:index] == ["python"], f"{container}: {argv[:index]} before manage.py"
            return argv[index + 1 :]
    return None


def parse(argv: list[str]) -> None:
    """Parse argv as manage.py would (its parser refuses what it does not know)."""
    if argv[:2] == ["celery", "worker"]:
        # manage.py hands `celery worker` to the Django-free worker before Django starts.
        parser = argparse.ArgumentParser(prog="manage.py celery worker", exit_on_error=False)
        celery_worker_command.add_arguments(parser)
        parser.parse_args(argv[2:])
        return
    name = argv[0]
    command = load_command_class(get_commands()[name], name)
    command.create_parser("manage.py", name).parse_args(argv[1:])


def test_every_manage_py_container_runs_a_listed_command_with_valid_arguments(
    rendered, manage_py_commands
):
    seen = set()
    for container in containers(rendered):
        argv = manage_py_argv(container)
        if argv is None:
            continue
        assert argv, f"{container}: manage.py without a command"
        assert argv[0] in manage_py_commands, f"{container}: `manage.py {argv[0]}` does not exist"
        try:
            parse(argv)
        except (SystemExit, CommandError, argparse.ArgumentError) as exc:
            pytest.fail(f"{container}: manage.py refuses {argv}: {exc}")
        seen.add(" ".join(argv[:2]) if argv[0] == "celery" else argv[0])
    assert {
        "scheduler",
        "dag_processor",
        "triggerer",
        "celery worker",
        "celery beat",
        "migrate",
    } <= seen


def test_the_argument_check_refuses_an_unknown_flag():
    with pytest.raises((SystemExit, CommandError, argparse.ArgumentError)):
        parse(["scheduler", "--no-such-flag"])
    with pytest.raises((SystemExit, argparse.ArgumentError)):
        parse(["celery", "worker", "--concurrency", "0"])


def test_the_api_server_runs_uvicorn_on_the_project_asgi_application(rendered):
    api = next(c for c in containers(rendered) if c.spec["name"] == "api-server")
    assert api.argv[:3] == ["python", "-m", "uvicorn"]
    target = api.argv[3]
    module, _, attribute = target.partition(":")
    spec = importlib.util.find_spec(module)
    assert spec and spec.origin, f"{target}: no module {module}"
    tree = ast.parse(Path(spec.origin).read_text())
    assigned = {
        node.targets[0].id
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert attribute in assigned, f"{module} defines no {attribute}"
    # uvicorn's own command line accepts the options (parsing only; nothing is started).
    from uvicorn.main import main as uvicorn_cli

    context = uvicorn_cli.make_context("uvicorn", api.argv[3:])
    port = context.params["port"]
    assert {p["containerPort"] for p in api.spec["ports"]} == {port}


def test_the_api_server_probes_the_health_endpoint_on_its_port(rendered):
    api = next(c for c in containers(rendered) if c.spec["name"] == "api-server")
    ports = {port["name"]: port["containerPort"] for port in api.spec["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        get = api.spec[probe]["httpGet"]
        assert get["path"] == HEALTH
        assert get["port"] in ports or get["port"] in ports.values()
    match = resolve(HEALTH)
    assert match.url_name == "get_health", f"{HEALTH} resolves to {match.url_name}"
    service = by_kind_and_name(rendered)["Service", "orchestrator-api-server"]
    selector = service["spec"]["selector"]
    deployment = by_kind_and_name(rendered)["Deployment", "orchestrator-api-server"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items(), "the Service selects no API server pod"
    assert service["spec"]["ports"][0]["targetPort"] in ports


def test_the_service_is_where_workers_reach_the_execution_api(rendered):
    config = next(obj for obj in rendered if obj["kind"] == "ConfigMap")["data"]
    service = by_kind_and_name(rendered)["Service", "orchestrator-api-server"]
    port = service["spec"]["ports"][0]["port"]
    assert config["ORCH_API_URL"] == f"http://{service['metadata']['name']}:{port}"


def test_replicas_of_each_process(rendered):
    objects = by_kind_and_name(rendered)
    for name, replicas in REPLICAS.items():
        assert objects["Deployment", name]["spec"]["replicas"] == replicas, name
    assert "Deployment" in {kind for kind, name in objects if name == "orchestrator-celery-worker"}


def test_exactly_one_celery_beat_replaced_not_rolled(rendered):
    beats = [
        (container, obj)
        for obj in rendered
        for container in containers([obj])
        if (manage_py_argv(container) or [])[:2] == ["celery", "beat"]
    ]
    assert len(beats) == 1, f"{len(beats)} containers run celery beat"
    _, deployment = beats[0]
    assert deployment["kind"] == "Deployment"
    assert deployment["spec"]["replicas"] == 1
    # A rolling update would start the new beat before the old one stops.
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
