"""Airflow's import paths of ObjectStoragePath and attach, and of its example DAGs' helper."""

from __future__ import annotations

import pytest

from dagruns.sdk import io


@pytest.mark.usefixtures("shim")
def test_airflow_3_and_airflow_2_paths_reach_the_same_classes():
    from airflow.io.path import ObjectStoragePath as airflow2_path
    from airflow.io.store import attach as airflow2_attach
    from airflow.sdk import ObjectStoragePath as sdk_path
    from airflow.sdk.io import attach as sdk_attach
    from airflow.sdk.io.path import ObjectStoragePath as sdk_io_path

    assert airflow2_path is sdk_path is sdk_io_path is io.ObjectStoragePath
    assert airflow2_attach is sdk_attach is io.attach


@pytest.mark.usefixtures("shim")
def test_airflows_example_helper_prints_its_line(capsys):
    from airflow.example_dags.libs.helper import print_stuff

    print_stuff()
    assert capsys.readouterr().out == "annotated!\n"
