"""`manage.py variables …`: Airflow's `airflow variables` commands (get, set, delete, list,
import, export), through the same actions as the REST API."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dagruns.actions import variables as actions
from dagruns.actions.audit import Actor
from dagruns.cli.output import add_output_argument, render
from dagruns.models import Variable


def read_json(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{path} is not valid JSON: {exc}") from None


def write_json(path: str, data: Any) -> None:
    text = json.dumps(data, indent=4, ensure_ascii=False, sort_keys=True) + "\n"
    if path == "-":
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None


class Command(BaseCommand):
    help = "Manage variables: get, set, delete, list, import, export."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
        get = sub.add_parser("get", help="Print a variable's value.")
        get.add_argument("key")
        get.add_argument("-d", "--default", help="Printed when the variable does not exist.")
        get.add_argument(
            "-j", "--deserialize-json", action="store_true", help="Print the value as JSON."
        )
        put = sub.add_parser("set", help="Create or replace a variable.")
        put.add_argument("key")
        put.add_argument("value")
        put.add_argument("--description", help="What the variable is for.")
        put.add_argument(
            "-j", "--serialize-json", action="store_true", help="VALUE is JSON; check it."
        )
        delete = sub.add_parser("delete", help="Delete a variable.")
        delete.add_argument("key")
        add_output_argument(sub.add_parser("list", help="List the variables' keys."))
        imp = sub.add_parser("import", help="Import variables from a JSON file.")
        imp.add_argument("file", help="Airflow's export format; - reads standard input.")
        imp.add_argument(
            "-a",
            "--action-on-existing-key",
            choices=actions.ON_EXISTING,
            default="overwrite",
            help="What to do with keys that exist (default overwrite).",
        )
        exp = sub.add_parser("export", help="Export every variable to a JSON file.")
        exp.add_argument("file", help="- writes to standard output.")

    def handle(self, *args, subcommand: str, **options):
        handler = getattr(self, "handle_" + subcommand)
        try:
            handler(**options)
        except (actions.VariableError, actions.VariableNotFound) as exc:
            raise CommandError(str(exc)) from None

    def handle_get(self, key: str, default: str | None, deserialize_json: bool, **_):
        var = Variable.objects.filter(key=key).first()
        if var is None:
            if default is not None:
                self.stdout.write(default)
                return
            raise CommandError(f"Variable {key} does not exist")
        value = var.val
        if deserialize_json:
            try:
                value = json.dumps(json.loads(value), indent=2, ensure_ascii=False)
            except ValueError:
                raise CommandError(f"Variable {key} is not JSON") from None
        self.stdout.write(value)

    def handle_set(self, key: str, value: str, description, serialize_json: bool, **_):
        if serialize_json:
            try:
                json.loads(value)
            except ValueError as exc:
                raise CommandError(f"VALUE is not valid JSON: {exc}") from None
        fields = {} if description is None else {"description": description}
        actions.do_set_variable(key, value, Actor.cli(), **fields)
        self.stdout.write(f"Variable {key} created")

    def handle_delete(self, key: str, **_):
        actions.do_delete_variable(key, Actor.cli())
        self.stdout.write(f"Variable {key} deleted")

    def handle_list(self, output: str, **_):
        rows = [{"key": k} for k in Variable.objects.order_by("key").values_list("key", flat=True)]
        self.stdout.write(render(rows, ["key"], output))

    def handle_import(self, file: str, action_on_existing_key: str, **_):
        data = read_json(file)
        result = actions.do_import_variables(data, Actor.cli(), on_existing=action_on_existing_key)
        done = len(result["created"]) + len(result["updated"])
        self.stdout.write(f"{done} of {len(data)} variables successfully updated.")
        if result["skipped"]:
            self.stdout.write(f"Skipped existing: {', '.join(result['skipped'])}")

    def handle_export(self, file: str, **_):
        data = actions.export_variables()
        write_json(file, data)
        if file != "-":
            self.stdout.write(f"{len(data)} variables successfully exported to {file}")
