"""Auditable draws: the same population, rate and seed always give the same sample."""

import hashlib

import pytest

from qa.sampling import is_dual_annotated, sample_rank, sample_size, spot_check_draw


@pytest.mark.parametrize(
    ("population", "rate", "expected"), [(10, 0.10, 1), (25, 0.10, 3), (30, 0.10, 3), (20, 0.15, 3), (0, 0.1, 0)]
)
def test_sample_size_is_the_rate_rounded_up(population, rate, expected):
    assert sample_size(population, rate) == expected


def test_the_same_seed_draws_the_same_sample_and_another_seed_usually_does_not():
    # given
    population = list(range(1, 201))
    # when
    first = spot_check_draw(population, rate=0.1, seed=42)
    again = spot_check_draw(reversed(population), rate=0.1, seed=42)
    other = spot_check_draw(population, rate=0.1, seed=43)
    # then
    assert first == again
    assert (len(first), first == sorted(first), set(first) <= set(population)) == (20, True, True)
    assert other != first


def test_the_rank_is_a_documented_keyed_hash_anyone_can_recompute():
    expected = int.from_bytes(hashlib.sha256(b"42:7").digest()[:8], "big")
    assert sample_rank(seed=42, image_id=7) == expected


def test_the_dual_annotation_share_follows_the_rate():
    # when
    share = sum(is_dual_annotated(image_id=image_id, rate=0.2, seed=5) for image_id in range(5000)) / 5000
    # then
    assert 0.18 < share < 0.22
    assert not any(is_dual_annotated(image_id=image_id, rate=0.0, seed=5) for image_id in range(100))
