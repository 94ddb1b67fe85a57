"""The dashboard's URLs. They are an interface (people bookmark them, tests and tools use
them): change none without a redirect.

Ids may hold `/` (rows created by hand: a DAG id like `a</b>` or a run id like `x/y`), so
`dag_id` and `run_id` use the `path` converter, and the more specific routes come first; task
ids match one path segment. Actions take their run and task ids as form fields instead.
"""

from django.templatetags.static import static
from django.urls import path, register_converter
from django.views.generic.base import RedirectView

from dagruns.views import (
    actions,
    assets,
    auth,
    calendar,
    code,
    dags,
    details,
    durations,
    events,
    gantt,
    graph,
    grid,
    home,
    logs,
    pages,
    run,
    runs,
    site_admin,
)
from dagruns.views import backfills as backfill_views
from dagruns.views import callback_log as callback_log_views
from dagruns.views import task_instance as ti
from dagruns.views import timezone as timezone_views


class SegmentConverter:
    """Anything but a slash (the `str` converter, named for what it means here)."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SegmentConverter, "seg")

app_name = "ui"

RUN_TASK = "dags/<path:dag_id>/runs/<path:run_id>/tasks/<seg:task_id>"

urlpatterns = [
    # Browsers ask for /favicon.ico on any page without an icon link (a fragment opened
    # directly, a JSON answer): a 404 there is a console error on an otherwise clean page.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("", dags.dag_list, name="dags"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("timezone/", timezone_views.set_timezone, name="timezone"),
    path("home/", home.home, name="home"),
    path("import-errors/", pages.import_errors, name="import_errors"),
    path("audit/", pages.audit, name="audit"),
    path("assets/", assets.asset_list, name="assets"),
    path("providers/", site_admin.providers, name="providers"),
    path("plugins/", site_admin.plugins, name="plugins"),
    path("configs/", site_admin.configs, name="configs"),
    path("assets/<int:asset_id>/", assets.asset_detail, name="asset"),
    path(
        f"{RUN_TASK}/mapped/<int:map_index>/logs/<int:try_number>/download",
        logs.log_download,
        name="mapped_log_download",
    ),
    path(
        f"{RUN_TASK}/mapped/<int:map_index>/logs/<int:try_number>",
        logs.log_page,
        name="mapped_log_page",
    ),
    path(f"{RUN_TASK}/mapped/<int:map_index>", ti.task_instance, name="mapped_task_instance"),
    path(f"{RUN_TASK}/logs/<int:try_number>/download", logs.log_download, name="log_download"),
    path(f"{RUN_TASK}/logs/<int:try_number>", logs.log_page, name="log_page"),
    path(RUN_TASK, ti.task_instance, name="task_instance"),
    path(
        "dags/<path:dag_id>/runs/<path:run_id>/callback-log",
        callback_log_views.callback_log,
        name="callback_log",
    ),
    path("dags/<path:dag_id>/runs/<path:run_id>/note", run.run_note, name="run_note"),
    path("dags/<path:dag_id>/runs/<path:run_id>", run.run_page, name="run"),
    path("dags/<path:dag_id>/graph", graph.graph, name="graph"),
    path("dags/<path:dag_id>/gantt", gantt.gantt, name="gantt"),
    path("dags/<path:dag_id>/code", code.code, name="code"),
    path("dags/<path:dag_id>/details", details.details, name="details"),
    path("dags/<path:dag_id>/tasks", details.tasks, name="tasks"),
    path("dags/<path:dag_id>/runs", runs.runs, name="runs"),
    path("dags/<path:dag_id>/calendar", calendar.calendar, name="calendar"),
    path("dags/<path:dag_id>/durations", durations.durations, name="durations"),
    path("dags/<path:dag_id>/events", events.events, name="events"),
    path("dags/<path:dag_id>/trigger", actions.trigger, name="trigger"),
    path("dags/<path:dag_id>/backfill", backfill_views.backfill, name="backfill"),
    path("dags/<path:dag_id>/backfills", backfill_views.backfills, name="backfills"),
    path(
        "dags/<path:dag_id>/backfills/<int:backfill_id>/<str:verb>",
        backfill_views.backfill_change,
        name="backfill_change",
    ),
    path("dags/<path:dag_id>/pause", actions.pause, name="pause"),
    path("dags/<path:dag_id>/favorite", dags.favorite, name="favorite"),
    path("dags/<path:dag_id>/clear", actions.clear, name="clear"),
    path("dags/<path:dag_id>/clear-run", actions.clear_run, name="clear_run"),
    path("dags/<path:dag_id>/mark", actions.mark, name="mark"),
    path("dags/<path:dag_id>/retry", actions.retry, name="retry"),
    path("dags/<path:dag_id>/delete-run", actions.delete_run, name="delete_run"),
    path("dags/<path:dag_id>/run-state", actions.run_state, name="run_state"),
    path("dags/<path:dag_id>/", grid.grid, name="grid"),
]
