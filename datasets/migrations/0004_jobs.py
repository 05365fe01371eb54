"""Imports and exports run as defectlab.jobs' Job rows: each ImportJob and DatasetExport gets the job that carries
its lifecycle (status, progress, error, liveness), existing rows get a job made from their old columns, and those
columns go. Versions gain the freeze job that made them."""

import django.db.models.deletion
from django.db import migrations, models

IMPORT_JOB_KIND = "images_import"  # datasets/job_kinds.py
EXPORT_JOB_KIND = "dataset_export"  # datasets/job_kinds.py


def jobs_for_existing_rows(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    ImportJob = apps.get_model("datasets", "ImportJob")
    DatasetExport = apps.get_model("datasets", "DatasetExport")
    for upload in ImportJob.objects.all():
        job = Job.objects.create(
            kind=IMPORT_JOB_KIND,
            status=upload.status,
            project_id=upload.project_id,
            created_by_id=upload.created_by_id,
            progress_done=upload.processed_files,
            progress_total=upload.total_files,
            error=upload.error,
            attempts=1 if upload.started_at else 0,
            started_at=upload.started_at,
            finished_at=upload.finished_at,
            heartbeat_at=upload.heartbeat_at or upload.created_at,
        )
        Job.objects.filter(pk=job.pk).update(created_at=upload.created_at)
        ImportJob.objects.filter(pk=upload.pk).update(job=job)
    for export in DatasetExport.objects.select_related("version"):
        job = Job.objects.create(
            kind=EXPORT_JOB_KIND,
            status=export.status,
            project_id=export.version.project_id,
            created_by_id=export.created_by_id,
            params={"version_id": export.version_id, "format": export.format, "with_images": export.with_images},
            progress_done=export.progress_done,
            progress_total=export.progress_total,
            error=export.error,
            attempts=1 if export.started_at else 0,
            started_at=export.started_at,
            finished_at=export.finished_at,
            heartbeat_at=export.queued_at or export.created_at,
        )
        Job.objects.filter(pk=job.pk).update(created_at=export.created_at)
        DatasetExport.objects.filter(pk=export.pk).update(job=job)


class Migration(migrations.Migration):
    dependencies = [
        ("datasets", "0003_import_job_heartbeat"),
        ("jobs", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="job",
            field=models.OneToOneField(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="import_job", to="jobs.job"
            ),
        ),
        migrations.AddField(
            model_name="datasetexport",
            name="job",
            field=models.OneToOneField(
                help_text="The latest build of this file.",
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="dataset_export",
                to="jobs.job",
            ),
        ),
        migrations.AddField(
            model_name="datasetversion",
            name="job",
            field=models.OneToOneField(
                blank=True,
                help_text="The freeze that made it; unique, so a freeze run again after a lost worker finds it, not a twin.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="dataset_version",
                to="jobs.job",
            ),
        ),
        migrations.RunPython(jobs_for_existing_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="importjob",
            name="job",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE, related_name="import_job", to="jobs.job"
            ),
        ),
        migrations.AlterField(
            model_name="datasetexport",
            name="job",
            field=models.OneToOneField(
                help_text="The latest build of this file.",
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="dataset_export",
                to="jobs.job",
            ),
        ),
        migrations.RemoveIndex(model_name="importjob", name="import_job_liveness"),
        migrations.RemoveField(model_name="importjob", name="status"),
        migrations.RemoveField(model_name="importjob", name="total_files"),
        migrations.RemoveField(model_name="importjob", name="processed_files"),
        migrations.RemoveField(model_name="importjob", name="error"),
        migrations.RemoveField(model_name="importjob", name="started_at"),
        migrations.RemoveField(model_name="importjob", name="finished_at"),
        migrations.RemoveField(model_name="importjob", name="heartbeat_at"),
        migrations.RemoveField(model_name="datasetexport", name="status"),
        migrations.RemoveField(model_name="datasetexport", name="progress_done"),
        migrations.RemoveField(model_name="datasetexport", name="progress_total"),
        migrations.RemoveField(model_name="datasetexport", name="error"),
        migrations.RemoveField(model_name="datasetexport", name="queued_at"),
        migrations.RemoveField(model_name="datasetexport", name="started_at"),
        migrations.RemoveField(model_name="datasetexport", name="finished_at"),
    ]
