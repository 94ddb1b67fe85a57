"""What Airflow's own example DAGs import from ``airflow.example_dags.libs.helper``, so those
files (example_kubernetes_executor, example_local_kubernetes_executor) run unchanged."""

from __future__ import annotations


def print_stuff() -> None:
    """Airflow's helper: prints one line (the pod-annotation examples call it in their tasks)."""
    print("annotated!")
