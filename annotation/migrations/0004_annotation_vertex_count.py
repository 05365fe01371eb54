"""Annotation.vertex_count: each annotation's vertices, so the image's vertex budget is one SUM, not a parse of
every geometry on the image (docs/architecture.md, "Geometry budget")."""

from django.db import migrations, models

BATCH_SIZE = 500


def _vertex_count(geometry: object) -> int:
    """Vertices as annotation.geometry counts them (an explicitly repeated closing vertex is dropped)."""
    count = 0
    for polygon in (geometry or {}).get("polygons", []) if isinstance(geometry, dict) else []:
        for ring in [polygon.get("exterior") or [], *(polygon.get("holes") or [])]:
            closed = len(ring) >= 2 and ring[0] == ring[-1]
            count += len(ring) - closed
    return count


def vertex_counts_fill(apps, schema_editor) -> None:
    annotation_model = apps.get_model("annotation", "Annotation")
    batch = []
    for annotation in annotation_model.objects.only("pk", "geometry").iterator(chunk_size=BATCH_SIZE):
        annotation.vertex_count = _vertex_count(annotation.geometry)
        batch.append(annotation)
        if len(batch) == BATCH_SIZE:
            annotation_model.objects.bulk_update(batch, ["vertex_count"])
            batch = []
    annotation_model.objects.bulk_update(batch, ["vertex_count"])


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0003_annotation_provenance"),
    ]

    operations = [
        migrations.AddField(
            model_name="annotation",
            name="vertex_count",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Vertices of the geometry, all rings: counted against the image's geometry budget.",
            ),
        ),
        migrations.RunPython(vertex_counts_fill, migrations.RunPython.noop),
    ]
