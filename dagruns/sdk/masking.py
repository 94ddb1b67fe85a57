"""Which names count as secrets, and hiding their values (pure Python: the task runner uses it).

Airflow masks a variable's or a connection extra's value when its name contains one of these
words (`[core] sensitive_var_conn_names` defaults), and always masks connection passwords.
"""

from __future__ import annotations

SENSITIVE_WORDS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "authorization",
        "passphrase",
        "passwd",
        "password",
        "private_key",
        "secret",
        "token",
        "keyfile_dict",
        "service_account",
    }
)
MASK = "***"


def is_sensitive_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SENSITIVE_WORDS)


def mask_value(name: str, value: object) -> object:
    """The value to show for `name`: masked when the name is sensitive, recursing into dicts."""
    if isinstance(value, dict):
        return {k: mask_value(str(k), v) for k, v in value.items()}
    if is_sensitive_name(name) and value not in (None, ""):
        return MASK
    return value
