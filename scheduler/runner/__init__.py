"""The task runner: runs one try of one task on a worker, without any database access.

Two processes per try, as in Airflow 3:

* the **supervisor** (`supervisor.py`, entry point `run_workload(workload)`) claims the try
  through the Execution API (`client.py`), forks the task process, heartbeats, enforces the
  execution timeout, masks secrets in the output and ships it as the try's log
  (`masking.py`, `logship.py`), answers the task's requests for XComs, variables and
  connections, and reports the final state with CPU time and peak memory;
* the **task process** (`task_process.py`) imports the DAG file, builds the Airflow context
  (`context.py`), renders templates, runs callbacks and `execute()`, pushes XComs and sends
  its outcome to the supervisor over a socketpair (`comms.py`).

Nothing here imports Django or the ORM: task code never touches the database; everything it
needs comes through the Execution API with a token scoped to its own try.
"""
