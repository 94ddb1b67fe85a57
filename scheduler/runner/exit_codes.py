"""Exit codes of a task runner (`run_workload`, `python -m scheduler.runner`): what the
scheduler's health step reads when a runner ends while its try is still queued or running
(scheduler/scheduling/health.py). No imports: the engine reads these without loading the
runner."""

EXIT_OK = 0  # the final state was reported, or the claim was refused with 409 (not ours)
EXIT_NOT_REPORTED = 1  # could not report (API unreachable for too long, refused, internal error)
EXIT_TRY_GONE = 2  # the try was cleared/marked/failed from outside while running; task killed
EXIT_INVALID_WORKLOAD = 3  # refused before claiming: unknown version or malformed workload
# The claim never reached the Execution API (for ORCH_TASK_REPORT_RETRY_TIMEOUT): the try never
# started, so it goes back to the queue without using a retry.
EXIT_NOT_CLAIMED = 4
