"""Every mutation of DAGs, runs and task instances lives here (Zulip's `actions` pattern).

The UI, the REST API and the CLI all call these functions, so they cannot drift apart. Each
`do_*` validates, mutates inside a transaction, writes an audit event, and lets change events
leave only after the commit.
"""
