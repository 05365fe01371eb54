"""What the assist engines proposed, what inspectors did with it, and when an inspector first opened an image.

A suggestion is not an annotation: it lives here, outside `annotation`, so nothing that reads annotations (the
editor's list, QA agreement, dataset versions) can take one for work. It becomes an annotation only when an
inspector keeps it, through annotation's services, as their own work with `source` "assisted" or "model" and a
provenance naming the suggestion (`suggestion_id`).
"""

from django.conf import settings
from django.db import models


class SuggestionOrigin(models.TextChoices):
    ASSIST = "assist", "Assist tool (an inspector's box or clicks)"
    PRELABEL = "prelabel", "Pre-label (a job, no prompt)"


class Suggestion(models.Model):
    """One defect an engine proposed: geometry as the engine drew it (simplified), never changed afterwards.

    - `assist`: the answer to an inspector's prompt in the editor (`requested_by`). The editor creates the
      annotation itself (source "assisted", provenance with this `suggestion_id`); a later click in the same
      drawing replaces the answer (`is_superseded`).
    - `prelabel`: made by an `assist_prelabel` job for anyone who works on the image; each inspector accepts or
      deletes it (SuggestionDecision). A newer pre-label of the image supersedes the undecided earlier ones."""

    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="+")
    image = models.ForeignKey("annotation.Image", on_delete=models.CASCADE, related_name="+")
    defect_class = models.ForeignKey("annotation.DefectClass", on_delete=models.CASCADE, related_name="+")
    origin = models.CharField(max_length=10, choices=SuggestionOrigin.choices)
    engine = models.CharField(max_length=100, help_text="The registered engine (or model) that made it.")
    score = models.FloatField(help_text="The engine's confidence, 0..1 (not calibrated across engines).")
    prompt = models.JSONField(null=True, blank=True, help_text="assist: the prompt (Prompt.to_json); null: none.")
    geometry = models.JSONField(help_text="Polygons with holes, image px, as annotation/geometry.py.")
    rle = models.JSONField(help_text="COCO compressed RLE of the rasterised geometry (IoU with what was kept).")
    vertex_count = models.PositiveIntegerField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="assist: the inspector who drew the prompt; prelabel: who started the job.",
    )
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    is_superseded = models.BooleanField(
        default=False, help_text="Replaced before anyone decided it (a later click; a newer pre-label)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["image", "origin"], name="suggestion_image_origin"),
            models.Index(fields=["project", "origin"], name="suggestion_project_origin"),
            models.Index(fields=["job", "image"], name="suggestion_job_image"),
        ]

    def __str__(self) -> str:
        return f"{self.origin} suggestion {self.pk} ({self.engine}) on image {self.image_id}"


class DecisionKind(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Deleted"


class SuggestionDecision(models.Model):
    """An inspector's answer to a pre-label: accepted (it became `annotation`, their own work) or deleted.
    One per inspector: in dual annotation each annotator decides for their own work."""

    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="decisions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=10, choices=DecisionKind.choices)
    annotation = models.ForeignKey(
        "annotation.Annotation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The annotation an acceptance made; empty again once the inspector deleted it.",
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["suggestion", "user"], name="suggestion_decided_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user} {self.decision} suggestion {self.suggestion_id}"


class ImageVisit(models.Model):
    """When a user first opened an image in the editor to work on it: the start of "time per image" (until
    their assignment's submission), measured by the server's clock."""

    image = models.ForeignKey("annotation.Image", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["image", "user"], name="image_visit_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user} opened image {self.image_id} at {self.opened_at}"


class SamInstallation(models.Model):
    """A SAM checkpoint an admin installed with `manage.py sam_install`: verified, copied under
    DEFECTLAB_SAM_DIR, exported to ONNX and checked against PyTorch. One is active (the engine's, through
    active.json); earlier ones stay as the record of what ran when."""

    model_type = models.CharField(max_length=10, help_text="vit_t (MobileSAM), vit_b, vit_l or vit_h.")
    model_id = models.CharField(max_length=64, help_text="Model type and sha256 prefix: names caches and files.")
    sha256 = models.CharField(max_length=64)
    is_official = models.BooleanField(help_text="Byte for byte one of the official checkpoints.")
    warning = models.TextField(blank=True, help_text="Why an accepted file is not confirmed official.")
    files = models.JSONField(help_text="The stored checkpoint and its ONNX files (paths on the server).")
    report = models.JSONField(help_text="The checkpoint's verification and the export's parity report.")
    is_active = models.BooleanField(default=True)
    installed_by = models.CharField(max_length=150, help_text="Who ran the install (the shell user or admin).")
    installed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-installed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="sam_installation_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"SAM {self.model_id}{' (active)' if self.is_active else ''}"
