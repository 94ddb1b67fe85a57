"""Jinja templating of task fields, sandboxed, with Airflow's filters and macros.

The task runner builds the context (``ds``, ``ti``, ``params`` ...) and calls
``task.render_template_fields(context)``; this module holds the environment factory and
the recursive renderer that method uses.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import date, datetime
from typing import Any

import jinja2
from jinja2.nativetypes import NativeCodeGenerator, NativeTemplate, native_concat
from jinja2.sandbox import SandboxedEnvironment

from . import macros
from .resolve import ResolveMixin


def ds(value: date) -> str:
    return value.strftime("%Y-%m-%d")


def ds_nodash(value: date) -> str:
    return value.strftime("%Y%m%d")


def ts(value: datetime) -> str:
    return value.isoformat()


def ts_nodash(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


def ts_nodash_with_tz(value: datetime) -> str:
    return value.isoformat().replace("-", "").replace(":", "")


FILTERS: dict[str, Callable[..., str]] = {
    "ds": ds,
    "ds_nodash": ds_nodash,
    "ts": ts,
    "ts_nodash": ts_nodash,
    "ts_nodash_with_tz": ts_nodash_with_tz,
}


def _strict_native_concat(values: Iterable[Any]) -> Any:
    result = native_concat(values)
    if isinstance(result, jinja2.Undefined):
        # A template that is a single undefined name (or a blocked attribute) would
        # otherwise come back as an Undefined object instead of failing; str() makes a
        # StrictUndefined raise, as it does in string rendering.
        str(result)
    return result


class SandboxedNativeEnvironment(SandboxedEnvironment):
    """A sandboxed environment whose templates render to Python objects, not strings
    (a DAG's ``render_template_as_native_obj=True``). Jinja's own NativeEnvironment is not
    sandboxed, and DAG templates must never escape the sandbox."""

    code_generator_class = NativeCodeGenerator
    concat = staticmethod(_strict_native_concat)  # type: ignore[assignment]


class _SandboxedNativeTemplate(NativeTemplate):
    environment_class = SandboxedNativeEnvironment  # type: ignore[assignment]


SandboxedNativeEnvironment.template_class = _SandboxedNativeTemplate


def create_template_env(
    searchpath: Iterable[str] | None = None,
    *,
    native: bool = False,
    user_defined_macros: Mapping[str, Any] | None = None,
    user_defined_filters: Mapping[str, Callable[..., Any]] | None = None,
    undefined: type[jinja2.Undefined] = jinja2.StrictUndefined,
    **options: Any,
) -> SandboxedEnvironment:
    """A sandboxed Jinja environment as Airflow configures it.

    ``undefined`` defaults to StrictUndefined so a misspelled name fails the task with
    "'x' is undefined" instead of rendering an empty string. Files are loaded from
    ``searchpath`` (the DAG folder, then ``template_searchpath``).
    """
    paths = list(searchpath or [])
    settings: dict[str, Any] = {
        "loader": jinja2.FileSystemLoader(paths) if paths else None,
        "undefined": undefined,
        "extensions": ["jinja2.ext.do"],
        # Each DAG gets its own environment; caching compiled templates across task
        # runs in one worker process would only keep stale file contents alive.
        "cache_size": 0,
    }
    settings.update(options)
    env_class = SandboxedNativeEnvironment if native else SandboxedEnvironment
    env = env_class(**settings)
    env.filters.update(FILTERS)
    env.globals["macros"] = macros
    if user_defined_macros:
        env.globals.update(user_defined_macros)
    if user_defined_filters:
        env.filters.update(user_defined_filters)
    return env


def render_template(
    content: Any,
    context: Mapping[str, Any],
    env: jinja2.Environment,
    template_ext: Collection[str] = (),
    _seen: set[int] | None = None,
) -> Any:
    """Render ``content`` recursively.

    Strings are Jinja templates, except that a string ending in one of ``template_ext``
    names a template file found through the environment's loader. Lists, tuples, sets and
    dict values are rendered item by item; XComArgs and DAG params are resolved; objects
    with ``template_fields`` get those fields rendered in place. Anything else is kept.
    """
    seen = _seen if _seen is not None else set()
    if isinstance(content, str):
        if template_ext and content.endswith(tuple(template_ext)):
            template = env.get_template(content)
        else:
            template = env.from_string(content)
        return template.render(**context)
    if isinstance(content, ResolveMixin):
        return content.resolve(context)

    def again(item: Any) -> Any:
        return render_template(item, context, env, template_ext, seen)

    if type(content) is tuple:
        return tuple(again(item) for item in content)
    if isinstance(content, tuple):  # named tuple: rebuild the same type
        return type(content)(*(again(item) for item in content))
    if isinstance(content, list):
        return [again(item) for item in content]
    if isinstance(content, dict):
        return {key: again(value) for key, value in content.items()}
    if isinstance(content, set):
        return {again(item) for item in content}
    if (
        hasattr(content, "template_fields")
        and not isinstance(content, type)
        and id(content) not in seen
    ):
        seen.add(id(content))
        for field in content.template_fields:
            setattr(content, field, again(getattr(content, field)))
    return content
