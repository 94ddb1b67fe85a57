"""Imported last by the forkserver, after the modules it preloads.

`gc.freeze()` moves every object that exists now into a permanent generation the garbage
collector never scans. Children forked from the server then stop touching — and therefore
copying — the inherited pages of all those objects on their first collection: less memory and
less CPU per task runner or parser process (the technique CPython documents for pre-fork
servers)."""

import gc

gc.freeze()
