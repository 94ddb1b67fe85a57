"""Roles as groups: the highest wins, superusers are Admins, strangers have none."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied

from dagruns.domain.roles import Role, assign_role, has_role, require_role, role_of

pytestmark = pytest.mark.django_db


def make(name, role=None, **kw):
    user = User.objects.create_user(name, password="pw", **kw)
    if role:
        assign_role(user, role)
    return User.objects.get(pk=user.pk)


def test_each_group_gives_its_role():
    for role in Role:
        assert role_of(make(f"u{role.value}", role)) == role


def test_superusers_are_admins():
    assert role_of(make("root", is_superuser=True)) == Role.ADMIN


def test_a_user_without_a_role_group_and_anonymous_have_no_role():
    assert role_of(make("stranger")) is None
    assert role_of(AnonymousUser()) is None


def test_the_highest_role_wins():
    from django.contrib.auth.models import Group

    user = make("both")
    user.groups.add(Group.objects.get(name="Viewer"), Group.objects.get(name="Op"))
    assert role_of(User.objects.get(pk=user.pk)) == Role.OP


def test_require_role_refuses_lower_roles():
    viewer = make("viewer", Role.VIEWER)
    assert has_role(viewer, Role.VIEWER) and not has_role(viewer, Role.USER)
    with pytest.raises(PermissionDenied, match="User role"):
        require_role(viewer, Role.USER)


def test_an_inactive_user_has_no_role():
    assert role_of(make("gone", Role.ADMIN, is_active=False)) is None
