"""Who may see and do what, checked on the server for every view."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from dagruns.domain.roles import Role, require_role
from dagruns.models import DagModel, DagRun


def role_required(needed: Role):
    """Signed out: to the login page (an htmx request is told to go there). Signed in without
    the role: 403 — the server refuses whatever the page showed."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                if getattr(request, "htmx", False):
                    response = HttpResponse(status=401)
                    response["HX-Redirect"] = (
                        f"/login/?next={request.htmx.current_url_abs_path or '/'}"
                    )
                    return response
                return redirect_to_login(request.get_full_path())
            require_role(request.user, needed)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


viewer_required = role_required(Role.VIEWER)
user_required = role_required(Role.USER)


def get_dag(dag_id: str) -> DagModel:
    return get_object_or_404(DagModel, dag_id=dag_id)


def get_run(dag_id: str, run_id: str) -> DagRun:
    return get_object_or_404(
        DagRun.objects.select_related("dag_version"), dag_id=dag_id, run_id=run_id
    )


def partial_target(request) -> str | None:
    """The id of the region an htmx request asked for (None for a whole page)."""
    if getattr(request, "htmx", False) and not request.htmx.boosted:
        return request.htmx.target
    return None
