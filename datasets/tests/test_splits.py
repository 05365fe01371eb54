"""Splits: stratified by defect class, deterministic from a seed, stable for images already split."""

import pytest

from datasets.splits import SPLIT_NAMES, SplitItem, split_assign, split_ratios_check, split_targets

RATIOS = {"train": 0.7, "val": 0.15, "test": 0.15}


def items_with(class_sizes: dict[str, int]) -> list[SplitItem]:
    """One-label items: `size` images for each class, keys like crack-007."""
    return [
        SplitItem(key=f"{name}-{index:03d}", labels=frozenset({name}))
        for name, size in class_sizes.items()
        for index in range(size)
    ]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, {"train": 0, "val": 0, "test": 0}),
        (1, {"train": 1, "val": 0, "test": 0}),
        (2, {"train": 2, "val": 0, "test": 0}),
        (3, {"train": 1, "val": 1, "test": 1}),
        (4, {"train": 2, "val": 1, "test": 1}),
        (10, {"train": 7, "val": 2, "test": 1}),
        (20, {"train": 14, "val": 3, "test": 3}),
        (100, {"train": 70, "val": 15, "test": 15}),
    ],
)
def test_targets_are_whole_and_give_each_split_one_from_three(count, expected):
    assert split_targets(count, RATIOS) == expected


def test_every_class_with_three_images_is_in_every_split():
    # given: classes from 3 to 40 images, and defect-free images as their own stratum
    sizes = {f"class{size}": size for size in range(3, 41)} | {"defect-free": 150}
    items = items_with(sizes)
    # when
    splits = split_assign(items, ratios=RATIOS, seed=0)
    # then: each class's images meet its targets exactly, so every split has some
    for name, size in sizes.items():
        per_split = dict.fromkeys(SPLIT_NAMES, 0)
        for item in items:
            if name in item.labels:
                per_split[splits[item.key]] += 1
        assert per_split == split_targets(size, RATIOS), name
        assert min(per_split.values()) >= 1, name


def test_classes_with_fewer_than_three_images_go_to_train():
    splits = split_assign(items_with({"rare": 1, "pair": 2}), ratios=RATIOS, seed=0)
    assert splits == {"rare-000": "train", "pair-000": "train", "pair-001": "train"}


def test_same_seed_gives_the_same_split_and_another_seed_another():
    items = items_with({"crack": 30, "blowhole": 25, "defect-free": 60})
    first = split_assign(items, ratios=RATIOS, seed=7)
    assert split_assign(list(reversed(items)), ratios=RATIOS, seed=7) == first  # input order does not matter
    assert split_assign(items, ratios=RATIOS, seed=8) != first


def test_fixed_splits_are_kept_and_counted_towards_the_targets():
    # given: ten crack images already split, all in train (say, by an earlier version)
    items = items_with({"crack": 20})
    fixed = {f"crack-{index:03d}": "train" for index in range(10)}
    # when
    splits = split_assign(items, ratios=RATIOS, seed=0, fixed=fixed)
    # then: they stay, and the new ones fill val and test first
    assert {key: splits[key] for key in fixed} == fixed
    assert sorted(splits.values()).count("train") == 14
    assert sorted(splits.values()).count("val") == 3
    assert sorted(splits.values()).count("test") == 3


def test_a_split_with_ratio_zero_gets_nothing():
    splits = split_assign(items_with({"crack": 10}), ratios={"train": 0.8, "val": 0.2, "test": 0.0}, seed=0)
    assert set(splits.values()) == {"train", "val"}


@pytest.mark.parametrize(
    ("ratios", "message"),
    [
        ({"train": 0.7, "val": 0.3}, "exactly"),
        ({"train": 0.7, "val": 0.2, "test": 0.2}, "sum to 1"),
        ({"train": 1.2, "val": -0.1, "test": -0.1}, "not negative"),
        ({"train": float("nan"), "val": 0.5, "test": 0.5}, "finite"),
    ],
)
def test_invalid_ratios_are_refused(ratios, message):
    with pytest.raises(ValueError, match=message):
        split_ratios_check(ratios)
