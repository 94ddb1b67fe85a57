"""The Airflow version DAG files see as ``airflow.__version__``.

DAG files that branch on the version (``if AIRFLOW_V_3_0_PLUS``) should take their Airflow 3
path: the surface we follow is Airflow 3.0's.
"""

AIRFLOW_VERSION = "3.0.6"
