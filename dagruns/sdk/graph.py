"""Whole-graph algorithms over a DAG's tasks: cycle detection and topological order."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .baseoperator import BaseOperator


def find_cycle(tasks: Mapping[str, BaseOperator]) -> list[str] | None:
    """One cycle as a closed path ``[a, b, c, a]``, or None if the graph is acyclic.

    Iterative depth-first search (a recursive one would overflow on long chains), visiting
    ids in sorted order so the reported cycle is the same on every parse.
    """
    done: set[str] = set()
    for start in sorted(tasks):
        if start in done:
            continue
        path: list[str] = [start]
        on_path = {start}
        stack = [iter(sorted(tasks[start].downstream_task_ids))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            if child in on_path:
                return [*path[path.index(child) :], child]
            if child in done:
                continue
            path.append(child)
            on_path.add(child)
            stack.append(iter(sorted(tasks[child].downstream_task_ids)))
    return None


def topological_order(tasks: Mapping[str, BaseOperator]) -> list[str]:
    """Task ids, every task after all its upstream tasks; ties broken by task id.

    Call only on an acyclic graph: tasks on a cycle are left out.
    """
    indegree = {task_id: len(task.upstream_task_ids) for task_id, task in tasks.items()}
    ready = [task_id for task_id, degree in indegree.items() if degree == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        task_id = heapq.heappop(ready)
        order.append(task_id)
        for child in tasks[task_id].downstream_task_ids:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, child)
    return order
