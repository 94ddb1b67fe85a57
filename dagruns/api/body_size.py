"""Request body limits for the APIs, answered as JSON 413s that name the limit and its setting.

Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE with a bare HTML "Bad Request (400)"
raised deep inside the view; an API client deserves to learn which limit it hit. This
middleware looks at Content-Length before any view runs, for the API prefixes only (pages keep
Django's behaviour):

- an XCom push on the Execution API may carry up to twice ORCH_XCOM_MAX_SIZE (room for the
  `{"value": …}` envelope and JSON escaping; the value itself is then measured exactly by the
  action, which answers its own 413 naming ORCH_XCOM_MAX_SIZE);
- every other request to `/api/v2/`, `/execution/` and `/auth/token` up to
  ORCH_REQUEST_BODY_MAX_SIZE.

A body within our limit but over Django's own is read here, so Django's check never turns an
allowed body into a 400. A body Django still refuses (say, one that announced no length)
is caught in `process_exception` and answered the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIXES = ("/api/v2/", "/execution/", "/auth/token")
XCOM_PUSH_PREFIX = "/execution/xcoms/"


@dataclass(frozen=True)
class BodyLimit:
    """The most bytes a request may send, and the words that explain it."""

    max_bytes: int
    explanation: str

    def message(self, size: int | None) -> str:
        got = f"{size} bytes" if size is not None else "larger"
        return f"The request body is {got}, over the limit of {self.max_bytes} bytes: {self.explanation}"


def limit_for(request: HttpRequest) -> BodyLimit | None:
    """The body limit of an API request; None for the rest of the site."""
    return limit_for_path(request.path_info, request.method or "")


def limit_for_path(path: str, method: str) -> BodyLimit | None:
    """limit_for, before Django has made a request (orchestrator_site/asgi.py)."""
    if not path.startswith(API_PREFIXES):
        return None
    if path.startswith(XCOM_PUSH_PREFIX) and method == "POST":
        xcom_max = settings.ORCH.xcom_max_size
        return BodyLimit(
            2 * xcom_max + 1024,
            f"an XCom value may be at most {xcom_max} bytes of JSON (ORCH_XCOM_MAX_SIZE)",
        )
    body_max = settings.ORCH.request_body_max_size
    return BodyLimit(
        body_max, f"a request body may be at most {body_max} bytes (ORCH_REQUEST_BODY_MAX_SIZE)"
    )


def _content_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def too_large(limit: BodyLimit, size: int | None) -> JsonResponse:
    return JsonResponse({"detail": limit.message(size)}, status=413)


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = limit_for(request)
        if limit is None:
            return self.get_response(request)
        size = _content_length(request)
        if size is not None and size > limit.max_bytes:
            return too_large(limit, size)
        django_max = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if size and django_max is not None and size > django_max:
            # Allowed by our limit, refused by Django's (a large XCom limit, a test's setting):
            # read the body now so `request.body` does not apply Django's limit again.
            body = request.read()
            request._body = body  # type: ignore[attr-defined]  # what HttpRequest.body caches
            request._stream = BytesIO(body)  # type: ignore[attr-defined]
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        limit = limit_for(request)
        if limit is None:
            return None
        if isinstance(exception, RequestDataTooBig):
            return too_large(limit, _content_length(request))
        if isinstance(exception, TooManyFieldsSent):
            return JsonResponse(
                {
                    "detail": "The form has too many fields: at most "
                    f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} (DATA_UPLOAD_MAX_NUMBER_FIELDS)"
                },
                status=400,
            )
        return None
