"""doc_md as HTML that cannot run anything.

markdown-it-py with raw HTML switched off escapes every tag a DAG author writes (`<script>`
becomes text) and its link validator refuses `javascript:`, `vbscript:`, `file:` and most
`data:` URLs, leaving such links as plain text. Airflow renders doc_md as Markdown too."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

# CommonMark plus GitHub's tables and strikethrough, which DAG docs commonly use.
_RENDERER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def render_markdown(text: str | None) -> SafeString:
    if not text:
        return mark_safe("")
    # Safe: html=False escapes raw HTML and validateLink drops unsafe link schemes.
    return mark_safe(_RENDERER.render(text))
