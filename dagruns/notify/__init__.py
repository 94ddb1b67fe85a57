"""Telling other processes that something changed, after the change committed.

`events` (pages: "this changed"), `wakeup` (schedulers: "there is work"), over `bus` — Redis
pub/sub or PostgreSQL LISTEN/NOTIFY across hosts when configured, else `localbus` (datagrams
between processes of one host, the embedded default). Page events go through channels-redis
when ORCH_REDIS_URL is set. `event_listener` is the API server's end that re-publishes events
into its channel layer.
"""
