"""The environment variables that carry a workload into a Kubernetes pod's runner
(`python -m scheduler.runner --from-env`): the JSON without the token, and the token, which the
pod takes from the try's Secret. No imports: the executor reads these without the runner."""

WORKLOAD_ENV = "ORCHESTRATOR_WORKLOAD"
TOKEN_ENV = "ORCHESTRATOR_TASK_TOKEN"
