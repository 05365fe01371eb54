"""QaStatisticsSnapshot: the QA page's statistics as last computed (qa/models.py says why)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0005_counts_and_list_indexes"),
        ("qa", "0002_reviewer_edits_and_optional_edge_case_note"),
    ]

    operations = [
        migrations.CreateModel(
            name="QaStatisticsSnapshot",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "tables",
                    models.JSONField(help_text="statistics_tables(): the rows the QA page and the CSV downloads show."),
                ),
                ("computed_at", models.DateTimeField()),
                ("compute_ms", models.FloatField(help_text="How long computing the tables took, in milliseconds.")),
                (
                    "project",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="qa_statistics_snapshot",
                        to="annotation.project",
                    ),
                ),
            ],
        ),
    ]
