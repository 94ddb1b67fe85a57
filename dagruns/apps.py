from django.apps import AppConfig


class DagrunsConfig(AppConfig):
    name = "dagruns"
    verbose_name = "DAGs and runs"
