"""The providers list is read from the Airflow import table and the SDK, so it cannot drift
from what DAG files can import."""

from __future__ import annotations

from dagruns.domain import providers
from dagruns.domain.providers import package_name, provider_root, served_providers
from dagruns.sdk import airflow_compat
from dagruns.sdk.airflow_compat.table import MODULES
from dagruns.sdk.hooks import HOOKS, FSHook


def test_every_provider_module_of_the_import_table_belongs_to_one_listed_provider():
    served = {m for p in served_providers() for m in p.modules}
    in_table = {m for m in MODULES if provider_root(m) is not None}
    assert served == in_table
    assert sum(len(p.modules) for p in served_providers()) == len(in_table)


def test_package_names_follow_airflows_rule_for_grouped_providers():
    assert (
        provider_root("airflow.providers.standard.operators.bash") == "airflow.providers.standard"
    )
    assert provider_root("airflow.providers.common.compat.sdk") == "airflow.providers.common.compat"
    assert provider_root("airflow.providers.common") is None  # a namespace, not a package
    assert package_name("airflow.providers.common.compat") == (
        "apache-airflow-providers-common-compat"
    )


def test_the_hooks_listed_are_the_ones_an_airflow_import_gets():
    airflow_compat.install()
    import importlib

    for provider in served_providers():
        for hook in provider.hooks:
            module, _, name = hook.import_path.rpartition(".")
            assert getattr(importlib.import_module(module), name).__name__ == hook.class_name


def test_the_connection_types_listed_are_exactly_those_get_hook_serves():
    listed = {t for p in served_providers() for t, _ in p.connection_types}
    assert listed == set(HOOKS)


def test_a_module_added_to_the_table_shows_up_and_a_name_the_sdk_lacks_does_not():
    table = {
        "airflow.providers.cncf.kubernetes.hooks.kubernetes": {
            "FSHook": "dagruns.sdk:FSHook",
            "KubernetesHook": "dagruns.sdk:NoSuchHookYet",
        }
    }
    (provider,) = providers._collect(table)
    assert provider.package_name == "apache-airflow-providers-cncf-kubernetes"
    assert [h.class_name for h in provider.hooks] == ["FSHook"]
    assert provider.connection_types == [(FSHook.conn_type, FSHook.hook_name)]


def test_the_smtp_provider_is_listed_with_its_operator_and_connection_type():
    (smtp,) = [p for p in served_providers() if p.package_name == "apache-airflow-providers-smtp"]
    assert smtp.operators == ["EmailOperator"]
    assert smtp.connection_types == [("smtp", "SMTP")]
    assert [h.import_path for h in smtp.hooks] == ["airflow.providers.smtp.hooks.smtp.SmtpHook"]
