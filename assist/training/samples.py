"""What training reads: a `Sample` per image (grey pixels and a class-index mask) and the defect class names.

The training code takes any iterable of Samples plus the list of defect class names, so the Django side can build
Samples from a frozen dataset version's manifest; `samples_read_folder` reads the magnetic-tile folder layout
(CLASS/NAME.jpg + NAME.png) for benchmarks and tests. Pure: no ORM, no Django.

Mask convention: 0 = background, 1..K = the defect classes in the order of the class-name list (index i + 1 for
`defect_classes[i]`).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from datasets.splits import DEFAULT_SPLIT_RATIOS, SplitItem, split_assign

DEFECT_FREE_FOLDER_NAMES = frozenset({"free", "ok", "good", "defect-free", "defect_free"})
"Folders of images without defects: their masks are all background whatever the PNG says."
MASK_THRESHOLD = 128  # 8-bit masks are JPEG-noisy (values near 0 and near 255): >= this is defect
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
DEFECT_FREE_LABEL = "defect-free"  # the stratification label of images without defects


@dataclass(frozen=True)
class Sample:
    """One image and its ground truth at native resolution."""

    image: np.ndarray = field(repr=False)  # uint8 (H, W), grey
    mask: np.ndarray = field(repr=False)  # uint8 (H, W): 0 background, i + 1 for defect class i
    image_id: str  # stable identity (a manifest's image key, or the file's path under the folder)
    name: str  # what an inspector sees: the file name
    is_defect_free: bool  # inspected and found clean (its mask is all background)

    def __post_init__(self) -> None:
        if self.image.dtype != np.uint8 or self.image.ndim != 2:
            raise ValueError(f"{self.name}: an image is uint8 (H, W), not {self.image.dtype} {self.image.shape}")
        if self.mask.dtype != np.uint8 or self.mask.shape != self.image.shape:
            raise ValueError(
                f"{self.name}: a mask is uint8 of the image's shape, not {self.mask.dtype} {self.mask.shape}"
            )
        if self.is_defect_free and self.mask.any():
            raise ValueError(f"{self.name}: a defect-free image has an all-background mask")

    @property
    def defect_class_indices(self) -> tuple[int, ...]:
        """The defect classes present (1..K), most pixels first: the first is the image's stratification label."""
        counts = np.bincount(self.mask.ravel())
        present = [index for index in range(1, len(counts)) if counts[index] > 0]
        return tuple(sorted(present, key=lambda index: -counts[index]))


def sample_label(sample: Sample, defect_classes: Sequence[str]) -> str:
    """The label an image is stratified and class-balanced by: its largest defect class, or "defect-free".
    An image marked defective whose mask is empty (a labelling gap) counts as its own label, "unlabelled"."""
    indices = sample.defect_class_indices
    if indices:
        return defect_classes[indices[0] - 1]
    return DEFECT_FREE_LABEL if sample.is_defect_free else "unlabelled"


def samples_read_folder(root: Path | str) -> tuple[list[Sample], list[str]]:
    """Samples of a folder in the magnetic-tile layout, and the defect class names (folder names, sorted).

    ROOT/CLASS/NAME.jpg is an image, ROOT/CLASS/NAME.png beside it its mask (>= 128 is defect). Folders named
    free/ok/good hold defect-free images (a mask file is optional there). Images are read grey with cv2."""
    root = Path(root)
    folders = sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith("."))
    defect_classes = [folder.name for folder in folders if folder.name.lower() not in DEFECT_FREE_FOLDER_NAMES]
    samples: list[Sample] = []
    for folder in folders:
        is_defect_free = folder.name.lower() in DEFECT_FREE_FOLDER_NAMES
        class_index = 0 if is_defect_free else defect_classes.index(folder.name) + 1
        for image_path in sorted(folder.iterdir()):
            if image_path.suffix.lower() not in IMAGE_SUFFIXES or _is_mask_of_other(image_path):
                continue
            samples.append(_sample_read(root, image_path, class_index, is_defect_free))
    return samples, defect_classes


def _is_mask_of_other(path: Path) -> bool:
    """NAME.png beside NAME.jpg is a mask, not an image."""
    return path.suffix.lower() == ".png" and any(
        path.with_suffix(suffix).exists() for suffix in IMAGE_SUFFIXES if suffix != ".png"
    )


def _sample_read(root: Path, image_path: Path, class_index: int, is_defect_free: bool) -> Sample:
    image = cv2.imread(str(image_path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"{image_path}: not a readable image")
    mask = np.zeros(image.shape, dtype=np.uint8)
    mask_path = image_path.with_suffix(".png")
    if not is_defect_free and mask_path != image_path:
        mask_grey = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
        if mask_grey is None:
            raise ValueError(f"{mask_path}: the mask of {image_path.name} is missing or unreadable")
        if mask_grey.shape != image.shape:
            raise ValueError(f"{mask_path}: mask {mask_grey.shape} differs from image {image.shape}")
        mask[mask_grey >= MASK_THRESHOLD] = class_index
    return Sample(
        image=image,
        mask=mask,
        image_id=image_path.relative_to(root).as_posix(),
        name=image_path.name,
        is_defect_free=is_defect_free,
    )


def samples_split(
    samples: Iterable[Sample],
    defect_classes: Sequence[str],
    *,
    seed: int,
    ratios: dict[str, float] | None = None,
) -> dict[str, list[Sample]]:
    """{"train": [...], "val": [...], "test": [...]}: stratified by `sample_label`, deterministic from the seed
    and the image ids (a seeded hash orders them; datasets/splits.py assigns), whatever the input order."""
    samples = list(samples)
    items = [
        SplitItem(key=sample.image_id, labels=frozenset({sample_label(sample, defect_classes)})) for sample in samples
    ]
    assigned = split_assign(items, ratios=ratios or DEFAULT_SPLIT_RATIOS, seed=seed)
    splits: dict[str, list[Sample]] = {"train": [], "val": [], "test": []}
    for sample in sorted(samples, key=lambda sample: sample.image_id):
        splits[assigned[sample.image_id]].append(sample)
    return splits
