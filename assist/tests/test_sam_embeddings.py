"""The on-disk SAM embedding cache: round trip, least-recently-used eviction by bytes, corrupt files. Pure: no
database, no model (embeddings are random arrays of SAM's shape)."""

import os
import time

import numpy as np
import pytest

from assist.sam.embeddings import STALE_TEMPORARY_SECONDS, EmbeddingCache, EmbeddingKey
from assist.sam.transforms import EMBEDDING_SHAPE

EMBEDDING_FILE_BYTES = 2 * 256 * 64 * 64 + 128  # float16 values and the .npy header
MODEL_ID = "vit_t-6dbb90523a35"


def _key(name: str, *, region: tuple[int, int, int, int] | None = None) -> EmbeddingKey:
    return EmbeddingKey(image_sha256=(name * 64)[:64], model_id=MODEL_ID, region=region)


def _embedding(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=EMBEDDING_SHAPE).astype(np.float32)


def test_put_then_get_gives_the_float16_embedding(tmp_path):
    # given
    cache = EmbeddingCache(tmp_path, max_bytes=10 * EMBEDDING_FILE_BYTES)
    embedding = _embedding(0)
    # when
    cache.put(_key("a"), embedding)
    # then
    cached = cache.get(_key("a"))
    assert cached is not None
    assert (cached.dtype, cached.shape) == (np.float16, EMBEDDING_SHAPE)
    assert np.array_equal(cached, embedding.astype(np.float16))
    assert cache.contains(_key("a"))
    assert not cache.contains(_key("b"))
    assert cache.get(_key("b")) is None
    assert cache.size_bytes() == EMBEDDING_FILE_BYTES
    assert [path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file()] == [
        f"{MODEL_ID}/aa/{'a' * 64}.npy"
    ]


def test_crops_and_models_are_cached_apart(tmp_path):
    cache = EmbeddingCache(tmp_path, max_bytes=10 * EMBEDDING_FILE_BYTES)
    crop = _key("a", region=(512, 256, 1024, 768))
    other_model = EmbeddingKey(image_sha256="a" * 64, model_id="vit_b-ec2df6273261")
    cache.put(_key("a"), _embedding(0))
    cache.put(crop, _embedding(1))
    assert crop.relative_path().name == f"{'a' * 64}_512_256_1024_768.npy"
    cached = cache.get(crop)
    assert cached is not None
    assert np.array_equal(cached, _embedding(1).astype(np.float16))
    assert cache.get(other_model) is None


def test_least_recently_used_is_evicted_over_the_byte_budget(tmp_path):
    # given: room for two embeddings; "a" is older but was used after "b"
    cache = EmbeddingCache(tmp_path, max_bytes=2 * EMBEDDING_FILE_BYTES + 1000)
    cache.put(_key("a"), _embedding(0))
    cache.put(_key("b"), _embedding(1))
    assert cache.get(_key("a")) is not None
    # when
    cache.put(_key("c"), _embedding(2))
    # then
    assert [cache.contains(_key(name)) for name in "abc"] == [True, False, True]
    assert cache.size_bytes() == 2 * EMBEDDING_FILE_BYTES


def test_corrupt_or_foreign_file_is_a_miss_and_is_deleted(tmp_path):
    # given: a torn write and an array of another shape
    cache = EmbeddingCache(tmp_path, max_bytes=10 * EMBEDDING_FILE_BYTES)
    cache.put(_key("a"), _embedding(0))
    cache.put(_key("b"), _embedding(1))
    torn = tmp_path / _key("a").relative_path()
    torn.write_bytes(torn.read_bytes()[:1000])
    np.save(tmp_path / _key("b").relative_path(), np.zeros((1, 256, 32, 32), np.float16))
    # when / then
    assert cache.get(_key("a")) is None
    assert cache.get(_key("b")) is None
    assert not cache.contains(_key("a"))
    assert not cache.contains(_key("b"))


def test_stale_temporary_files_of_dead_writers_are_removed(tmp_path):
    # given: a temporary file left by a writer that died an hour and more ago, and one being written now
    cache = EmbeddingCache(tmp_path, max_bytes=10 * EMBEDDING_FILE_BYTES)
    cache.put(_key("a"), _embedding(0))
    folder = (tmp_path / _key("a").relative_path()).parent
    stale, fresh = folder / f".{'a' * 64}.dead.tmp", folder / f".{'a' * 64}.live.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - STALE_TEMPORARY_SECONDS - 60
    os.utime(stale, (old, old))
    # when
    cache.evict()
    # then
    assert (stale.exists(), fresh.exists()) == (False, True)


def test_keys_and_budget_are_checked(tmp_path):
    with pytest.raises(ValueError, match="image_sha256 is 64 lowercase hex digits"):
        EmbeddingKey(image_sha256="../etc", model_id=MODEL_ID)
    with pytest.raises(ValueError, match="model_id is 1-64 letters"):
        EmbeddingKey(image_sha256="a" * 64, model_id="../vit_t")
    with pytest.raises(ValueError, match="cannot hold one embedding"):
        EmbeddingCache(tmp_path, max_bytes=1000)
