"""Agreement between two annotators on one image. Pure: COCO RLEs and numbers in, verdicts out; no ORM.

Conventions:
- A defect is compared by its rasterised mask: the COCO compressed RLE stored in `Annotation.rle`
  ({"size": [h, w], "counts": str}). IoUs come from pycocotools, which works on the runs without decoding.
- Classes measured by box (a per-class rule, e.g. for thin cracks) are matched and judged by box IoU; all others
  by mask IoU.
- Matching is one-to-one and optimal (Hungarian: scipy's linear_sum_assignment maximising the summed IoU) across
  classes: a matched pair with two different classes is reported as a class mismatch, not as two misses.
- Defects that do not overlap at all are never matched: each one is a miss by the other annotator.
- Two empty annotations agree: both judged the image defect-free.
- Severity ranks: 1 is the mildest. The distance of a matched same-class pair is |rank A - rank B|; two missing
  severities are distance 0, one missing severity has no distance and disagrees.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from pycocotools import mask as coco_mask
from scipy.optimize import linear_sum_assignment

MASK, BOX = "mask", "box"


class Reason(StrEnum):
    """Why a pair of defects, or an image, is a disagreement. Stored as these strings."""

    IOU_BELOW_THRESHOLD = "iou_below_threshold"
    CLASS_MISMATCH = "class_mismatch"
    SEVERITY_MISMATCH = "severity_mismatch"
    MISSED_BY_FIRST = "missed_by_first"  # only the second annotator drew it
    MISSED_BY_SECOND = "missed_by_second"  # only the first annotator drew it
    DEFECT_FREE_MISMATCH = "defect_free_mismatch"  # one judged the image defect-free, the other did not


@dataclass(frozen=True)
class Defect:
    key: int  # the annotation id
    defect_class_id: int
    rle: Mapping  # COCO compressed RLE of the whole image
    bbox: tuple[float, float, float, float]  # x, y, width, height in px (COCO pixel-extent box)
    severity_rank: int | None = None


@dataclass(frozen=True)
class ClassRule:
    measure: str = MASK
    iou_threshold: float | None = None  # None: the rules' threshold for the measure


@dataclass(frozen=True)
class AgreementRules:
    mask_iou_threshold: float = 0.70
    box_iou_threshold: float = 0.75
    severity_tolerance_ranks: int = 0
    class_rules: Mapping[int, ClassRule] = field(default_factory=dict)

    def rule_for(self, defect_class_id: int) -> tuple[str, float]:
        """(measure, IoU threshold) of a defect class."""
        rule = self.class_rules.get(defect_class_id, ClassRule())
        default = self.box_iou_threshold if rule.measure == BOX else self.mask_iou_threshold
        return rule.measure, default if rule.iou_threshold is None else rule.iou_threshold


@dataclass(frozen=True)
class DefectMatch:
    """A matched pair (both keys set) or a defect only one annotator drew (one key is None, iou 0)."""

    first_key: int | None
    second_key: int | None
    first_class_id: int | None
    second_class_id: int | None
    measure: str
    iou: float
    iou_threshold: float
    severity_distance: int | None
    reasons: tuple[Reason, ...]

    @property
    def is_matched(self) -> bool:
        return self.first_key is not None and self.second_key is not None

    @property
    def is_agreed(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class ImageAgreement:
    matches: tuple[DefectMatch, ...]  # matched pairs in the first annotator's order, then misses
    is_image_judgement_agreed: bool  # the same set of classes present (the empty set: defect-free)
    reasons: tuple[Reason, ...]  # each reason once, in order of first appearance

    @property
    def is_agreed(self) -> bool:
        return not self.reasons

    @property
    def mean_iou(self) -> float | None:
        ious = [match.iou for match in self.matches if match.is_matched]
        return float(np.mean(ious)) if ious else None


def _iou_matrix(first: Sequence[Defect], second: Sequence[Defect]) -> tuple[np.ndarray, np.ndarray]:
    """(mask IoU, box IoU), each len(first) x len(second)."""
    shape = (len(first), len(second))
    if not first or not second:
        return np.zeros(shape), np.zeros(shape)
    not_crowd = [0] * len(second)
    masks = np.asarray(coco_mask.iou([d.rle for d in first], [d.rle for d in second], not_crowd)).reshape(shape)
    boxes = np.asarray(
        coco_mask.iou([list(d.bbox) for d in first], [list(d.bbox) for d in second], not_crowd), dtype=np.float64
    ).reshape(shape)
    return masks, boxes


def _severity(first: Defect, second: Defect, tolerance_ranks: int) -> tuple[int | None, bool]:
    """(distance, agrees) of a matched same-class pair."""
    if first.severity_rank is None and second.severity_rank is None:
        return 0, True
    if first.severity_rank is None or second.severity_rank is None:
        return None, False
    distance = abs(first.severity_rank - second.severity_rank)
    return distance, distance <= tolerance_ranks


def _pair(first: Defect, second: Defect, mask_iou: float, box_iou: float, rules: AgreementRules) -> DefectMatch:
    measure, threshold = rules.rule_for(first.defect_class_id)
    if first.defect_class_id != second.defect_class_id and rules.rule_for(second.defect_class_id)[0] != measure:
        measure, threshold = MASK, rules.mask_iou_threshold  # two classes measured differently: fall back to masks
    iou = box_iou if measure == BOX else mask_iou
    reasons: list[Reason] = []
    if iou < threshold:
        reasons.append(Reason.IOU_BELOW_THRESHOLD)
    distance = None
    if first.defect_class_id != second.defect_class_id:
        reasons.append(Reason.CLASS_MISMATCH)
    else:
        distance, severity_agrees = _severity(first, second, rules.severity_tolerance_ranks)
        if not severity_agrees:
            reasons.append(Reason.SEVERITY_MISMATCH)
    return DefectMatch(
        first_key=first.key,
        second_key=second.key,
        first_class_id=first.defect_class_id,
        second_class_id=second.defect_class_id,
        measure=measure,
        iou=float(iou),
        iou_threshold=threshold,
        severity_distance=distance,
        reasons=tuple(reasons),
    )


def _miss(defect: Defect, *, drawn_by_first: bool, rules: AgreementRules) -> DefectMatch:
    measure, threshold = rules.rule_for(defect.defect_class_id)
    return DefectMatch(
        first_key=defect.key if drawn_by_first else None,
        second_key=None if drawn_by_first else defect.key,
        first_class_id=defect.defect_class_id if drawn_by_first else None,
        second_class_id=None if drawn_by_first else defect.defect_class_id,
        measure=measure,
        iou=0.0,
        iou_threshold=threshold,
        severity_distance=None,
        reasons=(Reason.MISSED_BY_SECOND if drawn_by_first else Reason.MISSED_BY_FIRST,),
    )


def image_agreement(
    first: Sequence[Defect], second: Sequence[Defect], rules: AgreementRules | None = None
) -> ImageAgreement:
    """Compare two annotators' defects on one image (see the module's conventions)."""
    rules = rules or AgreementRules()
    mask_iou, box_iou = _iou_matrix(first, second)
    by_box = np.array(
        [
            [rules.rule_for(a.defect_class_id)[0] == BOX == rules.rule_for(b.defect_class_id)[0] for b in second]
            for a in first
        ],
        dtype=bool,
    ).reshape(mask_iou.shape)
    score = np.where(by_box, box_iou, mask_iou)
    pairs: dict[int, int] = {}
    if score.size:
        rows, columns = linear_sum_assignment(score, maximize=True)
        pairs = {int(row): int(column) for row, column in zip(rows, columns, strict=True) if score[row, column] > 0}
    matched_second = set(pairs.values())
    matches = [
        _pair(first[row], second[column], mask_iou[row, column], box_iou[row, column], rules)
        for row, column in sorted(pairs.items())
    ]
    matches += [_miss(defect, drawn_by_first=True, rules=rules) for row, defect in enumerate(first) if row not in pairs]
    matches += [
        _miss(defect, drawn_by_first=False, rules=rules)
        for column, defect in enumerate(second)
        if column not in matched_second
    ]
    classes_first = {defect.defect_class_id for defect in first}
    classes_second = {defect.defect_class_id for defect in second}
    reasons = [reason for match in matches for reason in match.reasons]
    if bool(first) != bool(second):
        reasons.insert(0, Reason.DEFECT_FREE_MISMATCH)
    return ImageAgreement(
        matches=tuple(matches),
        is_image_judgement_agreed=classes_first == classes_second,
        reasons=tuple(dict.fromkeys(reasons)),
    )


def images_agreement(
    pairs: Iterable[tuple[Sequence[Defect], Sequence[Defect]]], rules: AgreementRules | None = None
) -> list[ImageAgreement]:
    """A batch of image pairs under the same rules (recomputing a project, the benchmark)."""
    rules = rules or AgreementRules()
    return [image_agreement(first, second, rules) for first, second in pairs]


def image_judgement_rate(agreements: Iterable[ImageAgreement | bool]) -> float | None:
    """Share of images on which both made the same image-level judgement; None for no images."""
    verdicts = [item if isinstance(item, bool) else item.is_image_judgement_agreed for item in agreements]
    return sum(verdicts) / len(verdicts) if verdicts else None


@dataclass(frozen=True)
class MaskDifference:
    """Where two annotators' masks differ, as uncompressed COCO runs (column-major, starting with background)."""

    height: int
    width: int
    only_first: list[int]
    only_second: list[int]
    both: list[int]


def rle_counts(rle: Mapping) -> list[int]:
    """The run lengths of a COCO compressed RLE (pycocotools' rleFrString, in Python: runs are few)."""
    text, position = rle["counts"], 0
    counts: list[int] = []
    if isinstance(text, bytes):
        text = text.decode("ascii")
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            chunk = ord(text[position]) - 48
            value |= (chunk & 0x1F) << shift
            more = bool(chunk & 0x20)
            position, shift = position + 1, shift + 5
            if not more and chunk & 0x10:
                value |= -1 << shift
        if len(counts) > 2:
            value += counts[-2]  # runs after the second are stored as the difference to two runs back
        counts.append(value)
    return counts


def _compressed(counts: list[int], *, height: int, width: int) -> dict:
    return coco_mask.frPyObjects({"size": [height, width], "counts": counts}, height, width)


def _complement(counts: list[int]) -> list[int]:
    """Swap background and foreground: the first run must stay a background run."""
    return counts[1:] if counts and counts[0] == 0 else [0, *counts]


def mask_difference(first: Sequence[Mapping], second: Sequence[Mapping], *, height: int, width: int) -> MaskDifference:
    """Pixels only in the first annotator's union of masks, only in the second's, and in both. Worked out on the
    runs, never on a decoded mask, so a 16k x 12k line scan costs what its defects cost."""

    def union(rles: Sequence[Mapping]) -> dict:
        if not rles:
            return _compressed([height * width], height=height, width=width)
        return coco_mask.merge([dict(rle) for rle in rles], intersect=False)

    def intersection(*rles: dict) -> list[int]:
        return rle_counts(coco_mask.merge(list(rles), intersect=True))

    a, b = union(first), union(second)
    not_a = _compressed(_complement(rle_counts(a)), height=height, width=width)
    not_b = _compressed(_complement(rle_counts(b)), height=height, width=width)
    return MaskDifference(
        height=height,
        width=width,
        only_first=intersection(a, not_b),
        only_second=intersection(b, not_a),
        both=intersection(a, b),
    )


@dataclass(frozen=True)
class KeypointAgreement:
    pairs: tuple[tuple[int, int, float], ...]  # (first index, second index, distance px), matched within tolerance
    only_first: tuple[int, ...]
    only_second: tuple[int, ...]

    @property
    def is_agreed(self) -> bool:
        return not self.only_first and not self.only_second


def keypoint_agreement(first: np.ndarray, second: np.ndarray, *, tolerance_px: float = 5.0) -> KeypointAgreement:
    """Match two sets of (x, y) points one-to-one by least total distance; pairs further apart than
    `tolerance_px` are not matched. (No annotation kind stores keypoints yet; the policy's threshold is ready.)"""
    first = np.asarray(first, dtype=np.float64).reshape(-1, 2)
    second = np.asarray(second, dtype=np.float64).reshape(-1, 2)
    pairs: list[tuple[int, int, float]] = []
    if len(first) and len(second):
        distances = np.linalg.norm(first[:, None, :] - second[None, :, :], axis=2)
        # Pairs beyond the tolerance cost more than any allowed set of pairs, so they are only taken when no
        # allowed pair is left; they are then dropped.
        cost = np.where(distances <= tolerance_px, distances, distances.size * (tolerance_px + 1) + 1)
        for row, column in zip(*linear_sum_assignment(cost), strict=True):
            if distances[row, column] <= tolerance_px:
                pairs.append((int(row), int(column), float(distances[row, column])))
    matched_first = {row for row, _, _ in pairs}
    matched_second = {column for _, column, _ in pairs}
    return KeypointAgreement(
        pairs=tuple(pairs),
        only_first=tuple(index for index in range(len(first)) if index not in matched_first),
        only_second=tuple(index for index in range(len(second)) if index not in matched_second),
    )
