"""`manage.py connections …`: Airflow's `airflow connections` commands (add, get, delete,
list, import, export, test, create-default-connections), through the same actions as the REST
API.

`create-default-connections` creates only Airflow's defaults whose connection type has a hook
here (`fs_default`); the others belong to provider packages (see DEFAULT_CONNECTIONS).

Deliberate difference: `get` and `list` show a set password as `***`; `export` (meant for
moving connections between deployments) writes it in full, as Airflow's does.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dagruns.actions import connection_test
from dagruns.actions import connections as actions
from dagruns.actions.audit import Actor
from dagruns.cli.output import add_output_argument, render
from dagruns.management.commands.variables import read_json, write_json
from dagruns.models import Connection

COLUMNS = [
    "conn_id",
    "conn_type",
    "description",
    "host",
    "schema",
    "login",
    "password",
    "port",
    "extra",
]


def row(conn: Connection) -> dict[str, Any]:
    """A set password shows as `***`; the extra is masked by the actions' one rule."""
    return actions.connection_fields(conn, secrets="masked")


class Command(BaseCommand):
    help = (
        "Manage connections: add, get, delete, list, import, export, test, "
        "create-default-connections."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        add = sub.add_parser("add", help="Add a connection.")
        add.add_argument("conn_id")
        add.add_argument("--conn-uri", help="type://login:password@host:port/schema?extra=…")
        add.add_argument("--conn-json", help="The fields as a JSON object.")
        add.add_argument("--conn-type")
        add.add_argument("--conn-description")
        add.add_argument("--conn-host")
        add.add_argument("--conn-login")
        add.add_argument("--conn-password")
        add.add_argument("--conn-schema")
        add.add_argument("--conn-port")
        add.add_argument("--conn-extra", help="A JSON object.")
        get = sub.add_parser("get", help="Show one connection.")
        get.add_argument("conn_id")
        add_output_argument(get)
        delete = sub.add_parser("delete", help="Delete a connection.")
        delete.add_argument("conn_id")
        lst = sub.add_parser("list", help="List connections.")
        lst.add_argument("--conn-id", help="Only this connection.")
        add_output_argument(lst)
        imp = sub.add_parser("import", help="Import connections from a JSON file.")
        imp.add_argument("file", help="Airflow's JSON export format; - reads standard input.")
        imp.add_argument("--overwrite", action="store_true", help="Replace existing ones.")
        exp = sub.add_parser("export", help="Export every connection to a JSON file.")
        exp.add_argument("file", help="- writes to standard output.")
        exp.add_argument("--format", choices=["json"], default="json")
        test = sub.add_parser(
            "test",
            help="Test a stored connection with its hook's test_connection() "
            "(needs ORCH_TEST_CONNECTION=Enabled, as Airflow's [core] test_connection).",
        )
        test.add_argument("conn_id")
        sub.add_parser(
            "create-default-connections",
            help="Create Airflow's default connections for the connection types known here "
            "(existing ones are left alone).",
        )

    def handle(self, *args, subcommand: str, **options):
        handler = getattr(self, "handle_" + subcommand.replace("-", "_"))
        try:
            handler(**options)
        except (actions.ConnectionInvalid, actions.ConnectionNotFound) as exc:
            raise CommandError(str(exc)) from None

    def handle_add(self, conn_id: str, conn_uri, conn_json, **options):
        given = {
            name: options[f"conn_{name}"]
            for name in (
                "type",
                "description",
                "host",
                "login",
                "password",
                "schema",
                "port",
                "extra",
            )
            if options.get(f"conn_{name}") is not None
        }
        if sum(bool(x) for x in (conn_uri, conn_json, given)) != 1:
            raise CommandError("give exactly one of --conn-uri, --conn-json or --conn-type …")
        if conn_uri:
            fields = actions.fields_from_uri(conn_uri)
        elif conn_json:
            try:
                fields = json.loads(conn_json)
            except ValueError as exc:
                raise CommandError(f"--conn-json is not valid JSON: {exc}") from None
            if not isinstance(fields, dict):
                raise CommandError("--conn-json must be a JSON object")
            fields = {k: v for k, v in fields.items() if k in actions.FIELDS}
        else:
            fields = {("conn_type" if k == "type" else k): v for k, v in given.items()}
        conn = actions.do_create_connection(conn_id, fields, Actor.cli())
        self.stdout.write(f"Successfully added `conn_id`={conn.conn_id} : {conn.conn_type}")

    def handle_get(self, conn_id: str, output: str, **_):
        conn = actions.get_connection(conn_id)
        self.stdout.write(render([row(conn)], COLUMNS, output))

    def handle_delete(self, conn_id: str, **_):
        actions.do_delete_connection(conn_id, Actor.cli())
        self.stdout.write(f"Successfully deleted connection with `conn_id`={conn_id}")

    def handle_list(self, conn_id: str | None, output: str, **_):
        conns = Connection.objects.order_by("conn_id")
        if conn_id:
            conns = conns.filter(conn_id=conn_id)
        self.stdout.write(render([row(c) for c in conns], COLUMNS, output))

    def handle_import(self, file: str, overwrite: bool, **_):
        result = actions.do_import_connections(read_json(file), Actor.cli(), overwrite=overwrite)
        for conn_id in result["created"] + result["updated"]:
            self.stdout.write(f"Imported connection {conn_id}")
        for conn_id in result["skipped"]:
            self.stdout.write(f"Could not import connection {conn_id}: connection already exists.")

    def handle_test(self, conn_id: str, **_):
        """Airflow's `connections test`: its words, and exit status 1 when the test cannot run
        (disabled, no such connection) — a failed test is an answer, not an error."""
        try:
            connection_test.check_testing_enabled()
        except connection_test.ConnectionTestingDisabled as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Retrieving connection: {conn_id!r}")
        try:
            conn = actions.get_connection(conn_id)
        except actions.ConnectionNotFound:
            raise CommandError("Connection not found.") from None
        self.stdout.write("\nTesting...")
        status, message = connection_test.do_test_connection(
            conn_id, {"conn_type": conn.conn_type}, Actor.cli()
        )
        if status:
            self.stdout.write("\nConnection success!")
        else:
            self.stdout.write(f"\nConnection failed!\n{message}")

    def handle_export(self, file: str, **_):
        write_json(file, actions.export_connections())
        if file != "-":
            self.stdout.write(f"Connections successfully exported to {file}.")

    def handle_create_default_connections(self, **_):
        result = actions.do_create_default_connections(Actor.cli())
        for conn_id in result["created"]:
            self.stdout.write(f"Created default connection {conn_id}")
        for conn_id in result["skipped"]:
            self.stdout.write(f"Default connection {conn_id} already exists: left unchanged")
