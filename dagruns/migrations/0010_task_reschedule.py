"""task_reschedule: a row per reschedule of a reschedule-mode sensor (Airflow's TaskReschedule)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dagruns", "0009_dag_display_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="TaskReschedule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("try_number", models.PositiveIntegerField()),
                ("start_date", models.DateTimeField()),
                ("end_date", models.DateTimeField()),
                ("duration", models.FloatField()),
                ("reschedule_date", models.DateTimeField()),
                (
                    "task_instance",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reschedules",
                        to="dagruns.taskinstance",
                    ),
                ),
            ],
            options={
                "db_table": "task_reschedule",
                "indexes": [
                    models.Index(
                        fields=["task_instance", "try_number"], name="task_reschedule_ti_try_idx"
                    )
                ],
            },
        ),
    ]
