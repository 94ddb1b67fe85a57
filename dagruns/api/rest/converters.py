"""A URL converter for keys that may hold any character, newlines included.

Variable keys and XCom keys are free text (Airflow routes them as `{…:path}`), but Django's own
`path` converter is `.+`, which stops at a newline: such a key would miss the route and get
Django's HTML 404 instead of the API's answer.
"""

from __future__ import annotations

from django.urls import register_converter


class AnyPathConverter:
    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyPathConverter, "anypath")


class SignedIntConverter:
    """An integer path segment that may be negative (`map_index` -1 means "not mapped"):
    Django's `int` is digits only, so `/…/extract/-1` would fall through to the API's 404."""

    regex = r"-?[0-9]+"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(SignedIntConverter, "signedint")
