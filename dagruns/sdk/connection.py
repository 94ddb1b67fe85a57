"""`Connection`: how a task reaches an external system (Airflow's `airflow.sdk.Connection`).

    conn = Connection.get("warehouse")        # AirflowNotFoundException if it does not exist
    conn.host, conn.login, conn.password, conn.port, conn.extra_dejson, conn.get_uri()

Fetched through the process's runtime (dagruns/sdk/runtime.py); the password and sensitive
extra entries are masked in the task's log by the runner before the task sees them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from . import runtime
from .exceptions import AirflowException, AirflowNotFoundException

log = logging.getLogger(__name__)

PORT_MIN, PORT_MAX = 0, 65535
FIELDS = ("conn_type", "description", "host", "schema", "login", "password", "port", "extra")


def _check_port(port: Any) -> int | None:
    if port is None or port == "":
        return None
    if isinstance(port, str):
        try:
            port = int(port)
        except ValueError:
            raise ValueError(
                f"Expected integer value for `port`, but got {port!r} instead."
            ) from None
    if type(port) is not int:
        raise ValueError(f"Expected integer value for `port`, but got {port!r} instead.")
    if not PORT_MIN <= port <= PORT_MAX:
        raise ValueError(
            f"Expected value for `port` in the range {PORT_MIN}-{PORT_MAX}, "
            f"but got {port!r} instead."
        )
    return port


def _normalize_conn_type(conn_type: str) -> str:
    # URIs cannot carry underscores in the scheme: Airflow writes them as dashes.
    if conn_type == "postgresql":
        return "postgres"
    return conn_type.replace("-", "_")


@dataclass(init=False)
class Connection:
    """A connection: Airflow's fields, `get_uri()`, `extra_dejson`, `get_hook()`."""

    EXTRA_KEY = "__extra__"

    conn_id: str
    conn_type: str | None = None
    description: str | None = None
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int | None = None
    extra: str | None = field(default=None, repr=False)

    def __init__(self, *, conn_id: str, uri: str | None = None, **fields: Any) -> None:
        unknown = sorted(set(fields) - set(FIELDS))
        if unknown:
            raise TypeError(f"Connection {conn_id!r}: unknown field(s) {', '.join(unknown)}")
        if uri is not None and fields:
            raise AirflowException(
                "You must create an object using the URI or individual values "
                "(conn_type, host, login, password, schema, port or extra). "
                "You can't mix these two ways to create this object."
            )
        if uri is not None:
            fields = self._fields_from_uri(uri)
        self.conn_id = conn_id
        for name in FIELDS:
            setattr(self, name, fields.get(name))
        self.port = _check_port(self.port)
        if isinstance(self.extra, dict):
            self.extra = json.dumps(self.extra)

    # -- fetching ---------------------------------------------------------------------

    @classmethod
    def get(cls, conn_id: str) -> Connection:
        """The connection `conn_id`; AirflowNotFoundException when it is not defined."""
        if not isinstance(conn_id, str) or not conn_id:
            raise ValueError(f"Connection.get({conn_id!r}): the conn_id must be a non-empty string")
        source = runtime.current(f"Connection.get({conn_id!r})")
        return cls.from_dict(source.get_connection(conn_id))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Connection:
        """From the Execution API's connection body."""
        return cls(conn_id=data["conn_id"], **{k: data.get(k) for k in FIELDS})

    # -- Airflow's helpers -----------------------------------------------------------------

    @property
    def extra_dejson(self) -> dict[str, Any]:
        """The extra as a dict ({} when empty; logged and {} when it is not JSON)."""
        if not self.extra:
            return {}
        try:
            parsed = json.loads(self.extra)
        except ValueError:
            log.exception(
                "Failed to deserialize extra property `extra`, returning empty dictionary"
            )
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def get_uri(self) -> str:
        """The connection as a URI, as Airflow writes it (`type://login:pass@host:port/schema?extra`)."""
        uri = f"{self.conn_type.lower().replace('_', '-')}://" if self.conn_type else "//"
        host = self.host
        if host and "://" in host:
            protocol, rest = host.split("://", 1)
            if protocol != self.conn_type:
                uri += f"{protocol}://"
                host = rest
        authority = ""
        if self.login is not None:
            authority += quote(self.login, safe="")
        if self.password is not None:
            authority += ":" + quote(self.password, safe="")
        if authority:
            uri += authority + "@"
        host_block = quote(host, safe="") if host else ""
        if self.port is not None:
            host_block += f"@:{self.port}" if not host_block and not authority else f":{self.port}"
        if self.schema:
            host_block += f"/{quote(self.schema, safe='')}"
        uri += host_block
        if self.extra:
            separator = "?" if self.schema else "/?"
            try:
                extra = self.extra_dejson
                query: str | None = urlencode(extra)
            except TypeError:
                query = None
            if query and extra == dict(parse_qsl(query, keep_blank_values=True)):
                uri += separator + query
            else:
                uri += separator + urlencode({self.EXTRA_KEY: self.extra})
        return uri

    @classmethod
    def from_uri(cls, uri: str, conn_id: str) -> Connection:
        return cls(conn_id=conn_id, uri=uri)

    @classmethod
    def _fields_from_uri(cls, uri: str) -> dict[str, Any]:
        if uri.count("://") > 2:
            raise AirflowException(f"Invalid connection string: {uri}.")
        with_protocol = uri.count("://") == 2
        scheme = urlsplit(uri).scheme
        rest = uri.replace(f"{scheme}://", "" if with_protocol else "//", 1)
        if with_protocol:
            head = rest.split("://", 1)[0]
            if "@" in head or ":" in head:
                raise AirflowException(f"Invalid connection string: {uri}.")
        parts = urlsplit(rest)
        host = unquote(parts.hostname or "")
        if "/" in host:  # a path-like host: keep its case and its slashes
            host = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
            host = unquote(host)
        if with_protocol and parts.scheme:
            host = f"{parts.scheme}://{host}"
        extra = None
        if parts.query:
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            extra = query[cls.EXTRA_KEY] if cls.EXTRA_KEY in query else json.dumps(query)
        return {
            "conn_type": _normalize_conn_type(scheme),
            "host": host,
            "schema": unquote(parts.path[1:]) if parts.path[1:] else "",
            "login": unquote(parts.username) if parts.username else parts.username,
            "password": unquote(parts.password) if parts.password else parts.password,
            "port": parts.port,
            "extra": extra,
        }

    def to_dict(self, *, prune_empty: bool = False, validate: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {"conn_id": self.conn_id}
        data.update({name: getattr(self, name) for name in FIELDS if name != "extra"})
        if prune_empty:
            data = {k: v for k, v in data.items() if v is not None}
        extra = self.extra_dejson
        if extra or not prune_empty:
            data["extra"] = extra
        if validate:
            json.dumps(data)
        return data

    def as_json(self) -> str:
        data = self.to_dict(prune_empty=True, validate=False)
        data.pop("conn_id", None)
        return json.dumps(data)

    @classmethod
    def from_json(cls, value: str, conn_id: str) -> Connection:
        data = json.loads(value)
        extra = data.pop("extra", None)
        if extra:
            data["extra"] = extra if isinstance(extra, str) else json.dumps(extra)
        if data.get("conn_type"):
            data["conn_type"] = _normalize_conn_type(data["conn_type"])
        return cls(conn_id=conn_id, **data)

    def get_hook(self, *, hook_params: dict[str, Any] | None = None) -> Any:
        """The hook for this connection's type (see dagruns/sdk/hooks.py for the types we
        ship); Airflow's 'Unknown hook type' error for any other."""
        from .hooks import hook_class_for

        hook_class = hook_class_for(self.conn_type)
        params = dict(hook_params or {})
        return hook_class(**{hook_class.conn_name_attr: self.conn_id}, **params)

    def test_connection(self) -> tuple[bool, str]:
        """(worked, message) from the hook's own `test_connection()`, as Airflow's does: the
        hook reads this connection by its id, so the caller makes it resolvable (the API
        server serves it with `runtime.serving`). Never raises: a failure is the message."""
        try:
            hook = self.get_hook()
            test = getattr(hook, "test_connection", None)
            if test is None:
                return (
                    False,
                    f"Hook {type(hook).__name__} doesn't implement or inherit "
                    "test_connection method",
                )
            status, message = test()
            return bool(status), str(message)
        except Exception as exc:
            return False, str(exc)


class ConnectionAccessor:
    """`context["conn"]` (and `{{ conn.my_id.host }}`): attribute access raises
    AirflowNotFoundException for an unknown id, `.get(conn_id, default_conn)` the default."""

    def __init__(self, source: runtime.TaskRuntime) -> None:
        self._source = source

    def __getattr__(self, conn_id: str) -> Connection:
        if conn_id.startswith("_"):
            raise AttributeError(conn_id)
        return Connection.from_dict(self._source.get_connection(conn_id))

    __getitem__ = __getattr__

    def get(self, conn_id: str, default_conn: Any = None) -> Any:
        try:
            return Connection.from_dict(self._source.get_connection(conn_id))
        except AirflowNotFoundException:
            return default_conn

    def __repr__(self) -> str:
        return "<ConnectionAccessor (dynamic access)>"
