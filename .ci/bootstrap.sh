#!/usr/bin/env bash
# Create .venv and install the project with its dev tools; a no-op when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
# This machine's pip configuration names local mirrors that may be absent; pip warns about each
# one on every package. Those warnings are noise: drop them, keep everything else.
quiet_pip() {
    .venv/bin/python -m pip "$@" 2> >(grep -v "^WARNING: Location 'file:" >&2)
}
if [ ! -f "$stamp" ]; then
    quiet_pip install --quiet --disable-pip-version-check --upgrade pip
    quiet_pip install --quiet --disable-pip-version-check -e ".[dev]"
    rm -f .venv/.installed-*
    touch "$stamp"
fi
