"""FileSensor: wait until a file or folder exists (the standard provider's
``sensors.filesystem``), relative to an ``fs`` connection's base path. With
``deferrable=True`` it checks once, then waits in the triggerer on a FileTrigger."""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..exceptions import AirflowException
from ..hooks import FSHook
from ..triggers.file import FileTrigger
from .base import BaseSensorOperator


class FileSensor(BaseSensorOperator):
    """Done when ``filepath`` (templated; a glob pattern, under the ``fs_conn_id``
    connection's ``path`` extra) matches a file, or a directory holding at least one file
    anywhere below it. ``recursive`` lets ``**`` match any depth."""

    template_fields: Sequence[str] = ("filepath",)
    ui_color = "#91818a"

    def __init__(
        self,
        *,
        filepath: str,
        fs_conn_id: str = "fs_default",
        recursive: bool = False,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filepath = filepath
        self.fs_conn_id = fs_conn_id
        self.recursive = recursive
        self.deferrable = deferrable

    @property
    def path(self) -> str:
        """The glob pattern under the connection's base path."""
        return os.path.join(FSHook(self.fs_conn_id).get_path(), self.filepath)

    def execute(self, context: Mapping[str, Any]) -> Any:
        if not self.deferrable:
            return super().execute(context)
        if not self.poke(context):
            self.defer(
                timeout=timedelta(seconds=self.timeout),
                trigger=FileTrigger(
                    filepath=self.path, recursive=self.recursive, poke_interval=self.poke_interval
                ),
                method_name="execute_complete",
            )
        return None

    def execute_complete(self, context: Mapping[str, Any], event: bool | None = None) -> None:
        if not event:
            raise AirflowException(f"{self.task_id} task failed as {self.filepath} not found.")
        self.log.info("%s completed successfully as %s found.", self.task_id, self.filepath)

    def poke(self, context: Mapping[str, Any]) -> bool:
        full_path = self.path
        self.log.info("Poking for file %s", full_path)
        for path in glob.glob(full_path, recursive=self.recursive):
            if os.path.isfile(path):
                modified = datetime.fromtimestamp(os.path.getmtime(path)).strftime("%Y%m%d%H%M%S")
                self.log.info("Found File %s last modified: %s", path, modified)
                return True
            for _, _, files in os.walk(path):
                if files:
                    return True
        return False
