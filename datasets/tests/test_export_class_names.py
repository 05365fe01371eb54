"""Class names written into export formats' text files. New names are refused when they hold a line break, a
control character or ':' (tests/test_hostile_fields.py); names that got in before (or through the Django admin)
must still not inject lines or fields: each exporter escapes what its format cannot hold.

The attacker's name from the probe: a newline followed by a whole `labelmap.txt` line."""

import json
import zipfile

import datumaro as dm
import pytest
import yaml

from annotation.models import DefectClass
from datasets import storage
from datasets.exporters.voc import voc_label
from datasets.services.exports import dataset_export_build
from datasets.services.versions import dataset_version_freeze
from datasets.tests.version_data import labelled_image, square
from tests.factories import ProjectFactory

HOSTILE_NAMES = [
    "crack\nbackground:0,0,0::",  # the probe's: a new label map line
    "pore:128,0,0:head:sit",  # extra label map fields
    "#comment",  # a label map comment line
    " padded ",  # the label map's lines are stripped when read
    "bell\x07 and escape\x1b[31m",  # control characters: not allowed in XML 1.0 (PostgreSQL refuses NUL itself)
    "100%",  # the escape character itself
    "line\u2028separator",
]


@pytest.fixture
def hostile_export(db, tmp_path):
    """A version whose classes have the hostile names, stored as they are (no service checks them on this path),
    exported in every format and unzipped."""
    project = ProjectFactory.create(slug="hostile-names")
    classes = [
        DefectClass.objects.create(project=project, name=name, position=index)
        for index, name in enumerate(HOSTILE_NAMES)
    ]
    for index, defect_class in enumerate(classes):
        labelled_image(project, defect_class, seed=index, name=f"part-{index}.png", shapes=[square(4, 4, 8)])
    version = dataset_version_freeze(project=project, name="v1", created_by=None)
    folders = {}
    for export_format in ("voc", "yolo", "coco", "masks"):
        export = dataset_export_build(version=version, export_format=export_format, with_images=False)
        with zipfile.ZipFile(storage.open_key(export.file_key)) as archive:
            archive.extractall(tmp_path / export_format)
        folders[export_format] = tmp_path / export_format
    return folders


def test_voc_label_map_has_one_line_of_four_fields_per_class(hostile_export):
    # when
    lines = (hostile_export["voc"] / "labelmap.txt").read_text(encoding="utf-8").split("\n")
    # then
    assert lines[0] == "# label:color_rgb:parts:actions"
    assert lines[1] == "background:0,0,0::"
    assert lines[-1] == ""
    assert len(lines[2:-1]) == len(HOSTILE_NAMES)
    for line, name in zip(lines[2:-1], HOSTILE_NAMES, strict=True):
        assert line.count(":") == 3, line
        assert line == line.strip()
        assert not line.startswith("#")
        assert line.split(":")[0] == voc_label(name)


def test_voc_escapes_are_reversible_and_keep_plain_names_as_they_are():
    assert voc_label("crack") == "crack"
    assert voc_label("Riss, tief") == "Riss, tief"
    assert voc_label("crack\nbackground:0,0,0::") == "crack%0Abackground%3A0,0,0%3A%3A"
    assert voc_label("100%") == "100%25"
    assert voc_label("#comment") == "%23comment"
    assert voc_label(" padded ") == "%20padded%20"
    assert len({voc_label(name) for name in HOSTILE_NAMES}) == len(HOSTILE_NAMES)


def test_voc_export_with_hostile_names_loads_in_datumaro_with_one_label_per_class(hostile_export):
    # when
    dataset = dm.Dataset.import_from(str(hostile_export["voc"]), "voc")
    # then
    labels = [label.name for label in dataset.categories()[dm.AnnotationType.label]]
    assert labels[1:] == [voc_label(name) for name in HOSTILE_NAMES]
    objects = sorted(
        labels[annotation.label]
        for item in dataset
        for annotation in item.annotations
        if annotation.type.name == "bbox"
    )
    assert objects == sorted(voc_label(name) for name in HOSTILE_NAMES)


def test_yolo_and_json_formats_keep_the_names_exactly(hostile_export):
    names_yaml = yaml.safe_load((hostile_export["yolo"] / "data.yaml").read_text(encoding="utf-8"))["names"]
    coco = json.loads((hostile_export["coco"] / "annotations" / "instances_train.json").read_text(encoding="utf-8"))
    masks = json.loads((hostile_export["masks"] / "classes.json").read_text(encoding="utf-8"))
    assert [names_yaml[index] for index in sorted(names_yaml)] == HOSTILE_NAMES
    assert [category["name"] for category in coco["categories"]] == HOSTILE_NAMES
    assert [entry["name"] for entry in masks["classes"][1:]] == HOSTILE_NAMES
