"""DAG files of the benchmark's shapes: chains, fan-outs and diamond lattices of no-op Python
tasks or `true` Bash tasks, and `mapped`: a fan-out whose N leaves are the instances of one
mapped task (`expand` over N items), to compare with `fanout` of the same N."""

from __future__ import annotations

HEADER = """\
from datetime import datetime
from dagruns.sdk import DAG, BashOperator, PythonOperator


def noop():
    return None


def make(task_id):
    if KIND == "bash":
        return BashOperator(task_id=task_id, bash_command="true")
    return PythonOperator(task_id=task_id, python_callable=noop)


def make_mapped(task_id, n):
    if KIND == "bash":
        return BashOperator.partial(task_id=task_id).expand(bash_command=["true"] * n)
    return PythonOperator.partial(task_id=task_id, python_callable=noop_item).expand(
        op_args=[[i] for i in range(n)]
    )


def noop_item(item):
    return None

"""

BODIES = {
    "chain": """
with DAG(DAG_ID, schedule=None, start_date=datetime(2024, 1, 1), is_paused_upon_creation=False,
         max_active_tasks=N + 2) as dag:
    previous = None
    for i in range(N):
        current = make(f"t{i:03d}")
        if previous is not None:
            previous >> current
        previous = current
""",
    "fanout": """
with DAG(DAG_ID, schedule=None, start_date=datetime(2024, 1, 1), is_paused_upon_creation=False,
         max_active_tasks=N + 2) as dag:
    root = make("root")
    for i in range(N):
        root >> make(f"leaf{i:03d}")
""",
    "mapped": """
with DAG(DAG_ID, schedule=None, start_date=datetime(2024, 1, 1), is_paused_upon_creation=False,
         max_active_tasks=N + 2) as dag:
    make("root") >> make_mapped("leaf", N)
""",
    "diamond": """
with DAG(DAG_ID, schedule=None, start_date=datetime(2024, 1, 1), is_paused_upon_creation=False,
         max_active_tasks=N * N + 2) as dag:
    # an N x N lattice: each task feeds the one to its right and the one below it
    grid = [[make(f"n{r}_{c}") for c in range(N)] for r in range(N)]
    for r in range(N):
        for c in range(N):
            if c + 1 < N:
                grid[r][c] >> grid[r][c + 1]
            if r + 1 < N:
                grid[r][c] >> grid[r + 1][c]
""",
}


def dag_file(shape: str, n: int, kind: str) -> tuple[str, str]:
    """(dag_id, file text) for e.g. ("chain", 50, "python")."""
    dag_id = f"bench_{kind}_{shape}_{n}"
    text = f"DAG_ID = {dag_id!r}\nN = {n}\nKIND = {kind!r}\n" + HEADER + BODIES[shape]
    return dag_id, text


DEFAULT_CASES = [
    ("chain", 50, "python"),
    ("fanout", 100, "python"),
    ("chain", 20, "bash"),
    ("diamond", 5, "python"),
    ("mapped", 100, "python"),
]
