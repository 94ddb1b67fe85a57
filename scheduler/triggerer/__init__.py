"""The triggerer: runs the triggers of deferred task instances and resumes them when they fire.

Two processes, as Airflow 3's TriggerRunnerSupervisor and TriggerRunner:

* the **triggerer** (`loop.py`, `manage.py triggerer`): a tick loop with a Job row and a
  heartbeat; it claims triggers by lease (`lease.py`) up to ORCH_TRIGGERER_CAPACITY, hands them
  to its child, and turns what the child reports into resumed or failed task instances
  (dagruns/actions/deferral.py);
* the **trigger runner** (`child.py`, supervised by `runner.py`): a Django-free asyncio process
  that imports and runs the trigger classes and talks to its parent only over pipes
  (`messages.py`). It starts without database settings or secrets in its environment, so
  trigger code, like task code, cannot reach the database.
"""
