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


class ModelKind(models.TextChoices):
    """What a run trains: the segmentation model (pre-labels, label review, the editor's fallback) or the
    interactive click-and-box model (the editor's assist tools; assist/interactive/). Each kind has its own
    promoted model per project."""

    SEGMENTATION = "segmentation", "Segmentation (pre-labels)"
    INTERACTIVE = "interactive", "Interactive (click and box)"


class TrainingRun(models.Model):
    """One training of a segmentation model on a frozen dataset version: what it was trained from (the version
    and its content hash, the recipe, the seed, the code), and what it saw while it trained. Its status, progress
    and error are its `job`'s (kind `training_run`); the model it produced, if any, is `TrainedModel`.

    `history` has one row per validation (epoch, step, loss, mean defect IoU, per-class IoU, detection and false
    alarm rates); `loss_curve` the training loss as [step, loss] pairs, thinned as it grows (the run page's plot).
    Files live in the run's folder under DEFECTLAB_TRAINING_DIR (`folder`)."""

    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="+")
    dataset_version = models.ForeignKey("datasets.DatasetVersion", on_delete=models.PROTECT, related_name="+")
    content_hash = models.CharField(max_length=64, help_text="The version's content hash (its manifest's sha256).")
    kind = models.CharField(max_length=20, choices=ModelKind.choices, default=ModelKind.SEGMENTATION)
    recipe = models.JSONField(
        help_text="to_dict() of the kind's recipe (assist/training/recipe.py, assist/interactive/recipe.py)."
    )
    seed = models.IntegerField(help_text="The recipe's seed (sampling, augmentation, initial weights).")
    code_version = models.CharField(max_length=100, help_text="The git commit (or package version) that trained.")
    job = models.OneToOneField("jobs.Job", on_delete=models.PROTECT, related_name="training_run")
    device = models.CharField(max_length=20, blank=True, help_text="cpu or cuda: picked by the worker at run time.")
    history = models.JSONField(default=list, blank=True, help_text="One row per validation.")
    loss_curve = models.JSONField(default=list, blank=True, help_text="[[step, training loss], ...], thinned.")
    epoch = models.PositiveIntegerField(default=0, help_text="Epochs done (0-based epoch of the last step + 1).")
    step = models.PositiveIntegerField(default=0, help_text="Steps done in the whole run, resumes included.")
    total_steps = models.PositiveIntegerField(null=True, blank=True, help_text="Known or estimated from speed.")
    eta_seconds = models.FloatField(null=True, blank=True)
    elapsed_seconds = models.FloatField(default=0.0, help_text="Training time, summed over resumes.")
    resumed_at_steps = models.JSONField(
        default=list, blank=True, help_text="The step each later attempt resumed from (its last epoch's checkpoint)."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "-id"], name="training_run_project")]

    def __str__(self) -> str:
        return f"training run {self.pk} of {self.project_id} on version {self.dataset_version_id}"


class TrainedModel(models.Model):
    """The model a training run produced, in the registry: its evaluation on the version's test split, its files
    (the best checkpoint, ONNX fp32 and int8, the decision rule as JSON) and the parity of ONNX with PyTorch.
    One model per project and kind may be promoted (a partial unique constraint): the segmentation model pre-labels,
    the interactive one answers the editor's box and clicks."""

    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="+")
    run = models.OneToOneField(TrainingRun, on_delete=models.CASCADE, related_name="trained_model")
    kind = models.CharField(max_length=20, choices=ModelKind.choices, default=ModelKind.SEGMENTATION)
    defect_classes = models.JSONField(help_text="Class names in the model's class-index order (index i + 1).")
    metrics = models.JSONField(help_text="Evaluation on the version's test split (assist/training/evaluate.py).")
    validation_metrics = models.JSONField(help_text="The best validation's metrics, which chose these weights.")
    decision = models.JSONField(help_text="DefectDecision: per-class minimum areas (px) and the score threshold.")
    parity = models.JSONField(help_text="ONNX fp32 and int8 vs PyTorch: largest probability difference, agreement.")
    files = models.JSONField(help_text="{checkpoint, onnx_fp32, onnx_int8, decision}: paths inside the run's folder.")
    is_promoted = models.BooleanField(default=False)
    promoted_at = models.DateTimeField(null=True, blank=True)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind"],
                condition=models.Q(is_promoted=True),
                name="trained_model_one_promoted_per_project_kind",
            )
        ]

    def __str__(self) -> str:
        return f"model {self.pk} (run {self.run_id}){' promoted' if self.is_promoted else ''}"


class LabelNextScore(models.Model):
    """How unsure the project's model is about an image nobody has labelled yet (assist/label_review.py): the
    "label next" ranking, highest first. One row per image, replaced by each `assist_label_next` run; a row
    whose image has been labelled since is stale and is not listed (selectors)."""

    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="+")
    image = models.OneToOneField("annotation.Image", on_delete=models.CASCADE, related_name="+")
    model_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The trained model that scored it (the registry's id)."
    )
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    score = models.FloatField(help_text="Mean normalised pixel entropy over the defect region, 0..1 (0: none).")
    mean_entropy = models.FloatField(help_text="Mean normalised pixel entropy over the image, 0..1 (tie-breaker).")
    defect_region_px = models.PositiveIntegerField(help_text="Pixels where the model gives defects a real chance.")
    predicted_defect_px = models.PositiveIntegerField(help_text="Pixels whose most probable class is a defect.")
    scored_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                "project", models.F("score").desc(), models.F("mean_entropy").desc(), "image", name="label_next_rank"
            )
        ]

    def __str__(self) -> str:
        return f"label next: image {self.image_id} at {self.score:.3f}"


class LabelErrorStatus(models.TextChoices):
    OPEN = "open", "Waiting for a senior"
    KEPT = "kept", "The label is right"
    FLAGGED = "flagged", "Sent to consensus review"


class LabelErrorScore(models.Model):
    """How strongly the project's model disagrees with an image's final annotations (assist/label_review.py):
    the label-error review queue, lowest label quality first. One row per final image, replaced by each
    `assist_label_errors` run; a senior's decision stays while the final annotations it judged stay the same."""

    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="+")
    image = models.OneToOneField("annotation.Image", on_delete=models.CASCADE, related_name="+")
    model_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The trained model that scored it (the registry's id)."
    )
    job = models.ForeignKey("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    score = models.FloatField(help_text="cleanlab's label quality, 0..1: low, the labels are probably wrong.")
    annotations = models.JSONField(
        help_text="Per final annotation, worst first: annotation_id, revision, defect_class_id, self_confidence "
        "(mean probability the model gives its class over its pixels), area_px."
    )
    prediction = models.JSONField(
        help_text="What the model drew: [{defect_class_id, geometry}] (the regions its decision rule keeps)."
    )
    unlabelled_defect_px = models.PositiveIntegerField(help_text="Surface by the labels, defect by the model.")
    disagreeing_px = models.PositiveIntegerField(help_text="Pixels whose most probable class is not their label.")
    status = models.CharField(max_length=10, choices=LabelErrorStatus.choices, default=LabelErrorStatus.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True, help_text="What the senior said when sending it to consensus review.")
    scored_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["project", "status", "score"], name="label_error_queue")]

    def __str__(self) -> str:
        return f"label error: image {self.image_id} at {self.score:.3f} ({self.status})"
