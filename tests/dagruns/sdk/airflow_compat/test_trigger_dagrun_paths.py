"""Airflow's import paths of TriggerDagRunOperator and DagRunAlreadyExists resolve to ours."""

from __future__ import annotations

import importlib

import pytest

from dagruns.sdk import DagRunAlreadyExists, TriggerDagRunOperator


@pytest.mark.parametrize(
    "module",
    ["airflow.providers.standard.operators.trigger_dagrun", "airflow.operators.trigger_dagrun"],
)
@pytest.mark.usefixtures("shim")
def test_airflows_import_paths_give_our_operator(module):
    assert importlib.import_module(module).TriggerDagRunOperator is TriggerDagRunOperator


@pytest.mark.usefixtures("shim")
def test_airflow_exceptions_has_dag_run_already_exists():
    assert importlib.import_module("airflow.exceptions").DagRunAlreadyExists is DagRunAlreadyExists
