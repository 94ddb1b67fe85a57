"""`manage.py users create` with a role."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from dagruns.domain.roles import Role, role_of

pytestmark = pytest.mark.django_db


def users(*argv: str) -> str:
    out = StringIO()
    call_command("users", *argv, stdout=out)
    return out.getvalue()


def test_create_with_a_password_and_a_role():
    out = users("create", "-u", "otto", "-r", "Op", "-p", "long-enough-pw", "-e", "o@x.org")
    assert out == 'User "otto" created with role "Op"\n'
    user = authenticate(username="otto", password="long-enough-pw")
    assert user is not None and role_of(user) == Role.OP and user.email == "o@x.org"


def test_create_with_a_random_password_prints_it():
    out = users("create", "-u", "vera", "-r", "viewer", "--use-random-password")
    password = out.splitlines()[1].removeprefix("Password: ")
    assert authenticate(username="vera", password=password) is not None


def test_errors_are_clear():
    with pytest.raises(CommandError, match="does not exist"):
        users("create", "-u", "x", "-r", "Wizard", "-p", "long-enough-pw")
    with pytest.raises(CommandError, match="no password"):
        users("create", "-u", "x", "-r", "User")
    users("create", "-u", "x", "-r", "User", "-p", "long-enough-pw")
    with pytest.raises(CommandError, match="already exists"):
        users("create", "-u", "x", "-r", "User", "-p", "long-enough-pw")
