"""The DAG processor: keeps the database in step with the DAG files on disk.

`run_once()` is one tick — list files, parse those that changed, forget those that vanished —
and returns how much work it did; the tick loop (scheduler/loops.py) repeats it, sleeping
ORCH_DAG_PROCESSOR_REFRESH_INTERVAL when a tick found nothing to do, and stops cleanly on
SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from dagruns.models import DagFile
from scheduler.loops import TickLoop
from scheduler.processor.callbacks import run_pending_callbacks
from scheduler.processor.files import FileStat, content_hash, list_py_files, stat_file
from scheduler.processor.pool import ParsingPool
from scheduler.processor.store import (
    Root,
    files_missing_their_dags,
    forget_file,
    parse_again_for_executors,
    store_result,
)

log = logging.getLogger(__name__)
EXAMPLE_DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dagruns" / "example_dags"


@dataclass
class ParsingReport:
    """What one DAG processor tick found: files listed, parsed (changed or new), unchanged,
    forgotten (gone from disk), and how many of those parsed failed to import."""

    listed: int = 0
    parsed: int = 0
    unchanged: int = 0
    forgotten: int = 0
    errors: int = 0
    callbacks: int = 0  # DAG-level callback requests run (scheduler/processor/callbacks.py)

    @property
    def work(self) -> int:
        return self.parsed + self.forgotten + self.callbacks


def _in_listing_order(results, order: list[str]):
    """Parsers finish in any order; results are stored in path order (holding back only
    those that finished early), so when two files define one dag_id the first file in path
    order owns it, every time."""
    waiting: dict[str, dict] = {}
    position = 0
    for result in results:
        waiting[result["fileloc"]] = result
        while position < len(order) and order[position] in waiting:
            yield waiting.pop(order[position])
            position += 1
    yield from waiting.values()  # defensive: a result for a path we did not ask about


def default_roots() -> list[Root]:
    roots = [Root(str(settings.ORCH.dags_folder))]
    if settings.ORCH.load_examples:
        roots.append(Root(str(EXAMPLE_DAGS_FOLDER)))
    return roots


class DagProcessor(TickLoop[ParsingReport]):
    job_type = "dag_processor"
    heartbeat_every = 0.0  # every tick: a tick is already seconds apart when idle

    def __init__(
        self,
        roots: list[Root] | None = None,
        processes: int | None = None,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> None:
        super().__init__()
        self.roots = roots if roots is not None else default_roots()
        self.pool = ParsingPool(
            processes=processes or settings.ORCH.dag_processor_parsing_processes,
            timeout=timeout or settings.ORCH.dag_file_processor_timeout,
            # Airflow puts the DAGs folder on sys.path so files can import their helpers, and
            # the plugins folder so they can import the timetables plugins ship.
            extra_sys_path=[str(settings.ORCH.dags_folder), str(settings.ORCH.plugins_folder)],
            executors=settings.ORCH.executors,
        )
        self.interval = (
            settings.ORCH.dag_processor_refresh_interval if interval is None else interval
        )
        self._executors_checked = False

    def run_once(self) -> ParsingReport:
        """Parse what changed since the last tick and forget what vanished."""
        report = ParsingReport()
        if not self._executors_checked:  # once per processor: ORCH_EXECUTOR may have changed
            self._executors_checked = True
            parse_again_for_executors(settings.ORCH.executors)
        listing: dict[str, tuple[FileStat, Root]] = {}
        for root in self.roots:
            for found in list_py_files(Path(root.path), settings.ORCH.dag_ignore_file_syntax):
                stat = stat_file(found)
                if stat is not None:
                    listing[stat.path] = (stat, root)
        report.listed = len(listing)
        known = {
            f.fileloc: f
            for f in DagFile.objects.only("fileloc", "mtime", "size", "content_hash", "dag_ids")
        }
        missing_dags = files_missing_their_dags(list(known.values()))

        to_parse: list[str] = []
        for path, (stat, _root) in listing.items():
            record = known.get(path)
            if record is None or path in missing_dags:
                to_parse.append(path)
            elif (record.mtime, record.size) != (stat.mtime, stat.size):
                if self._same_content(path, record):
                    DagFile.objects.filter(pk=record.pk).update(mtime=stat.mtime)
                    report.unchanged += 1
                else:
                    to_parse.append(path)
            else:
                report.unchanged += 1

        roots_by_path = {path: root for path, (_stat, root) in listing.items()}
        for result in _in_listing_order(self.pool.parse(to_parse), to_parse):
            store_result(result, roots_by_path[result["fileloc"]])
            report.parsed += 1
            if result["error"]:
                report.errors += 1
                log.warning("import error in %s: %s", result["fileloc"], result["error"]["message"])

        # Anything known but not listed now is gone: deleted, ignored, or outside the folders
        # scanned (examples switched off, DAGs folder moved). Airflow deactivates those too.
        for gone in sorted(known.keys() - listing.keys()):
            forget_file(gone)
            report.forgotten += 1
        report.callbacks = run_pending_callbacks(self.pool.timeout, self.pool.extra_sys_path)
        return report

    @staticmethod
    def _same_content(path: str, record: DagFile) -> bool:
        try:
            return content_hash(Path(path).read_bytes()) == record.content_hash
        except OSError:
            return False

    def idle_timeout(self) -> float:
        return float(self.interval)

    def describe(self, report: ParsingReport) -> str:
        return (
            f"parsed {report.parsed} file(s), {report.unchanged} unchanged, "
            f"{report.forgotten} removed, {report.errors} with errors"
            + (f", {report.callbacks} DAG callback(s) run" if report.callbacks else "")
        )
