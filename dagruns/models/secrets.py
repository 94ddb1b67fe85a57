"""Connections and variables: configuration tasks read through the Execution API.

Passwords, connection extras and variable values are encrypted at rest (dagruns.domain.crypto)."""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from dagruns.domain.crypto import decrypt, encrypt
from dagruns.models.dag import ID_MAX_LENGTH
from dagruns.sdk.masking import MASK, is_sensitive_name, mask_value


class Connection(models.Model):
    """Where and how to reach an external system, in Airflow's shape."""

    conn_id = models.CharField(max_length=ID_MAX_LENGTH, unique=True)
    conn_type = models.CharField(max_length=500)
    description = models.TextField(blank=True, default="")
    host = models.CharField(max_length=500, blank=True, default="")
    schema = models.CharField(max_length=500, blank=True, default="")
    login = models.TextField(blank=True, default="")
    encrypted_password = models.TextField(blank=True, default="")
    port = models.IntegerField(null=True, blank=True)
    encrypted_extra = models.TextField(blank=True, default="")

    class Meta:
        db_table = "connection"
        ordering = ["conn_id"]

    def __str__(self) -> str:
        return self.conn_id

    @property
    def password(self) -> str:
        return decrypt(self.encrypted_password) if self.encrypted_password else ""

    @password.setter
    def password(self, value: str | None) -> None:
        self.encrypted_password = encrypt(value) if value else ""

    @property
    def extra(self) -> str:
        return decrypt(self.encrypted_extra) if self.encrypted_extra else ""

    @extra.setter
    def extra(self, value: str | dict | None) -> None:
        if isinstance(value, dict):
            value = json.dumps(value)
        self.encrypted_extra = encrypt(value) if value else ""

    @property
    def extra_dejson(self) -> dict[str, Any]:
        """The extra as a dict ({} when empty or not a JSON object), as Airflow offers it."""
        try:
            parsed = json.loads(self.extra) if self.extra else {}
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def masked_extra(self) -> dict[str, Any]:
        return {k: mask_value(k, v) for k, v in self.extra_dejson.items()}

    def masked_password(self) -> str:
        return MASK if self.encrypted_password else ""


class Variable(models.Model):
    """A key/value setting; values whose key looks secret are masked wherever they are shown."""

    key = models.CharField(max_length=ID_MAX_LENGTH, unique=True)
    encrypted_val = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")

    class Meta:
        db_table = "variable"
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    @property
    def val(self) -> str:
        return decrypt(self.encrypted_val) if self.encrypted_val else ""

    @val.setter
    def val(self, value: str) -> None:
        self.encrypted_val = encrypt(value) if value != "" else ""

    @property
    def is_sensitive(self) -> bool:
        return is_sensitive_name(self.key)

    def display_value(self) -> str:
        return MASK if self.is_sensitive else self.val
