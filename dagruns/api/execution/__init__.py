"""The Execution API: how task runners, which never touch the database, talk to the server.

Mounted at `/execution/` (see docs/engine.md for the contract). Every call carries a signed,
expiring token scoped to one task-instance try (`tokens.py`); the routes only translate HTTP to
the actions in `dagruns/actions/tries.py` and `dagruns/actions/xcoms.py`, so the scheduler,
the UI and this API change task instances through the same code.
"""
