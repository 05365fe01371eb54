"""Minimum-size rules of the defect taxonomy, checked against measured sizes. Pure: no ORM."""

from dataclasses import dataclass

from annotation.geometry import Measurement


@dataclass(frozen=True)
class MinSizeRule:
    """The smallest defect worth labelling. px limits always apply; mm limits only with a calibration.

    Linear defects (cracks) are held to a length; area defects to an oriented size (width x height in either
    orientation) and an area."""

    is_linear: bool
    min_length_px: float | None = None
    min_width_px: float | None = None
    min_height_px: float | None = None
    min_area_px: float | None = None
    min_length_mm: float | None = None
    min_width_mm: float | None = None
    min_height_mm: float | None = None
    min_area_mm2: float | None = None


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
