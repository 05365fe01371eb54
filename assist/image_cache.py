"""A small in-process cache of decoded grey images, bounded by bytes, least recently used out first. Pure: no ORM.

An inspector clicks many times on one image (every click of the assist asks the server again); decoding a 600 x
600 JPEG costs a few ms, a 16k line scan much more. Keyed by the image's sha256, so a key's pixels never change.
Thread-safe: gunicorn's gthread workers answer several requests in one process."""

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np


class GreyImageCache:
    def __init__(self, *, max_bytes: int):
        self.max_bytes = max_bytes
        self._images: OrderedDict[str, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.loads = 0  # decodes this cache asked for (what a test and a curious admin read)

    def get(self, key: str, load: Callable[[], np.ndarray]) -> np.ndarray:
        """The image under `key`, decoded by `load()` on a miss. An image larger than the whole cache is
        returned without being kept. The array is read-only: every caller shares it."""
        with self._lock:
            image = self._images.get(key)
            if image is not None:
                self._images.move_to_end(key)
                return image
        image = load()  # outside the lock: two misses on one key may both decode, never block each other
        image.setflags(write=False)
        with self._lock:
            self.loads += 1
            if image.nbytes <= self.max_bytes and key not in self._images:
                self._images[key] = image
                self._bytes += image.nbytes
                while self._bytes > self.max_bytes:
                    _, evicted = self._images.popitem(last=False)
                    self._bytes -= evicted.nbytes
        return image

    def clear(self) -> None:
        with self._lock:
            self._images.clear()
            self._bytes = 0
