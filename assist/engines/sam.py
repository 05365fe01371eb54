"""The SAM engine: the installed checkpoint's ONNX graphs (assist/sam) answer the editor's box and clicks.

Which checkpoint is installed is read from `<DEFECTLAB_SAM_DIR>/active.json`, written last by `sam_install`
(assist/services/sam.py) with a rename: a plain file every web process and worker reads, no ORM (the
installation's row is the admin's record). Until it exists the engine is unavailable and says why
(`sam_unavailable_reason`), and the other engines work as before.

Embeddings are keyed by the image's sha256 (Image.sha256, the uploaded bytes), the model id and the encoded
region, in the EmbeddingCache shared by all processes: the `assist_embeddings` job fills it as images arrive;
a click on an image it has not reached yet computes the embedding there and then (~1 s, once).
"""

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from assist.engines.base import EngineResult, Point, Prompt, engine, image_check, prompt_check
from assist.sam.embeddings import EmbeddingCache, EmbeddingKey
from assist.sam.masks import min_region_px_for, small_regions_remove
from assist.sam.runtime import ImageEmbedding, SamDecoder, SamEncoder

ENGINE_NAME = "sam"
MANIFEST_NAME = "active.json"
Region = tuple[int, int, int, int]  # (x, y, width, height) image px
RECENT_EMBEDDINGS = 4  # per process, 6 MB each (fp16 as cached, float32 for the decoder): the open image and a few
NOT_INSTALLED = "SAM is not installed: an admin installs a checkpoint with `manage.py sam_install` (docs/deploy.md)."


@dataclass(frozen=True)
class SamManifest:
    """What active.json says: the installed model and its ONNX files."""

    model_id: str
    model_type: str
    encoder: Path
    decoder: Path
    decoder_int8: Path

    @classmethod
    def read(cls, sam_dir: Path) -> "SamManifest | None":
        path = Path(sam_dir) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text())
            return cls(
                model_id=data["model_id"],
                model_type=data["model_type"],
                encoder=Path(data["encoder"]),
                decoder=Path(data["decoder"]),
                decoder_int8=Path(data["decoder_int8"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def to_json(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "model_type": self.model_type,
            "encoder": str(self.encoder),
            "decoder": str(self.decoder),
            "decoder_int8": str(self.decoder_int8),
        }


def sam_manifest() -> SamManifest | None:
    return SamManifest.read(settings.DEFECTLAB_SAM_DIR)


def sam_unavailable_reason() -> str | None:
    """Why SAM cannot run here, for the editor and the admin; None when it can."""
    manifest = sam_manifest()
    if manifest is None:
        return NOT_INSTALLED
    missing = [path.name for path in (manifest.encoder, manifest.decoder) if not path.is_file()]
    if missing:
        return f"SAM's installed files are missing ({', '.join(missing)}): install the checkpoint again."
    return None


def sam_is_available() -> bool:
    return sam_unavailable_reason() is None


def embedding_cache() -> EmbeddingCache:
    return EmbeddingCache(
        settings.DEFECTLAB_SAM_EMBEDDING_CACHE_DIR, max_bytes=settings.DEFECTLAB_SAM_EMBEDDING_CACHE_MAX_BYTES
    )


def region_check(region: Region, *, image_shape: tuple[int, int]) -> None:
    x, y, width, height = region
    if x < 0 or y < 0 or width < 1 or height < 1 or x + width > image_shape[1] or y + height > image_shape[0]:
        raise ValueError(f"region {region} (x, y, width, height) leaves the {image_shape[1]}x{image_shape[0]} image")


def region_for_prompt(prompt: Prompt, *, image_shape: tuple[int, int], tile_px: int) -> Region | None:
    """The region SAM encodes when the editor named none: None (the whole image) when the image fits in one
    tile, else the grid tiles (side `tile_px`) that hold the prompt's box and clicks. A grid, not a window around
    the click, so the next click on the same part of a 16k frame finds the embedding in the cache."""
    height, width = image_shape
    if max(height, width) <= tile_px:
        return None
    points = list(prompt.positive_clicks) + list(prompt.negative_clicks)
    if prompt.box is not None:
        points += [prompt.box[:2], prompt.box[2:]]
    xs, ys = [point[0] for point in points], [point[1] for point in points]
    x0 = max(0, int(min(xs)) // tile_px * tile_px)
    y0 = max(0, int(min(ys)) // tile_px * tile_px)
    x1 = min(width, (int(max(xs)) // tile_px + 1) * tile_px)
    y1 = min(height, (int(max(ys)) // tile_px + 1) * tile_px)
    return x0, y0, x1 - x0, y1 - y0


@engine(ENGINE_NAME, is_available=sam_is_available)
class SamEngine:
    """Built once per process; the ONNX sessions are opened on first use and again when another checkpoint is
    installed (active.json names another model)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model_id: str | None = None
        self._encoder: SamEncoder | None = None
        self._decoder: SamDecoder | None = None
        # The last few embeddings this process decoded, kept as read (and converted to float32 once): each click
        # on an open image would otherwise read 2 MB from the disk cache and convert it again. Used only while the
        # disk cache still holds the same key, which stays the one record of what is embedded.
        self._recent: OrderedDict[EmbeddingKey, ImageEmbedding] = OrderedDict()

    def _sessions(self) -> tuple[str, SamEncoder, SamDecoder]:
        manifest = sam_manifest()
        if manifest is None:
            raise RuntimeError(sam_unavailable_reason())
        with self._lock:
            if self._model_id != manifest.model_id or self._encoder is None or self._decoder is None:
                self._encoder, self._decoder = SamEncoder(manifest.encoder), SamDecoder(manifest.decoder)
                self._model_id = manifest.model_id
            return self._model_id, self._encoder, self._decoder

    def embedding_is_cached(self, *, image_sha256: str, region: Region | None = None) -> bool:
        model_id, _, _ = self._sessions()
        return embedding_cache().contains(EmbeddingKey(image_sha256=image_sha256, model_id=model_id, region=region))

    def embedding(self, image: np.ndarray, *, image_sha256: str, region: Region | None = None) -> ImageEmbedding:
        """The cached embedding of `image` (or of its `region`), computed and stored when missing."""
        model_id, encoder, _ = self._sessions()
        image_shape = (int(image.shape[0]), int(image.shape[1]))
        if region is not None:
            region_check(region, image_shape=image_shape)
        key = EmbeddingKey(image_sha256=image_sha256, model_id=model_id, region=region)
        cache = embedding_cache()
        with self._lock:
            recent = self._recent.get(key)
        if recent is not None and cache.mark_used(key):  # still cached for the other processes and the browser
            with self._lock:
                self._recent[key] = recent
                self._recent.move_to_end(key)
            return recent
        x, y, width, height = region if region is not None else (0, 0, image_shape[1], image_shape[0])
        cached = cache.get(key)
        if cached is not None:
            embedded = ImageEmbedding(cached, offset=(x, y), region_shape=(height, width), image_shape=image_shape)
        else:
            embedded = encoder.encode(image[y : y + height, x : x + width], offset=(x, y), image_shape=image_shape)
            cache.put(key, embedded.embedding)
        with self._lock:
            self._recent[key] = embedded
            while len(self._recent) > RECENT_EMBEDDINGS:
                self._recent.popitem(last=False)
        return embedded

    def predict(self, image: np.ndarray, prompt: Prompt) -> EngineResult:
        """Without the image's sha256 the pixels' own hash keys the cache (tests, benches)."""
        import hashlib

        return self.predict_in_region(image, prompt, image_sha256=hashlib.sha256(image.tobytes()).hexdigest())

    def predict_in_region(
        self, image: np.ndarray, prompt: Prompt, *, image_sha256: str, region: Region | None = None
    ) -> EngineResult:
        """SAM's suggestion for `prompt`, on the embedding of `region` (default: the whole image when it fits one
        tile, else the tiles under the prompt). Raises ValueError for a prompt outside the region."""
        image_check(image)
        image_shape = (int(image.shape[0]), int(image.shape[1]))
        prompt_check(prompt, image_shape=image_shape)
        if region is None:
            region = region_for_prompt(prompt, image_shape=image_shape, tile_px=settings.DEFECTLAB_SAM_TILE_PX)
        embedded = self.embedding(image, image_sha256=image_sha256, region=region)
        _, _, decoder = self._sessions()
        decoded = decoder.decode(
            embedded, positive_clicks=prompt.positive_clicks, negative_clicks=prompt.negative_clicks, box=prompt.box
        )
        # The suggestion upscaled only over its own window, then cleaned of specks and pinholes (masks.py): what the
        # browser's worker does to the same answer.
        window_mask, (window_x, window_y) = decoded.suggestion_window()
        mask = small_regions_remove(
            window_mask,
            min_region_px=min_region_px_for(box=prompt.box, region_shape=embedded.region_shape),
            offset=(window_x - decoded.offset[0], window_y - decoded.offset[1]),
            positive_clicks=_in_region(prompt.positive_clicks, decoded.offset),
            negative_clicks=_in_region(prompt.negative_clicks, decoded.offset),
        )
        return EngineResult(
            mask=np.ascontiguousarray(mask, dtype=bool),
            offset=(window_x, window_y),
            image_shape=image_shape,
            score=float(np.clip(decoded.suggestion_score, 0.0, 1.0)),
            engine=ENGINE_NAME,
        )


def _in_region(points: tuple[Point, ...], offset: tuple[int, int]) -> tuple[Point, ...]:
    return tuple((x - offset[0], y - offset[1]) for x, y in points)
