"""Building the UI's URLs for many task instances at once.

`reverse()` costs ~10 µs; the grid of a 500-task DAG has 12,500 cells. These builders quote
exactly as `reverse()` does (Django keeps RFC 3986 sub-delimiters, `/`, `~`, `:` and `@`), so
a run id like `a/b+c:d` becomes one `path:` segment that resolves back to itself.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.urls import reverse

# django.urls.resolvers: quote(url, safe=RFC3986_SUBDELIMS + "/~:@")
_SAFE_PATH = "!$&'()*+,;=/~:@"
_SAFE_SEGMENT = "!$&'()*+,;=~:@"


def dag_url(dag_id: str, tab: str = "grid") -> str:
    return reverse(f"ui:{tab}", args=[dag_id])


def run_part(run_id: str) -> str:
    return quote(run_id, safe=_SAFE_PATH)


def task_part(task_id: str) -> str:
    return quote(task_id, safe=_SAFE_SEGMENT)


def ti_url(
    dag_id: str, run_id: str, task_id: str, *, base: str | None = None, map_index: int = -1
) -> str:
    """/dags/<dag>/runs/<run>/tasks/<task>, plus /mapped/<n> for one mapped instance (Airflow
    3's UI path); pass `base` (dag_url(dag_id)) when building many."""
    base = base if base is not None else dag_url(dag_id)
    url = f"{base}runs/{run_part(run_id)}/tasks/{task_part(task_id)}"
    return f"{url}/mapped/{map_index}" if map_index >= 0 else url


def run_url(dag_id: str, run_id: str, *, base: str | None = None) -> str:
    """/dags/<dag>/runs/<run>: the run's own page (Airflow 3's UI path)."""
    base = base if base is not None else dag_url(dag_id)
    return f"{base}runs/{run_part(run_id)}"


def with_query(url: str, **params) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{url}?{query}" if query else url


def ws_url(dag_id: str | None, **params) -> str:
    path = "/ws/dags/" if dag_id is None else f"/ws/dags/{quote(dag_id, safe=_SAFE_PATH)}/"
    return with_query(path, **params)
