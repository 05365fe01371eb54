"""Minimum-size rules (annotation/rules.py): pure, checked against Measurements with no database."""

import pytest

from annotation import geometry
from annotation.rules import MinSizeRule, min_size_violations

BOX = geometry.Box(x=0, y=0, width=1, height=1)  # the rules never read the box


def measured(*, area_px: float = 1000.0, length_px: float = 100.0, width_px: float = 100.0) -> geometry.Measurement:
    return geometry.Measurement(area_px=area_px, length_px=length_px, width_px=width_px, bbox=BOX)


def measure_ring(ring: list[list[float]]) -> geometry.Measurement:
    return geometry.measure(geometry.polygons_from_json({"polygons": [{"exterior": ring}]}, width=200, height=200))


# Area in px and in mm²


def test_area_below_the_px_minimum_is_reported_with_both_numbers():
    # when
    reasons = min_size_violations(MinSizeRule(is_linear=False, min_area_px=100), measured(area_px=99), px_per_mm=None)
    # then
    assert reasons == ["area 99 px² is below the minimum 100 px²"]


def test_area_equal_to_the_minimum_passes():
    # when
    reasons = min_size_violations(MinSizeRule(is_linear=False, min_area_px=100), measured(area_px=100), px_per_mm=None)
    # then
    assert reasons == []


def test_area_in_mm2_is_converted_with_the_square_of_the_calibration():
    # given: 10 px per mm, so 1 mm² is 100 px²
    rule = MinSizeRule(is_linear=False, min_area_mm2=1.0)
    # when
    too_small = min_size_violations(rule, measured(area_px=99), px_per_mm=10)
    big_enough = min_size_violations(rule, measured(area_px=100), px_per_mm=10)
    # then
    assert too_small == ["area 99 px² (0.99 mm²) is below the minimum 100 px² (1 mm²)"]
    assert big_enough == []


def test_mm_rules_do_not_apply_to_an_uncalibrated_project():
    # given
    rule = MinSizeRule(is_linear=False, min_area_mm2=5, min_width_mm=3, min_height_mm=3)
    # when
    reasons = min_size_violations(rule, measured(area_px=1, length_px=1, width_px=1), px_per_mm=None)
    # then
    assert reasons == []


def test_px_and_mm_rules_both_apply_and_both_are_reported():
    # given: 2 px per mm; 50 px² directly and 20 mm² = 80 px²
    rule = MinSizeRule(is_linear=False, min_area_px=50, min_area_mm2=20)
    # when
    reasons = min_size_violations(rule, measured(area_px=40), px_per_mm=2)
    # then
    assert reasons == [
        "area 40 px² (10 mm²) is below the minimum 50 px² (12.5 mm²)",
        "area 40 px² (10 mm²) is below the minimum 80 px² (20 mm²)",
    ]


# Linear defects: held to a length only


def test_linear_defect_shorter_than_the_minimum_length_is_reported():
    # when
    reasons = min_size_violations(
        MinSizeRule(is_linear=True, min_length_px=20), measured(length_px=19.5, width_px=1), px_per_mm=None
    )
    # then
    assert reasons == ["length 19.5 px is below the minimum 20 px"]


def test_linear_defect_length_in_mm():
    # given: 4 px per mm; 5 mm is 20 px
    rule = MinSizeRule(is_linear=True, min_length_mm=5)
    # when
    too_short = min_size_violations(rule, measured(length_px=18, width_px=1), px_per_mm=4)
    long_enough = min_size_violations(rule, measured(length_px=20, width_px=1), px_per_mm=4)
    # then
    assert too_short == ["length 18 px (4.5 mm) is below the minimum 20 px (5 mm)"]
    assert long_enough == []


def test_linear_defect_ignores_width_height_and_area_limits():
    # given: a hairline crack, 1 px wide, far below every area-defect limit
    rule = MinSizeRule(is_linear=True, min_length_px=10, min_width_px=5, min_height_px=5, min_area_px=500)
    # when
    reasons = min_size_violations(rule, measured(area_px=30, length_px=30, width_px=1), px_per_mm=None)
    # then
    assert reasons == []


# Oriented size: width x height in either orientation


@pytest.mark.parametrize(("min_width_px", "min_height_px"), [(5, 20), (20, 5)])
def test_oriented_size_passes_in_either_orientation(min_width_px, min_height_px):
    # given: a 20 x 5 defect (long side 20, short side 5)
    rule = MinSizeRule(is_linear=False, min_width_px=min_width_px, min_height_px=min_height_px)
    # when
    reasons = min_size_violations(rule, measured(length_px=20, width_px=5), px_per_mm=None)
    # then
    assert reasons == []


def test_oriented_size_fails_when_the_short_side_is_below_the_smaller_limit():
    # given
    rule = MinSizeRule(is_linear=False, min_width_px=5, min_height_px=20)
    # when
    reasons = min_size_violations(rule, measured(length_px=30, width_px=4), px_per_mm=None)
    # then
    assert reasons == ["size 4 px x 30 px is below the minimum 5 px x 20 px"]


def test_oriented_size_fails_when_the_long_side_is_below_the_larger_limit():
    # given
    rule = MinSizeRule(is_linear=False, min_width_px=20, min_height_px=5)
    # when
    reasons = min_size_violations(rule, measured(length_px=19, width_px=10), px_per_mm=None)
    # then
    assert reasons == ["size 10 px x 19 px is below the minimum 20 px x 5 px"]


def test_a_single_oriented_limit_applies_to_the_long_side():
    # given: only a minimum width: a 6 x 0 box must fit inside the defect, in either orientation
    rule = MinSizeRule(is_linear=False, min_width_px=6)
    # when
    thin_but_long = min_size_violations(rule, measured(length_px=50, width_px=5), px_per_mm=None)
    small = min_size_violations(rule, measured(length_px=5, width_px=5), px_per_mm=None)
    # then
    assert thin_but_long == []
    assert small == ["size 5 px x 5 px is below the minimum 6 px x 0 px"]


def test_oriented_size_in_mm():
    # given: 10 px per mm; 1 mm x 0.5 mm is 10 px x 5 px
    rule = MinSizeRule(is_linear=False, min_width_mm=0.5, min_height_mm=1)
    # when
    reasons = min_size_violations(rule, measured(length_px=12, width_px=4), px_per_mm=10)
    # then
    assert reasons == ["size 4 px (0.4 mm) x 12 px (1.2 mm) is below the minimum 5 px (0.5 mm) x 10 px (1 mm)"]


def test_a_rotated_defect_measures_as_the_same_size_as_an_upright_one():
    # given: a 21 x 5 px bar lying flat, standing up, and turned 45 degrees
    flat = measure_ring([[10, 10], [30, 10], [30, 14], [10, 14]])
    upright = measure_ring([[10, 10], [14, 10], [14, 30], [10, 30]])
    turned = measure_ring([[50, 50], [70, 70], [67, 73], [47, 53]])
    rule = MinSizeRule(is_linear=False, min_width_px=5, min_height_px=21)
    # when
    verdicts = [min_size_violations(rule, measurement, px_per_mm=None) for measurement in (flat, upright, turned)]
    # then
    assert (flat.length_px, flat.width_px) == (21, 5)
    assert (upright.length_px, upright.width_px) == (21, 5)
    assert turned.length_px == pytest.approx(20 * 2**0.5 + 1)
    assert turned.width_px == pytest.approx(3 * 2**0.5 + 1)
    assert verdicts == [[], [], []]
