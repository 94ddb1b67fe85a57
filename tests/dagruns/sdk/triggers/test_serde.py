"""Trigger kwargs, next_kwargs and event payloads survive the trip through JSON."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pendulum
import pytest

from dagruns.sdk.triggers.serde import NotSerializable, decode, decode_kwargs, encode, encode_kwargs


@pytest.mark.parametrize(
    "value",
    [
        None, True, 3, 2.5, "text", [1, "a"], {"a": {"b": [1, 2]}},
        datetime(2030, 1, 2, 3, 4, 5, 6, tzinfo=UTC), date(2030, 1, 2), timedelta(seconds=90.5),
        (1, (2, "x")), {"__type": "not a tag", "__var": 1},
    ],
)  # fmt: skip
def test_values_round_trip_through_json(value):
    assert decode(json.loads(json.dumps(encode(value)))) == value


def test_datetimes_come_back_aware_in_utc():
    local = datetime(2030, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    back = decode(encode(local))
    assert back == local and back.utcoffset() == timedelta(0)
    assert decode(encode(pendulum.datetime(2030, 1, 1, tz="Europe/Paris"))).tzinfo is not None


def test_kwargs_keep_a_plain_top_level_so_an_event_can_be_added_without_decoding():
    encoded = encode_kwargs({"when": date(2030, 1, 1)}, "kwargs")
    encoded["event"] = encode(datetime(2030, 1, 1, tzinfo=UTC))
    assert decode_kwargs(encoded) == {
        "when": date(2030, 1, 1),
        "event": datetime(2030, 1, 1, tzinfo=UTC),
    }


def test_a_value_that_cannot_travel_is_refused_naming_where_it_is():
    with pytest.raises(NotSerializable, match=r"kwargs\['conn'\]\[0\] is a builtins.object"):
        encode_kwargs({"conn": [object()]}, "kwargs")
    with pytest.raises(NotSerializable, match="key 1 that is not a string"):
        encode({1: "a"})
