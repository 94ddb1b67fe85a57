"""deploy/Dockerfile, checked by reading it: building it needs a Docker engine, which this
machine lacks. What it copies exists, the project and its dependencies are installed from
pyproject.toml, it runs as the non-root user the manifests expect, and it starts manage.py."""

from __future__ import annotations

import tomllib
from pathlib import PurePosixPath

import pytest
from django.conf import settings

from tests.deploy.dockerfile import copy_sources, instructions
from tests.deploy.manifests import DEPLOY, REPO, containers

pytestmark = pytest.mark.sqlite_only  # no database: it reads files

DOCKERFILE = DEPLOY / "Dockerfile"


@pytest.fixture(scope="module")
def steps():
    return instructions(DOCKERFILE)


def one(steps, keyword):
    found = [step for step in steps if step.keyword == keyword]
    assert len(found) == 1, f"{DOCKERFILE}: expected one {keyword}, found {len(found)}"
    return found[0]


def copied(steps) -> dict[str, str]:
    """Each source path copied from the build context (the repository root), by destination."""
    workdir = PurePosixPath(one(steps, "WORKDIR").value)
    result = {}
    for step in steps:
        if step.keyword != "COPY":
            continue
        sources, destination = copy_sources(step)
        for source in sources:
            target = workdir / destination
            if destination.endswith("/") or len(sources) > 1:
                target = target / PurePosixPath(source).name
            result[source.rstrip("/")] = str(target)
    return result


def test_the_base_image_is_python_3_11_slim(steps):
    assert steps[0].keyword == "FROM"
    assert steps[0].value == "python:3.11-slim"


def test_every_copied_source_exists_in_the_build_context(steps):
    for source in copied(steps):
        assert (REPO / source).exists(), f"{DOCKERFILE} copies {source}, which does not exist"


def test_everything_the_project_reads_at_run_time_is_copied(steps):
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = [
        pattern.rstrip("*").rstrip(".")
        for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]
    ]
    # Read from settings.BASE_DIR at run time, not from the installed packages.
    source_dirs = [
        *(str(path.relative_to(settings.BASE_DIR)) for path in settings.TEMPLATES[0]["DIRS"]),
        *(str(path.relative_to(settings.BASE_DIR)) for path in settings.STATICFILES_DIRS),
    ]
    needed = {"pyproject.toml", project["project"]["readme"], "manage.py", *packages, *source_dirs}
    workdir = one(steps, "WORKDIR").value
    paths = copied(steps)
    for name in sorted(needed):
        assert name in paths, f"{DOCKERFILE} does not copy {name}"
        # At the same place relative to manage.py as in the repository (BASE_DIR).
        assert paths[name] == f"{workdir}/{name}", f"{name} is copied to {paths[name]}"


def test_the_project_is_installed_with_its_dependencies_from_pyproject(steps):
    installs = [step for step in steps if step.keyword == "RUN" and "pip install" in step.value]
    assert installs, "no RUN pip install"
    words = installs[0].words()
    target = words[words.index("install") + 1 :]
    # `.` (or `-e .`) is the project: pip reads pyproject.toml's dependencies from it.
    assert "." in target[:2], f"pip installs {target}, not the project"
    copy_index = next(
        index
        for index, step in enumerate(steps)
        if step.keyword == "COPY" and "pyproject.toml" in copy_sources(step)[0]
    )
    assert steps.index(installs[0]) > copy_index, "pip install runs before pyproject is copied"


def test_it_runs_as_the_non_root_user_the_manifests_run_as(steps, rendered):
    users = [step for step in steps if step.keyword == "USER"]
    assert users, "no USER: the image would run as root"
    uid, _, gid = users[-1].value.partition(":")
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1].value} is not a non-root uid"
    for container in containers(rendered):
        security = container.pod["securityContext"]
        assert security["runAsUser"] == int(uid), str(container)
        if gid:
            assert security["runAsGroup"] == int(gid), str(container)
    last_user = steps.index(users[-1])
    assert all(step.keyword != "RUN" for step in steps[last_user:]), "RUN after USER"


def test_the_entrypoint_is_manage_py_and_cmd_a_real_command(steps, manage_py_commands):
    entrypoint = one(steps, "ENTRYPOINT").words()
    assert entrypoint[0] == "python"
    assert entrypoint[1] == copied(steps)["manage.py"], "ENTRYPOINT runs a manage.py never copied"
    command = one(steps, "CMD").words()
    # `help` is Django's own (ManagementUtility answers it; it lists the others).
    assert command[0] in manage_py_commands | {"help"}, f"CMD runs manage.py {command[0]}"


def test_the_manifests_run_the_manage_py_the_image_has(steps, rendered):
    manage_py = copied(steps)["manage.py"]
    for container in containers(rendered):
        scripts = [word for word in container.argv if word.endswith("manage.py")]
        assert scripts in ([], [manage_py]), (
            f"{container} runs {scripts}, the image has {manage_py}"
        )


def test_the_api_server_listens_on_the_port_the_image_exposes(steps, rendered):
    exposed = {int(port.split("/")[0]) for port in one(steps, "EXPOSE").words()}
    api = next(c for c in containers(rendered) if c.spec["name"] == "api-server")
    assert {port["containerPort"] for port in api.spec["ports"]} == exposed
