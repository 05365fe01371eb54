"""QA reads. Lookups by id are scoped like annotation's: another project's ids raise NotFound, a role without the
QA action raises PermissionDenied (qa/permissions.py)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from annotation.models import Annotation, Assignment, DefectClass, Image, ImageStatus, Project
from annotation.selectors import defect_class_list_for_project, image_list_for_project, role_for
from defectlab.errors import NotFound
from qa import statistics
from qa.agreement import MaskDifference, image_judgement_rate, mask_difference
from qa.models import (
    Adjudication,
    AdjudicationStatus,
    Agreement,
    AgreementPhase,
    DefectMatch,
    EdgeCase,
    EdgeCaseStatus,
    QaPolicy,
    QaStatisticsSnapshot,
    ReReview,
    ReReviewStatus,
    SpotCheck,
    SpotCheckSample,
    SpotCheckStatus,
)
from qa.permissions import QaAction, qa_allows, qa_check
from qa.sampling import spot_check_draw


def qa_policy_for_project(*, project: Project) -> QaPolicy:
    """The newest version, or (before anyone saved one) an unsaved version 0 with the defaults."""
    policy = QaPolicy.objects.filter(project=project).order_by("-version").first()
    return policy or QaPolicy(project=project, version=0, seed=0)


@dataclass(frozen=True)
class CalibrationProgress:
    compared_images: int  # dual-annotated calibration images whose agreement is computed
    target_images: int

    @property
    def is_complete(self) -> bool:
        return self.compared_images >= self.target_images


def calibration_progress(*, project: Project, policy: QaPolicy) -> CalibrationProgress:
    compared = Agreement.objects.filter(project=project, phase=AgreementPhase.CALIBRATION).count()
    return CalibrationProgress(compared_images=compared, target_images=policy.calibration_image_count)


def _project_role(*, user: User, project: Project, action: QaAction, what: str) -> str:
    role = role_for(user=user, project=project)
    if role is None:
        raise NotFound(f"No such {what}.")
    qa_check(role, action)
    return role


def dual_work_for_image(
    *, image: Image, first_annotator_id: int | None, second_annotator_id: int | None
) -> tuple[list[Annotation], list[Annotation]]:
    """(A's annotations, B's annotations) on the image: their own, non-final work, with classes and severities."""
    annotations = list(
        Annotation.objects.filter(image=image, is_final=False, author_id__in=[first_annotator_id, second_annotator_id])
        .select_related("defect_class", "severity")
        .order_by("id")
    )
    first = [annotation for annotation in annotations if annotation.author_id == first_annotator_id]
    second = [annotation for annotation in annotations if annotation.author_id == second_annotator_id]
    return first, second


def annotator_work_for_image(*, image: Image, annotator_id: int | None) -> list[Annotation]:
    return list(
        Annotation.objects.filter(image=image, is_final=False, author_id=annotator_id)
        .select_related("defect_class", "severity")
        .order_by("id")
    )


# Adjudication


def adjudication_list_for_project(
    *, project: Project, status: str = AdjudicationStatus.PENDING
) -> QuerySet[Adjudication]:
    return (
        Adjudication.objects.filter(agreement__project=project, status=status)
        .select_related("agreement__image", "agreement__first_annotator", "agreement__second_annotator")
        .order_by("id")
    )


def adjudication_get_for_review(*, user: User, adjudication_id: int, lock: bool = False) -> Adjudication:
    adjudications = Adjudication.objects.select_related(
        "agreement__image__project", "agreement__first_annotator", "agreement__second_annotator"
    )
    if lock:
        adjudications = adjudications.select_for_update(of=("self",))
    adjudication = adjudications.filter(pk=adjudication_id).first()
    if adjudication is None:
        raise NotFound("No such adjudication.")
    _project_role(user=user, project=adjudication.agreement.project, action=QaAction.ADJUDICATE, what="adjudication")
    return adjudication


@dataclass(frozen=True)
class AdjudicationView:
    """What a senior needs to decide: both annotators' work, the matches, and where the masks differ."""

    adjudication: Adjudication
    first_work: list[Annotation]
    second_work: list[Annotation]
    matches: list[DefectMatch]
    difference: MaskDifference
    defect_classes: list[DefectClass]


def adjudication_view(*, adjudication: Adjudication) -> AdjudicationView:
    agreement = adjudication.agreement
    image = agreement.image
    first, second = dual_work_for_image(
        image=image,
        first_annotator_id=agreement.first_annotator_id,
        second_annotator_id=agreement.second_annotator_id,
    )
    return AdjudicationView(
        adjudication=adjudication,
        first_work=first,
        second_work=second,
        matches=list(agreement.matches.order_by("id")),
        difference=mask_difference(
            [annotation.rle for annotation in first],
            [annotation.rle for annotation in second],
            height=image.height,
            width=image.width,
        ),
        defect_classes=list(defect_class_list_for_project(project=image.project)),
    )


# Spot checks


def spot_check_population_for_project(*, project: Project) -> list[int]:
    """Submitted images with exactly one annotator, never drawn from yet and not dual-annotated."""
    return list(
        Image.objects.filter(project=project, status=ImageStatus.SUBMITTED, spot_check_samples__isnull=True)
        .annotate(annotators=Count("assignments"))
        .filter(annotators=1, qa_agreement__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )


def spot_check_list_for_project(*, project: Project, status: str = SpotCheckStatus.PENDING) -> QuerySet[SpotCheck]:
    return (
        SpotCheck.objects.filter(image__project=project, status=status)
        .select_related("image", "annotator", "reviewer")
        .order_by("id")
    )


def annotator_work_for_spot_checks(*, spot_checks: list[SpotCheck]) -> dict[tuple[int, int | None], list[Annotation]]:
    """The work under check of many spot checks in one query: {(image id, annotator id): annotations}."""
    work: defaultdict[tuple[int, int | None], list[Annotation]] = defaultdict(list)
    annotations = Annotation.objects.filter(
        image_id__in=[check.image_id for check in spot_checks],
        author_id__in=[check.annotator_id for check in spot_checks],
        is_final=False,
    ).order_by("id")
    for annotation in annotations:
        work[annotation.image_id, annotation.author_id].append(annotation)
    return work


def spot_check_get_for_review(*, user: User, spot_check_id: int, lock: bool = False) -> SpotCheck:
    spot_checks = SpotCheck.objects.select_related("image__project", "annotator")
    if lock:
        spot_checks = spot_checks.select_for_update(of=("self",))
    spot_check = spot_checks.filter(pk=spot_check_id).first()
    if spot_check is None:
        raise NotFound("No such spot check.")
    _project_role(user=user, project=spot_check.image.project, action=QaAction.SPOT_CHECK, what="spot check")
    return spot_check


def spot_check_sample_list_for_project(*, project: Project) -> QuerySet[SpotCheckSample]:
    return SpotCheckSample.objects.filter(project=project).select_related("drawn_by", "policy").order_by("-id")


def spot_check_sample_is_reproducible(sample: SpotCheckSample) -> bool:
    """Drawing again from the recorded population, rate and seed gives the recorded sample."""
    redrawn = spot_check_draw(sample.population_image_ids, rate=sample.rate, seed=sample.seed)
    return cast(bool, redrawn == sample.drawn_image_ids)


# Consensus review and re-review


def edge_case_list_for_project(
    *, user: User, role: str, project: Project, status: str | None = None
) -> QuerySet[EdgeCase]:
    """Reviewers and ML engineers see every flag; others see the ones they raised."""
    edge_cases = EdgeCase.objects.filter(project=project).select_related(
        "image", "flagged_by", "decided_by", "precedent_defect_class"
    )
    if not qa_allows(role, QaAction.VIEW_ALL_EDGE_CASES):
        edge_cases = edge_cases.filter(flagged_by=user)
    if status:
        edge_cases = edge_cases.filter(status=status)
    return edge_cases.order_by("id")


def edge_case_get_for_decision(*, user: User, edge_case_id: int, lock: bool = False) -> EdgeCase:
    edge_cases = EdgeCase.objects.select_related("project", "image")
    if lock:
        edge_cases = edge_cases.select_for_update(of=("self",))
    edge_case = edge_cases.filter(pk=edge_case_id).first()
    if edge_case is None:
        raise NotFound("No such edge case.")
    _project_role(user=user, project=edge_case.project, action=QaAction.DECIDE_EDGE_CASE, what="edge case")
    return edge_case


def precedent_list_for_project(
    *, user: User, role: str, project: Project, defect_class_id: int | None = None
) -> QuerySet[EdgeCase]:
    """Decided edge cases attached to a defect class: the editor shows them with the class's description.
    Each has `can_open_image`: whether `user` may open its image (inspectors: only images assigned to them), by
    annotation's own visibility rule."""
    visible_images = image_list_for_project(user=user, role=role, project=project).filter(pk=OuterRef("image_id"))
    precedents = (
        EdgeCase.objects.filter(project=project, status=EdgeCaseStatus.DECIDED, precedent_defect_class__isnull=False)
        .select_related("precedent_defect_class", "decided_by")
        .annotate(can_open_image=Exists(visible_images))
    )
    if defect_class_id is not None:
        precedents = precedents.filter(precedent_defect_class_id=defect_class_id)
    return precedents.order_by("precedent_defect_class__position", "precedent_defect_class__name", "-decided_at")


def re_review_list_for_project(*, project: Project, status: str | None = ReReviewStatus.OPEN) -> QuerySet[ReReview]:
    re_reviews = ReReview.objects.filter(project=project).select_related("annotation", "defect_class", "resolved_by")
    if status:
        re_reviews = re_reviews.filter(status=status)
    return re_reviews.order_by("id")


def re_review_get_for_review(*, user: User, re_review_id: int, lock: bool = False) -> ReReview:
    re_reviews = ReReview.objects.select_related("project", "annotation", "defect_class")
    if lock:
        re_reviews = re_reviews.select_for_update(of=("self",))
    re_review = re_reviews.filter(pk=re_review_id).first()
    if re_review is None:
        raise NotFound("No such re-review.")
    _project_role(user=user, project=re_review.project, action=QaAction.RE_REVIEW, what="re-review")
    return re_review


@dataclass(frozen=True)
class QueueCounts:
    adjudications: int
    spot_checks: int
    edge_cases: int
    re_reviews: int


def qa_queue_counts(*, project: Project) -> QueueCounts:
    return QueueCounts(
        adjudications=Adjudication.objects.filter(
            agreement__project=project, status=AdjudicationStatus.PENDING
        ).count(),
        # Through the sample (a few dozen rows a year), not the image: joining 19,000 pending checks to the image
        # index for their project took 200 ms at a million images.
        spot_checks=SpotCheck.objects.filter(sample__project=project, status=SpotCheckStatus.PENDING).count(),
        edge_cases=EdgeCase.objects.filter(project=project, status=EdgeCaseStatus.OPEN).count(),
        re_reviews=ReReview.objects.filter(project=project, status=ReReviewStatus.OPEN).count(),
    )


# Statistics


@dataclass(frozen=True)
class QaStatistics:
    policy: QaPolicy
    calibration: CalibrationProgress
    image_judgement_rate: float | None  # over all compared images; the policy's image_agreement_rate is the bar
    annotators: list[tuple[str, statistics.AnnotatorStatistics]]  # (username, row)
    classes: list[tuple[str, statistics.ClassStatistics]]  # (class name, row)
    agreement_by_day: list[statistics.DayAgreement]


def qa_statistics_for_project(*, project: Project) -> QaStatistics:
    """Every table and plot of the QA page, in a fixed number of queries."""
    policy = qa_policy_for_project(project=project)
    agreements = [
        statistics.AgreementRow(
            agreement_id=row["id"],
            first_annotator_id=row["first_annotator_id"],
            second_annotator_id=row["second_annotator_id"],
            is_agreed=row["is_agreed"],
            is_image_judgement_agreed=row["is_image_judgement_agreed"],
            day=timezone.localdate(row["computed_at"]),
        )
        for row in Agreement.objects.filter(project=project).values(
            "id", "first_annotator_id", "second_annotator_id", "is_agreed", "is_image_judgement_agreed", "computed_at"
        )
    ]
    matches = [
        statistics.MatchRow(
            agreement_id=row["agreement_id"],
            first_class_id=row["first_defect_class_id"],
            second_class_id=row["second_defect_class_id"],
            is_matched=row["is_matched"],
            iou=row["iou"],
            is_agreed=row["is_agreed"],
            reasons=row["reasons"],
        )
        for row in DefectMatch.objects.filter(agreement__project=project).values(
            "agreement_id",
            "first_defect_class_id",
            "second_defect_class_id",
            "is_matched",
            "iou",
            "is_agreed",
            "reasons",
        )
    ]
    decided = list(
        SpotCheck.objects.filter(image__project=project)
        .exclude(status=SpotCheckStatus.PENDING)
        .values_list("image_id", "annotator_id", "status")
    )
    classes_in_work = defaultdict(set)
    if decided:  # the checked annotators' own work on the checked images, in one join (not a list of image ids)
        checked_work = Annotation.objects.filter(
            image__project=project,
            is_final=False,
            image__spot_checks__annotator_id=F("author_id"),
            image__spot_checks__status__in=[SpotCheckStatus.ACCEPTED, SpotCheckStatus.REJECTED],
        )
        for image_id, author_id, class_id in checked_work.values_list("image_id", "author_id", "defect_class_id"):
            classes_in_work[image_id, author_id].add(class_id)
    spot_checks = [
        statistics.SpotCheckRow(
            annotator_id=annotator_id,
            is_rejected=status == SpotCheckStatus.REJECTED,
            class_ids=frozenset(classes_in_work[image_id, annotator_id]),
        )
        for image_id, annotator_id, status in decided
    ]
    # Submissions per annotator and day, counted by the database: a million submissions are a few thousand rows.
    submission_days = [
        statistics.SubmissionDay(annotator_id=row["annotator_id"], day=row["day"], submissions=row["submissions"])
        for row in Assignment.objects.filter(image__project=project, submitted_at__isnull=False)
        .annotate(day=TruncDate("submitted_at"))
        .values("annotator_id", "day")
        .annotate(submissions=Count("id"))
        .order_by()
    ]
    users = dict(
        get_user_model()
        .objects.filter(
            Q(pk__in={submission_day.annotator_id for submission_day in submission_days})
            | Q(pk__in={a.first_annotator_id for a in agreements} | {a.second_annotator_id for a in agreements})
        )
        .values_list("pk", "username")
    )
    class_names = dict(
        DefectClass.objects.filter(project=project).order_by("position", "name").values_list("pk", "name")
    )
    annotator_ids = sorted(users, key=lambda user_id: users[user_id])
    return QaStatistics(
        policy=policy,
        calibration=calibration_progress(project=project, policy=policy),
        image_judgement_rate=image_judgement_rate(agreement.is_image_judgement_agreed for agreement in agreements),
        annotators=list(
            zip(
                [users[annotator_id] for annotator_id in annotator_ids],
                statistics.annotator_statistics(
                    annotator_ids=annotator_ids,
                    agreements=agreements,
                    matches=matches,
                    spot_checks=spot_checks,
                    submission_days=submission_days,
                ),
                strict=True,
            )
        ),
        classes=list(
            zip(
                class_names.values(),
                statistics.class_statistics(defect_class_ids=class_names, matches=matches, spot_checks=spot_checks),
                strict=True,
            )
        ),
        agreement_by_day=statistics.agreement_by_day(agreements),
    )


@dataclass(frozen=True)
class StatisticsTables:
    """The statistics tables for the QA page, and when they were computed (None: for this request)."""

    tables: dict[str, Any]
    computed_at: datetime | None

    @property
    def refresh_minutes(self) -> float:
        return settings.DEFECTLAB_QA_STATISTICS_REFRESH_SECONDS / 60


def qa_statistics_tables_for_project(*, project: Project) -> StatisticsTables:
    """The QA page's statistics: computed now when that is quick (there is no stored computation, or the last one
    took under DEFECTLAB_QA_STATISTICS_LIVE_MS), else the ones qa_statistics_refresh_task last stored, with their
    time. At a million images computing them takes seconds; reading the stored ones, one row."""
    snapshot = QaStatisticsSnapshot.objects.filter(project=project).first()
    if snapshot is not None and snapshot.compute_ms >= settings.DEFECTLAB_QA_STATISTICS_LIVE_MS:
        return StatisticsTables(tables=snapshot.tables, computed_at=snapshot.computed_at)
    return StatisticsTables(
        tables=statistics.statistics_tables(qa_statistics_for_project(project=project)), computed_at=None
    )
