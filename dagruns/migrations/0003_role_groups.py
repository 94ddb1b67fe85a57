"""Create the role groups (Viewer, User, Op, Admin): see dagruns/domain/roles.py."""

from django.db import migrations

ROLE_GROUPS = ["Viewer", "User", "Op", "Admin"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("dagruns", "0002_default_pool"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
