"""XCom values move from a clear JSON column to a Fernet-encrypted one (issue 10).

Existing rows are encrypted in place with the configured keys; going back decrypts them."""

from __future__ import annotations

import json

from django.db import migrations, models


def encrypt_existing(apps, schema_editor) -> None:
    from dagruns.domain.crypto import encrypt

    XCom = apps.get_model("dagruns", "XCom")
    for row in XCom.objects.filter(value__isnull=False).only("pk", "value").iterator():
        if row.value is None:
            continue
        text = json.dumps(row.value, separators=(",", ":"), ensure_ascii=False)
        XCom.objects.filter(pk=row.pk).update(encrypted_value=encrypt(text))


def decrypt_existing(apps, schema_editor) -> None:
    from dagruns.domain.crypto import decrypt

    XCom = apps.get_model("dagruns", "XCom")
    for row in XCom.objects.exclude(encrypted_value="").only("pk", "encrypted_value").iterator():
        XCom.objects.filter(pk=row.pk).update(value=json.loads(decrypt(row.encrypted_value)))


class Migration(migrations.Migration):
    dependencies = [("dagruns", "0003_role_groups")]

    operations = [
        migrations.AddField(
            model_name="xcom",
            name="encrypted_value",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
        migrations.RemoveField(model_name="xcom", name="value"),
    ]
