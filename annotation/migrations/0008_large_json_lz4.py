"""Large values compressed with LZ4 instead of PostgreSQL's default pglz, where the server has it (PostgreSQL 14+
built with lz4, as Debian's and the postgres image are). An annotation's geometry and RLE and an audit entry's
snapshots are TOASTed on every autosave; for the worst save the budget allows (440 KB of geometry) pglz spent
about 25 ms per copy compressing, LZ4 a third of that, and reading them back is faster too. Only values written
from now on are compressed the new way; old ones stay readable as they are."""

from django.db import migrations

COLUMNS = [
    ("annotation_annotation", "geometry"),
    ("annotation_annotation", "rle"),
    ("annotation_annotation", "outline"),
    ("annotation_auditentry", "before"),
    ("annotation_auditentry", "after"),
]


def _compression_set(schema_editor, method: str) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'", [method])
        row = cursor.fetchone()
        if not row or not row[0]:
            return  # a server built without lz4: pglz stays
        for table, column in COLUMNS:
            cursor.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET COMPRESSION {method}')


def forward(apps, schema_editor) -> None:
    _compression_set(schema_editor, "lz4")


def backward(apps, schema_editor) -> None:
    _compression_set(schema_editor, "pglz")


class Migration(migrations.Migration):
    dependencies = [("annotation", "0007_assignment_open_queue")]

    operations = [migrations.RunPython(forward, backward)]
