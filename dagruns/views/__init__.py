"""The browser dashboard: server-rendered pages with htmx partials (NetBox's pattern: one view
renders the whole page, or only the region an htmx request targets).

Every view checks the signed-in user's role on the server (dagruns/domain/roles.py); every
mutation goes through dagruns/actions, after a confirmation that lists exactly what changes.
"""
