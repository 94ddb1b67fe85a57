"""The SDK is imported by task runners and DAG files: it must stay free of Django and of
the rest of the project."""

import ast
import pathlib
import subprocess
import sys

SDK_DIR = pathlib.Path(__file__).resolve().parents[3] / "dagruns" / "sdk"
# dateutil: Airflow accepts its relativedelta as a schedule (pendulum and croniter need it too).
# fsspec, upath: ObjectStoragePath (dagruns/sdk/io), built on them as Airflow's is.
ALLOWED_THIRD_PARTY = {
    "fsspec",
    "upath",
    "jinja2",
    "jsonschema",
    "croniter",
    "cron_descriptor",
    "pendulum",
    "dateutil",
}


def test_sdk_modules_import_only_the_stdlib_allowed_libraries_and_the_sdk():
    offenders = []
    for path in SDK_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if (
                    top not in sys.stdlib_module_names
                    and top not in ALLOWED_THIRD_PARTY
                    and top != "__future__"
                ):
                    offenders.append(f"{path.name}: {module}")
    assert offenders == []


def test_importing_the_sdk_loads_no_django():
    code = "import sys, dagruns.sdk; print(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
