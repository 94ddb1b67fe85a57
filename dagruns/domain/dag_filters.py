"""Filters of the DAG list shared by the dashboard and the REST API's `GET /dags`, so both
answer the same question the same way."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from dagruns.models import DagModel, DagTag

TAG_MATCH_MODES = ("any", "all")


def filter_tags(dags: QuerySet[DagModel], tags: Iterable[str], mode: str | None) -> QuerySet:
    """DAGs with any of `tags` (Airflow's default, `tags_match_mode=any`) or with all of them
    (`all`). No tags: every DAG."""
    wanted = sorted(set(tags))
    if not wanted:
        return dags
    if mode == "all":
        for tag in wanted:
            dags = dags.filter(dag_id__in=DagTag.objects.filter(name=tag).values("dag_id"))
        return dags
    return dags.filter(dag_id__in=DagTag.objects.filter(name__in=wanted).values("dag_id"))
