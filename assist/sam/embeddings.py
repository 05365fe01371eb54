"""The image-embedding cache: SAM's embedding of an image is computed once (~1 s) and reused by every click.

Layout: `<root>/<model id>/<first 2 hex of the image sha256>/<image sha256>[_<x>_<y>_<width>_<height>].npy`, one
float16 (1, 256, 64, 64) array per file (2 MB); the suffix names the encoded region of a crop (image px), absent
for the whole image. The model id says which weights made it (e.g. "vit_t-6dbb90523a35": model type and the
checkpoint's sha256 prefix), so installing other weights never serves stale embeddings.

- Writes are atomic (a temporary file in the same folder, then a rename): a reader sees a whole file or none.
- "Last used" is the file's modification time, set explicitly on every put and get: access times are not
  trustworthy (volumes are mounted noatime/relatime). When the files pass `max_bytes`, the least recently used
  go first.
- A file that does not load as an embedding (torn by a crash, a full disk, tampering) is a miss: it is deleted.
- Several processes may share the folder: a file that vanishes under a reader (evicted by another) is a miss.
"""

import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from assist.sam.transforms import EMBEDDING_SHAPE

EMBEDDING_DTYPE = np.float16
STALE_TEMPORARY_SECONDS = 3600  # a temporary file this old belongs to a writer that died: eviction removes it
_MODEL_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TEMPORARY_SUFFIX = ".tmp"


@dataclass(frozen=True)
class EmbeddingKey:
    image_sha256: str  # of the image file's bytes, lowercase hex
    model_id: str  # letters, digits, ".", "_", "-": a folder name
    region: tuple[int, int, int, int] | None = None  # (x, y, width, height) image px of an encoded crop

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.image_sha256):
            raise ValueError(f"image_sha256 is 64 lowercase hex digits, not {self.image_sha256!r}")
        if not _MODEL_ID.fullmatch(self.model_id):
            raise ValueError(f"model_id is 1-64 letters, digits, '.', '_' or '-', not {self.model_id!r}")
        if self.region is not None and (len(self.region) != 4 or min(self.region) < 0 or min(self.region[2:]) < 1):
            raise ValueError(f"region is (x, y, width, height) with x, y >= 0 and a positive size, not {self.region}")

    def relative_path(self) -> Path:
        suffix = "" if self.region is None else "_" + "_".join(str(int(value)) for value in self.region)
        return Path(self.model_id, self.image_sha256[:2], f"{self.image_sha256}{suffix}.npy")


class EmbeddingCache:
    def __init__(self, root: Path | str, *, max_bytes: int) -> None:
        one_embedding_bytes = int(np.prod(EMBEDDING_SHAPE)) * np.dtype(EMBEDDING_DTYPE).itemsize
        if max_bytes < one_embedding_bytes:
            raise ValueError(f"max_bytes {max_bytes} cannot hold one embedding ({one_embedding_bytes} bytes)")
        self.root = Path(root)
        self.max_bytes = max_bytes

    def get(self, key: EmbeddingKey) -> np.ndarray | None:
        """The cached embedding, marked as just used; None when absent or unreadable (then deleted)."""
        path = self.root / key.relative_path()
        try:
            embedding = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (ValueError, OSError, EOFError):  # torn or not an .npy at all
            path.unlink(missing_ok=True)
            return None
        if embedding.shape != EMBEDDING_SHAPE or embedding.dtype != EMBEDDING_DTYPE:
            path.unlink(missing_ok=True)
            return None
        _mark_used(path)
        return cast(np.ndarray, embedding)

    def contains(self, key: EmbeddingKey) -> bool:
        """Whether a file is there (not whether it loads, nor marking it used: `get` does both)."""
        return (self.root / key.relative_path()).is_file()

    def mark_used(self, key: EmbeddingKey) -> bool:
        """Mark the cached embedding as just used, as `get` does, without reading it: whether it is there."""
        try:
            os.utime(self.root / key.relative_path(), ns=(time.time_ns(), time.time_ns()))
        except FileNotFoundError:
            return False
        return True

    def put(self, key: EmbeddingKey, embedding: np.ndarray) -> None:
        """Store `embedding` (cast to float16) under `key`, then evict down to `max_bytes`."""
        if embedding.shape != EMBEDDING_SHAPE:
            raise ValueError(f"an embedding is {EMBEDDING_SHAPE}, not {embedding.shape}")
        path = self.root / key.relative_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=_TEMPORARY_SUFFIX, dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                np.save(file, embedding.astype(EMBEDDING_DTYPE), allow_pickle=False)
            os.replace(temporary_name, path)
        finally:
            Path(temporary_name).unlink(missing_ok=True)
        _mark_used(path)
        self.evict()

    def size_bytes(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def evict(self) -> int:
        """Delete the least recently used files until the cache fits `max_bytes`; the bytes freed."""
        entries = sorted(self._entries(), key=lambda entry: (entry[2], entry[0].name))
        total = sum(size for _, size, _ in entries)
        freed = 0
        for path, size, _ in entries:
            if total - freed <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            freed += size
        self._temporaries_clean()
        return freed

    def _entries(self) -> list[tuple[Path, int, int]]:
        """(path, size in bytes, last use in ns) of every cached file."""
        entries = []
        for path in self.root.glob("*/*/*.npy"):
            try:
                stat = path.stat()
            except FileNotFoundError:  # evicted by another process meanwhile
                continue
            entries.append((path, stat.st_size, stat.st_mtime_ns))
        return entries

    def _temporaries_clean(self) -> None:
        oldest_ns = time.time_ns() - STALE_TEMPORARY_SECONDS * 1_000_000_000
        for path in self.root.glob(f"*/*/.*{_TEMPORARY_SUFFIX}"):
            try:
                if path.stat().st_mtime_ns < oldest_ns:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue


def _mark_used(path: Path) -> None:
    now_ns = time.time_ns()  # explicit nanoseconds: the file system's own clock ticks too coarsely to order uses
    try:
        os.utime(path, ns=(now_ns, now_ns))
    except FileNotFoundError:  # evicted by another process meanwhile: it was used all the same
        pass
