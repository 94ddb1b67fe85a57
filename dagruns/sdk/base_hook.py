"""`BaseHook`: Airflow's base class of hooks, subclassed by DAG authors for their own systems
and by the hooks we ship (dagruns/sdk/hooks.py lists those)."""

from __future__ import annotations

import logging
from typing import Any

from .connection import Connection


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
