"""`manage.py users create`: Airflow's `airflow users create`, with one of the roles
Viewer, User, Op or Admin."""

from __future__ import annotations

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from dagruns.actions.audit import Actor
from dagruns.actions.users import UserInvalid, do_create_user, random_password, role_named
from dagruns.domain.roles import GROUP_ROLES


class Command(BaseCommand):
    help = "Manage users: create."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        create = sub.add_parser("create", help="Create a user with a role.")
        create.add_argument("-u", "--username", required=True)
        create.add_argument("-r", "--role", required=True, help=", ".join(GROUP_ROLES))
        create.add_argument("-e", "--email", default="")
        create.add_argument("-f", "--firstname", default="")
        create.add_argument("-l", "--lastname", default="")
        create.add_argument(
            "-p", "--password", help="Asked for when neither this nor --use-random-password."
        )
        create.add_argument(
            "--use-random-password", action="store_true", help="Generate one and print it."
        )

    def handle(self, *args, subcommand: str, **options):
        try:
            getattr(self, "handle_" + subcommand)(**options)
        except UserInvalid as exc:
            raise CommandError(str(exc)) from None

    def handle_create(
        self, username, role, email, firstname, lastname, password, use_random_password, **_
    ):
        role_named(role)  # a typo in the role is reported before any password prompt
        if password and use_random_password:
            raise CommandError("give either --password or --use-random-password, not both")
        if use_random_password:
            password = random_password()
        elif not password:
            if not sys.stdin or not sys.stdin.isatty():
                raise CommandError("no password: pass -p/--password or --use-random-password")
            password = getpass.getpass("Password:")
            if getpass.getpass("Repeat for confirmation:") != password:
                raise CommandError("Passwords did not match")
        user = do_create_user(
            username,
            role,
            Actor.cli(),
            password=password,
            email=email,
            first_name=firstname,
            last_name=lastname,
        )
        group = role_named(role).group_name
        self.stdout.write(f'User "{user.get_username()}" created with role "{group}"')
        if use_random_password:
            self.stdout.write(f"Password: {password}")
