"""Parse-time checks of a ``schedule=<Timetable>``: a broken timetable is an import error of
the DAG file that names the DAG and the timetable, not a surprise in the scheduler later."""

from __future__ import annotations

import json

from ..exceptions import DagDefinitionError
from .base import Timetable
from .registry import UnregisteredTimetable, class_path


def check_timetable(timetable: Timetable, dag_id: str) -> Timetable:
    if isinstance(timetable, UnregisteredTimetable):
        return timetable  # rebuilt from storage, already checked when it was parsed
    cls = type(timetable)
    name = class_path(cls)
    # Airflow attributes we do not implement: refused by name instead of silently ignored.
    if getattr(timetable, "active_runs_limit", None) is not None:
        raise DagDefinitionError(
            f"DAG {dag_id!r}: timetable {name} sets active_runs_limit, which orchestrator does "
            "not support yet (use the DAG's max_active_runs)"
        )
    if tuple(getattr(timetable, "run_ordering", Timetable.run_ordering)) != Timetable.run_ordering:
        raise DagDefinitionError(
            f"DAG {dag_id!r}: timetable {name} sets run_ordering, which orchestrator does not "
            "support yet"
        )
    if any("generate_run_id" in vars(klass) for klass in cls.__mro__ if klass is not Timetable):
        raise DagDefinitionError(
            f"DAG {dag_id!r}: timetable {name} overrides generate_run_id, which orchestrator "
            "does not support yet (run ids are scheduled__<logical date>)"
        )
    try:
        timetable.validate()
    except Exception as exc:
        raise DagDefinitionError(
            f"DAG {dag_id!r}: timetable {name} is invalid: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        data = timetable.serialize()
        json.dumps(data)
        cls.deserialize(data)
    except Exception as exc:
        raise DagDefinitionError(
            f"DAG {dag_id!r}: timetable {name} cannot be stored: its serialize() must return a "
            f"JSON-able dict that its deserialize() accepts ({type(exc).__name__}: {exc})"
        ) from exc
    return timetable
