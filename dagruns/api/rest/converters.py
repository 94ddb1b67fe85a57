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
