"""Projects, their defect taxonomy, images as work items, annotations and the audit trail."""

from django.conf import settings
from django.db import models

from annotation.rules import MINIMUM_SIZE_HELP_TEXTS, MinimumSize, minimum_size_of


class Role(models.TextChoices):
    INSPECTOR = "inspector", "Inspector"
    SENIOR = "senior", "Senior annotator"
    ML_ENGINEER = "ml_engineer", "ML engineer"
    ADMIN = "admin", "Admin"


class Project(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    px_per_mm = models.FloatField(
        null=True, blank=True, help_text="Camera calibration: image pixels per millimetre on the part surface."
    )
    taxonomy_revision = models.PositiveIntegerField(default=1, help_text="Bumped on every taxonomy change.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=models.Q(px_per_mm__gt=0), name="project_px_per_mm_positive")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_one_role_per_project")]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} on {self.project}"


class GeometryKind(models.TextChoices):
    AREA = "area", "Area (pores, stains, chips)"
    LINEAR = "linear", "Linear (cracks, scratches)"


def _minimum_size_column(name: str) -> models.FloatField:
    return models.FloatField(null=True, blank=True, help_text=MINIMUM_SIZE_HELP_TEXTS[name])


class MinimumSizeColumns(models.Model):
    """One nullable float column per limit of annotation/rules.py MinimumSize (its help text comes from there).
    Written out so the type checker and migrations see them; test_minimum_size.py holds them equal to
    MINIMUM_SIZE_FIELDS."""

    min_length_px = _minimum_size_column("min_length_px")
    min_width_px = _minimum_size_column("min_width_px")
    min_height_px = _minimum_size_column("min_height_px")
    min_area_px = _minimum_size_column("min_area_px")
    min_length_mm = _minimum_size_column("min_length_mm")
    min_width_mm = _minimum_size_column("min_width_mm")
    min_height_mm = _minimum_size_column("min_height_mm")
    min_area_mm2 = _minimum_size_column("min_area_mm2")

    class Meta:
        abstract = True


class DefectClass(MinimumSizeColumns):
    """A kind of defect. Minimum sizes in px apply always; in mm only when the project is calibrated. The
    minimum-size columns (min_area_px, min_length_mm, ...) come from annotation/rules.py MinimumSize."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="defect_classes")
    name = models.CharField(max_length=80)
    color = models.CharField(max_length=7, default="#e6194b", help_text="#rrggbb")
    description = models.TextField(blank=True)
    geometry_kind = models.CharField(max_length=10, choices=GeometryKind.choices, default=GeometryKind.AREA)
    position = models.PositiveIntegerField(default=0, help_text="Order in pickers; keys 1-9 follow it.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "defect classes"
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="defect_class_name_unique_in_project")]

    def __str__(self) -> str:
        return self.name

    @property
    def minimum_size(self) -> MinimumSize:
        return minimum_size_of(self)


class SeverityLevel(models.Model):
    """Ordered grades of one defect class; rank 1 is the mildest."""

    defect_class = models.ForeignKey(DefectClass, on_delete=models.CASCADE, related_name="severity_levels")
    name = models.CharField(max_length=80)
    criterion = models.TextField(blank=True, help_text="What an inspector checks to pick this level.")
    rank = models.PositiveIntegerField()

    class Meta:
        ordering = ["defect_class", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["defect_class", "rank"], name="severity_rank_unique_in_class"),
            models.UniqueConstraint(fields=["defect_class", "name"], name="severity_name_unique_in_class"),
        ]

    def __str__(self) -> str:
        return f"{self.defect_class.name}: {self.name}"


class ImageStatus(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    FINAL = "final", "Final"


class Image(models.Model):
    """One part image: a work item. Files are content-addressed by the sha256 of the uploaded bytes."""

    # Indexed by `image_project_id` below (project, id), which also serves the project's keyset-paginated list.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="images", db_index=False)
    sha256 = models.CharField(max_length=64)
    original_filename = models.CharField(max_length=500)
    file = models.CharField(max_length=300, help_text="Storage key of the original bytes, as uploaded.")
    display_file = models.CharField(max_length=300, help_text="Storage key of the 8-bit, upright rendition.")
    thumbnail_file = models.CharField(max_length=300)
    file_size_bytes = models.BigIntegerField()
    format = models.CharField(max_length=10)
    width = models.PositiveIntegerField(help_text="Pixels, after EXIF orientation.")
    height = models.PositiveIntegerField(help_text="Pixels, after EXIF orientation.")
    bit_depth = models.PositiveSmallIntegerField()
    channels = models.PositiveSmallIntegerField()
    source_type = models.CharField(max_length=20, help_text="Pillow mode of the original: L, I;16, RGB, CMYK...")
    metadata = models.JSONField(default=dict, help_text="EXIF, colour space, acquisition time, camera.")
    acquired_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ImageStatus.choices, default=ImageStatus.NEW)
    is_defect_free = models.BooleanField(
        default=False, help_text="An explicit judgement that the image shows no defect (not an absence of labels)."
    )
    pyramid = models.JSONField(
        null=True,
        blank=True,
        help_text="Tiled pyramid of the display rendition for large images (see datasets/pyramid.py): "
        '{"tile_size": 512, "format": "jpg", "levels": [{"level", "width", "height", "columns", "rows"}, ...], '
        '"key_template": storage key with {level}, {column}, {row}}, level 0 at full resolution. '
        "Null for small images: the editor loads the display file.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["project", "sha256"], name="image_unique_content_in_project")]
        indexes = [
            models.Index(fields=["project", "id"], name="image_project_id"),  # lists, at any depth (keyset)
            models.Index(fields=["project", "status", "id"], name="image_project_status"),
        ]

    def __str__(self) -> str:
        return self.original_filename


class ImageCountChange(models.Model):
    """A change in how many of a project's images are in one status (and defect-free or not): the counts are the
    sums of these rows (image_status_counts), because a COUNT over a million images costs a page 100 ms and more.

    Rows are written by the database, not by Python: statement triggers on the image table (migration 0005) add
    the net change of every INSERT, UPDATE and DELETE, so no write path (services, bulk loads, the Django admin,
    tests' factories) can leave the counts behind, and concurrent writers only append, never wait on a shared
    counter row. counts_compact (annotation/services/counts.py, a periodic task) folds each key's rows into one."""

    project_id = models.BigIntegerField(help_text="Not a foreign key: a deleted project's images add rows as they go.")
    status = models.CharField(max_length=20, choices=ImageStatus.choices)
    is_defect_free = models.BooleanField()
    images = models.BigIntegerField(help_text="The change, + or -.")

    class Meta:
        indexes = [models.Index(fields=["project_id", "status"], name="image_count_change_project")]

    def __str__(self) -> str:
        return f"{self.images:+d} {self.status} images in project {self.project_id}"


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    RETURNED = "returned", "Returned with a comment"


class Assignment(models.Model):
    """An image given to one annotator. Dual annotation gives one image two assignments."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="assignments_given"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(
        blank=True, help_text="Why a reviewer returned the work (status returned); shown in the queue and the editor."
    )

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["image", "annotator"], name="assignment_once_per_annotator")]
        indexes = [
            models.Index(fields=["annotator", "status", "id"], name="assignment_queue"),
            # The open queue in its order (annotation/queue_selectors.py _queue_first): the next item is the first entry
            # after a point, not a sort of the annotator's whole open queue (1,800 rows each at a million images).
            models.Index(
                fields=["annotator", "id"],
                condition=models.Q(status__in=["assigned", "in_progress", "returned"]),
                name="assignment_open_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.image} -> {self.annotator}"


class AnnotationSource(models.TextChoices):
    MANUAL = "manual", "Drawn by hand"
    IMPORTED = "imported", "Imported"
    ASSISTED = "assisted", "SAM-assisted"
    MODEL = "model", "Model pre-label"


class Annotation(models.Model):
    """One defect instance. Geometry: polygons with holes in image pixel coordinates (see annotation/geometry.py).

    `is_final` marks the image's accepted answer (what dataset versions take); an annotator's own work in a dual
    annotation stays non-final and is never overwritten by adjudication.
    """

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="annotations")
    defect_class = models.ForeignKey(DefectClass, on_delete=models.PROTECT, related_name="annotations")
    severity = models.ForeignKey(SeverityLevel, on_delete=models.PROTECT, null=True, blank=True)
    geometry = models.JSONField()
    area_px = models.FloatField()
    bbox_x = models.FloatField()
    bbox_y = models.FloatField()
    bbox_width = models.FloatField()
    bbox_height = models.FloatField()
    rle = models.JSONField(help_text="COCO compressed RLE of the rasterised geometry: {size: [h, w], counts}.")
    vertex_count = models.PositiveIntegerField(
        default=0, help_text="Vertices of the geometry, all rings: counted against the image's geometry budget."
    )
    outline = models.TextField(
        null=True,
        blank=True,
        help_text="Pixel-edge outline of the RLE's mask as JSON text (annotation/outlines.py), what polygon exports "
        "write; traced when a final annotation is written. Null on work in progress: a freeze traces it.",
    )
    source = models.CharField(max_length=20, choices=AnnotationSource.choices, default=AnnotationSource.MANUAL)
    provenance = models.JSONField(
        null=True,
        blank=True,
        help_text="How an assisted or model annotation was made (engine or model id, its prompt, its score); "
        "null when drawn by hand. Set once, at creation.",
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    is_final = models.BooleanField(default=False)
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["image", "author"], name="annotation_image_author")]

    def __str__(self) -> str:
        return f"{self.defect_class.name} on {self.image_id}"


class FinalAnnotationCountChange(models.Model):
    """A change in how many final annotations a defect class has: the project page's counts per class are the sums
    of these rows. Written by triggers on the annotation table (migration 0005), like ImageCountChange, whose
    docstring says why; an autosave that changes neither the class nor finality costs its trigger one comparison."""

    defect_class_id = models.BigIntegerField(help_text="Not a foreign key, as ImageCountChange.project_id.")
    annotations = models.BigIntegerField(help_text="The change, + or -.")

    class Meta:
        indexes = [models.Index(fields=["defect_class_id"], name="final_count_change_class")]

    def __str__(self) -> str:
        return f"{self.annotations:+d} final annotations of class {self.defect_class_id}"


class ImageComment(models.Model):
    """One message in an image's discussion thread, optionally about one annotation."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    annotation = models.ForeignKey(
        Annotation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
        help_text="The defect the comment is about; the comment stays when that annotation is deleted.",
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["image", "id"], name="image_comment_thread")]

    def __str__(self) -> str:
        return f"comment {self.pk} on image {self.image_id}"


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"


class AuditEntry(models.Model):
    """Who changed which annotation or taxonomy row, when, from what to what. Append-only."""

    # Indexed by `audit_project_id` below (project, id): the newest-first list of one project, at any depth.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="audit_entries", db_index=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["project", "id"], name="audit_project_id"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id}"
