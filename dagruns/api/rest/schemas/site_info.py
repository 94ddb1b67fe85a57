"""Providers, plugins and the configuration (Airflow 3.0's datamodels/providers.py,
plugins.py and config.py; the plugin response also has 3.1's two newer lists)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ProviderResponse(BaseModel):
    package_name: str
    description: str
    version: str
    documentation_url: str | None = None


class ProviderCollectionResponse(BaseModel):
    providers: list[ProviderResponse]
    total_entries: int


class PluginResponse(BaseModel):
    name: str
    macros: list[str]
    flask_blueprints: list[str]
    fastapi_apps: list[dict[str, Any]]
    fastapi_root_middlewares: list[dict[str, Any]]
    appbuilder_views: list[dict[str, Any]]
    appbuilder_menu_items: list[dict[str, Any]]
    # Airflow 3.1's (its client requires them).
    external_views: list[dict[str, Any]]
    react_apps: list[dict[str, Any]]
    global_operator_extra_links: list[str]
    operator_extra_links: list[str]
    source: str
    listeners: list[str]
    timetables: list[str]


class PluginCollectionResponse(BaseModel):
    plugins: list[PluginResponse]
    total_entries: int


class PluginImportErrorResponse(BaseModel):
    source: str
    error: str


class PluginImportErrorCollectionResponse(BaseModel):
    import_errors: list[PluginImportErrorResponse]
    total_entries: int


class ConfigOption(BaseModel):
    key: str
    value: str


class ConfigSection(BaseModel):
    name: str
    options: list[ConfigOption]


class Config(BaseModel):
    sections: list[ConfigSection]

    @property
    def text_format(self) -> str:
        """As Airflow's `Accept: text/plain` answer: an airflow.cfg-like text."""
        blocks = []
        for section in self.sections:
            lines = [f"[{section.name}]"]
            lines += [f"{option.key} = {option.value}" for option in section.options]
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks) + "\n"
