"""Airflow's asset import paths (Airflow 3's, and Airflow 2's `airflow.datasets`, which
Airflow 3 keeps as deprecated aliases) resolve to the SDK's asset classes."""

from __future__ import annotations

import pytest

import dagruns.sdk

pytestmark = pytest.mark.usefixtures("shim")


def test_airflow_sdk_asset_names():
    from airflow.sdk import Asset, AssetAlias, AssetAll, AssetAny, Metadata, asset
    from airflow.sdk.definitions.asset import Dataset

    assert (Asset, AssetAlias, AssetAll, AssetAny, Metadata, asset, Dataset) == (
        dagruns.sdk.Asset,
        dagruns.sdk.AssetAlias,
        dagruns.sdk.AssetAll,
        dagruns.sdk.AssetAny,
        dagruns.sdk.Metadata,
        dagruns.sdk.asset,
        dagruns.sdk.Dataset,
    )


def test_asset_or_time_schedule_paths():
    from airflow.timetables.assets import AssetOrTimeSchedule
    from airflow.timetables.simple import AssetTriggeredTimetable

    assert AssetOrTimeSchedule is dagruns.sdk.AssetOrTimeSchedule
    assert AssetTriggeredTimetable is dagruns.sdk.AssetTriggeredTimetable


def test_airflow_2_dataset_paths_are_the_asset_classes():
    from airflow import Dataset as TopLevel
    from airflow.datasets import Dataset, DatasetAlias, DatasetAll, DatasetAny

    assert Dataset is TopLevel is dagruns.sdk.Asset
    assert (DatasetAlias, DatasetAll, DatasetAny) == (
        dagruns.sdk.AssetAlias,
        dagruns.sdk.AssetAll,
        dagruns.sdk.AssetAny,
    )
