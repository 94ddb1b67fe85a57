"""Airflow's EmailOperator and SmtpHook import from the SMTP provider's paths and Airflow 2's;
airflow.utils.email's senders, which need the deployment's SMTP secrets, are refused saying
why and what to use instead."""

from __future__ import annotations

import importlib

import pytest

from dagruns.sdk.operators.email import EmailOperator
from dagruns.sdk.smtp_hook import SmtpHook


@pytest.mark.parametrize(
    ("module", "name", "expected"),
    [
        ("airflow.providers.smtp.operators.smtp", "EmailOperator", EmailOperator),
        ("airflow.operators.email", "EmailOperator", EmailOperator),
        ("airflow.providers.smtp.hooks.smtp", "SmtpHook", SmtpHook),
    ],
)
@pytest.mark.usefixtures("shim")
def test_airflow_paths_resolve_to_ours(module, name, expected):
    assert getattr(importlib.import_module(module), name) is expected


@pytest.mark.parametrize("name", ["send_email", "send_email_smtp", "send_mime_email"])
@pytest.mark.usefixtures("shim")
def test_utils_email_senders_are_refused_pointing_to_email_operator(name):
    with pytest.raises(ImportError, match=rf"airflow\.utils\.email\.{name}.*server secrets.*"):
        exec(f"from airflow.utils.email import {name}", {})
    with pytest.raises(ImportError, match="EmailOperator"):
        exec(f"from airflow.utils.email import {name}", {})
