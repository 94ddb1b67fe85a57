import pytest

from dagruns.sdk import (
    Asset,
    AssetAlias,
    AssetAll,
    AssetAny,
    AssetWatcher,
    DagDefinitionError,
    Dataset,
    Metadata,
)
from dagruns.sdk.assets import decode_condition


def test_name_and_uri_default_to_each_other():
    assert (Asset("a").name, Asset("a").uri) == ("a", "a")
    only_uri = Asset(uri="s3://b/k")
    assert (only_uri.name, only_uri.uri, only_uri.group) == ("s3://b/k", "s3://b/k", "asset")
    assert Dataset("d").group == "dataset"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "requires either 'name' or 'uri'"),
        ({"name": "self"}, "prohibited name"),
        ({"name": "  "}, "whitespace"),
        ({"name": "x" * 1501}, "1500"),
        ({"name": "a", "extra": {"f": object()}}, "JSON-serializable"),
        ({"name": "a", "extra": [1]}, "must be a dict"),
        ({"name": "a", "watchers": ["w"]}, "'watchers' is not supported"),
    ],
)
def test_bad_assets_are_refused(kwargs, message):
    with pytest.raises(DagDefinitionError, match=message):
        Asset(**kwargs)


def test_asset_watcher_is_refused():
    with pytest.raises(DagDefinitionError, match="not supported"):
        AssetWatcher("w", trigger=None)


def test_operators_build_flat_expressions():
    a, b, c = Asset("a"), Asset("b"), Asset("c")
    assert a & b & c == AssetAll(a, b, c)
    assert a | b | c == AssetAny(a, b, c)
    assert (a & b) | c == AssetAny(AssetAll(a, b), c)


def test_evaluate_follows_and_or():
    a, b, c = Asset("a"), Asset("b"), Asset("c")
    updated = {a.key}

    def is_true(leaf):
        return leaf.key in updated

    assert (a | b).evaluate(is_true)
    assert not (a & b).evaluate(is_true)
    updated.add(b.key)
    assert (a & b).evaluate(is_true)
    assert not ((a & b) & c).evaluate(is_true)


def test_encode_and_decode_round_trip_and_expression_shape():
    expr = (Asset("a", extra={"k": 1}) & AssetAlias("al")) | Asset(uri="s3://b/k")
    assert decode_condition(expr.encode()) == expr
    assert expr.as_expression() == {
        "any": [
            {
                "all": [
                    {"asset": {"uri": "a", "name": "a", "group": "asset"}},
                    {"alias": {"name": "al", "group": "asset"}},
                ]
            },
            {"asset": {"uri": "s3://b/k", "name": "s3://b/k", "group": "asset"}},
        ]
    }


def test_combining_with_something_else_is_a_type_error():
    with pytest.raises(TypeError):
        Asset("a") & "b"


def test_metadata_takes_an_asset_and_an_optional_alias():
    meta = Metadata(Asset("a"), {"rows": 1}, alias="al")
    assert meta.alias == AssetAlias("al")
    with pytest.raises(DagDefinitionError):
        Metadata("a", {})  # type: ignore[arg-type]
