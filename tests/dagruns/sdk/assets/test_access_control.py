"""AssetAccessControl is validated as Airflow validates it and kept on the asset; without
teams (Airflow's multi_team off, which is all orchestrator has) it changes nothing."""

from __future__ import annotations

import pytest

from dagruns.sdk import Asset, DagDefinitionError
from dagruns.sdk.assets import AssetAccessControl
from dagruns.sdk.configuration import conf


def test_an_asset_keeps_its_access_control_and_defaults_to_an_open_one():
    control = AssetAccessControl(producer_teams=["team_analytics"], allow_global=False)
    shared = Asset(name="shared_data", uri="s3://lake/out.csv", access_control=control)
    assert shared.access_control is control
    assert Asset("plain").access_control == AssetAccessControl([], None, True)


def test_it_filters_nothing_because_multi_team_mode_is_off():
    assert conf.getboolean("core", "multi_team") is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"producer_teams": ["ok", " "]}, "Each entry in producer_teams must be a non-empty"),
        ({"consumer_teams": [3]}, "Each entry in consumer_teams"),
        ({"producer_teams": "team"}, "producer_teams must be a list"),
        ({"allow_global": "no"}, "allow_global must be a bool"),
    ],
)
def test_bad_values_are_refused(kwargs, message):
    with pytest.raises(DagDefinitionError, match=message):
        AssetAccessControl(**kwargs)


def test_an_asset_refuses_another_kind_of_access_control():
    with pytest.raises(DagDefinitionError, match="access_control must be an AssetAccessControl"):
        Asset("a", access_control={"producer_teams": ["x"]})
