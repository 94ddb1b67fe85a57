"""`manage.py pools …`: Airflow's `airflow pools` commands (set, get, delete, list, import,
export), through the same actions as the REST API."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dagruns.actions import pools as actions
from dagruns.actions.audit import Actor
from dagruns.cli.output import add_output_argument, render
from dagruns.management.commands.variables import read_json, write_json
from dagruns.models import Pool

COLUMNS = ["pool", "slots", "description", "include_deferred"]


def row(pool: Pool) -> dict[str, Any]:
    return {
        "pool": pool.name,
        "slots": pool.slots,
        "description": pool.description,
        "include_deferred": pool.include_deferred,
    }


class Command(BaseCommand):
    help = "Manage pools: set, get, delete, list, import, export."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        put = sub.add_parser("set", help="Create or update a pool.")
        put.add_argument("pool")
        put.add_argument("slots", help="Slots; -1 for unlimited.")
        put.add_argument("description")
        put.add_argument(
            "--include-deferred", action="store_true", help="Count deferred tasks as occupying."
        )
        add_output_argument(put)
        get = sub.add_parser("get", help="Show one pool.")
        get.add_argument("pool")
        add_output_argument(get)
        delete = sub.add_parser("delete", help="Delete a pool.")
        delete.add_argument("pool")
        add_output_argument(delete)
        add_output_argument(sub.add_parser("list", help="List pools."))
        imp = sub.add_parser("import", help="Create or update pools from a JSON file.")
        imp.add_argument("file", help="Airflow's export format; - reads standard input.")
        exp = sub.add_parser("export", help="Export every pool to a JSON file.")
        exp.add_argument("file", help="- writes to standard output.")

    def handle(self, *args, subcommand: str, **options):
        handler = getattr(self, "handle_" + subcommand)
        try:
            handler(**options)
        except (actions.PoolInvalid, actions.PoolNotFound) as exc:
            raise CommandError(str(exc)) from None

    def out(self, pools: list[Pool], output: str) -> None:
        self.stdout.write(render([row(p) for p in pools], COLUMNS, output))

    def handle_set(self, pool: str, slots: str, description: str, include_deferred, output, **_):
        created = actions.do_set_pool(
            pool, slots, Actor.cli(), description=description, include_deferred=include_deferred
        )
        self.out([created], output)

    def handle_get(self, pool: str, output: str, **_):
        self.out([actions.get_pool(pool)], output)

    def handle_delete(self, pool: str, output: str, **_):
        gone = actions.get_pool(pool)
        actions.do_delete_pool(pool, Actor.cli())
        self.out([gone], output)

    def handle_list(self, output: str, **_):
        self.out(list(Pool.objects.order_by("name")), output)

    def handle_import(self, file: str, **_):
        names = actions.do_import_pools(read_json(file), Actor.cli())
        self.stdout.write(f"Uploaded {len(names)} pool(s)")

    def handle_export(self, file: str, **_):
        data = actions.export_pools()
        write_json(file, data)
        if file != "-":
            self.stdout.write(f"Exported {len(data)} pools to {file}")
