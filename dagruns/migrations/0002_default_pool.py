"""Create the default pool every task uses unless it names another (Airflow's default_pool)."""

from django.db import migrations

DEFAULT_POOL_NAME = "default_pool"
DEFAULT_POOL_SLOTS = 128


def create_default_pool(apps, schema_editor):
    Pool = apps.get_model("dagruns", "Pool")
    Pool.objects.get_or_create(
        name=DEFAULT_POOL_NAME,
        defaults={"slots": DEFAULT_POOL_SLOTS, "description": "Default pool"},
    )


class Migration(migrations.Migration):
    dependencies = [("dagruns", "0001_initial")]
    operations = [migrations.RunPython(create_default_pool, migrations.RunPython.noop)]
