"""Which names count as secrets, and hiding their values (pure Python: the task runner uses it).

Airflow masks a variable's or a connection extra's value when its name contains one of these
words (`[core] sensitive_var_conn_names` defaults), and always masks connection passwords.

`SecretsMasker` hides secret VALUES wherever they show up. It lives here, in pure Python, because
two processes apply the same rule: the task runner's supervisor (log lines and rendered fields,
with the values it fetched for the task) and the server (XComs, rendered fields and notes shown
to people, with every sensitive variable and connection secret: dagruns.domain.masking).
Like Airflow, values shorter than MIN_LENGTH are not masked: hiding every "1" or "yes" would
wreck logs without protecting much.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

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


# Airflow's [logging] min_length_masked_secret default.
MIN_LENGTH = 5


class SecretsMasker:
    def __init__(self, min_length: int = MIN_LENGTH) -> None:
        self.min_length = min_length
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def __len__(self) -> int:
        return len(self._secrets)

    # -- registering ------------------------------------------------------------------

    def add(self, value: Any) -> None:
        """Mask `value` (strings and numbers; every leaf of a dict or list)."""
        if isinstance(value, dict):
            for item in value.values():
                self.add(item)
            return
        if isinstance(value, list | tuple | set | frozenset):
            for item in value:
                self.add(item)
            return
        if value is None or isinstance(value, bool):
            return
        text = str(value)
        for variant in _variants(text):
            if len(variant) >= self.min_length and variant not in self._secrets:
                self._secrets.add(variant)
                self._pattern = None

    def add_connection(self, connection: dict[str, Any]) -> None:
        """A connection fetched for the task: its password, and extra entries whose name is
        sensitive (the whole extra too when it is not a JSON object)."""
        self.add(connection.get("password"))
        extra = connection.get("extra")
        if not extra:
            return
        try:
            parsed = json.loads(extra)
        except (TypeError, ValueError):
            return
        if isinstance(parsed, dict):
            self.add_sensitive(parsed)

    def add_sensitive(self, data: dict[str, Any]) -> None:
        """Mask the values of `data` stored under sensitive names (recursing into dicts)."""
        for key, value in data.items():
            if is_sensitive_name(str(key)):
                self.add(value)
            elif isinstance(value, dict):
                self.add_sensitive(value)

    def add_variable(self, key: str, value: str | None) -> None:
        """A variable fetched for the task: masked when its key is sensitive; a JSON value's
        leaves too, so printing the parsed value does not reveal them."""
        if value is None or not is_sensitive_name(key):
            return
        self.add(value)
        try:
            parsed = json.loads(value)
        except (TypeError, ValueError):
            return
        if isinstance(parsed, dict | list):
            self.add(parsed)

    # -- masking ------------------------------------------------------------------------

    def mask(self, text: str) -> str:
        if not self._secrets:
            return text
        if self._pattern is None:
            # Longest first, so a secret containing another is replaced whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(secret) for secret in ordered))
        return self._pattern.sub(MASK, text)

    def redact(self, value: Any, name: str = "") -> Any:
        """A copy of a JSON-like value with secrets masked in every string and the values
        under sensitive names replaced (dagruns.sdk.masking.mask_value)."""
        if isinstance(value, dict):
            return {k: self.redact(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact(item, name) for item in value]
        if name and is_sensitive_name(name):
            return mask_value(name, value)
        if isinstance(value, str):
            return self.mask(value)
        return value


def _variants(text: str) -> Iterable[str]:
    """The forms a secret shows up in: as is, JSON-escaped, URL-quoted, and each line of a
    multi-line secret (a private key printed line by line)."""
    yield text
    yield json.dumps(text)[1:-1]
    yield quote(text, safe="")
    yield quote_plus(text)
    if "\n" in text:
        for line in text.splitlines():
            yield line.strip()
