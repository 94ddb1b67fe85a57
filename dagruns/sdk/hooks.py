"""The hooks we ship, for `Connection.get_hook` / `BaseHook.get_hook` (BaseHook, their base
class, lives in base_hook.py and is re-exported here).

Airflow finds a hook for a connection type through its installed provider packages. We have
no providers: `get_hook` knows the connection types listed in HOOKS (the standard provider's
`fs`, `FSHook`; the SMTP provider's `smtp`, `SmtpHook`) and refuses any other with Airflow's
'Unknown hook type' error, naming the type and the ones we know. A DAG author's own BaseHook
subclass is used by instantiating it, as in Airflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base_hook import BaseHook
from .exceptions import AirflowException
from .smtp_hook import SmtpHook

__all__ = ["HOOKS", "BaseHook", "FSHook", "SmtpHook", "hook_class_for"]


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
HOOKS: dict[str, type[BaseHook]] = {FSHook.conn_type: FSHook, SmtpHook.conn_type: SmtpHook}


def hook_class_for(conn_type: str | None) -> type[BaseHook]:
    hook = HOOKS.get(conn_type or "")
    if hook is None:
        raise AirflowException(
            f'Unknown hook type "{conn_type}": orchestrator has no provider packages and ships '
            f"hooks only for the connection types {', '.join(sorted(HOOKS))}; instantiate your "
            "own BaseHook subclass instead"
        )
    return hook
