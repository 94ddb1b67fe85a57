from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dagruns", "0013_assets"),
    ]

    operations = [
        migrations.AddField(
            model_name="dagrun",
            name="triggering_user_name",
            field=models.CharField(blank=True, default="", max_length=512),
        ),
    ]
