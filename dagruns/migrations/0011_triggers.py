"""Deferrable tasks: the trigger table and the task instance's deferral columns."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dagruns", "0010_task_reschedule"),
    ]

    operations = [
        migrations.CreateModel(
            name="Trigger",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("classpath", models.CharField(max_length=1000)),
                ("encrypted_kwargs", models.TextField()),
                ("created_date", models.DateTimeField()),
                ("triggerer_id", models.BigIntegerField(blank=True, null=True)),
            ],
            options={
                "db_table": "trigger",
                "indexes": [models.Index(fields=["triggerer_id"], name="trigger_triggerer_idx")],
            },
        ),
        migrations.AddField(
            model_name="taskinstance",
            name="trigger",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="dagruns.trigger",
            ),
        ),
        migrations.AddField(
            model_name="taskinstance",
            name="trigger_timeout",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="taskinstance",
            name="next_method",
            field=models.CharField(blank=True, max_length=1000, null=True),
        ),
        migrations.AddField(
            model_name="taskinstance",
            name="next_kwargs",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
