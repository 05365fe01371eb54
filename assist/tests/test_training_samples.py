"""Reading a magnetic-tile-layout folder into Samples, the deterministic stratified split, and training batches."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from assist.training.crops import CropSampler
from assist.training.recipe import Recipe
from assist.training.samples import Sample, samples_read_folder, samples_split


def _write(folder: Path, name: str, *, defect: tuple[slice, slice] | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    image = np.full((40, 50), 120, dtype=np.uint8)
    cv2.imwrite(str(folder / f"{name}.jpg"), image)
    if defect is not None:
        mask = np.zeros((40, 50), dtype=np.uint8)
        mask[defect] = 250  # JPEG-like masks are near 255, not exactly
        mask[0, 0] = 100  # and noise below the threshold is background
        cv2.imwrite(str(folder / f"{name}.png"), mask)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for index in range(10):
        _write(tmp_path / "crack", f"c{index}", defect=(slice(5, 30), slice(10, 12)))
        _write(tmp_path / "blowhole", f"b{index}", defect=(slice(5, 9), slice(5, 9)))
        _write(tmp_path / "free", f"f{index}", defect=None)
    return tmp_path


def test_folders_become_defect_classes_and_free_is_defect_free(folder):
    samples, defect_classes = samples_read_folder(folder)

    assert defect_classes == ["blowhole", "crack"]
    crack = next(sample for sample in samples if sample.image_id == "crack/c0.jpg")
    assert (crack.name, crack.is_defect_free, crack.image.shape) == ("c0.jpg", False, (40, 50))
    assert np.unique(crack.mask).tolist() == [0, 2]
    assert int((crack.mask == 2).sum()) == 25 * 2
    free = next(sample for sample in samples if sample.image_id == "free/f0.jpg")
    assert (free.is_defect_free, int(free.mask.sum())) == (True, 0)
    assert len(samples) == 30


def test_split_is_stratified_and_deterministic_whatever_the_order(folder):
    samples, defect_classes = samples_read_folder(folder)

    splits = samples_split(samples, defect_classes, seed=3)
    again = samples_split(list(reversed(samples)), defect_classes, seed=3)
    other = samples_split(samples, defect_classes, seed=4)

    def ids(result: dict[str, list[Sample]]) -> dict[str, list[str]]:
        return {name: [sample.image_id for sample in split] for name, split in result.items()}

    assert ids(splits) == ids(again)
    assert ids(splits) != ids(other)
    for name, expected in {"train": 7, "val": 2, "test": 1}.items():  # 70/15/15 of 10 per label, largest remainder
        folders = [sample.image_id.split("/")[0] for sample in splits[name]]
        assert {label: folders.count(label) for label in ("blowhole", "crack", "free")} == dict.fromkeys(
            ("blowhole", "crack", "free"), expected
        )


def test_a_defect_free_sample_with_defect_pixels_is_refused():
    image = np.zeros((4, 4), dtype=np.uint8)

    with pytest.raises(ValueError, match="all-background"):
        Sample(image=image, mask=np.ones((4, 4), dtype=np.uint8), image_id="x", name="x", is_defect_free=True)


def test_batches_depend_only_on_seed_epoch_and_step(folder):
    samples, defect_classes = samples_read_folder(folder)
    recipe = Recipe(crop_size_px=32, batch_size=6)

    first = CropSampler(samples, defect_classes, recipe).batch(epoch=2, step=5)
    second = CropSampler(list(samples), defect_classes, recipe).batch(epoch=2, step=5)
    other = CropSampler(samples, defect_classes, recipe).batch(epoch=2, step=6)

    assert first[0].shape == first[1].shape == (6, 32, 32)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not np.array_equal(first[0], other[0])
    assert set(np.unique(first[1]).tolist()) <= {0, 1, 2}
