"""Bodies and headers of audit rows are kept once per distinct text (AuditBlob).

This step adds the blob table and the rows' links to it; 0006 moves the existing texts
over and 0007 drops the old columns, each in its own transaction.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_pendingcall"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditBlob",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.BinaryField(max_length=32, unique=True)),
                ("data", models.BinaryField()),
                ("chars", models.PositiveIntegerField()),
            ],
        ),
        migrations.AddField(
            model_name="apicall",
            name="header_values",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="apicall",
            name="request_body_blob",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="audit.auditblob",
            ),
        ),
        migrations.AddField(
            model_name="apicall",
            name="request_headers_blob",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="audit.auditblob",
            ),
        ),
        migrations.AddField(
            model_name="apicall",
            name="response_body_blob",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="audit.auditblob",
            ),
        ),
        migrations.AddField(
            model_name="apicall",
            name="response_headers_blob",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="audit.auditblob",
            ),
        ),
    ]
