"""Favourite DAGs: each user stars the DAGs they care about (Airflow 3.1's favourites).

Airflow's `POST /dags/{dag_id}/favorite` refuses a DAG already starred (409) and
`/unfavorite` one not starred; the dashboard's star toggles, so `do_set_favorite` is
idempotent and says whether anything changed. Each change is in the audit log under
Airflow's event names (`favorite_dag`, `unfavorite_dag`)."""

from __future__ import annotations

from django.db import transaction

from dagruns.actions.audit import Actor, record
from dagruns.actions.dags import get_dag_or_raise
from dagruns.models import DagFavorite


class FavoriteNeedsUser(ValueError):
    """Favourites belong to a signed-in user; the CLI or the scheduler has none."""


def is_favorite(dag_id: str, user) -> bool:
    return DagFavorite.objects.filter(dag_id=dag_id, user=user).exists()


def do_set_favorite(dag_id: str, favorite: bool, actor: Actor) -> bool:
    """Star (`favorite=True`) or unstar a DAG for the acting user. Returns True when that
    changed something (a second star of the same DAG changes nothing)."""
    if actor.user is None:
        raise FavoriteNeedsUser("favourite DAGs belong to a signed-in user")
    with transaction.atomic():
        dag = get_dag_or_raise(dag_id)
        if favorite:
            _, changed = DagFavorite.objects.get_or_create(dag=dag, user=actor.user)
        else:
            changed = DagFavorite.objects.filter(dag=dag, user=actor.user).delete()[0] > 0
        if changed:
            record(actor, "favorite_dag" if favorite else "unfavorite_dag", dag_id=dag_id)
    return changed
