"""Uploads, frozen dataset versions and their exports; their jobs are defectlab.jobs' Job rows."""

from django.conf import settings
from django.db import models

from annotation.models import Project
from defectlab.jobs.models import Job


class ImportJob(models.Model):
    """One upload (files or zips) being turned into images. Its lifecycle (status, progress over files, error,
    liveness) is its `job`'s; the counts and the per-file rejections, with their reasons, are kept here."""

    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="import_job")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    with_masks = models.BooleanField(default=False)
    staged_files = models.JSONField(default=list, help_text="[{key, filename}] in storage, removed when done.")
    imported_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    annotation_count = models.PositiveIntegerField(default=0)
    rejected = models.JSONField(default=list, help_text="[{filename, reason}]")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"import {self.pk}"


class LineKind(models.TextChoices):
    """What the inspected line is for; it sets the defect-free : defective guidance in the balance report."""

    SAFETY_CRITICAL = "safety_critical", "Safety-critical (automotive, aerospace)"
    COSMETIC = "cosmetic", "Cosmetic"


class DatasetVersion(models.Model):
    """A frozen, immutable selection of a project's images and annotations with its split.

    The frozen content lives in a manifest (JSON lines, see datasets/manifest.py) stored under its own sha256,
    which is the version's `content_hash`: the same project state, filter, seed and split ratios give the same
    hash, whatever the version is called or when it was made. Exports read the manifest, never the live tables,
    so later edits cannot change what a version contains. Nothing here is updated after creation.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="dataset_versions")
    number = models.PositiveIntegerField(help_text="1, 2, 3... within the project, in order of creation.")
    name = models.CharField(max_length=100)
    previous = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="Diffed against."
    )
    filter = models.JSONField(
        help_text="{defect_classes: [names] or null for all, image_statuses: [...], final_annotations_only, "
        "include_defect_free}"
    )
    seed = models.IntegerField(default=0, help_text="Seeds the split; the same seed gives the same split.")
    split_ratios = models.JSONField(help_text='{"train": 0.7, "val": 0.15, "test": 0.15}')
    line_kind = models.CharField(max_length=20, choices=LineKind.choices, default=LineKind.SAFETY_CRITICAL)
    content_hash = models.CharField(max_length=64, db_index=True, help_text="sha256 of the manifest.")
    manifest_key = models.CharField(max_length=300, help_text="Storage key of the manifest (content-addressed).")
    manifest_size_bytes = models.BigIntegerField()
    taxonomy = models.JSONField(help_text="The taxonomy when frozen: {taxonomy_revision, defect_classes: [...]}.")
    counts = models.JSONField(help_text="Images and annotations per split and per defect class (datasets/manifest).")
    diff = models.JSONField(null=True, blank=True, help_text="Against `previous`: added, removed, changed.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    job = models.OneToOneField(
        Job,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dataset_version",
        help_text="The freeze that made it; unique, so a freeze run again after a lost worker finds it, not a twin.",
    )

    class Meta:
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="dataset_version_name_unique_in_project"),
            models.UniqueConstraint(fields=["project", "number"], name="dataset_version_number_unique_in_project"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.name}"


class DatasetExport(models.Model):
    """One export file of a version in one format: built once by a worker, then served from the cache.

    The file is stored under its sha256 only once it is complete, so a half-written zip is never served. Each
    build is a job (`job`: the latest build's, which says whether the file is being built, built, or failed)."""

    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="exports")
    job = models.OneToOneField(
        Job,
        # RESTRICT, not PROTECT: deleting the project deletes both the job and the export, and that is allowed.
        on_delete=models.RESTRICT,
        related_name="dataset_export",
        help_text="The latest build of this file.",
    )
    format = models.CharField(max_length=20, help_text="An exporter name in datasets/exporters/registry.py.")
    format_version = models.CharField(max_length=20, help_text="The exporter's version that built (builds) the file.")
    with_images = models.BooleanField(default=False)
    sha256 = models.CharField(max_length=64, blank=True)
    file_key = models.CharField(max_length=300, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "format", "with_images"], name="dataset_export_once_per_version_and_format"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.format}{' with images' if self.with_images else ''}"
