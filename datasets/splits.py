"""Train/val/test splits: stratified by defect class, deterministic from a seed. Pure: no ORM, no randomness
beyond a seeded hash.

Each image carries labels (its defect classes; the caller gives defect-free images a label of their own, so the
good : defective balance is kept per split too). Labels are taken rarest first (iterative stratification,
Sechidis et al. 2011): each image of the label goes to the split furthest below that label's target, ties to the
split furthest below its overall target. Targets are whole numbers by largest remainder, and a label with at
least as many images as there are splits gets at least one image in every split. For images with one label
(the common case on an inspection line) targets are met exactly, so every class with >= 3 images is present in
train, val and test; an image with several labels can only satisfy its rarest one first.

Images may come with a fixed split (from the previous version): they keep it and count towards the targets,
so a test image never moves into training between versions.
"""

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SPLIT_NAMES = ("train", "val", "test")
DEFAULT_SPLIT_RATIOS = {"train": 0.7, "val": 0.15, "test": 0.15}
RATIO_TOLERANCE = 1e-6  # ratios must sum to 1 within this


@dataclass(frozen=True, slots=True)  # slots: a million-image freeze holds one per image
class SplitItem:
    key: str  # stable identity of the image: its sha256
    labels: frozenset[str]


def split_ratios_check(ratios: Mapping[str, float]) -> dict[str, float]:
    """The ratios in split order. Raises ValueError unless they are train/val/test, non-negative and sum to 1."""
    if set(ratios) != set(SPLIT_NAMES):
        raise ValueError(f"split ratios must name exactly {', '.join(SPLIT_NAMES)}")
    values = {name: float(ratios[name]) for name in SPLIT_NAMES}
    if any(not math.isfinite(value) or value < 0 for value in values.values()):
        raise ValueError("split ratios must be finite and not negative")
    if abs(sum(values.values()) - 1.0) > RATIO_TOLERANCE:
        raise ValueError(f"split ratios must sum to 1, not {sum(values.values()):g}")
    return values


def split_targets(count: int, ratios: Mapping[str, float]) -> dict[str, int]:
    """Whole-number shares of `count` by largest remainder (ties to the earlier split). When `count` is at
    least the number of splits with a positive ratio, each of those gets at least one."""
    # Rounded first so that 0.7 * 10 = 7.000000000000001 does not count as a remainder.
    exact = {name: round(count * ratios[name], 9) for name in SPLIT_NAMES}
    targets = {name: math.floor(value) for name, value in exact.items()}
    by_remainder = sorted(SPLIT_NAMES, key=lambda name: (-(exact[name] - targets[name]), SPLIT_NAMES.index(name)))
    for name in by_remainder[: count - sum(targets.values())]:
        targets[name] += 1
    positive = [name for name in SPLIT_NAMES if ratios[name] > 0]
    if count >= len(positive):
        for name in positive:
            if targets[name] == 0:
                donor = max(positive, key=lambda other: (targets[other], -SPLIT_NAMES.index(other)))
                targets[donor] -= 1
                targets[name] += 1
    return targets


def _order_key(seed: int, key: str) -> bytes:
    # The digest, not its hex: the same order (hex keeps byte order), in half the memory.
    return hashlib.sha256(f"{seed}:{key}".encode()).digest()


def split_assign(
    items: Iterable[SplitItem],
    *,
    ratios: Mapping[str, float],
    seed: int,
    fixed: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """key -> split name for every item. The same items, ratios, seed and fixed splits give the same answer."""
    ratios = split_ratios_check(ratios)
    ordered = sorted(items, key=lambda item: _order_key(seed, item.key))
    fixed = {key: split for key, split in (fixed or {}).items() if ratios.get(split, 0) > 0}

    by_label: dict[str, list[SplitItem]] = {}
    for item in ordered:
        for label in item.labels:
            by_label.setdefault(label, []).append(item)
    label_sizes = {label: len(members) for label, members in by_label.items()}
    label_targets = {label: split_targets(size, ratios) for label, size in label_sizes.items()}
    total_target = split_targets(len(ordered), ratios)
    label_counts = {label: dict.fromkeys(SPLIT_NAMES, 0) for label in label_sizes}
    total_counts = dict.fromkeys(SPLIT_NAMES, 0)
    assigned: dict[str, str] = {}

    def place(item: SplitItem, split: str) -> None:
        assigned[item.key] = split
        total_counts[split] += 1
        for label in item.labels:
            label_counts[label][split] += 1

    for item in ordered:
        if item.key in fixed:
            place(item, fixed[item.key])

    open_splits = [name for name in SPLIT_NAMES if ratios[name] > 0]
    for label in sorted(label_sizes, key=lambda name: (label_sizes[name], name)):
        for item in by_label[label]:
            if item.key in assigned:
                continue
            split = max(
                open_splits,
                key=lambda name: (
                    label_targets[label][name] - label_counts[label][name],
                    total_target[name] - total_counts[name],
                    -SPLIT_NAMES.index(name),
                ),
            )
            place(item, split)
    for item in ordered:
        if item.key not in assigned:  # no labels at all
            split = max(
                open_splits, key=lambda name: (total_target[name] - total_counts[name], -SPLIT_NAMES.index(name))
            )
            place(item, split)
    return assigned
