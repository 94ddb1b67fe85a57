"""The one set of people tests act as. Each surface's conftest wraps them in its own client
(a logged-in Django test client for pages, a bearer-token client for the REST API, a browser
log-in for Playwright), so "viewer" means the same person everywhere."""

from __future__ import annotations

from django.contrib.auth.models import Group, User

from dagruns.domain.roles import Role, assign_role

PASSWORD = "s3cret-pass-word"

# persona → (username, role, extra user fields)
PERSONAS: dict[str, tuple[str, Role | None, dict[str, bool]]] = {
    "admin": ("ada", Role.ADMIN, {"is_staff": True, "is_superuser": True}),
    "op": ("otto", Role.OP, {"is_staff": True}),
    "user": ("uma", Role.USER, {}),
    "viewer": ("vera", Role.VIEWER, {}),
    "stranger": ("sam", None, {}),  # signed in, but in no role group
}


def make_user(username: str, role: Role | None = None, **extra: bool) -> User:
    """A person with `role` (None: no role group) and the shared test password."""
    for r in Role:  # transactional tests flush the role groups; their names are what matter
        Group.objects.get_or_create(name=r.group_name)
    user = User.objects.create_user(username, password=PASSWORD, **extra)
    if role is not None:
        assign_role(user, role)
    return User.objects.get(pk=user.pk)  # fresh: group membership cached on the old instance


def persona(name: str) -> User:
    """The standard persona called `name` (a key of PERSONAS)."""
    username, role, extra = PERSONAS[name]
    return make_user(username, role, **extra)
