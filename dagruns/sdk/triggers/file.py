"""The standard provider's `FileTrigger`, `FileDeleteTrigger` and
`DirectoryFileDeleteTrigger` (`airflow.providers.standard.triggers.file`)."""

from __future__ import annotations

import asyncio
import datetime
import os
from collections.abc import AsyncIterator
from glob import glob
from typing import Any

from .base import BaseEventTrigger, BaseTrigger, TriggerEvent

CLASSPATH = "airflow.providers.standard.triggers.file.FileTrigger"
DELETE_CLASSPATH = "airflow.providers.standard.triggers.file.FileDeleteTrigger"


class FileTrigger(BaseTrigger):
    """Fires (payload True) once a file matches `filepath` (a glob; `recursive` lets `**`
    match directories), or a directory matching it holds a file; checks every
    `poke_interval` seconds."""

    def __init__(
        self,
        filepath: str,
        recursive: bool = False,
        poke_interval: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        unknown = set(kwargs) - {"poll_interval"}
        if unknown:
            raise TypeError(f"FileTrigger got unexpected arguments: {', '.join(sorted(unknown))}")
        self.filepath = filepath
        self.recursive = recursive
        # Airflow's deprecated spelling, still accepted there.
        poll = kwargs.get("poll_interval")
        self.poke_interval = float(poll if poll is not None else poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return CLASSPATH, {
            "filepath": self.filepath,
            "recursive": self.recursive,
            "poke_interval": self.poke_interval,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            for path in glob(self.filepath, recursive=self.recursive):
                if os.path.isfile(path):
                    modified = datetime.datetime.fromtimestamp(os.path.getmtime(path))
                    self.log.info("Found File %s last modified: %s", path, modified)
                    yield TriggerEvent(True)
                    return
                for _, _, files in os.walk(path):
                    if files:
                        yield TriggerEvent(True)
                        return
            await asyncio.sleep(self.poke_interval)


class FileDeleteTrigger(BaseEventTrigger):
    """Fires (payload True) once the file `filepath` exists, after deleting it; checks every
    `poke_interval` seconds. Made to watch an asset: each file that appears is one event."""

    def __init__(self, filepath: str, poke_interval: float = 5.0, **kwargs: Any) -> None:
        super().__init__()
        # Airflow accepts and drops other keyword arguments here (its **kwargs): refused
        # instead, naming them, as nothing may be silently ignored.
        if kwargs:
            raise TypeError(
                f"FileDeleteTrigger got unexpected arguments: {', '.join(sorted(kwargs))}"
            )
        self.filepath = filepath
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return DELETE_CLASSPATH, {"filepath": self.filepath, "poke_interval": self.poke_interval}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            if os.path.isfile(self.filepath):
                modified = datetime.datetime.fromtimestamp(os.path.getmtime(self.filepath))
                self.log.info("Found file %s last modified: %s", self.filepath, modified)
                os.remove(self.filepath)
                self.log.info("File %s has been deleted", self.filepath)
                yield TriggerEvent(True)
                return
            await asyncio.sleep(self.poke_interval)


DIRECTORY_DELETE_CLASSPATH = "airflow.providers.standard.triggers.file.DirectoryFileDeleteTrigger"


class DirectoryFileDeleteTrigger(BaseEventTrigger):
    """Fires once `filename` appears in `directory`, after deleting it, with the payload
    `{"filepath": <its path>}`; scans every `poke_interval` seconds (the standard provider's).
    A missing directory is waited for; one that cannot be listed (permissions, not a
    directory) fails the trigger, as there. Difference: Airflow's triggerer shares one scan
    among the triggers of a directory and interval; here each trigger scans on its own."""

    def __init__(self, *, directory: str, filename: str, poke_interval: float = 5.0) -> None:
        super().__init__()
        self.directory = directory
        self.filename = filename
        self.poke_interval = float(poke_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return DIRECTORY_DELETE_CLASSPATH, {
            "directory": self.directory,
            "filename": self.filename,
            "poke_interval": self.poke_interval,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        filepath = os.path.join(self.directory, self.filename)
        while True:
            try:
                present = self.filename in os.listdir(self.directory)
            except FileNotFoundError:
                present = False
            except (PermissionError, NotADirectoryError, IsADirectoryError):
                raise
            except OSError:
                self.log.warning(
                    "Failed to list %s; retrying after %ss",
                    self.directory,
                    self.poke_interval,
                    exc_info=True,
                )
                present = False
            if present:
                try:
                    os.remove(filepath)
                except FileNotFoundError:
                    pass  # another trigger took it first: wait for the next one
                else:
                    self.log.info("File %s has been deleted", filepath)
                    yield TriggerEvent({"filepath": filepath})
                    return
            await asyncio.sleep(self.poke_interval)
