"""`/dags/<dag_id>/code`: the DAG file's source of a chosen version, highlighted by Pygments."""

from __future__ import annotations

from django.http import Http404
from django.utils.safestring import mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from dagruns.models import DagVersion
from dagruns.views.access import get_dag, viewer_required
from dagruns.views.common import dag_context, render_region


def highlighted(source: str) -> str:
    """Pygments escapes the source itself; line numbers are anchors (#line-12)."""
    formatter = HtmlFormatter(
        linenos="inline", cssclass="code", lineanchors="line", anchorlinenos=True, wrapcode=True
    )
    return highlight(source, PythonLexer(), formatter)


@viewer_required
def code(request, dag_id: str):
    dag = get_dag(dag_id)
    versions = list(
        DagVersion.objects.filter(dag=dag)
        .order_by("-version_number")
        .values_list("version_number", "created_at", "fileloc")
    )
    wanted = request.GET.get("version")
    version = None
    if versions:
        number = versions[0][0]
        if wanted:
            try:
                number = int(wanted)
            except ValueError:
                raise Http404("no such version") from None
        version = (
            DagVersion.objects.filter(dag=dag, version_number=number)
            .only("version_number", "source_code", "fileloc", "created_at")
            .first()
        )
        if version is None:
            raise Http404("no such version")
    context = dag_context(request, dag, "code")
    context.update(
        {
            "versions": versions,
            "version": version,
            # Pygments output: the source is HTML-escaped by the formatter.
            "code_html": mark_safe(highlighted(version.source_code))
            if version and version.source_code
            else "",
        }
    )
    return render_region(request, "dagruns/code.html", context, {})
