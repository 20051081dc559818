"""On PostgreSQL the database itself keeps the audit log append-only.

UPDATE is refused for every row; DELETE only for rows that belong to an order (the
retention command may prune the others). TRUNCATE, which test flushes use, is not a row
operation and is unaffected. SQLite gets no trigger: its test flush deletes row by row.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION audit_apicall_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit rows are append-only: UPDATE of % refused', TG_TABLE_NAME;
    END IF;
    IF OLD.order_id IS NOT NULL THEN
        RAISE EXCEPTION 'audit rows of an order are kept: DELETE from % refused', TG_TABLE_NAME;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_apicall_append_only ON {table};
CREATE TRIGGER audit_apicall_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_apicall_append_only();
"""

REMOVE = """
DROP TRIGGER IF EXISTS audit_apicall_append_only ON {table};
DROP FUNCTION IF EXISTS audit_apicall_append_only();
"""


def _run(sql: str, apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("audit", "ApiCall")._meta.db_table)
    # params=None: the plpgsql body holds '%' placeholders of its own.
    schema_editor.execute(sql.format(table=table), params=None)


def install(apps, schema_editor) -> None:
    _run(INSTALL, apps, schema_editor)


def remove(apps, schema_editor) -> None:
    _run(REMOVE, apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
