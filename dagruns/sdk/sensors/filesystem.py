"""FileSensor: wait until a file or folder exists (the standard provider's
``sensors.filesystem``), relative to an ``fs`` connection's base path."""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..hooks import FSHook
from .base import BaseSensorOperator, refuse_deferrable


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
        refuse_deferrable(self.task_id, type(self).__name__, deferrable)
        self.filepath = filepath
        self.fs_conn_id = fs_conn_id
        self.recursive = recursive
        self.deferrable = deferrable

    def poke(self, context: Mapping[str, Any]) -> bool:
        basepath = FSHook(self.fs_conn_id).get_path()
        full_path = os.path.join(basepath, self.filepath)
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
