"""The domain layer: rules about DAGs, runs and tries that do not depend on who asks.

Beside `dagruns.models` (the tables and their states): the DAG graph and trigger rules,
timetables and next-run fields, tokens, encryption at rest, log storage, roles and job
heartbeats. It imports only the models, `dagruns.notify` and the SDK; actions, surfaces and
the engine build on it.
"""
