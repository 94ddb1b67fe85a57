"""Creating, changing and deleting connections; used alike by the REST API and the CLI.

The password and extra are encrypted at rest by the model. The audit log records the
connection id and which fields changed, never their values.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from django.db import IntegrityError, transaction

from dagruns.actions.audit import Actor, record
from dagruns.actions.dry_run import with_dry_run
from dagruns.actions.text import check_no_nul
from dagruns.models import Connection
from dagruns.sdk.hooks import HOOKS
from dagruns.sdk.masking import MASK

CONN_ID_MAX_LENGTH = 200  # Airflow's ConnectionBody limit (the column allows 250)
CONN_ID_RE = re.compile(r"^[\w.-]+$")
TEXT_FIELDS = ("conn_type", "description", "host", "login", "schema")
FIELDS = (*TEXT_FIELDS, "port", "password", "extra")


class ConnectionInvalid(ValueError):
    """The connection cannot be stored as asked; the message says why."""


class ConnectionNotFound(LookupError):
    def __init__(self, conn_id: str) -> None:
        super().__init__(f"The Connection with connection_id: `{conn_id}` was not found")
        self.conn_id = conn_id


class ConnectionExists(ConnectionInvalid):
    def __init__(self, conn_id: str) -> None:
        super().__init__(f"The Connection with connection_id: `{conn_id}` already exists")
        self.conn_id = conn_id


def check_conn_id(conn_id: Any) -> str:
    if not isinstance(conn_id, str) or not CONN_ID_RE.match(conn_id):
        raise ConnectionInvalid(
            "a connection id must be letters, digits, '_', '.' or '-' (and not empty)"
        )
    if len(conn_id) > CONN_ID_MAX_LENGTH:
        raise ConnectionInvalid(f"a connection id may have at most {CONN_ID_MAX_LENGTH} characters")
    return conn_id


def check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Validated copies of the given fields (a subset of FIELDS)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ConnectionInvalid(f"unknown connection fields: {', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "port":
            if value in (None, ""):
                clean[name] = None
                continue
            try:
                port = int(value)
            except (TypeError, ValueError):
                raise ConnectionInvalid(f"port must be a whole number, not {value!r}") from None
            if not 0 <= port <= 65535:
                raise ConnectionInvalid("port must be between 0 and 65535")
            clean[name] = port
        elif name == "extra":
            clean[name] = _check_extra(value)
        else:
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise ConnectionInvalid(f"{name} must be a string")
            check_no_nul(value, name, ConnectionInvalid)
            clean[name] = value
    if "conn_type" in clean and not clean["conn_type"]:
        raise ConnectionInvalid("conn_type is required")
    return clean


def _check_extra(value: Any) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    if not isinstance(value, str):
        raise ConnectionInvalid("extra must be a JSON object (as text)")
    try:
        parsed = json.loads(value)
    except ValueError:
        raise ConnectionInvalid("extra must be a valid JSON object (e.g. {})") from None
    if not isinstance(parsed, dict):
        raise ConnectionInvalid("extra must be a valid JSON object (e.g. {})")
    return value


# Airflow's own catch-all type (its UI lists it beside the providers' types).
GENERIC_TYPES = {"generic": "Generic"}


def connection_types() -> list[tuple[str, str]]:
    """(conn_type, label) of the types something here knows: the hooks we ship (what
    `get_hook` can return) and Airflow's generic type. Others are still accepted, as Airflow's
    REST API and CLI accept them: a DAG author's own BaseHook subclass may read any type."""
    known = {name: hook.hook_name or name for name, hook in HOOKS.items()} | GENERIC_TYPES
    return sorted(known.items())


def keep_masked(submitted: Any, stored: Any) -> Any:
    """The extra as submitted, with each value still shown masked (`***`, as the admin showed
    it) replaced by the stored value at the same place — Airflow's connection form does the
    same — so saving a form never overwrites a secret with its mask."""
    if isinstance(submitted, dict) and isinstance(stored, dict):
        return {k: keep_masked(v, stored[k]) if k in stored else v for k, v in submitted.items()}
    if submitted == MASK and stored is not None and not isinstance(stored, dict):
        return stored
    return submitted


def merged_extra_text(submitted: str, stored: Connection) -> str:
    """A submitted extra (JSON text) with its masked values replaced by the stored ones."""
    try:
        parsed = json.loads(submitted)
    except ValueError:
        return submitted
    return json.dumps(keep_masked(parsed, stored.extra_dejson), ensure_ascii=False)


def get_connection(conn_id: str) -> Connection:
    try:
        return Connection.objects.get(conn_id=conn_id)
    except Connection.DoesNotExist:
        raise ConnectionNotFound(conn_id) from None


def _apply(conn: Connection, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(conn, name, value)  # password and extra are encrypting properties


@with_dry_run
def do_create_connection(conn_id: str, fields: dict[str, Any], actor: Actor) -> Connection:
    """Create a connection; ConnectionExists if the id is taken (REST POST: 409)."""
    conn_id = check_conn_id(conn_id)
    clean = check_fields(fields)
    if not clean.get("conn_type"):
        raise ConnectionInvalid("conn_type is required")
    conn = Connection(conn_id=conn_id)
    _apply(conn, clean)
    try:
        with transaction.atomic():
            conn.save()
            record(actor, "connection_create", extra={"conn_id": conn_id})
    except IntegrityError:
        raise ConnectionExists(conn_id) from None
    return conn


@with_dry_run
def do_update_connection(conn_id: str, fields: dict[str, Any], actor: Actor) -> Connection:
    """Change the given fields. A password of None leaves the stored password alone: the API
    never returns it, so a client sending back what it read must not wipe it."""
    clean = check_fields(fields)
    if clean.get("password", "") == "" and fields.get("password") is None:
        clean.pop("password", None)
    with transaction.atomic():
        conn = Connection.objects.select_for_update().filter(conn_id=conn_id).first()
        if conn is None:
            raise ConnectionNotFound(conn_id)
        _apply(conn, clean)
        conn.save()
        record(actor, "connection_update", extra={"conn_id": conn_id, "fields": sorted(clean)})
    return conn


@with_dry_run
def do_delete_connection(conn_id: str, actor: Actor) -> None:
    with transaction.atomic():
        deleted, _ = Connection.objects.filter(conn_id=conn_id).delete()
        if not deleted:
            raise ConnectionNotFound(conn_id)
        record(actor, "connection_delete", extra={"conn_id": conn_id})


def fields_from_uri(uri: str) -> dict[str, Any]:
    """Airflow's connection URI: `type://login:password@host:port/schema?extra_key=value`."""
    parts = urlsplit(uri)
    if not parts.scheme:
        raise ConnectionInvalid(f"{uri!r} is not a connection URI (type://…)")
    try:
        port = parts.port
    except ValueError:
        raise ConnectionInvalid(f"{uri!r} has an invalid port") from None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    extra: dict[str, Any] = query
    if list(query) == ["__extra__"]:
        try:
            extra = json.loads(query["__extra__"])
        except ValueError:
            raise ConnectionInvalid("__extra__ in the URI is not JSON") from None
    return {
        "conn_type": parts.scheme.replace("-", "_"),
        "host": unquote(parts.hostname or ""),
        "login": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "schema": unquote(parts.path.lstrip("/")),
        "port": port,
        "extra": extra or "",
    }


def connection_uri(conn: Connection) -> str:
    auth = ""
    if conn.login or conn.password:
        auth = quote(conn.login, safe="")
        if conn.password:
            auth += ":" + quote(conn.password, safe="")
        auth += "@"
    host = quote(conn.host, safe="")
    port = f":{conn.port}" if conn.port is not None else ""
    uri = f"{conn.conn_type.replace('_', '-')}://{auth}{host}{port}/{quote(conn.schema, safe='')}"
    if conn.extra:
        uri += "?__extra__=" + quote(conn.extra, safe="")
    return uri


# --- how a connection is shown: one place for the CLI, the REST API, the admin and exports --

# "clear": exports, made for moving connections between deployments; "masked": the CLI's
# get/list, which say a password is set; "hidden": the REST API, whose password is write-only.
SecretsShown = Literal["clear", "masked", "hidden"]


def masked_extra_text(conn: Connection) -> str | None:
    """The extra for people to read, as Airflow's API shows it: the JSON re-encoded with every
    value under a secret-looking key masked by the model's rule (at any depth); text that is
    not a JSON object as stored (nothing in it can be told apart to mask); None when empty."""
    if not conn.extra:
        return None
    try:
        parsed = json.loads(conn.extra)
    except ValueError:
        return conn.extra
    if not isinstance(parsed, dict):
        return conn.extra
    return json.dumps(conn.masked_extra(), ensure_ascii=False)


def connection_fields(conn: Connection, *, secrets: SecretsShown) -> dict[str, Any]:
    """Every field of a connection, empty ones as None, the password and extra as `secrets`
    says (see SecretsShown)."""
    if secrets == "clear":
        password, extra = conn.password or None, conn.extra or None
    else:
        password = (conn.masked_password() or None) if secrets == "masked" else None
        extra = masked_extra_text(conn)
    return {
        "conn_id": conn.conn_id,
        "conn_type": conn.conn_type,
        "description": conn.description or None,
        "host": conn.host or None,
        "login": conn.login or None,
        "password": password,
        "schema": conn.schema or None,
        "port": conn.port,
        "extra": extra,
    }


def export_row(conn: Connection) -> dict[str, Any]:
    """One connection in Airflow's JSON export format (password included: exports are for
    moving connections between deployments)."""
    fields = connection_fields(conn, secrets="clear")
    del fields["conn_id"]
    return fields


def export_connections() -> dict[str, dict[str, Any]]:
    return {c.conn_id: export_row(c) for c in Connection.objects.order_by("conn_id")}


@with_dry_run
def do_import_connections(
    data: Any, actor: Actor, *, overwrite: bool = False
) -> dict[str, list[str]]:
    """Import `{conn_id: {field: value}}` (Airflow's export format), all or nothing. Existing
    ids are skipped unless `overwrite`."""
    if not isinstance(data, dict):
        raise ConnectionInvalid("a connections file must hold a JSON object of id → fields")
    result: dict[str, list[str]] = {"created": [], "updated": [], "skipped": []}
    with transaction.atomic():
        for conn_id, item in data.items():
            check_conn_id(conn_id)
            if isinstance(item, str):
                fields = fields_from_uri(item)
            elif isinstance(item, dict):
                fields = {k: v for k, v in item.items() if k in FIELDS}
                if "uri" in item:
                    fields = {**fields_from_uri(item["uri"]), **fields}
            else:
                raise ConnectionInvalid(f"connection {conn_id!r} must be an object or a URI")
            exists = Connection.objects.filter(conn_id=conn_id).exists()
            if exists and not overwrite:
                result["skipped"].append(conn_id)
            elif exists:
                do_update_connection(conn_id, fields, actor)
                result["updated"].append(conn_id)
            else:
                do_create_connection(conn_id, fields, actor)
                result["created"].append(conn_id)
    return result


# Airflow's default connections (airflow-core utils/db.py, get_default_connections), kept to
# those whose connection type a hook here describes (dagruns.sdk.hooks.HOOKS): Airflow's other
# sixty-odd defaults are for hooks of provider packages we do not ship. Airflow's values.
DEFAULT_CONNECTIONS: dict[str, dict[str, Any]] = {
    "fs_default": {"conn_type": "fs", "extra": '{"path": "/"}'},
}


def do_create_default_connections(actor: Actor) -> dict[str, list[str]]:
    """Airflow's `connections create-default-connections`: each default connection that does
    not exist yet is created; an existing one, whatever its fields, is left alone."""
    return do_import_connections(DEFAULT_CONNECTIONS, actor, overwrite=False)
