"""QA statistics per annotator and per defect class, from plain rows (read by
`qa.selectors.qa_statistics_for_project`). Pure: no ORM.

Definitions (a "comparison" is one row of an agreement: a matched pair, or a defect only one annotator drew):
- agreement rate, per annotator: share of their dual-annotated images on which the two agreed;
  per class: share of comparisons involving the class that agreed.
- mean IoU: over matched pairs (in each class's measure, mask or box).
- severity agreement: share of matched same-class pairs whose severities agree (within the policy's tolerance).
- rejection rate: share of decided spot checks that were returned (per class: of images whose checked work
  had that class).
- throughput: submitted images per active day (a day with at least one submission).

Each function groups its rows once, so its cost grows with the rows (a million submissions, 50,000 agreements at
a million images), not with rows times annotators or classes.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the selector that reads the rows; imported for the type only, this module stays pure
    from qa.selectors import QaStatistics

IOU_BINS = 10  # histogram bins of width 0.1 over [0, 1]


@dataclass(frozen=True)
class AgreementRow:
    agreement_id: int
    first_annotator_id: int | None
    second_annotator_id: int | None
    is_agreed: bool
    is_image_judgement_agreed: bool
    day: date


@dataclass(frozen=True)
class MatchRow:
    agreement_id: int
    first_class_id: int | None
    second_class_id: int | None
    is_matched: bool
    iou: float
    is_agreed: bool
    reasons: Sequence[str]


@dataclass(frozen=True)
class SpotCheckRow:
    annotator_id: int | None
    is_rejected: bool
    class_ids: frozenset[int]


@dataclass(frozen=True)
class SubmissionDay:
    """How many images one annotator submitted on one day."""

    annotator_id: int
    day: date
    submissions: int


@dataclass(frozen=True)
class AnnotatorStatistics:
    annotator_id: int
    submitted_images: int
    throughput_images_per_day: float | None
    dual_images: int
    agreement_rate: float | None
    mean_iou: float | None
    severity_agreement_rate: float | None
    spot_checks: int
    rejection_rate: float | None


@dataclass(frozen=True)
class ClassStatistics:
    defect_class_id: int
    comparisons: int
    matched_pairs: int
    agreement_rate: float | None
    mean_iou: float | None
    severity_agreement_rate: float | None
    misses: int
    class_mismatches: int
    spot_checks: int
    rejection_rate: float | None
    iou_histogram: list[int]  # IOU_BINS counts of matched pairs' IoU; the last bin includes 1.0


@dataclass(frozen=True)
class DayAgreement:
    day: date
    images: int
    agreed: int

    @property
    def rate(self) -> float:
        return self.agreed / self.images


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _severity_agreed(match: MatchRow) -> bool:
    return "severity_mismatch" not in match.reasons


def _is_same_class_pair(match: MatchRow) -> bool:
    return match.is_matched and match.first_class_id == match.second_class_id


def annotator_statistics(
    *,
    annotator_ids: Iterable[int],
    agreements: Sequence[AgreementRow],
    matches: Sequence[MatchRow],
    spot_checks: Sequence[SpotCheckRow],
    submission_days: Sequence[SubmissionDay],
) -> list[AnnotatorStatistics]:
    """One row per annotator. Rows are grouped once, so the cost grows with the rows, not rows x annotators."""
    matches_of = defaultdict(list)
    for match in matches:
        matches_of[match.agreement_id].append(match)
    agreements_of = defaultdict(list)
    for agreement in agreements:
        for annotator_id in {agreement.first_annotator_id, agreement.second_annotator_id}:
            agreements_of[annotator_id].append(agreement)
    checks_of = defaultdict(list)
    for check in spot_checks:
        checks_of[check.annotator_id].append(check)
    submitted: defaultdict[int, int] = defaultdict(int)
    active_days: defaultdict[int, int] = defaultdict(int)
    for submission_day in submission_days:
        submitted[submission_day.annotator_id] += submission_day.submissions
        active_days[submission_day.annotator_id] += submission_day.submissions > 0
    rows = []
    for annotator_id in annotator_ids:
        theirs = agreements_of[annotator_id]
        pairs = [m for a in theirs for m in matches_of[a.agreement_id] if m.is_matched]
        same_class = [m for m in pairs if _is_same_class_pair(m)]
        checks = checks_of[annotator_id]
        rows.append(
            AnnotatorStatistics(
                annotator_id=annotator_id,
                submitted_images=submitted[annotator_id],
                throughput_images_per_day=_rate(submitted[annotator_id], active_days[annotator_id]),
                dual_images=len(theirs),
                agreement_rate=_rate(sum(a.is_agreed for a in theirs), len(theirs)),
                mean_iou=_mean([m.iou for m in pairs]),
                severity_agreement_rate=_rate(sum(_severity_agreed(m) for m in same_class), len(same_class)),
                spot_checks=len(checks),
                rejection_rate=_rate(sum(check.is_rejected for check in checks), len(checks)),
            )
        )
    return rows


def iou_histogram(ious: Iterable[float]) -> list[int]:
    counts = [0] * IOU_BINS
    for iou in ious:
        counts[min(int(iou * IOU_BINS), IOU_BINS - 1)] += 1
    return counts


def class_statistics(
    *, defect_class_ids: Iterable[int], matches: Sequence[MatchRow], spot_checks: Sequence[SpotCheckRow]
) -> list[ClassStatistics]:
    """One row per defect class, rows grouped once (as in annotator_statistics)."""
    involved_of = defaultdict(list)
    for match in matches:
        for class_id in {match.first_class_id, match.second_class_id} - {None}:
            involved_of[class_id].append(match)
    checks_of = defaultdict(list)
    for check in spot_checks:
        for class_id in check.class_ids:
            checks_of[class_id].append(check)
    rows = []
    for class_id in defect_class_ids:
        involved = involved_of[class_id]
        pairs = [m for m in involved if m.is_matched]
        same_class = [m for m in pairs if _is_same_class_pair(m)]
        checks = checks_of[class_id]
        rows.append(
            ClassStatistics(
                defect_class_id=class_id,
                comparisons=len(involved),
                matched_pairs=len(pairs),
                agreement_rate=_rate(sum(m.is_agreed for m in involved), len(involved)),
                mean_iou=_mean([m.iou for m in pairs]),
                severity_agreement_rate=_rate(sum(_severity_agreed(m) for m in same_class), len(same_class)),
                misses=len(involved) - len(pairs),
                class_mismatches=len(pairs) - len(same_class),
                spot_checks=len(checks),
                rejection_rate=_rate(sum(check.is_rejected for check in checks), len(checks)),
                iou_histogram=iou_histogram(m.iou for m in pairs),
            )
        )
    return rows


def agreement_by_day(agreements: Sequence[AgreementRow]) -> list[DayAgreement]:
    images: defaultdict[date, int] = defaultdict(int)
    agreed: defaultdict[date, int] = defaultdict(int)
    for agreement in agreements:
        images[agreement.day] += 1
        agreed[agreement.day] += agreement.is_agreed
    return [DayAgreement(day=day, images=images[day], agreed=agreed[day]) for day in sorted(images)]


ANNOTATOR_COLUMNS = [
    "submitted_images",
    "throughput_images_per_day",
    "dual_images",
    "agreement_rate",
    "mean_iou",
    "severity_agreement_rate",
    "spot_checks",
    "rejection_rate",
]
CLASS_COLUMNS = [
    "comparisons",
    "matched_pairs",
    "agreement_rate",
    "mean_iou",
    "severity_agreement_rate",
    "misses",
    "class_mismatches",
    "spot_checks",
    "rejection_rate",
    "iou_histogram",
]


def statistics_tables(stats: "QaStatistics") -> dict:
    """The statistics as plain JSON: the same rows the QA page and the CSV downloads show."""
    return {
        "policy_version": stats.policy.version,
        "calibration": {
            "compared_images": stats.calibration.compared_images,
            "target_images": stats.calibration.target_images,
            "is_complete": stats.calibration.is_complete,
            "image_judgement_rate": stats.image_judgement_rate,
            "image_judgement_rate_required": stats.policy.image_agreement_rate,
        },
        "annotators": [
            {"annotator": name, **{column: getattr(row, column) for column in ANNOTATOR_COLUMNS}}
            for name, row in stats.annotators
        ],
        "classes": [
            {"defect_class": name, **{column: getattr(row, column) for column in CLASS_COLUMNS}}
            for name, row in stats.classes
        ],
        "agreement_by_day": [
            {"day": day.day.isoformat(), "images": day.images, "agreed": day.agreed} for day in stats.agreement_by_day
        ],
    }
