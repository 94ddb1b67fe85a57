"""`.airflowignore`, read exactly as Airflow 3 reads it (`find_path_from_directory`).

An `.airflowignore` adds its patterns to those of the folders above it; they apply to its
folder and everything below. One line, one pattern; `#` starts a comment anywhere on the line
and blank lines are skipped. The syntax is ORCH_DAG_IGNORE_FILE_SYNTAX (Airflow's
`[core] dag_ignore_file_syntax`):

- `glob` (Airflow 3's default): gitignore wildcards. A pattern with a `/` at its start or in its
  middle is matched against the path relative to the folder of the `.airflowignore` that holds
  it; any other pattern against the file or folder name alone, at any depth. Folders are
  matched with a trailing `/` (so `build/` matches only folders). The last pattern that matches
  decides, so a later `!pattern` re-includes what an earlier one (or a parent folder's file)
  ignored.
- `regexp` (Airflow 2's default): each line is a regular expression searched (unanchored,
  `re.search`) in the path relative to the DAGs folder being scanned; any match ignores.

A pattern that does not compile (a bad regular expression, a lone `/`) is skipped with one
warning naming the file and the pattern, as Airflow skips it: the rest of the file still applies.
An ignored folder is not descended into.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from pathspec.patterns.gitignore.basic import GitIgnoreBasicPattern

AIRFLOW_IGNORE_FILE_NAME = ".airflowignore"
SYNTAXES = ("glob", "regexp")
_COMMENT = re.compile(r"\s*#.*")

log = logging.getLogger(__name__)
# (ignore file, pattern) already warned about by this process: the folder is scanned every few
# seconds, and one warning per bad line is enough.
_warned: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class _GlobRule:
    pattern: GitIgnoreBasicPattern
    relative_to: Path | None  # None: match the name alone


@dataclass(frozen=True)
class AirflowIgnore:
    """The `.airflowignore` rules in force in one folder (its own and its parents')."""

    root: Path
    syntax: str
    regexps: tuple[re.Pattern[str], ...] = ()
    globs: tuple[_GlobRule, ...] = ()

    @classmethod
    def start(cls, root: Path, syntax: str) -> AirflowIgnore:
        if syntax not in SYNTAXES:
            raise ValueError(
                f"dag_ignore_file_syntax must be one of {', '.join(SYNTAXES)}, not {syntax!r}"
            )
        return cls(root=root, syntax=syntax)

    def entering(self, folder: Path) -> AirflowIgnore:
        """The rules in force inside `folder`: these plus its own `.airflowignore`'s."""
        ignore_file = folder / AIRFLOW_IGNORE_FILE_NAME
        try:
            text = ignore_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return self
        patterns = [p for p in (_COMMENT.sub("", line) for line in text.split("\n")) if p]
        if self.syntax == "regexp":
            regexps = [r for r in (_regexp(p, ignore_file) for p in patterns) if r is not None]
            return AirflowIgnore(self.root, self.syntax, (*self.regexps, *regexps), self.globs)
        globs = [g for g in (_glob(p, folder, ignore_file) for p in patterns) if g is not None]
        return AirflowIgnore(self.root, self.syntax, self.regexps, (*self.globs, *globs))

    def ignores(self, path: Path, is_dir: bool) -> bool:
        if self.regexps:
            relative = str(path.relative_to(self.root))
            return any(regexp.search(relative) for regexp in self.regexps)
        ignored = False
        for rule in self.globs:
            relative = (
                path.relative_to(rule.relative_to).as_posix() if rule.relative_to else path.name
            )
            if is_dir:
                relative += "/"
            if rule.pattern.include is not None and rule.pattern.match_file(relative) is not None:
                ignored = rule.pattern.include
        return ignored


def _regexp(pattern: str, ignore_file: Path) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error as err:
        _warn(ignore_file, pattern, f"not a valid regular expression ({err})")
        return None


def _glob(pattern: str, folder: Path, ignore_file: Path) -> _GlobRule | None:
    if pattern.strip() == "/":
        _warn(ignore_file, pattern, "a lone '/' matches nothing")
        return None
    try:
        compiled = GitIgnoreBasicPattern(pattern)
    except ValueError as err:
        _warn(ignore_file, pattern, f"not a valid glob pattern ({err})")
        return None
    # gitignore's rule: a separator at the start or in the middle anchors the pattern to the
    # ignore file's own folder; otherwise it matches a name at any level below.
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    return _GlobRule(compiled, folder if anchored else None)


def _warn(ignore_file: Path, pattern: str, problem: str) -> None:
    key = (str(ignore_file), pattern)
    if key not in _warned:
        _warned.add(key)
        log.warning("%s: ignoring the pattern %r: %s", ignore_file, pattern, problem)
