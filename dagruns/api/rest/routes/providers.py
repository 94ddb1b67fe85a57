"""`/providers`: the Airflow provider packages whose import paths our SDK serves (see
dagruns.domain.providers). Op, as Airflow's providers view."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from dagruns.api.rest.auth import require
from dagruns.api.rest.pagination import PageParams, maximum_limit
from dagruns.api.rest.schemas.common import errors
from dagruns.api.rest.schemas.site_info import ProviderCollectionResponse
from dagruns.domain.providers import served_providers
from dagruns.domain.roles import Role

router = Router(tags=["Provider"])


@router.get(
    "/providers",
    response={200: ProviderCollectionResponse, **errors()},
    operation_id="get_providers",
)
def get_providers(request: HttpRequest, params: Query[PageParams]):
    require(request, Role.OP)
    providers = served_providers()
    start, limit = params.offset, min(params.limit, maximum_limit())
    return {
        "providers": [
            {
                "package_name": p.package_name,
                "description": p.description,
                "version": p.version,
                "documentation_url": p.documentation_url,
            }
            for p in providers[start : start + limit]
        ],
        "total_entries": len(providers),
    }
