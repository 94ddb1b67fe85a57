"""What every DAG page shows above its tab: the DAG's header, tabs and live connection."""

from __future__ import annotations

from django.shortcuts import render

from dagruns.domain.roles import Role, has_role
from dagruns.models import (
    AssetModel,
    DagModel,
    DagRun,
    DagScheduleAssetAliasReference,
    DagScheduleAssetReference,
)
from dagruns.ui.urls import dag_url, ws_url

TABS = (
    ("grid", "Grid"),
    ("graph", "Graph"),
    ("gantt", "Gantt"),
    ("code", "Code"),
    ("tasks", "Tasks"),
    ("details", "Details"),
    ("runs", "Runs"),
    ("calendar", "Calendar"),
    ("durations", "Durations"),
    ("events", "Events"),
    ("backfills", "Backfills"),
)


def dag_context(request, dag: DagModel, tab: str, **live_params) -> dict:
    return {
        "dag": dag,
        "tags": sorted(t.name for t in dag.tags.all()),
        "tab": tab,
        "tabs": [(name, label, dag_url(dag.dag_id, name)) for name, label in TABS],
        "can_act": has_role(request.user, Role.USER),
        "ws_url": ws_url(dag.dag_id, view=tab, **live_params),
        "waits_for": waits_for(dag),
    }


def waits_for(dag: DagModel) -> list[tuple[str, str | None]]:
    """The assets (linked) and aliases a DAG's schedule names: (label, asset page or None)."""
    from django.urls import reverse

    found: list[tuple[str, str | None]] = []
    refs = DagScheduleAssetReference.objects.filter(dag=dag).select_related("asset")
    for ref in refs.order_by("asset__name"):
        found.append((ref.asset.name, reverse("ui:asset", args=[ref.asset_id])))
    aliases = DagScheduleAssetAliasReference.objects.filter(dag=dag).select_related("alias")
    for alias_ref in aliases.order_by("alias__name"):
        found.append((f"alias {alias_ref.alias.name}", None))
    # Asset.ref(...): to the asset it names when one exists, else shown as written.
    for field, rows in (
        ("name", dag.schedule_asset_name_refs.order_by("name").values_list("name", flat=True)),
        ("uri", dag.schedule_asset_uri_refs.order_by("uri").values_list("uri", flat=True)),
    ):
        for value in rows:
            named = AssetModel.objects.filter(**{field: value}).order_by("pk").first()
            url = reverse("ui:asset", args=[named.pk]) if named is not None else None
            found.append((f"Asset.ref({field}={value!r})", url))
    return found


def recent_runs(dag_id: str, limit: int = 50) -> list[DagRun]:
    """For the run pickers of the graph and gantt tabs (newest first)."""
    return list(
        DagRun.objects.filter(dag_id=dag_id)
        .order_by("-run_after", "-id")
        .only("pk", "run_id", "state", "run_after", "dag_id", "dag_version_id")[:limit]
    )


def selected_run(request, runs: list[DagRun], dag_id: str) -> DagRun | None:
    """`?run_id=` (any run of the DAG, even an old one) or the newest run."""
    from django.http import Http404

    wanted = request.GET.get("run_id")
    if not wanted:
        return runs[0] if runs else None
    for run in runs:
        if run.run_id == wanted:
            return run
    found = DagRun.objects.filter(dag_id=dag_id, run_id=wanted).first()
    if found is None:
        raise Http404("no such DAG run")
    return found


def render_region(request, template: str, context: dict, regions: dict[str, str]):
    """Render the whole page, or only `regions[target]` when htmx asks for that region."""
    from dagruns.views.access import partial_target

    target = partial_target(request)
    if target in regions:
        return render(request, regions[target], context)
    return render(request, template, context)
