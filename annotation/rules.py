"""Minimum-size rules of the defect taxonomy, checked against measured sizes. Pure: no ORM.

`MinimumSize` is the one declaration of a defect class's minimum-size fields: the DefectClass columns, the API's
input and output fields, audit snapshots, the Django admin and dataset versions' taxonomy are all made from it,
so adding or renaming a limit is a change here (and in the checks below) plus a migration. The editor's copy of
the checks (frontend/src/model/rules.ts) takes the names from the generated OpenAPI types."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from annotation.geometry import Measurement


def _limit(dimension: str, unit: str, help_text: str = "") -> Any:
    return field(default=None, metadata={"dimension": dimension, "unit": unit, "help_text": help_text})


@dataclass(frozen=True)
class MinimumSize:
    """The smallest defect worth labelling, as its class declares it; None: no limit. px limits always apply;
    mm limits only once the project is calibrated (px_per_mm).

    Linear defects (cracks) are held to a length; area defects to an oriented size (width x height in either
    orientation) and an area."""

    min_length_px: float | None = _limit("length", "px", "Linear defects: shortest length kept.")
    min_width_px: float | None = _limit("width", "px", "Area defects: smallest width kept.")
    min_height_px: float | None = _limit("height", "px", "Area defects: smallest height kept.")
    min_area_px: float | None = _limit("area", "px²", "Area defects: smallest area kept, px².")
    min_length_mm: float | None = _limit("length", "mm")
    min_width_mm: float | None = _limit("width", "mm")
    min_height_mm: float | None = _limit("height", "mm")
    min_area_mm2: float | None = _limit("area", "mm²")

    @property
    def has_mm_limits(self) -> bool:
        """Whether a new calibration changes what this minimum means in pixels."""
        return any(getattr(self, name) is not None for name in MINIMUM_SIZE_MM_FIELDS)

    def in_words(self) -> list[str]:
        """The limits that are set, e.g. ["area ≥ 50 px²", "length ≥ 1.5 mm"] (the editor says the same)."""
        return [
            f"{limit.metadata['dimension']} ≥ {value:g} {limit.metadata['unit']}"
            for limit in fields(self)
            if (value := getattr(self, limit.name)) is not None
        ]


MINIMUM_SIZE_FIELDS: tuple[str, ...] = tuple(limit.name for limit in fields(MinimumSize))
MINIMUM_SIZE_PX_FIELDS: tuple[str, ...] = tuple(
    limit.name for limit in fields(MinimumSize) if limit.metadata["unit"].startswith("px")
)
MINIMUM_SIZE_MM_FIELDS: tuple[str, ...] = tuple(
    limit.name for limit in fields(MinimumSize) if limit.metadata["unit"].startswith("mm")
)
MINIMUM_SIZE_HELP_TEXTS: dict[str, str] = {limit.name: limit.metadata["help_text"] for limit in fields(MinimumSize)}


def minimum_size_of(defect_class: object) -> MinimumSize:
    """The minimum size a DefectClass (or anything with the same attributes) declares."""
    return MinimumSize(**{name: getattr(defect_class, name) for name in MINIMUM_SIZE_FIELDS})


@dataclass(frozen=True, kw_only=True)
class MinSizeRule(MinimumSize):
    """A minimum size with the class's geometry kind: what the checks below need."""

    is_linear: bool


def _px(value_mm: float | None, px_per_mm: float | None) -> float | None:
    return None if value_mm is None or not px_per_mm else value_mm * px_per_mm


def _describe(value_px: float, px_per_mm: float | None, *, square: bool = False) -> str:
    unit = "px²" if square else "px"
    if not px_per_mm:
        return f"{value_px:g} {unit}"
    value_mm = value_px / (px_per_mm**2 if square else px_per_mm)
    return f"{value_px:g} {unit} ({value_mm:.3g} {'mm²' if square else 'mm'})"


def min_size_violations(rule: MinSizeRule, measurement: Measurement, *, px_per_mm: float | None) -> list[str]:
    """Human-readable reasons the defect is below the rule; empty when it passes."""
    reasons = []
    if rule.is_linear:
        for limit in (rule.min_length_px, _px(rule.min_length_mm, px_per_mm)):
            if limit is not None and measurement.length_px < limit:
                reasons.append(
                    f"length {_describe(measurement.length_px, px_per_mm)} is below the minimum "
                    f"{_describe(limit, px_per_mm)}"
                )
        return reasons
    for min_width, min_height in (
        (rule.min_width_px, rule.min_height_px),
        (_px(rule.min_width_mm, px_per_mm), _px(rule.min_height_mm, px_per_mm)),
    ):
        if min_width is None and min_height is None:
            continue
        limits = sorted(limit for limit in (min_width or 0.0, min_height or 0.0))
        if measurement.width_px < limits[0] or measurement.length_px < limits[1]:
            reasons.append(
                f"size {_describe(measurement.width_px, px_per_mm)} x {_describe(measurement.length_px, px_per_mm)} "
                f"is below the minimum {_describe(min_width or 0.0, px_per_mm)} x "
                f"{_describe(min_height or 0.0, px_per_mm)}"
            )
    min_area_from_mm = None if rule.min_area_mm2 is None or not px_per_mm else rule.min_area_mm2 * px_per_mm**2
    for limit in (rule.min_area_px, min_area_from_mm):
        if limit is not None and measurement.area_px < limit:
            reasons.append(
                f"area {_describe(measurement.area_px, px_per_mm, square=True)} is below the minimum "
                f"{_describe(limit, px_per_mm, square=True)}"
            )
    return reasons
