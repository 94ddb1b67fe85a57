"""Request and response bodies with Airflow 3's names (`airflow/api_fastapi/core_api/datamodels`).

Responses are plain pydantic models built from dicts (`dagruns.api.rest.present`); request
bodies forbid unknown fields wherever Airflow's do (its `StrictBaseModel`)."""
