"""Annotation.outline: the pixel-edge outline of final annotations, stored when they are written
(annotation/outlines.py). Null on existing rows until `manage.py annotation_outlines_fill` stores them; until then
a freeze traces them, as it did before."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0005_counts_and_list_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="annotation",
            name="outline",
            field=models.TextField(
                blank=True,
                help_text="Pixel-edge outline of the RLE's mask as JSON text (annotation/outlines.py), what polygon exports write; traced when a final annotation is written. Null on work in progress: a freeze traces it.",
                null=True,
            ),
        ),
    ]
