"""Roles as Django groups, in Airflow's shape, checked on the server for every view, API call
and action (hiding a button is a courtesy, not the check).

    Viewer  read everything (secrets stay masked)
    User    + trigger, clear, mark, pause, delete runs
    Op      + connections, variables, pools
    Admin   + users and everything else; Django superusers are Admins

A user in several groups has the highest of their roles.
"""

from __future__ import annotations

from enum import IntEnum

from django.core.exceptions import PermissionDenied


class Role(IntEnum):
    VIEWER = 1
    USER = 2
    OP = 3
    ADMIN = 4

    @property
    def group_name(self) -> str:
        return self.name.capitalize()


GROUP_ROLES = {role.group_name: role for role in Role}


def role_of(user) -> Role | None:
    """The user's highest role, or None (signed out, inactive, or in no role group)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    if hasattr(user, "_orch_role"):  # cached for this request's user object
        return user._orch_role
    names = user.groups.values_list("name", flat=True)
    roles = [GROUP_ROLES[n] for n in names if n in GROUP_ROLES]
    role = max(roles) if roles else None
    user._orch_role = role
    return role


def has_role(user, needed: Role) -> bool:
    role = role_of(user)
    return role is not None and role >= needed


def require_role(user, needed: Role) -> None:
    """Raise PermissionDenied (403) unless the user has at least `needed`."""
    if not has_role(user, needed):
        raise PermissionDenied(f"this needs the {needed.group_name} role")


def assign_role(user, role: Role) -> None:
    """Make `role` the user's only role group."""
    from django.contrib.auth.models import Group

    user.groups.remove(*Group.objects.filter(name__in=GROUP_ROLES))
    user.groups.add(Group.objects.get(name=role.group_name))
    if hasattr(user, "_orch_role"):
        del user._orch_role
