"""Counts that stay fast at a million images, and the indexes of the project's keyset lists.

- ImageCountChange and FinalAnnotationCountChange: rows of changes whose sums are the project page's counts (per
  status, defect-free, final annotations per class), written by the triggers made here (PostgreSQL: one row
  per statement and key, from its transition tables; SQLite: one per row) and filled with today's counts. The
  triggers lock the image and annotation tables against writes until this migration commits, so the filled
  counts and the first changes the triggers add fit together.
- (project, id) on images and audit entries: the keyset lists of one project, newest or oldest first, at any
  depth; they replace the foreign keys' own one-column indexes, which they also serve.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

POSTGRESQL_FORWARD = """
CREATE FUNCTION annotation_image_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO annotation_imagecountchange (project_id, status, is_defect_free, images)
        SELECT project_id, status, is_defect_free, count(*) FROM new_rows GROUP BY 1, 2, 3;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO annotation_imagecountchange (project_id, status, is_defect_free, images)
        SELECT project_id, status, is_defect_free, -count(*) FROM old_rows GROUP BY 1, 2, 3;
    ELSE
        INSERT INTO annotation_imagecountchange (project_id, status, is_defect_free, images)
        SELECT project_id, status, is_defect_free, sum(images) FROM (
            SELECT project_id, status, is_defect_free, -1 AS images FROM old_rows
            UNION ALL
            SELECT project_id, status, is_defect_free, 1 FROM new_rows
        ) AS changes
        GROUP BY 1, 2, 3 HAVING sum(images) <> 0;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER annotation_image_count_insert AFTER INSERT ON annotation_image
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION annotation_image_count_change();
CREATE TRIGGER annotation_image_count_update AFTER UPDATE ON annotation_image
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION annotation_image_count_change();
CREATE TRIGGER annotation_image_count_delete AFTER DELETE ON annotation_image
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION annotation_image_count_change();

CREATE FUNCTION annotation_final_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN  -- an update that changed finality or the class (the trigger's WHEN)
        INSERT INTO annotation_finalannotationcountchange (defect_class_id, annotations)
        SELECT OLD.defect_class_id, -1 WHERE OLD.is_final
        UNION ALL
        SELECT NEW.defect_class_id, 1 WHERE NEW.is_final;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO annotation_finalannotationcountchange (defect_class_id, annotations)
        SELECT defect_class_id, count(*) FROM new_rows WHERE is_final GROUP BY 1;
    ELSE
        INSERT INTO annotation_finalannotationcountchange (defect_class_id, annotations)
        SELECT defect_class_id, -count(*) FROM old_rows WHERE is_final GROUP BY 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER annotation_final_count_insert AFTER INSERT ON annotation_annotation
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION annotation_final_count_change();
CREATE TRIGGER annotation_final_count_delete AFTER DELETE ON annotation_annotation
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION annotation_final_count_change();
-- A row trigger: autosaves update one row at a time, and for them the WHEN below is the whole cost.
CREATE TRIGGER annotation_final_count_update AFTER UPDATE OF is_final, defect_class_id ON annotation_annotation
    FOR EACH ROW
    WHEN (OLD.is_final IS DISTINCT FROM NEW.is_final OR OLD.defect_class_id IS DISTINCT FROM NEW.defect_class_id)
    EXECUTE FUNCTION annotation_final_count_change();
"""
POSTGRESQL_BACKWARD = """
DROP TRIGGER annotation_image_count_insert ON annotation_image;
DROP TRIGGER annotation_image_count_update ON annotation_image;
DROP TRIGGER annotation_image_count_delete ON annotation_image;
DROP FUNCTION annotation_image_count_change();
DROP TRIGGER annotation_final_count_insert ON annotation_annotation;
DROP TRIGGER annotation_final_count_delete ON annotation_annotation;
DROP TRIGGER annotation_final_count_update ON annotation_annotation;
DROP FUNCTION annotation_final_count_change();
"""
# SQLite has row triggers only (and runs one statement per execute()).
SQLITE_FORWARD = [
    """CREATE TRIGGER annotation_image_count_insert AFTER INSERT ON annotation_image BEGIN
        INSERT INTO annotation_imagecountchange (project_id, status, is_defect_free, images)
        VALUES (NEW.project_id, NEW.status, NEW.is_defect_free, 1);
    END""",
    """CREATE TRIGGER annotation_image_count_update AFTER UPDATE OF status, is_defect_free ON annotation_image
    WHEN OLD.status IS NOT NEW.status OR OLD.is_defect_free IS NOT NEW.is_defect_free BEGIN
        INSERT INTO annotation_imagecountchange (project_id, status, is_defect_free, images)
        VALUES (OLD.project_id, OLD.status, OLD.is_defect_free, -1),
               (NEW.project_id, NEW.status, NEW.is_defect_free, 1);
    END""",
    """CREATE TRIGGER annotation_image_count_delete AFTER DELETE ON annotation_image BEGIN
        INSERT INTO annotation_imagecountchange (project_id, status, is_defect_free, images)
        VALUES (OLD.project_id, OLD.status, OLD.is_defect_free, -1);
    END""",
    """CREATE TRIGGER annotation_final_count_insert AFTER INSERT ON annotation_annotation WHEN NEW.is_final BEGIN
        INSERT INTO annotation_finalannotationcountchange (defect_class_id, annotations)
        VALUES (NEW.defect_class_id, 1);
    END""",
    """CREATE TRIGGER annotation_final_count_delete AFTER DELETE ON annotation_annotation WHEN OLD.is_final BEGIN
        INSERT INTO annotation_finalannotationcountchange (defect_class_id, annotations)
        VALUES (OLD.defect_class_id, -1);
    END""",
    """CREATE TRIGGER annotation_final_count_update AFTER UPDATE OF is_final, defect_class_id ON annotation_annotation
    WHEN OLD.is_final IS NOT NEW.is_final OR OLD.defect_class_id IS NOT NEW.defect_class_id BEGIN
        INSERT INTO annotation_finalannotationcountchange (defect_class_id, annotations)
        SELECT OLD.defect_class_id, -1 WHERE OLD.is_final
        UNION ALL
        SELECT NEW.defect_class_id, 1 WHERE NEW.is_final;
    END""",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER {name}"
    for name in (
        "annotation_image_count_insert",
        "annotation_image_count_update",
        "annotation_image_count_delete",
        "annotation_final_count_insert",
        "annotation_final_count_delete",
        "annotation_final_count_update",
    )
]
COUNTS_FILL = [
    """INSERT INTO annotation_imagecountchange (project_id, status, is_defect_free, images)
    SELECT project_id, status, is_defect_free, count(*) FROM annotation_image GROUP BY 1, 2, 3""",
    """INSERT INTO annotation_finalannotationcountchange (defect_class_id, annotations)
    SELECT defect_class_id, count(*) FROM annotation_annotation WHERE is_final GROUP BY 1""",
]


def count_triggers_create(apps, schema_editor) -> None:
    statements = [POSTGRESQL_FORWARD] if schema_editor.connection.vendor == "postgresql" else SQLITE_FORWARD
    for statement in [*statements, *COUNTS_FILL]:  # triggers first: they hold writers off until the commit
        schema_editor.execute(statement)


def count_triggers_drop(apps, schema_editor) -> None:
    statements = [POSTGRESQL_BACKWARD] if schema_editor.connection.vendor == "postgresql" else SQLITE_BACKWARD
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0004_annotation_vertex_count"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FinalAnnotationCountChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "defect_class_id",
                    models.BigIntegerField(help_text="Not a foreign key, as ImageCountChange.project_id."),
                ),
                ("annotations", models.BigIntegerField(help_text="The change, + or -.")),
            ],
        ),
        migrations.CreateModel(
            name="ImageCountChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "project_id",
                    models.BigIntegerField(
                        help_text="Not a foreign key: a deleted project's images add rows as they go."
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("new", "New"),
                            ("assigned", "Assigned"),
                            ("in_progress", "In progress"),
                            ("submitted", "Submitted"),
                            ("in_review", "In review"),
                            ("final", "Final"),
                        ],
                        max_length=20,
                    ),
                ),
                ("is_defect_free", models.BooleanField()),
                ("images", models.BigIntegerField(help_text="The change, + or -.")),
            ],
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["project", "id"], name="audit_project_id"),
        ),
        migrations.AddIndex(
            model_name="image",
            index=models.Index(fields=["project", "id"], name="image_project_id"),
        ),
        migrations.AddIndex(
            model_name="finalannotationcountchange",
            index=models.Index(fields=["defect_class_id"], name="final_count_change_class"),
        ),
        migrations.AddIndex(
            model_name="imagecountchange",
            index=models.Index(fields=["project_id", "status"], name="image_count_change_project"),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="audit_entries",
                to="annotation.project",
            ),
        ),
        migrations.AlterField(
            model_name="image",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="images",
                to="annotation.project",
            ),
        ),
        migrations.RunPython(count_triggers_create, count_triggers_drop),
    ]
