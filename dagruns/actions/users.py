"""Creating users with a role (Airflow's `users create`)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from dagruns.actions.audit import Actor, record
from dagruns.actions.dry_run import with_dry_run
from dagruns.domain.roles import GROUP_ROLES, Role, assign_role


class UserInvalid(ValueError):
    """The user cannot be created as asked; the message says why."""


def role_named(name: str) -> Role:
    for group, role in GROUP_ROLES.items():
        if group.lower() == name.strip().lower():
            return role
    raise UserInvalid(f"role {name!r} does not exist: use one of {', '.join(GROUP_ROLES)}")


def random_password() -> str:
    return secrets.token_urlsafe(18)


@with_dry_run
def do_create_user(
    username: str,
    role: str | Role,
    actor: Actor,
    *,
    password: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
):
    """Create an active user in exactly one role group. Admins may also use Django's admin."""
    if not username or not username.strip():
        raise UserInvalid("a username is required")
    role = role if isinstance(role, Role) else role_named(role)
    user_model = get_user_model()
    candidate = user_model(
        username=username, email=email, first_name=first_name, last_name=last_name
    )
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        raise UserInvalid(" ".join(exc.messages)) from None
    try:
        with transaction.atomic():
            if user_model.objects.filter(username=username).exists():
                raise UserInvalid(f"user {username!r} already exists")
            user = user_model.objects.create_user(
                username=username,
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                is_staff=role == Role.ADMIN,
            )
            assign_role(user, role)
            record(actor, "user_create", extra={"username": username, "role": role.group_name})
    except IntegrityError:
        raise UserInvalid(f"user {username!r} already exists") from None
    return user
