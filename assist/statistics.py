"""How well the assist serves inspectors, from plain rows (read by `assist.selectors.assist_statistics_for_project`).
Pure: no ORM.

Definitions. A suggestion is counted once its inspector's work on the image is settled (their assignment submitted,
or the image past submission), so a half-finished image does not count its pending edits:
- outcome, per suggestion and inspector: "unchanged" (kept as suggested: same vertices, same defect class),
  "edited" (kept, then its outline or class changed), "deleted" (not kept: deleted in the editor, a pre-label
  deleted or left undecided at submission, an assist answer the inspector cancelled or undid).
- acceptance rate: (unchanged + edited) / suggestions; unchanged rate: unchanged / suggestions.
- mean IoU: suggestion vs final geometry (rasterised masks), over the kept ones (unchanged count as 1.0).
- vertex changes: vertices added, removed or moved between suggestion and final geometry, as
  max(|final - suggested|, |suggested - final|) over the two vertex sets (a moved vertex counts once).
- per trained model (engines "model-<id>", "interactive-<id>"; retraining makes a new id, so consecutive rows are
  before and after): its suggestions, acceptance rate, and clicks per defect: the mean number of clicks
  (positive and negative) in the prompts of its kept assist answers (a box alone is 0 clicks).
- time per image: from the inspector's first opening of the image in the editor to their assignment's
  submission; "with assist" when they asked an engine or decided a pre-label on it. Spans over
  WORK_SECONDS_MAX are left out: the image waited (overnight, a return from review), nobody worked that long.
"""

import statistics as stats
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from pycocotools import mask as coco_mask

Outcome = Literal["unchanged", "edited", "deleted"]
WORK_SECONDS_MAX = 8 * 3600  # a span from opening to submission longer than this is waiting, not work


def geometry_vertices(geometry: dict) -> set[tuple[float, float]]:
    """Every vertex of every ring of `{"polygons": [{"exterior", "holes"}]}`, as a set of (x, y)."""
    vertices: set[tuple[float, float]] = set()
    for polygon in geometry.get("polygons", []):
        for ring in (polygon.get("exterior", []), *polygon.get("holes", [])):
            vertices.update((float(x), float(y)) for x, y in ring)
    return vertices


def vertex_changes(suggested: dict, final: dict) -> int:
    """Vertices added, removed or moved from `suggested` to `final` (a move is one removal plus one addition,
    counted once)."""
    before, after = geometry_vertices(suggested), geometry_vertices(final)
    return max(len(after - before), len(before - after))


def rle_iou(first: dict, second: dict) -> float:
    """IoU of two COCO compressed RLEs of the same image."""
    return float(coco_mask.iou([first], [second], [0])[0][0])


@dataclass(frozen=True)
class Comparison:
    outcome: Outcome
    iou: float | None  # None: deleted
    vertex_changes: int | None


def suggestion_compare(
    *,
    suggested_geometry: dict,
    suggested_rle: dict,
    suggested_class_id: int,
    final_geometry: dict | None,
    final_rle: dict | None,
    final_class_id: int | None,
) -> Comparison:
    """What became of one suggestion: compared with the annotation it became (None: none is left)."""
    if final_geometry is None or final_rle is None:
        return Comparison(outcome="deleted", iou=None, vertex_changes=None)
    changes = vertex_changes(suggested_geometry, final_geometry)
    iou = 1.0 if changes == 0 else rle_iou(suggested_rle, final_rle)
    is_unchanged = changes == 0 and final_class_id == suggested_class_id
    return Comparison(outcome="unchanged" if is_unchanged else "edited", iou=iou, vertex_changes=changes)


@dataclass(frozen=True)
class OutcomeRow:
    engine: str
    defect_class: str  # the suggestion's class
    origin: str  # "assist" or "prelabel"
    comparison: Comparison
    clicks: int | None = None  # assist answers: clicks in the prompt (positive + negative); None for pre-labels


@dataclass(frozen=True)
class GroupStatistics:
    suggestions: int
    unchanged: int
    edited: int
    deleted: int
    acceptance_rate: float | None
    unchanged_rate: float | None
    mean_iou: float | None
    mean_vertex_changes: float | None  # over the edited ones


GROUP_COLUMNS = list(GroupStatistics.__dataclass_fields__)


def group_statistics(rows: Sequence[OutcomeRow]) -> GroupStatistics:
    counts = {outcome: sum(row.comparison.outcome == outcome for row in rows) for outcome in ("unchanged", "edited")}
    ious = [row.comparison.iou for row in rows if row.comparison.iou is not None]
    edits = [row.comparison.vertex_changes for row in rows if row.comparison.outcome == "edited"]
    total, kept = len(rows), counts["unchanged"] + counts["edited"]
    return GroupStatistics(
        suggestions=total,
        unchanged=counts["unchanged"],
        edited=counts["edited"],
        deleted=total - kept,
        acceptance_rate=kept / total if total else None,
        unchanged_rate=counts["unchanged"] / total if total else None,
        mean_iou=stats.fmean(ious) if ious else None,
        mean_vertex_changes=stats.fmean(change for change in edits if change is not None) if edits else None,
    )


def grouped(rows: Iterable[OutcomeRow], key: Callable[[OutcomeRow], str]) -> list[tuple[str, GroupStatistics]]:
    """Statistics per value of `key`, sorted by that value."""
    groups: dict[str, list[OutcomeRow]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return [(name, group_statistics(groups[name])) for name in sorted(groups)]


MODEL_ENGINE_KINDS = {"model": "segmentation", "interactive": "interactive"}  # engine family -> model kind


@dataclass(frozen=True)
class ModelStatistics:
    engine: str
    model_id: int
    kind: str  # segmentation or interactive
    suggestions: int
    acceptance_rate: float | None
    clicks_per_defect: float | None  # over its kept assist answers; None: none kept


def model_statistics(rows: Iterable[OutcomeRow]) -> list[ModelStatistics]:
    """One row per trained model that made suggestions, by model id (older models first)."""
    groups: dict[str, list[OutcomeRow]] = defaultdict(list)
    for row in rows:
        family, _, key = row.engine.partition("-")
        if family in MODEL_ENGINE_KINDS and key.isdigit():
            groups[row.engine].append(row)
    result = []
    for engine, group in groups.items():
        family, _, key = engine.partition("-")
        kept = [row for row in group if row.comparison.outcome != "deleted"]
        clicks = [row.clicks for row in kept if row.clicks is not None]
        result.append(
            ModelStatistics(
                engine=engine,
                model_id=int(key),
                kind=MODEL_ENGINE_KINDS[family],
                suggestions=len(group),
                acceptance_rate=len(kept) / len(group),
                clicks_per_defect=stats.fmean(clicks) if clicks else None,
            )
        )
    return sorted(result, key=lambda row: (row.model_id, row.engine))


@dataclass(frozen=True)
class WorkTimeRow:
    seconds: float  # first opening to submission
    engines: frozenset[str]  # engines whose suggestions the inspector used on the image; empty: no assist


@dataclass(frozen=True)
class TimeSummary:
    images: int
    median_seconds: float | None
    mean_seconds: float | None


def time_summary(seconds: Sequence[float]) -> TimeSummary:
    kept = [value for value in seconds if 0 <= value <= WORK_SECONDS_MAX]
    return TimeSummary(
        images=len(kept),
        median_seconds=stats.median(kept) if kept else None,
        mean_seconds=stats.fmean(kept) if kept else None,
    )


@dataclass(frozen=True)
class AssistStatistics:
    classes: list[tuple[str, GroupStatistics]]
    engines: list[tuple[str, GroupStatistics]]
    time_with_assist: TimeSummary
    time_without_assist: TimeSummary
    time_by_engine: list[tuple[str, TimeSummary]]
    models: list[ModelStatistics]


def assist_statistics(outcomes: Sequence[OutcomeRow], times: Sequence[WorkTimeRow]) -> AssistStatistics:
    engines = sorted({engine for row in times for engine in row.engines})
    return AssistStatistics(
        classes=grouped(outcomes, lambda row: row.defect_class),
        engines=grouped(outcomes, lambda row: row.engine),
        time_with_assist=time_summary([row.seconds for row in times if row.engines]),
        time_without_assist=time_summary([row.seconds for row in times if not row.engines]),
        time_by_engine=[
            (engine, time_summary([row.seconds for row in times if engine in row.engines])) for engine in engines
        ],
        models=model_statistics(outcomes),
    )


def statistics_tables(result: AssistStatistics) -> dict:
    """The statistics as plain JSON: what the project page draws and the downloads hold."""
    return {
        "classes": [{"defect_class": name, **asdict(row)} for name, row in result.classes],
        "engines": [{"engine": name, **asdict(row)} for name, row in result.engines],
        "time_per_image": {
            "with_assist": asdict(result.time_with_assist),
            "without_assist": asdict(result.time_without_assist),
            "by_engine": [{"engine": name, **asdict(row)} for name, row in result.time_by_engine],
        },
        "models": [asdict(row) for row in result.models],
    }
