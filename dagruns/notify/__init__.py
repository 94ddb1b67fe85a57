"""Telling other processes that something changed, after the change committed.

`events` (pages: "this changed"), `wakeup` (schedulers: "there is work"), over `localbus`
(datagrams between processes of one host, the embedded default) or Redis when configured.
`event_listener` is the API server's end that re-publishes events into its channel layer.
"""
