import warnings

import pytest

from dagruns.sdk import Asset, DagDefinitionError
from dagruns.sdk.assets.uri import sanitize_uri


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("my-asset", "my-asset"),  # not a URI: kept as written
        ("S3://bucket/key/", "s3://bucket/key"),
        ("file:///tmp/data.csv#frag", "file:///tmp/data.csv"),
        ("https://host/p?b=2&a=1", "https://host/p?a=1&b=2"),
        ("postgres://db.example/app/public/users", "postgres://db.example:5432/app/public/users"),
        ("x-custom://anything//", "x-custom://anything//"),
    ],
)
def test_it_normalises_uris_like_airflow(given, expected):
    assert sanitize_uri(given) == expected


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("airflow://x", "reserved"),
        ("http://[bad", "Invalid IPv6"),
        ("s3:///key", "bucket"),
        ("postgres://host/db", "/database/schema/table"),
        ("http://host:port/x", "Port could not be cast"),
    ],
)
def test_an_invalid_uri_is_a_definition_error_naming_it(bad, why):
    with pytest.raises(DagDefinitionError, match=why) as info:
        Asset(bad)
    assert repr(bad) in str(info.value)


def test_auth_is_dropped_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert Asset("ftp://user:pw@host/f").uri == "ftp://host/f"
    assert "auth" in str(caught[0].message)
