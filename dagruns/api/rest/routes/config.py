"""`/config` and `/config/section/{section}/option/{option}`: the running configuration in
Airflow's sections (dagruns.domain.configuration), sensitive values as `< hidden >`. Op, as
Airflow's configuration view; 403 with Airflow's message unless ORCH_EXPOSE_CONFIG is on.
`Accept: text/plain` answers in airflow.cfg's text form, as Airflow does."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from dagruns.api.rest.auth import require
from dagruns.api.rest.errors import ApiError, not_found
from dagruns.api.rest.schemas.common import errors
from dagruns.api.rest.schemas.site_info import Config
from dagruns.domain import configuration
from dagruns.domain.roles import Role

router = Router(tags=["Config"])

JSON, TEXT = "application/json", "text/plain"


def _check_exposed(request: HttpRequest) -> None:
    require(request, Role.OP)
    if not configuration.exposed():
        raise ApiError(403, configuration.NOT_EXPOSED)


def _answer(request: HttpRequest, config: Config):
    # As Airflow's header_accept_json_or_text_depends: by what the header starts with (the
    # first type listed), not by any type in it.
    accept = request.headers.get("Accept", "") or "*/*"
    if accept.startswith(("*/*", JSON)):
        return config
    if accept.startswith(TEXT):
        return HttpResponse(config.text_format, content_type=TEXT)
    raise ApiError(406, "Only application/json or text/plain is supported")


def _config(sections: dict[str, list[configuration.Option]]) -> Config:
    return Config.model_validate(
        {
            "sections": [
                {"name": name, "options": [{"key": o.key, "value": o.value} for o in rows]}
                for name, rows in sections.items()
            ]
        }
    )


@router.get("/config", response={200: Config, **errors(403, 404, 406)}, operation_id="get_config")
def get_config(request: HttpRequest, section: str | None = None):
    _check_exposed(request)
    sections = configuration.sections(configuration.options())
    if section is not None:
        if section not in sections:
            raise not_found(f"Section {section} not found.")
        sections = {section: sections[section]}
    return _answer(request, _config(sections))


@router.get(
    "/config/section/{section}/option/{option}",
    response={200: Config, **errors(403, 404, 406)},
    operation_id="get_config_value",
)
def get_config_value(request: HttpRequest, section: str, option: str):
    _check_exposed(request)
    rows = configuration.sections(configuration.options()).get(section, [])
    found = [row for row in rows if row.key == option]
    if not found:
        raise not_found(f"Option [{section}/{option}] not found.")
    return _answer(request, _config({section: found}))
