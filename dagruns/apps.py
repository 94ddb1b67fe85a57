from django.apps import AppConfig


class DagrunsConfig(AppConfig):
    name = "dagruns"
    verbose_name = "DAGs and runs"

    def ready(self) -> None:
        from dagruns import checks  # noqa: F401  (registers the deploy checks)
