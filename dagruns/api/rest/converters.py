"""URL converters of the REST API's paths: keys that may hold any character, newlines
included, and integers within the database's range.

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


# The range of the database's integer columns (PostgreSQL's bigint, SQLite's INTEGER).
DB_INT_MIN, DB_INT_MAX = -(2**63), 2**63 - 1


def _db_int(value: str) -> int:
    """A number no row can have is no match (Django then tries the next route, ending at the
    API's documented 404) rather than an overflow in the database driver."""
    number = int(value)
    if not DB_INT_MIN <= number <= DB_INT_MAX:
        raise ValueError(f"{value} is outside the database's integer range")
    return number


class DbIdConverter:
    """A row id in a path (`/assets/{dbid:asset_id}`): digits, within the database's range."""

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        return _db_int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(DbIdConverter, "dbid")


class SignedIntConverter:
    """An integer path segment that may be negative (`map_index` -1 means "not mapped"):
    Django's `int` is digits only, so `/…/extract/-1` would fall through to the API's 404."""

    regex = r"-?[0-9]+"

    def to_python(self, value: str) -> int:
        # Not range-checked here: the map_index parameter's own bounds answer 422 naming it.
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(SignedIntConverter, "signedint")
