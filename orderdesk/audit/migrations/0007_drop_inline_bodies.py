"""The texts now live in AuditBlob (moved by 0006): drop the old inline columns."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0006_move_bodies_to_blobs"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="apicall",
            name="request_body",
        ),
        migrations.RemoveField(
            model_name="apicall",
            name="request_headers",
        ),
        migrations.RemoveField(
            model_name="apicall",
            name="response_body",
        ),
        migrations.RemoveField(
            model_name="apicall",
            name="response_headers",
        ),
    ]
