"""Encryption at rest for connection passwords/extras and variable values (Fernet).

ORCH_FERNET_KEY may hold several comma-separated keys: the first encrypts, all decrypt, so a key
can be rotated without losing data (Airflow's `fernet_key` works the same way). Without it the
key is derived from the secret key, which keeps the embedded default working with no set-up;
`manage.py check --deploy` warns about that.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    configured = settings.ORCH.fernet_key
    if configured:
        keys = [k.strip() for k in configured.split(",") if k.strip()]
    else:
        digest = hashlib.sha256(("orchestrator-fernet:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise DecryptionError(
            "cannot decrypt a stored secret: ORCH_FERNET_KEY does not match the key it was "
            "written with"
        ) from None


def reset_cache() -> None:
    _fernet.cache_clear()
