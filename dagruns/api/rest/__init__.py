"""The public REST API at `/api/v2/`, in the shape of Airflow 3's (paths, parameter and field
names, status codes, pagination, `{"detail": …}` errors), so that Airflow's official Python
client works against it.

Layout: `api.py` builds the NinjaAPI and mounts the routers in `routes/`; `schemas/` holds the
request and response bodies with Airflow's names; `present.py` turns model rows into response
dicts; `auth.py` checks bearer tokens (issued by `POST /auth/token`, `token_view.py`) and
browser sessions; `pagination.py` and `errors.py` are shared by every route. Every mutation
goes through `dagruns.actions`, the same functions the UI and the CLI call, so each one lands
in the audit log.

Where we deliberately differ from Airflow, the route or schema says so in a comment.
"""
