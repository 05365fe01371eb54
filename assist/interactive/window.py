"""Crops: the square of the image the network looks at, resampled to its fixed input size, and the prompt drawn
as maps on it. Shared by training and inference, so the engine crops exactly as the model was trained.

Coordinates: an image point (x, y) is annotation/geometry.py's pixel centre (pixel x covers [x - 0.5, x + 0.5));
a Window covers the image square [x0, x0 + side) x [y0, y0 + side) in pixel-edge units (pixel x covers
[x, x + 1)), resampled to size x size crop pixels.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from assist.engines.base import Point

Box = tuple[float, float, float, float]  # (x0, y0, x1, y1) pixel centres, inclusive


@dataclass(frozen=True)
class Window:
    x0: float
    y0: float
    side: float  # image px
    size: int  # crop px

    @property
    def scale(self) -> float:
        """Crop px per image px."""
        return self.size / self.side

    def to_crop(self, point: Point) -> Point:
        return ((point[0] + 0.5 - self.x0) * self.scale - 0.5, (point[1] + 0.5 - self.y0) * self.scale - 0.5)

    def _to_crop_matrix(self) -> np.ndarray:
        scale = self.scale
        return np.array(
            [[scale, 0.0, (0.5 - self.x0) * scale - 0.5], [0.0, scale, (0.5 - self.y0) * scale - 0.5]],
            dtype=np.float64,
        )

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The window of `image` (uint8 grey or float), bilinear; outside the image the surface is mirrored."""
        return cv2.warpAffine(
            image, self._to_crop_matrix(), (self.size, self.size), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT_101,
        )  # fmt: skip

    def crop_mask(self, mask: np.ndarray) -> np.ndarray:
        """A bool mask's window (bilinear, then >= 0.5); nothing outside the image."""
        warped = cv2.warpAffine(
            mask.astype(np.float32), self._to_crop_matrix(), (self.size, self.size), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0.0,
        )  # fmt: skip
        return np.asarray(warped >= 0.5)

    def box_map(self, box: Box) -> np.ndarray:
        """bool (size, size): crop pixels whose centres fall inside the box's pixels."""
        offsets = (np.arange(self.size) + 0.5) / self.scale  # crop pixel centres, image pixel-edge units
        inside_x = (self.x0 + offsets >= box[0]) & (self.x0 + offsets < box[2] + 1)
        inside_y = (self.y0 + offsets >= box[1]) & (self.y0 + offsets < box[3] + 1)
        return np.asarray(inside_y[:, None] & inside_x[None, :])

    def image_bounds(self, image_shape: tuple[int, int]) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1), exclusive ends: the image pixels the window covers at least in part."""
        height, width = image_shape
        return (
            max(math.floor(self.x0), 0),
            max(math.floor(self.y0), 0),
            min(math.ceil(self.x0 + self.side), width),
            min(math.ceil(self.y0 + self.side), height),
        )

    def paste(self, crop: np.ndarray, image_shape: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
        """The float crop resampled back onto the image pixels it covers: (values, (x, y) of their top-left)."""
        bx0, by0, bx1, by1 = self.image_bounds(image_shape)
        inverse = 1.0 / self.scale
        matrix = np.array(
            [[inverse, 0.0, 0.5 * inverse + self.x0 - 0.5 - bx0], [0.0, inverse, 0.5 * inverse + self.y0 - 0.5 - by0]]
        )
        values = cv2.warpAffine(
            crop.astype(np.float32), matrix, (bx1 - bx0, by1 - by0), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        return np.asarray(values).reshape(by1 - by0, bx1 - bx0), (bx0, by0)

    def grown(self, factor: float) -> "Window":
        """The same centre, `factor` times the side."""
        side = self.side * factor
        return Window(self.x0 + (self.side - side) / 2, self.y0 + (self.side - side) / 2, side, self.size)

    def reaches_inner_edge(self, mask: np.ndarray, image_shape: tuple[int, int]) -> bool:
        """Whether the crop mask touches a side of the window that lies inside the image: the defect may go on
        beyond it."""
        height, width = image_shape
        sides = (
            (mask[:, 0].any(), self.x0 > 0),
            (mask[:, -1].any(), self.x0 + self.side < width),
            (mask[0, :].any(), self.y0 > 0),
            (mask[-1, :].any(), self.y0 + self.side < height),
        )
        return any(touches and inside for touches, inside in sides)


def window_around(extent: Box, *, size: int, context: float, min_side: float, max_side: float | None = None) -> Window:
    """The square centred on `extent` (pixel centres, inclusive) that adds `context` of its longer side on each
    side, at least `min_side` image px (and at most `max_side`)."""
    x0, y0, x1, y1 = extent
    side = max((max(x1 - x0, y1 - y0) + 1) * (1 + 2 * context), min_side)
    if max_side is not None:
        side = min(side, max(max_side, min_side))
    centre_x, centre_y = (x0 + x1 + 1) / 2, (y0 + y1 + 1) / 2
    return Window(centre_x - side / 2, centre_y - side / 2, side, size)


def click_disks(points: Sequence[Point], size: int, radius: float) -> np.ndarray:
    """float32 (size, size): 1 within `radius` crop px of any point (crop coordinates), else 0."""
    disks = np.zeros((size, size), dtype=np.float32)
    if not points:
        return disks
    rows, columns = np.mgrid[0:size, 0:size]
    for x, y in points:
        disks[(columns - x) ** 2 + (rows - y) ** 2 <= radius**2] = 1.0
    return disks


def prompt_channels(
    *,
    size: int,
    radius: float,
    box_map: np.ndarray | None,
    positive: Sequence[Point],
    negative: Sequence[Point],
    previous: np.ndarray | None,
) -> np.ndarray:
    """float32 (4, size, size) in network.PROMPT_CHANNELS order, from the prompt in crop coordinates."""
    channels = np.zeros((4, size, size), dtype=np.float32)
    if box_map is not None:
        channels[0] = box_map
    channels[1] = click_disks(positive, size, radius)
    channels[2] = click_disks(negative, size, radius)
    if previous is not None:
        channels[3] = previous
    return channels
