import pytest

from dagruns.sdk import (
    Asset,
    AssetAlias,
    AssetAll,
    AssetAny,
    AssetWatcher,
    DagDefinitionError,
    Dataset,
    FileDeleteTrigger,
    FileTrigger,
    Metadata,
)
from dagruns.sdk.assets import AssetNameRef, AssetUriRef, decode_condition


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
        ({"name": "a", "watchers": ["w"]}, "watchers must be AssetWatcher objects"),
    ],
)
def test_bad_assets_are_refused(kwargs, message):
    with pytest.raises(DagDefinitionError, match=message):
        Asset(**kwargs)


def test_a_watcher_needs_an_event_trigger_and_names_the_class_it_got():
    with pytest.raises(DagDefinitionError, match="must be a BaseEventTrigger, got None"):
        AssetWatcher("w", trigger=None)
    with pytest.raises(
        DagDefinitionError,
        match="must inherit BaseEventTrigger; dagruns.sdk.triggers.file.FileTrigger does not",
    ):
        AssetWatcher("w", trigger=FileTrigger("/tmp/x"))


def test_a_watched_asset_keeps_its_watchers_through_serialization():
    trigger = FileDeleteTrigger("/data/in.csv", poke_interval=2)
    asset = Asset("in", watchers=[AssetWatcher("in_file", trigger)])
    encoded = asset.encode()
    assert encoded["watchers"] == [
        {
            "name": "in_file",
            "trigger": {
                "classpath": "airflow.providers.standard.triggers.file.FileDeleteTrigger",
                "kwargs": {"filepath": "/data/in.csv", "poke_interval": 2.0},
            },
        }
    ]
    (watcher,) = decode_condition(encoded).watchers  # type: ignore[attr-defined]
    assert watcher.name == "in_file" and watcher.encode() == encoded["watchers"][0]


def test_asset_ref_is_by_name_or_by_uri_and_round_trips():
    by_name, by_uri = Asset.ref(name="orders"), Asset.ref(uri="s3://b/orders")
    assert isinstance(by_name, AssetNameRef) and isinstance(by_uri, AssetUriRef)
    assert by_name.as_expression() == {"asset_ref": {"name": "orders"}}
    assert decode_condition(by_name.encode()) == by_name
    assert decode_condition(by_uri.encode()) == by_uri
    assert list((by_name & Asset("x")).iter_asset_refs()) == [by_name]
    with pytest.raises(DagDefinitionError, match="either name or URI, not both"):
        Asset.ref(name="a", uri="b")
    with pytest.raises(DagDefinitionError, match="expects keyword argument 'name' or 'uri'"):
        Asset.ref()


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
