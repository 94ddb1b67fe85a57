"""The metadata model's own rules: secrets encrypted at rest, masking, the default pool,
states declared once with a colour each."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from dagruns.domain import crypto
from dagruns.models import Connection, Pool, TaskInstanceState, Variable
from dagruns.models.states import STATE_COLOURS, TI_FINISHED, TI_UNFINISHED
from dagruns.sdk.masking import MASK, is_sensitive_name, mask_value

pytestmark = pytest.mark.django_db


def raw(table: str, column: str, where: str, value: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {where} = %s", [value])
        return cursor.fetchone()[0]


def test_a_connection_password_and_extra_are_encrypted_at_rest():
    conn = Connection(conn_id="db", conn_type="postgres", login="bob")
    conn.password = "s3cr3t-pw"
    conn.extra = {"api_key": "k-123", "region": "eu"}
    conn.save()
    assert "s3cr3t-pw" not in raw("connection", "encrypted_password", "conn_id", "db")
    assert "k-123" not in raw("connection", "encrypted_extra", "conn_id", "db")
    loaded = Connection.objects.get(conn_id="db")
    assert loaded.password == "s3cr3t-pw"
    assert loaded.extra_dejson == {"api_key": "k-123", "region": "eu"}
    assert loaded.masked_extra() == {"api_key": MASK, "region": "eu"}
    assert loaded.masked_password() == MASK


def test_a_variable_value_is_encrypted_and_sensitive_keys_are_masked():
    Variable.objects.create(key="db_password", val="hunter2")
    Variable.objects.create(key="region", val="eu")
    assert "hunter2" not in raw("variable", "encrypted_val", "key", "db_password")
    assert Variable.objects.get(key="db_password").display_value() == MASK
    assert Variable.objects.get(key="region").display_value() == "eu"
    assert Variable.objects.get(key="db_password").val == "hunter2"


def test_keys_can_be_rotated_the_first_encrypts_all_decrypt(orch_settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    orch_settings.fernet_key = old
    crypto.reset_cache()
    Variable.objects.create(key="v", val="before rotation")
    orch_settings.fernet_key = f"{new},{old}"
    crypto.reset_cache()
    assert Variable.objects.get(key="v").val == "before rotation"
    orch_settings.fernet_key = new
    crypto.reset_cache()
    with pytest.raises(crypto.DecryptionError, match="ORCH_FERNET_KEY"):
        _ = Variable.objects.get(key="v").val
    crypto.reset_cache()


@pytest.fixture(autouse=True)
def _fresh_fernet():
    crypto.reset_cache()
    yield
    crypto.reset_cache()


def test_the_default_pool_exists_and_cannot_be_deleted():
    pool = Pool.objects.get(name="default_pool")
    assert pool.slots == 128
    with pytest.raises(ValueError, match="default_pool"):
        pool.delete()


@pytest.mark.parametrize(
    ("name", "sensitive"),
    [("password", True), ("MY_API_KEY", True), ("aws_secret_access", True), ("region", False)],
)
def test_sensitive_names_follow_airflows_list(name, sensitive):
    assert is_sensitive_name(name) is sensitive


def test_masking_recurses_into_dicts():
    assert mask_value("extra", {"token": "t", "nested": {"password": "p", "x": 1}}) == {
        "token": MASK,
        "nested": {"password": MASK, "x": 1},
    }


def test_every_state_has_a_colour_and_is_either_finished_or_unfinished():
    for state in TaskInstanceState:
        assert state.colour == STATE_COLOURS[state.value]
    assert not TI_FINISHED & TI_UNFINISHED
    assert STATE_COLOURS["success"] == "green" and STATE_COLOURS["failed"] == "red"
