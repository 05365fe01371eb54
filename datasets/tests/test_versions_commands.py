"""The command line for ML engineers' scripts: create_version, export_version, import_coco."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from datasets.models import DatasetVersion
from datasets.tests.version_data import labelled_image, square, stored_image
from tests.factories import DefectClassFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(team):
    for index in range(3):
        labelled_image(team.project, team.defect_class, seed=index, name=f"crack/{index}.png", shapes=[square(2, 2, 5)])
    stored_image(team.project, seed=7, name="free/ok.png", is_defect_free=True)
    return team


def run(*arguments: str) -> str:
    out = io.StringIO()
    call_command(*arguments, stdout=out)
    return out.getvalue()


def test_create_version_prints_its_name_and_content_hash(labelled):
    output = run("create_version", "tile-line", "v1", "--seed", "4")
    version = DatasetVersion.objects.get(project=labelled.project, name="v1")
    assert output == f"v1 {version.content_hash}\n"
    assert version.seed == 4
    assert run("create_version", "tile-line", "v2", "--seed", "4") == f"v2 {version.content_hash}\n"


def test_create_version_takes_the_filter(labelled):
    run("create_version", "tile-line", "cracks", "--without-defect-free", "--split", "50,50,0")
    version = DatasetVersion.objects.get(name="cracks")
    assert (version.counts["images"]["total"], version.counts["images"]["test"]) == (3, 0)
    assert version.split_ratios == {"train": 0.5, "val": 0.5, "test": 0.0}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("create_version", "nowhere", "v1"), "No project with slug 'nowhere'"),
        (("create_version", "tile-line", "v1", "--classes", "scratch"), "No such defect classes"),
        (("create_version", "tile-line", "v1", "--split", "70,30"), "three numbers"),
    ],
)
def test_create_version_errors_are_command_errors(labelled, arguments, message):
    with pytest.raises(CommandError, match=message):
        run(*arguments)


def test_export_version_writes_the_zip_and_names_its_hash(labelled, tmp_path):
    run("create_version", "tile-line", "v1")
    out = tmp_path / "v1-voc.zip"
    output = run("export_version", "tile-line", "v1", "--format", "voc", "--with-images", "--out", str(out))
    data = out.read_bytes()
    assert output == f"{out} {len(data)} bytes sha256 {hashlib.sha256(data).hexdigest()}\n"
    names = zipfile.ZipFile(out).namelist()
    assert sorted(name for name in names if name.startswith("JPEGImages/")) == [
        "JPEGImages/crack/0.png",
        "JPEGImages/crack/1.png",
        "JPEGImages/crack/2.png",
        "JPEGImages/free/ok.png",
    ]
    again = tmp_path / "again.zip"
    run("export_version", "tile-line", "v1", "--format", "voc", "--with-images", "--out", str(again))
    assert again.read_bytes() == data


def test_export_version_of_an_unknown_version_is_a_command_error(labelled, tmp_path):
    with pytest.raises(CommandError, match="no dataset version named 'v9'"):
        run("export_version", "tile-line", "v9", "--format", "coco", "--out", str(tmp_path / "x.zip"))


def test_import_coco_round_trip_through_the_command_line(labelled, tmp_path):
    # given: a COCO export with its images
    run("create_version", "tile-line", "v1")
    archive = tmp_path / "coco.zip"
    run("export_version", "tile-line", "v1", "--format", "coco", "--with-images", "--out", str(archive))
    copy = ProjectFactory.create(slug="copy")
    DefectClassFactory.create(project=copy, name="crack")
    # when
    summary = json.loads(run("import_coco", "copy", str(archive)))
    # then
    assert (summary["images_imported"], summary["annotations_imported"], summary["unknown_classes"]) == (4, 3, {})
    assert copy.images.filter(is_defect_free=True).count() == 1
