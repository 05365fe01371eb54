"""The minimum-size fields of a defect class are declared once (annotation/rules.py MinimumSize); the model,
the API, audit snapshots, the admin and dataset versions all take their list from there."""

import pytest

from annotation.admin import DefectClassAdmin
from annotation.api.projects import DefectClassInput
from annotation.api.serializers import DefectClassOutput
from annotation.models import DefectClass
from annotation.rules import MINIMUM_SIZE_FIELDS, MinimumSize, minimum_size_of
from annotation.services.audit import defect_class_snapshot
from annotation.services.projects import DEFECT_CLASS_FIELDS
from datasets.selectors import taxonomy_snapshot
from tests.factories import DefectClassFactory


def minimum_size_names(names) -> tuple[str, ...]:
    return tuple(name for name in names if name.startswith("min_"))


def test_the_declaration_lists_px_limits_then_mm_limits():
    assert MINIMUM_SIZE_FIELDS == (
        "min_length_px",
        "min_width_px",
        "min_height_px",
        "min_area_px",
        "min_length_mm",
        "min_width_mm",
        "min_height_mm",
        "min_area_mm2",
    )


@pytest.mark.django_db
def test_every_list_of_minimum_size_fields_is_the_declared_one():
    # given
    defect_class = DefectClassFactory.create()
    # when
    lists = {
        "model": minimum_size_names(field.name for field in DefectClass._meta.get_fields()),
        "output serializer": minimum_size_names(DefectClassOutput().fields),
        "input serializer": minimum_size_names(DefectClassInput().fields),
        "audit snapshot": minimum_size_names(defect_class_snapshot(defect_class)),
        "admin": minimum_size_names(field for _, options in DefectClassAdmin.fieldsets for field in options["fields"]),
        "dataset version taxonomy": tuple(
            taxonomy_snapshot(project=defect_class.project)["defect_classes"][0]["min_sizes"]
        ),
        "services (writable fields)": tuple(sorted(minimum_size_names(DEFECT_CLASS_FIELDS))),
    }
    # then
    assert lists == {
        **dict.fromkeys(lists, MINIMUM_SIZE_FIELDS),
        "services (writable fields)": tuple(sorted(MINIMUM_SIZE_FIELDS)),
    }


@pytest.mark.django_db
def test_minimum_size_of_reads_the_defect_class():
    # given
    defect_class = DefectClassFactory.create(min_area_px=5, min_length_mm=1.5)
    # when
    minimum = minimum_size_of(defect_class)
    # then
    assert minimum == MinimumSize(min_area_px=5, min_length_mm=1.5)
    assert minimum.has_mm_limits is True
    assert minimum_size_of(DefectClassFactory.create(min_area_px=5)).has_mm_limits is False


def test_the_limits_in_words_carry_their_units():
    # given
    minimum = MinimumSize(min_length_px=8, min_area_px=50, min_width_mm=0.25, min_area_mm2=1.5)
    # when
    words = minimum.in_words()
    # then
    assert words == ["length ≥ 8 px", "area ≥ 50 px²", "width ≥ 0.25 mm", "area ≥ 1.5 mm²"]
    assert MinimumSize().in_words() == []
