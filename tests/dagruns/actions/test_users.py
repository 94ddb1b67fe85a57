"""Creating users with a role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from dagruns.actions.audit import Actor
from dagruns.actions.users import UserInvalid, do_create_user
from dagruns.domain.roles import Role, role_of

pytestmark = pytest.mark.django_db
ACTOR = Actor(name="tester")


def test_a_user_gets_exactly_the_role_asked_for():
    user = do_create_user("vera", "viewer", ACTOR, password="long-enough-pw")
    assert role_of(User.objects.get(pk=user.pk)) == Role.VIEWER
    admin = do_create_user("ada", "Admin", ACTOR, password="long-enough-pw")
    assert admin.is_staff and role_of(User.objects.get(pk=admin.pk)) == Role.ADMIN


def test_unknown_roles_duplicates_and_short_passwords_are_refused():
    with pytest.raises(UserInvalid, match="does not exist"):
        do_create_user("x", "Superhero", ACTOR, password="long-enough-pw")
    do_create_user("x", "User", ACTOR, password="long-enough-pw")
    with pytest.raises(UserInvalid, match="already exists"):
        do_create_user("x", "User", ACTOR, password="long-enough-pw")
    with pytest.raises(UserInvalid):
        do_create_user("y", "User", ACTOR, password="short")
