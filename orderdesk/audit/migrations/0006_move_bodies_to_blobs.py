"""Move every existing row's bodies and headers into shared, compressed blobs.

Rows are read and linked in batches by id. On PostgreSQL the append-only trigger is
switched off for this migration only (it refuses every UPDATE), inside its transaction.
"""

from django.db import migrations

from orderdesk.audit import blobs

BATCH = 2000
LINKS = ("request_headers", "request_body", "response_headers", "response_body")
SIDES = {"request_headers": "request", "response_headers": "response"}


def _texts(row) -> dict[str, str]:
    texts = {}
    for link in LINKS:
        value = getattr(row, link)
        if link in SIDES:
            value, own = blobs.split_headers(value or {}, row.request_id)
            if own:
                row.header_values[SIDES[link]] = own
            value = "" if value == "{}" else value
        if value:
            texts[link] = value
    return texts


def _blob_ids(blob_model, texts: set[str]) -> dict[str, int]:
    by_digest = {blobs.digest(text): text for text in texts}
    found = {
        bytes(key): pk
        for key, pk in blob_model.objects.filter(digest__in=list(by_digest)).values_list(
            "digest", "pk"
        )
    }
    missing = [key for key in by_digest if key not in found]
    blob_model.objects.bulk_create(
        [
            blob_model(digest=key, data=blobs.pack(by_digest[key]), chars=len(by_digest[key]))
            for key in missing
        ]
    )
    found |= {
        bytes(key): pk
        for key, pk in blob_model.objects.filter(digest__in=missing).values_list("digest", "pk")
    }
    return {text: found[key] for key, text in by_digest.items()}


def _trigger(schema_editor, state: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE audit_apicall {state} TRIGGER audit_apicall_append_only"
        )


def forwards(apps, schema_editor) -> None:
    call_model = apps.get_model("audit", "ApiCall")
    blob_model = apps.get_model("audit", "AuditBlob")
    _trigger(schema_editor, "DISABLE")
    last = 0
    while True:
        rows = list(call_model.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            break
        texts = [_texts(row) for row in rows]
        ids = _blob_ids(blob_model, {text for found in texts for text in found.values()})
        for row, found in zip(rows, texts, strict=True):
            for link in LINKS:
                setattr(row, f"{link}_blob_id", ids[found[link]] if link in found else None)
        fields = [f"{link}_blob" for link in LINKS] + ["header_values"]
        call_model.objects.bulk_update(rows, fields)
        last = rows[-1].pk
    _trigger(schema_editor, "ENABLE")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_audit_blobs"),
    ]

    # Forwards only: the old columns are dropped by 0007.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
