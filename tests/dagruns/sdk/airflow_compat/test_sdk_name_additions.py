"""Airflow's import paths of ObjectStoragePath and attach, its example DAGs' helper, the branch
bases, the macros module and the TaskInstance protocol."""

from __future__ import annotations

import pytest

from dagruns.sdk import io


@pytest.mark.usefixtures("shim")
def test_airflow_3_and_airflow_2_paths_reach_the_same_classes():
    from airflow.io.path import ObjectStoragePath as airflow2_path
    from airflow.io.storage import attach as airflow2_attach
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


@pytest.mark.usefixtures("shim")
def test_airflow_sdk_offers_the_branch_bases_and_the_macros_module():
    import airflow.sdk
    from airflow.macros import ds_add, timedelta
    from airflow.sdk import BaseBranchOperator, BranchMixIn, macros
    from airflow.sdk.bases.branch import BaseBranchOperator as bases_branch_operator

    import dagruns.sdk.macros

    assert macros is dagruns.sdk.macros
    assert issubclass(BaseBranchOperator, BranchMixIn)
    assert bases_branch_operator is BaseBranchOperator
    assert ds_add("2024-01-30", 2) == "2024-02-01"
    assert timedelta(days=1).days == 1
    assert {"macros", "BaseBranchOperator"} <= set(airflow.sdk.__all__)


@pytest.mark.usefixtures("shim")
def test_task_instance_is_the_protocol_task_code_types_ti_with():
    from typing import Protocol

    from airflow.models import TaskInstance as models_ti
    from airflow.models.taskinstance import TaskInstance as module_ti
    from airflow.sdk import TaskInstance
    from airflow.sdk.types import TaskInstance as types_ti

    assert TaskInstance is types_ti is models_ti is module_ti
    assert Protocol in TaskInstance.__mro__
    assert "xcom_pull" in dir(TaskInstance)
