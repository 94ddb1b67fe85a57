"""One router per resource, with Airflow's paths and operation ids."""
