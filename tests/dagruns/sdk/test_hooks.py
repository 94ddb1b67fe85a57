"""`BaseHook`: fetching connections, the hooks get_hook can return, and authors' own hooks."""

from __future__ import annotations

import pytest

from dagruns.sdk import AirflowNotFoundException, BaseHook, FSHook
from dagruns.sdk.exceptions import AirflowException


def test_get_connection_fetches_through_the_runtime(task_runtime):
    task_runtime.connections["api"] = {"conn_id": "api", "conn_type": "http", "host": "h"}
    assert BaseHook.get_connection("api").host == "h"


def test_get_connection_of_a_missing_id_is_airflow_not_found(task_runtime):
    with pytest.raises(AirflowNotFoundException, match="`nope`"):
        BaseHook.get_connection("nope")


def test_get_hook_of_an_fs_connection_is_the_fs_hook_with_its_path(task_runtime):
    task_runtime.connections["data"] = {
        "conn_id": "data",
        "conn_type": "fs",
        "extra": '{"path": "/srv/data"}',
    }

    hook = BaseHook.get_hook("data")

    assert isinstance(hook, FSHook)
    assert hook.get_path() == "/srv/data"


def test_get_hook_of_a_type_we_do_not_ship_names_the_type(task_runtime):
    task_runtime.connections["db"] = {"conn_id": "db", "conn_type": "postgres"}
    with pytest.raises(AirflowException, match='Unknown hook type "postgres".*fs'):
        BaseHook.get_hook("db")


def test_an_authors_hook_reads_its_connection(task_runtime):
    task_runtime.connections["shop_default"] = {
        "conn_id": "shop_default",
        "conn_type": "http",
        "host": "shop.example",
        "login": "bot",
    }

    class ShopHook(BaseHook):
        conn_name_attr = "shop_conn_id"
        default_conn_name = "shop_default"
        conn_type = "http"
        hook_name = "Shop"

        def __init__(self, shop_conn_id: str = default_conn_name) -> None:
            super().__init__()
            self.shop_conn_id = shop_conn_id

        def get_conn(self) -> str:
            conn = self.get_connection(self.shop_conn_id)
            return f"{conn.login}@{conn.host}"

    hook = ShopHook()
    assert hook.get_conn() == "bot@shop.example"
    assert hook.log.name.endswith("ShopHook")


def test_get_conn_must_be_implemented():
    with pytest.raises(NotImplementedError, match="BaseHook does not implement get_conn"):
        BaseHook().get_conn()


def test_fs_hook_test_connection_checks_the_base_path(tmp_path):
    from dagruns.sdk import Connection, runtime

    class OneConnection:
        def __init__(self, extra: str) -> None:
            self.extra = extra

        def get_connection(self, conn_id: str) -> dict:
            return {"conn_id": conn_id, "conn_type": "fs", "extra": self.extra}

    for extra, expected in [
        (f'{{"path": "{tmp_path}"}}', (True, f"Path {tmp_path} is existing.")),
        (f'{{"path": "{tmp_path}/no"}}', (False, f"Path {tmp_path}/no does not exist.")),
        ("{}", (False, "File Path is undefined.")),
    ]:
        with runtime.serving(OneConnection(extra)):  # type: ignore[arg-type]
            assert Connection.get("files").test_connection() == expected
