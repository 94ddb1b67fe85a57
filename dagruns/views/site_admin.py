"""`/providers/`, `/plugins/`, `/configs/`: the admin's read-only pages (Airflow 3's Admin
menu), in the dashboard's look. Op and Admin only, as the rest of the admin. They read what
this process knows (the import table, its loaded plugins, its settings): no database query."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from dagruns.domain import configuration
from dagruns.domain.plugins import plugin_errors, plugin_info
from dagruns.domain.providers import served_providers
from dagruns.domain.roles import Role
from dagruns.views.access import role_required

op_required = role_required(Role.OP)

# The plugin attributes a row shows, with the words the page uses for them.
PLUGIN_FEATURES = (
    ("timetables", "Timetables"),
    ("macros", "Macros"),
    ("listeners", "Listeners"),
    ("operator_extra_links", "Operator extra links"),
    ("global_operator_extra_links", "Global operator extra links"),
    ("fastapi_apps", "FastAPI apps"),
    ("fastapi_root_middlewares", "FastAPI root middlewares"),
    ("appbuilder_views", "AppBuilder views"),
    ("appbuilder_menu_items", "AppBuilder menu items"),
    ("flask_blueprints", "Flask blueprints"),
)


def inline_code(text: str) -> SafeString:
    """A setting's meaning as README writes it, its `backticked` words as code (escaped)."""
    parts = [conditional_escape(part) for part in text.split("`")]
    if len(parts) % 2 == 0:  # an unpaired backtick: show the text as it is
        return conditional_escape(text)
    html = "".join(p if i % 2 == 0 else f"<code>{p}</code>" for i, p in enumerate(parts))
    return mark_safe(html)  # every part was escaped above


@op_required
def providers(request):
    context = {"providers": served_providers(), "nav": "admin"}
    return render(request, "dagruns/providers.html", context)


@op_required
def plugins(request):
    rows = []
    for info in plugin_info():
        features = [(label, info[key]) for key, label in PLUGIN_FEATURES if info[key]]
        rows.append({"name": info["name"], "source": info["source"], "features": features})
    errors = sorted(plugin_errors().items())
    context = {"plugins": rows, "errors": errors, "nav": "admin"}
    return render(request, "dagruns/plugins.html", context)


@op_required
def configs(request):
    """Every setting, or Airflow's refusal (403) when ORCH_EXPOSE_CONFIG is off."""
    if not configuration.exposed():
        refused = {"refused": configuration.NOT_EXPOSED, "nav": "admin"}
        return render(request, "dagruns/configs.html", refused, status=403)
    sections = {
        name: [{"option": o, "meaning": inline_code(o.meaning)} for o in rows]
        for name, rows in configuration.sections(configuration.options()).items()
    }
    context = {"sections": sections, "nav": "admin"}
    return render(request, "dagruns/configs.html", context)
