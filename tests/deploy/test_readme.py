"""deploy/README.md tells what the manifests need: the Secret it creates has the keys the
manifests reference, and the objects it names are the ones rendered."""

from __future__ import annotations

import re

import pytest

from tests.deploy.manifests import DEPLOY, REPO, containers

pytestmark = pytest.mark.sqlite_only  # no database: it reads files

README = DEPLOY / "README.md"


def referenced_secret_keys(rendered) -> set[tuple[str, str]]:
    refs = set()
    for container in containers(rendered):
        for item in container.spec.get("env", []):
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.add((ref["name"], ref["key"]))
    return refs


def test_the_secret_the_readme_creates_has_every_key_the_manifests_reference(rendered):
    text = README.read_text()
    created = re.search(r"create secret generic (\S+)", text)
    assert created, "deploy/README.md creates no Secret"
    keys = set(re.findall(r"--from-literal=([a-z0-9-]+)=", text))
    assert {(created.group(1), key) for key in keys} == referenced_secret_keys(rendered)


def test_the_objects_the_readme_names_are_rendered(rendered):
    text = README.read_text()
    rendered_names = {f"{obj['kind'].lower()}/{obj['metadata']['name']}" for obj in rendered} | {
        f"svc/{obj['metadata']['name']}" for obj in rendered if obj["kind"] == "Service"
    }
    named = set(re.findall(r"\b((?:deployment|job|svc)/[a-z0-9-]+)", text))
    assert named, "deploy/README.md names no object"
    assert named <= rendered_names, f"not rendered: {sorted(named - rendered_names)}"


def test_the_build_command_uses_this_dockerfile_and_the_overlays_image(rendered):
    text = README.read_text()
    build = re.search(r"docker build -f (\S+) -t (\S+) \.", text)
    assert build, "deploy/README.md has no docker build line"
    assert (REPO / build.group(1)).is_file()
    images = {container.spec["image"] for container in containers(rendered)}
    assert images == {build.group(2)}
