"""`/dags/<dag_id>/code`: the DAG file's source of a chosen version, highlighted by Pygments;
with `?base=<n>`, the difference from version n to the chosen one (source and structure)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.safestring import mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from dagruns.models import DagVersion
from dagruns.ui.version_diff import source_diff, structure_diff
from dagruns.views.access import get_dag, viewer_required
from dagruns.views.common import dag_context, render_region


def highlighted(source: str) -> str:
    """Pygments escapes the source itself; line numbers are anchors (#line-12)."""
    formatter = HtmlFormatter(
        linenos="inline", cssclass="code", lineanchors="line", anchorlinenos=True, wrapcode=True
    )
    return highlight(source, PythonLexer(), formatter)


class BadVersionError(ValueError):
    """A version parameter that is not a number, or not a version of this DAG."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def version_number(raw: str, param: str, dag_id: str, numbers: list[int]) -> int:
    try:
        number = int(raw)
    except ValueError:
        raise BadVersionError(f"{param}: {raw!r} is not a version number", 400) from None
    if number not in numbers:
        have = f"v{min(numbers)}–v{max(numbers)}" if numbers else "none"
        raise BadVersionError(
            f"{param}: DAG {dag_id!r} has no version {number} (its versions: {have})", 404
        )
    return number


@viewer_required
def code(request, dag_id: str):
    dag = get_dag(dag_id)
    versions = list(
        DagVersion.objects.filter(dag=dag)
        .order_by("-version_number")
        .values_list("version_number", "created_at", "fileloc")
    )
    numbers = [v[0] for v in versions]
    context = dag_context(request, dag, "code")
    context["versions"] = versions
    try:
        number = (
            version_number(request.GET["version"], "version", dag.dag_id, numbers)
            if request.GET.get("version")
            else None
        )
        base = (
            version_number(request.GET["base"], "base", dag.dag_id, numbers)
            if request.GET.get("base")
            else None
        )
    except BadVersionError as exc:
        context.update({"version": None, "error": str(exc)})
        return render(request, "dagruns/code.html", context, status=exc.status)
    if number is None and numbers:
        number = numbers[0]
    version = (
        DagVersion.objects.filter(dag=dag, version_number=number)
        .only("version_number", "source_code", "fileloc", "created_at", "serialized")
        .first()
        if number is not None
        else None
    )
    context["version"] = version
    if version is not None and base is not None:
        old = DagVersion.objects.only("source_code", "serialized").get(dag=dag, version_number=base)
        context.update(
            {
                "base": base,
                "source_diff": source_diff(old.source_code, version.source_code),
                "structure_diff": structure_diff(old.serialized, version.serialized),
            }
        )
        return render_region(request, "dagruns/code.html", context, {})
    # Pygments output: the source is HTML-escaped by the formatter.
    context["code_html"] = (
        mark_safe(highlighted(version.source_code)) if version and version.source_code else ""
    )
    return render_region(request, "dagruns/code.html", context, {})
