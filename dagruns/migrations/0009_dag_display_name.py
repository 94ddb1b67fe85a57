"""DagModel.dag_display_name (Airflow's `dag_display_name=`): existing DAGs are named by their
dag_id until their file is parsed again."""

from django.db import migrations, models
from django.db.models import F


def name_existing_dags(apps, schema_editor):
    apps.get_model("dagruns", "DagModel").objects.update(dag_display_name=F("dag_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("dagruns", "0008_task_instance_task_display_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="dagmodel",
            name="dag_display_name",
            field=models.CharField(blank=True, default="", max_length=2000),
        ),
        migrations.RunPython(name_existing_dags, migrations.RunPython.noop),
    ]
