"""Checking and normalising an asset URI, as Airflow's ``_sanitize_uri`` does.

A value that does not look like a URI (no scheme, no host) is kept as written, like Airflow;
a URI with a scheme is normalised (lower-case scheme, no auth, no fragment, sorted query, no
trailing slash) and, for the schemes Airflow's providers normalise, checked for the parts the
scheme needs. A bad URI raises DagDefinitionError naming it, so the DAG file fails to import.
"""

from __future__ import annotations

import urllib.parse
import warnings
from collections.abc import Callable
from urllib.parse import SplitResult

from ..exceptions import DagDefinitionError

MAX_LENGTH = 1500  # Airflow's limit on asset names, URIs and groups


def _bad(uri: str, why: str) -> DagDefinitionError:
    return DagDefinitionError(f"Asset URI {uri!r} is not a valid URI: {why}")


def _need_netloc(what: str) -> Callable[[str, SplitResult], SplitResult]:
    def check(uri: str, parts: SplitResult) -> SplitResult:
        if not parts.netloc:
            raise _bad(uri, f"{parts.scheme}:// must contain {what}")
        return parts

    return check


def _database(default_port: int) -> Callable[[str, SplitResult], SplitResult]:
    """postgres://host[:port]/database/schema/table (the providers' normaliser)."""

    def check(uri: str, parts: SplitResult) -> SplitResult:
        if not parts.hostname:
            raise _bad(uri, f"{parts.scheme}:// must contain a host")
        if len(parts.path.strip("/").split("/")) != 3:
            raise _bad(uri, f"{parts.scheme}:// must have the path /database/schema/table")
        if parts.port is None:
            parts = parts._replace(netloc=f"{parts.hostname}:{default_port}")
        return parts

    return check


# The scheme normalisers Airflow's common providers register (asset_uri_handlers); other
# schemes are only sanitised.
NORMALIZERS: dict[str, Callable[[str, SplitResult], SplitResult]] = {
    "file": lambda uri, parts: parts,
    "s3": _need_netloc("a bucket name"),
    "gs": _need_netloc("a bucket name"),
    "gcs": _need_netloc("a bucket name"),
    "postgres": _database(5432),
    "postgresql": _database(5432),
    "mysql": _database(3306),
}


def sanitize_uri(value: object) -> str:
    """The normalised form of an asset URI; DagDefinitionError naming it when it is invalid."""
    uri = str(value)
    try:
        parts = urllib.parse.urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise _bad(uri, str(exc)) from exc
    if not parts.scheme and not parts.netloc:  # does not look like a URI: kept as is
        return uri
    scheme = parts.scheme.lower()
    if not scheme or scheme.startswith("x-"):
        return uri
    if scheme == "airflow":
        raise _bad(uri, "the scheme 'airflow' is reserved")
    _, had_auth, netloc = parts.netloc.rpartition("@")
    if had_auth:
        warnings.warn(
            f"Asset URI {uri!r} contains auth info (a user or password); it has been dropped",
            UserWarning,
            stacklevel=4,
        )
    query = urllib.parse.urlencode(sorted(urllib.parse.parse_qsl(parts.query)))
    parts = parts._replace(
        scheme=scheme,
        netloc=netloc,
        path=parts.path.rstrip("/") or "/",
        query=query,
        fragment="",
    )
    normalizer = NORMALIZERS.get(scheme)
    if normalizer is not None:
        parts = normalizer(uri, parts)
    return urllib.parse.urlunsplit(parts)
