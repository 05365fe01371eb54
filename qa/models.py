"""Quality assurance state: the versioned QA policy, agreements between two annotators, adjudications, spot-check
samples and spot checks, edge cases (consensus review) and re-reviews after taxonomy changes.

Annotation rows are never written here: final annotations are made through annotation.services.reviews.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotation.models import Annotation, DefectClass, Image, Project


class QaPolicy(models.Model):
    """One version of a project's QA rules. An edit adds a version; agreements and samples keep the one they used."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="qa_policies")
    version = models.PositiveIntegerField()
    calibration_image_count = models.PositiveIntegerField(
        default=200, help_text="Images dual-annotated by two distinct annotators before spot checks start."
    )
    spot_check_rate = models.FloatField(
        default=0.10, help_text="Share (0-1) of single-annotated images a senior checks; 0.10-0.15 recommended."
    )
    dual_annotation_rate = models.FloatField(
        default=0.0, help_text="After calibration: share (0-1) of newly assigned images still given to two annotators."
    )
    mask_iou_threshold = models.FloatField(default=0.70, help_text="Segmentation masks agree at this IoU or above.")
    box_iou_threshold = models.FloatField(default=0.75, help_text="Classes measured by box agree at this IoU or above.")
    image_agreement_rate = models.FloatField(
        default=0.95,
        help_text="Share of images on which both annotators must make the same image-level judgement "
        "(which classes are present, or defect-free).",
    )
    keypoint_tolerance_px = models.FloatField(default=5.0, help_text="Keypoints agree within this distance, px.")
    severity_tolerance_ranks = models.PositiveSmallIntegerField(
        default=0, help_text="Severity ranks may differ by this much and still agree (0: the same level)."
    )
    class_rules = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per defect class id: {"measure": "mask" or "box", "iou_threshold": 0.8}; overrides the above.',
    )
    seed = models.BigIntegerField(help_text="Seed of the ongoing dual-annotation draw (keyed hash), for audits.")
    note = models.TextField(blank=True, help_text="Why this version was made.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-version"]
        verbose_name_plural = "QA policies"
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="qa_policy_version_unique"),
            models.CheckConstraint(
                condition=Q(spot_check_rate__gte=0, spot_check_rate__lte=1)
                & Q(dual_annotation_rate__gte=0, dual_annotation_rate__lte=1)
                & Q(image_agreement_rate__gte=0, image_agreement_rate__lte=1)
                & Q(mask_iou_threshold__gte=0, mask_iou_threshold__lte=1)
                & Q(box_iou_threshold__gte=0, box_iou_threshold__lte=1)
                & Q(keypoint_tolerance_px__gte=0),
                name="qa_policy_values_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"QA policy v{self.version} of {self.project}"


class AgreementPhase(models.TextChoices):
    CALIBRATION = "calibration", "Calibration"
    ONGOING = "ongoing", "Ongoing dual annotation"


class Agreement(models.Model):
    """Two annotators' work on one dual-annotated image, compared once both submitted (qa/agreement.py)."""

    image = models.OneToOneField(Image, on_delete=models.CASCADE, related_name="qa_agreement")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="qa_agreements")
    policy = models.ForeignKey(QaPolicy, on_delete=models.PROTECT, related_name="agreements")
    phase = models.CharField(max_length=20, choices=AgreementPhase.choices)
    first_annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    second_annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    is_agreed = models.BooleanField()
    is_image_judgement_agreed = models.BooleanField(help_text="Same classes present (or both defect-free).")
    reasons = models.JSONField(default=list, help_text="Codes of qa.agreement.Reason, in order of first appearance.")
    mean_iou = models.FloatField(null=True, help_text="Over matched pairs; null when nothing was matched.")
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "phase"], name="qa_agreement_project_phase")]

    def __str__(self) -> str:
        return f"agreement on {self.image_id}: {'agreed' if self.is_agreed else 'disagreed'}"


class DefectMatch(models.Model):
    """One row of an agreement: a matched pair of defects, or a defect only one annotator drew."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="matches")
    first_annotation = models.ForeignKey(Annotation, on_delete=models.SET_NULL, null=True, related_name="+")
    second_annotation = models.ForeignKey(Annotation, on_delete=models.SET_NULL, null=True, related_name="+")
    first_defect_class = models.ForeignKey(DefectClass, on_delete=models.SET_NULL, null=True, related_name="+")
    second_defect_class = models.ForeignKey(DefectClass, on_delete=models.SET_NULL, null=True, related_name="+")
    is_matched = models.BooleanField()
    measure = models.CharField(max_length=10, help_text="mask or box: what `iou` measures.")
    iou = models.FloatField(help_text="0 for a defect only one annotator drew.")
    iou_threshold = models.FloatField()
    severity_distance = models.PositiveSmallIntegerField(
        null=True, help_text="|rank A - rank B|; null when the classes differ or one severity is missing."
    )
    reasons = models.JSONField(default=list)
    is_agreed = models.BooleanField()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "defect matches"

    def __str__(self) -> str:
        return f"{self.first_annotation_id} ~ {self.second_annotation_id} (IoU {self.iou:.2f})"


class AdjudicationStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a senior"
    DECIDED = "decided", "Decided"


class AdjudicationDecision(models.TextChoices):
    FIRST = "first", "Took annotator A's work"
    SECOND = "second", "Took annotator B's work"
    PER_DEFECT = "per_defect", "Picked per defect"
    EDITED = "edited", "Edited"


class Adjudication(models.Model):
    """A senior's decision on a disagreement. A's and B's annotations stay untouched; the result is new final ones."""

    agreement = models.OneToOneField(Agreement, on_delete=models.CASCADE, related_name="adjudication")
    status = models.CharField(max_length=20, choices=AdjudicationStatus.choices, default=AdjudicationStatus.PENDING)
    decision = models.CharField(max_length=20, choices=AdjudicationDecision.choices, blank=True)
    reason = models.TextField(blank=True)
    adjudicator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    final_sources = models.JSONField(
        default=list, help_text="[{final_annotation_id, source_annotation_id, is_edited}] of the decision."
    )
    reviewer_edits = models.JSONField(
        default=list,
        help_text="Changes a reviewer made to the final annotations in the editor after the decision: "
        "[{audit_entry_id, final_annotation_id, action, changes, reviewer_id, edited_at}].",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "id"], name="qa_adjudication_queue")]

    def __str__(self) -> str:
        return f"adjudication of {self.agreement.image_id} ({self.status})"


class SpotCheckSample(models.Model):
    """One random draw. Population, rate and seed are recorded: the draw can be repeated and audited."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="spot_check_samples")
    policy = models.ForeignKey(QaPolicy, on_delete=models.PROTECT, related_name="spot_check_samples")
    seed = models.BigIntegerField()
    rate = models.FloatField()
    population_image_ids = models.JSONField(help_text="Sorted ids of the images the sample was drawn from.")
    population = models.ManyToManyField(
        Image, related_name="spot_check_samples", help_text="The same images, to keep them out of later draws."
    )
    drawn_image_ids = models.JSONField(help_text="Sorted ids drawn (qa.sampling.spot_check_draw).")
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"sample {self.pk}: {len(self.drawn_image_ids)} of {len(self.population_image_ids)}"


class SpotCheckStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a senior"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Returned to the annotator"


class SpotCheck(models.Model):
    """A senior's check of one annotator's work on a sampled image. A resubmitted rejection gets a new check."""

    sample = models.ForeignKey(SpotCheckSample, on_delete=models.CASCADE, related_name="spot_checks")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="spot_checks")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=20, choices=SpotCheckStatus.choices, default=SpotCheckStatus.PENDING)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    comment = models.TextField(blank=True, help_text="Why it was returned; shown to the annotator.")
    reviewer_edits = models.JSONField(
        default=list,
        help_text="What the reviewer changed, kept apart from the annotator's work: "
        "[{source_annotation_id, final_annotation_id, changes}]; later edits of the final annotations in the "
        "editor add {audit_entry_id, action, reviewer_id, edited_at}.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["image"], condition=Q(status="pending"), name="qa_spot_check_one_pending_per_image"
            )
        ]

    def __str__(self) -> str:
        return f"spot check of {self.image_id} ({self.status})"


class EdgeCaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    DECIDED = "decided", "Decided"


class EdgeCase(models.Model):
    """An image anyone flagged as hard to call; a senior records the decision, optionally as a class precedent."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="edge_cases")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="edge_cases")
    flagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.TextField(blank=True, help_text="What makes it hard to call (optional).")
    status = models.CharField(max_length=20, choices=EdgeCaseStatus.choices, default=EdgeCaseStatus.OPEN)
    decision = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    precedent_defect_class = models.ForeignKey(
        DefectClass,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="precedents",
        help_text="Shown with this class's description in the editor.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"edge case on {self.image_id} ({self.status})"


class ReReviewChange(models.TextChoices):
    RENAMED = "renamed", "Class renamed"
    MERGED = "merged", "Class merged into another"
    SPLIT = "split", "Class split"
    MIN_SIZE_CHANGED = "min_size_changed", "Minimum size changed"


class ReReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class ReReview(models.Model):
    """A final annotation flagged by a taxonomy change: a senior looks at it again instead of it changing silently."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="re_reviews")
    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="+")
    defect_class = models.ForeignKey(DefectClass, on_delete=models.CASCADE, related_name="+")
    change = models.CharField(max_length=20, choices=ReReviewChange.choices)
    details = models.JSONField(default=dict, help_text="Before/after of the change; size reasons for min_size_changed.")
    status = models.CharField(max_length=20, choices=ReReviewStatus.choices, default=ReReviewStatus.OPEN)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    resolution = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "status", "id"], name="qa_re_review_queue")]

    def __str__(self) -> str:
        return f"re-review of {self.annotation_id} ({self.change})"


class QaStatisticsSnapshot(models.Model):
    """The QA page's statistics tables (qa.statistics.statistics_tables) as last computed, and how long that took.

    At a million images the computation reads every agreement, defect match, spot check and the submissions per
    day: seconds. qa_statistics_refresh_task computes every project's again each
    DEFECTLAB_QA_STATISTICS_REFRESH_SECONDS; the QA page shows it, with its age, when computing took longer than
    DEFECTLAB_QA_STATISTICS_LIVE_MS, and computes the tables live otherwise (qa/selectors.py)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="qa_statistics_snapshot")
    tables = models.JSONField(help_text="statistics_tables(): the rows the QA page and the CSV downloads show.")
    computed_at = models.DateTimeField()
    compute_ms = models.FloatField(help_text="How long computing the tables took, in milliseconds.")

    def __str__(self) -> str:
        return f"QA statistics of {self.project} at {self.computed_at:%Y-%m-%d %H:%M}"
