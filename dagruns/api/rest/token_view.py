"""`POST /auth/token`: a username and password for an access token (Airflow 3's simple auth
manager route: JSON or form body `{"username", "password"}` → 201 `{"access_token": …}`).

400: the body is not JSON/form or lacks a field; 401: wrong credentials (or an inactive
user); 415: another content type; 429: too many failed attempts for this username or from
this address (dagruns/views/login_throttle.py, the same throttle as /login/). No session or
cookie is involved, so no CSRF check applies.
"""

from __future__ import annotations

import json

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dagruns.api.rest.auth import issue_token


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


@csrf_exempt
@require_POST
def create_token(request: HttpRequest) -> JsonResponse:
    content_type = request.content_type or ""
    if content_type == "application/json":
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return _error(400, "The request body is not valid JSON")
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        data = request.POST.dict()
    else:
        return _error(415, "Unsupported Media Type: send application/json or a form")
    if not isinstance(data, dict):
        return _error(400, "Username and password must be provided")
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        return _error(400, "Username and password must be provided")
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        return _error(401, "Invalid credentials")
    # A sign-in like the form's: the throttle forgets this username's and address's failures.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return JsonResponse({"access_token": issue_token(user)}, status=201)
