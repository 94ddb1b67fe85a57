"""Checks the API server makes on create, answered as 422 Invalid naming the field, with the
real server's wording, so a malformed pod built by the executor fails here as it would there."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from scheduler.kube_standin.statuses import ApiError

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")

_SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character"
)
_LABEL_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)
_DNS_LABEL_RULE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []  # (field, cause reason, detail)

    def required(self, field: str, why: str = "") -> None:
        self.items.append(
            (field, "FieldValueRequired", "Required value" + (f": {why}" if why else ""))
        )

    def invalid(self, field: str, value: Any, why: str) -> None:
        self.items.append((field, "FieldValueInvalid", f'Invalid value: "{value}": {why}'))

    def unsupported(self, field: str, value: Any, why: str) -> None:
        self.items.append((field, "FieldValueNotSupported", f'Unsupported value: "{value}": {why}'))

    def raise_if_any(self, kind: str, name: str) -> None:
        if not self.items:
            return
        if len(self.items) == 1:
            text = f"{self.items[0][0]}: {self.items[0][2]}"
        else:
            text = "[" + ", ".join(f"{f}: {d}" for f, _, d in self.items) + "]"
        raise ApiError(
            422,
            "Invalid",
            f'{kind} "{name}" is invalid: {text}',
            kind=kind,
            name=name,
            causes=[{"reason": r, "message": d, "field": f} for f, r, d in self.items],
        )


def _check_metadata(meta: dict[str, Any], problems: _Problems, dns_label: bool = False) -> None:
    name = meta.get("name")
    if not name:
        problems.required("metadata.name", "name or generateName is required")
    elif dns_label and (len(name) > 63 or not _DNS_LABEL.match(name)):
        problems.invalid("metadata.name", name, _DNS_LABEL_RULE)
    elif len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        problems.invalid("metadata.name", name, _SUBDOMAIN_RULE)
    for key, value in (meta.get("labels") or {}).items():
        _check_label_key("metadata.labels", key, problems)
        if not isinstance(value, str):
            problems.invalid("metadata.labels", value, "must be a string")
        elif len(value) > 63:
            problems.invalid("metadata.labels", value, "must be no more than 63 characters")
        elif not _LABEL_VALUE.match(value):
            problems.invalid("metadata.labels", value, _LABEL_RULE)
    for key in meta.get("annotations") or {}:
        _check_label_key("metadata.annotations", key, problems)


def _check_label_key(field: str, key: str, problems: _Problems) -> None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        problems.invalid(field, key, "prefix part " + _SUBDOMAIN_RULE)
    if not name or len(name) > 63 or not _LABEL_VALUE.match(name):
        problems.invalid(
            field,
            key,
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character, and be at most 63 characters",
        )


def validate_pod(pod: dict[str, Any]) -> None:
    problems = _Problems()
    meta = pod.get("metadata") or {}
    _check_metadata(meta, problems)
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        problems.required("spec")
        problems.raise_if_any("Pod", meta.get("name", ""))
        return
    containers = spec.get("containers")
    if not containers:
        problems.required("spec.containers")
    seen: set[str] = set()
    for i, container in enumerate(containers or []):
        where = f"spec.containers[{i}]"
        cname = container.get("name")
        if not cname:
            problems.required(f"{where}.name")
        elif len(cname) > 63 or not _DNS_LABEL.match(cname):
            problems.invalid(f"{where}.name", cname, _DNS_LABEL_RULE)
        elif cname in seen:
            problems.items.append(
                (f"{where}.name", "FieldValueDuplicate", f'Duplicate value: "{cname}"')
            )
        seen.add(cname or "")
        if not container.get("image"):
            problems.required(f"{where}.image")
        for j, env in enumerate(container.get("env") or []):
            _check_env(f"{where}.env[{j}]", env, problems)
    # Limits of the stand-in, said plainly rather than running part of the pod.
    if containers and len(containers) > 1:
        problems.items.append(
            (
                "spec.containers",
                "FieldValueNotSupported",
                f"Unsupported value: the test stand-in runs one container per pod, not {len(containers)}",
            )
        )
    for extra in ("initContainers", "ephemeralContainers"):
        if spec.get(extra):
            problems.items.append(
                (
                    f"spec.{extra}",
                    "FieldValueNotSupported",
                    "Unsupported value: the test stand-in does not run them",
                )
            )
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and (not isinstance(deadline, int) or deadline <= 0):
        problems.invalid(
            "spec.activeDeadlineSeconds", deadline, "must be greater than or equal to 1"
        )
    policy = spec.get("restartPolicy", "Always")
    if policy not in ("Always", "OnFailure", "Never"):
        problems.unsupported(
            "spec.restartPolicy", policy, 'supported values: "Always", "Never", "OnFailure"'
        )
    elif policy != "Never":
        # A limit of the stand-in, said plainly rather than ignoring the policy.
        problems.unsupported(
            "spec.restartPolicy",
            policy,
            'the test stand-in runs pods with restartPolicy "Never" only (task pods never restart)',
        )
    grace = spec.get("terminationGracePeriodSeconds")
    if grace is not None and (not isinstance(grace, int) or grace < 0):
        problems.invalid(
            "spec.terminationGracePeriodSeconds", grace, "must be greater than or equal to 0"
        )
    problems.raise_if_any("Pod", meta.get("name", ""))


def _check_env(where: str, env: dict[str, Any], problems: _Problems) -> None:
    name = env.get("name")
    if not name:
        problems.required(f"{where}.name")
    elif not _ENV_NAME.match(name):
        problems.invalid(
            f"{where}.name",
            name,
            "a valid environment variable name must consist of alphabetic characters, digits, "
            "'_', '-', or '.', and must not start with a digit",
        )
    source = env.get("valueFrom")
    if source is None:
        return
    if env.get("value"):
        problems.invalid(f"{where}.valueFrom", "", "may not be specified when `value` is not empty")
    chosen = [
        k
        for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
        if source.get(k)
    ]
    if len(chosen) != 1:
        problems.invalid(
            f"{where}.valueFrom",
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, "
            "`configMapKeyRef` or `secretKeyRef`",
        )
        return
    ref = source[chosen[0]]
    if chosen[0] == "secretKeyRef":
        if not ref.get("name"):
            problems.required(f"{where}.valueFrom.secretKeyRef.name")
        if not ref.get("key"):
            problems.required(f"{where}.valueFrom.secretKeyRef.key")


def normalize_secret(secret: dict[str, Any]) -> dict[str, Any]:
    """Validate a Secret and fold `stringData` into `data` (base64), as the API server does."""
    problems = _Problems()
    meta = secret.get("metadata") or {}
    _check_metadata(meta, problems)
    data = dict(secret.get("data") or {})
    for key, value in data.items():
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError):
            problems.invalid(f"data[{key}]", "<value>", "illegal base64 data")
    for key, value in (secret.pop("stringData", None) or {}).items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    problems.raise_if_any("Secret", meta.get("name", ""))
    secret["data"] = data
    secret.setdefault("type", "Opaque")
    return secret


def validate_namespace(namespace: dict[str, Any]) -> None:
    problems = _Problems()
    _check_metadata(namespace.get("metadata") or {}, problems, dns_label=True)
    problems.raise_if_any("Namespace", (namespace.get("metadata") or {}).get("name", ""))
