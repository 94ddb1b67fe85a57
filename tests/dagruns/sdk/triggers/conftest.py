from tests.dagruns.sdk.airflow_compat.conftest import shim  # noqa: F401
