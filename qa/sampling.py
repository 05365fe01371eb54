"""Random draws that can be audited: spot-check samples and the ongoing dual-annotation share. Pure, no ORM.

Each image gets a rank from a keyed hash, sha256("{seed}:{image_id}"). A draw takes the lowest ranks. Anyone with
the recorded seed and population can redo it by hand, with any language and any version of Python or numpy
(whose random streams are not promised to stay the same between releases).
"""

import hashlib
import math
import secrets
from collections.abc import Iterable

RANK_SPACE = 2**64


def seed_new() -> int:
    """A fresh seed that fits a signed 64-bit database column."""
    return secrets.randbits(63)


def sample_rank(*, seed: int, image_id: int) -> int:
    """The image's place in the draw, 0 <= rank < 2**64: the first 8 bytes of sha256("{seed}:{image_id}")."""
    digest = hashlib.sha256(f"{seed}:{image_id}".encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big")


def sample_size(population_size: int, rate: float) -> int:
    """ceil(rate x N): a 10% check of 25 images looks at 3. Rounded first so 0.1 x 30 stays 3, not 4."""
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be between 0 and 1, got {rate}")
    return min(population_size, math.ceil(round(rate * population_size, 9)))


def spot_check_draw(population: Iterable[int], *, rate: float, seed: int) -> list[int]:
    """The sample_size(N, rate) image ids with the lowest ranks, sorted by id. Same inputs, same sample."""
    ids = sorted(set(population))
    ranked = sorted(ids, key=lambda image_id: (sample_rank(seed=seed, image_id=image_id), image_id))
    return sorted(ranked[: sample_size(len(ids), rate)])


def is_dual_annotated(*, image_id: int, rate: float, seed: int) -> bool:
    """Whether an image assigned after calibration still goes to two annotators (share `rate` over many)."""
    return sample_rank(seed=seed, image_id=image_id) < rate * RANK_SPACE
