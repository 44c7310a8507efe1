"""PostgreSQL triggers refusing UPDATE and DELETE on the immutable tables (snapshots,
evidence packs, audit entries): even raw SQL cannot rewrite history. A no-op elsewhere
(the models refuse updates and deletes on every database)."""

from typing import Any

from django.db import migrations

TABLES = (
    "eucora_license_django_consumptionsnapshot",
    "eucora_license_django_evidencepack",
    "eucora_license_django_auditlog",
)

FUNCTION = """
CREATE OR REPLACE FUNCTION eucora_license_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'eucora_license: % on % refused: the table is immutable', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION eucora_license_refuse_change()"
        )


def backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS eucora_license_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("eucora_license_django", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
