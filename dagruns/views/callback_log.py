"""A DAG run's callback log: what its DAG-level on_success_callback / on_failure_callback, and
the on_failure_callback of a task its trigger failed, printed, logged or raised when the DAG
processor ran it (scheduler/processor/callbacks.py), headed by each request's outcome. Plain
text, as a log download is."""

from __future__ import annotations

from django.http import HttpResponse

from dagruns.actions.dag_callbacks import callback_log_path
from dagruns.models import DagCallbackRequest
from dagruns.views.access import get_run, viewer_required


@viewer_required
def callback_log(request, dag_id: str, run_id: str):
    run = get_run(dag_id, run_id)
    lines = [f"DAG callbacks of run {run.run_id} of DAG {run.dag_id}", ""]
    requests = DagCallbackRequest.objects.filter(dag_run=run).order_by("created_at", "pk")
    for item in requests:
        which = item.callback_name
        outcome = (
            item.get_outcome_display() if item.finished_at else "waiting for the DAG processor"
        )
        lines.append(
            f"{which} (reason: {item.reason}): {outcome}{' - ' + item.error if item.error else ''}"
        )
    if not requests:
        lines.append("This run asked for no DAG callback.")
    lines.append("")
    path = callback_log_path(run.dag_id, run.run_id)
    body = "\n".join(lines) + "\n"
    if path.exists():
        body += path.read_text(encoding="utf-8", errors="replace")
    return HttpResponse(body, content_type="text/plain; charset=utf-8")
