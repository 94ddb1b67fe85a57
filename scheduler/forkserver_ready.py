"""Imported last by the forkserver, after the modules it preloads.

`gc.freeze()` moves every object that exists now into a permanent generation the garbage
collector never scans. Children forked from the server then stop touching — and therefore
copying — the inherited pages of all those objects on their first collection: less memory and
less CPU per task runner or parser process (the technique CPython documents for pre-fork
servers)."""

import encodings.idna  # noqa: F401  (http.client encodes the API host with it)
import gc
import pkgutil  # noqa: F401  (imported by every runner on its way to the task)
import resource  # noqa: F401  (the supervisor reads the task's CPU time and peak memory)

import jinja2.ext  # noqa: F401  (the template environment loads extensions lazily)

from dagruns.sdk.mappedoperator import base_operator_parameters

# Imported here rather than lazily in every runner and task process, which then paid for the
# import on each try. Likewise read once here, not in every runner that builds a mapped task:
# BaseOperator's signature.
base_operator_parameters()
gc.freeze()
