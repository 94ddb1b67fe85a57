"""`BaseHook` (Airflow's base class of hooks, subclassed by DAG authors for their own systems)
and the hooks we ship for `Connection.get_hook` / `BaseHook.get_hook`.

Airflow finds a hook for a connection type through its installed provider packages. We have
no providers: `get_hook` knows the connection types listed in HOOKS (the standard provider's
`fs`, `FSHook`) and refuses any other with Airflow's 'Unknown hook type' error, naming the
type and the ones we know. A DAG author's own BaseHook subclass is used by instantiating it,
as in Airflow.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .connection import Connection
from .exceptions import AirflowException


class BaseHook:
    """Subclass it: set `conn_name_attr`, `default_conn_name`, `conn_type`, `hook_name`, read
    your connection with `self.get_connection(conn_id)` and implement `get_conn()`."""

    conn_name_attr: str = "conn_id"
    default_conn_name: str = "default_conn_id"
    conn_type: str = ""
    hook_name: str = ""

    def __init__(self, logger_name: str | None = None) -> None:
        self._logger_name = logger_name

    @property
    def log(self) -> logging.Logger:
        """The hook's logger (Airflow's LoggingMixin name: module and class)."""
        name = self._logger_name or f"{type(self).__module__}.{type(self).__name__}"
        return logging.getLogger(name)

    @classmethod
    def get_connection(cls, conn_id: str) -> Connection:
        """The connection `conn_id`; AirflowNotFoundException when it is not defined."""
        conn = Connection.get(conn_id)
        logging.getLogger(__name__).debug("Connection Retrieved '%s'", conn.conn_id)
        return conn

    @classmethod
    def get_hook(cls, conn_id: str, hook_params: dict[str, Any] | None = None) -> Any:
        """The hook for connection `conn_id`, chosen by its conn_type."""
        return cls.get_connection(conn_id).get_hook(hook_params=hook_params)

    def get_conn(self) -> Any:
        """The client of the external system (implement it in your hook)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_conn()")

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {}


class FSHook(BaseHook):
    """A path on the local file system (the standard provider's `fs` connection type): the
    connection's extra `{"path": "/data"}` is the base path."""

    conn_name_attr = "fs_conn_id"
    default_conn_name = "fs_default"
    conn_type = "fs"
    hook_name = "File (path)"

    def __init__(self, fs_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn = self.get_connection(fs_conn_id)
        self.basepath: str = self.conn.extra_dejson.get("path", "")

    def get_conn(self) -> None:
        return None

    def get_path(self) -> str:
        return self.basepath

    def test_connection(self) -> tuple[bool, str]:
        """Whether the base path exists on this host (the standard provider's test)."""
        try:
            path = self.get_path()
            if not path:
                return False, "File Path is undefined."
            if not Path(path).exists():
                return False, f"Path {path} does not exist."
            return True, f"Path {path} is existing."
        except Exception as exc:
            return False, str(exc)


# conn_type -> hook class: what get_hook can return without provider packages.
HOOKS: dict[str, type[BaseHook]] = {FSHook.conn_type: FSHook}


def hook_class_for(conn_type: str | None) -> type[BaseHook]:
    hook = HOOKS.get(conn_type or "")
    if hook is None:
        raise AirflowException(
            f'Unknown hook type "{conn_type}": orchestrator has no provider packages and ships '
            f"hooks only for the connection types {', '.join(sorted(HOOKS))}; instantiate your "
            "own BaseHook subclass instead"
        )
    return hook
