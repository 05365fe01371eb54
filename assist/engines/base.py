"""The assist engine interface: a `Prompt` in, an `EngineResult` out, engines registered by name.

    @engine("classical")
    class ClassicalEngine:
        def predict(self, image: np.ndarray, prompt: Prompt) -> EngineResult: ...

    engine_get("classical").predict(image, Prompt(box=(40, 12, 90, 60), positive_clicks=((61, 30),)))

Pure: no ORM, no Django. Coordinates follow annotation/geometry.py: (x, y) is the centre of pixel column x, row y,
(0, 0) the top-left pixel; a box (x0, y0, x1, y1) covers the pixels whose centres lie inside it, both ends
included, so the one-pixel box at (3, 4) is (3, 4, 3, 4). Fractional coordinates from the editor are rounded to
the nearest pixel centre, halves up, as the rasteriser rounds polygon vertices.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

GeometryKind = Literal["area", "linear"]  # annotation.models.GeometryKind's values
Point = tuple[float, float]  # (x, y) image px


@dataclass(frozen=True)
class Prompt:
    """What the inspector has drawn so far for one defect."""

    box: tuple[float, float, float, float] | None = None  # (x0, y0, x1, y1) image px, inclusive
    positive_clicks: tuple[Point, ...] = ()  # "this is defect", in the order they were made
    negative_clicks: tuple[Point, ...] = ()  # "this is not defect"
    previous_mask: np.ndarray | None = field(default=None, compare=False)  # bool (H, W): the last suggestion
    defect_class: str | None = None  # the defect class being drawn, as the project names it
    geometry_kind: GeometryKind = "area"  # "linear": thin defects (cracks, scratches)

    @property
    def is_empty(self) -> bool:
        return self.box is None and not self.positive_clicks

    def to_json(self) -> dict[str, Any]:
        """The prompt as an annotation's provenance records it (Annotation.provenance["prompt"]). The previous
        mask is left out: it is the engine's own earlier answer, not something the inspector drew."""
        return {
            "box": None if self.box is None else [float(value) for value in self.box],
            "positive_clicks": [[float(x), float(y)] for x, y in self.positive_clicks],
            "negative_clicks": [[float(x), float(y)] for x, y in self.negative_clicks],
            "defect_class": self.defect_class,
            "geometry_kind": self.geometry_kind,
        }


@dataclass(frozen=True)
class EngineResult:
    """A suggested mask. It covers only a crop of the image (`mask` is the crop, its top-left pixel at `offset`):
    suggestions are small beside 600 x 600 images, and engines work on crops anyway."""

    mask: np.ndarray  # bool (crop height, crop width)
    offset: tuple[int, int]  # (x, y) image px of the crop's top-left pixel
    image_shape: tuple[int, int]  # (height, width) of the whole image
    score: float  # the engine's confidence in the mask, 0..1 (not calibrated across engines)
    engine: str  # the registered name of the engine that made it
    defect_class: str | None = None  # pre-labels: the class the engine recognised, as the project names it

    def __post_init__(self) -> None:
        x, y = self.offset
        height, width = self.mask.shape
        if self.mask.dtype != bool:
            raise ValueError(f"a mask is boolean, not {self.mask.dtype}")
        if x < 0 or y < 0 or x + width > self.image_shape[1] or y + height > self.image_shape[0]:
            raise ValueError(f"crop {width}x{height} at {self.offset} leaves the image {self.image_shape}")

    def full_mask(self) -> np.ndarray:
        """The suggestion as a bool mask of the whole image."""
        full = np.zeros(self.image_shape, dtype=bool)
        x, y = self.offset
        full[y : y + self.mask.shape[0], x : x + self.mask.shape[1]] = self.mask
        return full


class Engine(Protocol):
    def predict(self, image: np.ndarray, prompt: Prompt) -> EngineResult:
        """A mask for `prompt` on `image`, a (H, W) uint8 grey image. Raises ValueError for a prompt that
        `prompt_check` refuses."""
        ...


class PrelabelEngine(Engine, Protocol):
    """An engine registered with `can_prelabel=True`: it also finds defects with no prompt at all."""

    def prelabel(self, image: np.ndarray) -> list[EngineResult]:
        """Every defect the engine finds on `image`, one result each (possibly none)."""
        ...


def pixel_of(point: Point) -> tuple[int, int]:
    """The (column, row) of the pixel whose centre is nearest `point`; halves round up, as in the rasteriser."""
    return math.floor(point[0] + 0.5), math.floor(point[1] + 0.5)


def prompt_check(prompt: Prompt, *, image_shape: tuple[int, int]) -> None:
    """Raise ValueError unless every click and the box lie inside the image, the box is not inverted, and the
    prompt says something (a box or a positive click). The editor clips boxes dragged past the image edge:
    an engine never guesses what a point outside the image meant."""
    height, width = image_shape

    def inside(column: int, row: int) -> bool:
        return 0 <= column < width and 0 <= row < height

    for kind, clicks in (("positive", prompt.positive_clicks), ("negative", prompt.negative_clicks)):
        for point in clicks:
            if not all(math.isfinite(value) for value in point) or not inside(*pixel_of(point)):
                raise ValueError(f"{kind} click {point} is outside the {width}x{height} image")
    if prompt.box is not None:
        if not all(math.isfinite(value) for value in prompt.box):
            raise ValueError(f"box {prompt.box} is not finite")
        x0, y0 = pixel_of(prompt.box[:2])
        x1, y1 = pixel_of(prompt.box[2:])
        if not (inside(x0, y0) and inside(x1, y1)):
            raise ValueError(f"box {prompt.box} is outside the {width}x{height} image")
        if x1 < x0 or y1 < y0:
            raise ValueError(f"box {prompt.box} is inverted: (x0, y0, x1, y1) with x0 <= x1 and y0 <= y1")
    if prompt.is_empty:
        raise ValueError("a prompt needs a box or a positive click")
    if prompt.previous_mask is not None and prompt.previous_mask.shape != image_shape:
        raise ValueError(f"previous mask {prompt.previous_mask.shape} is not the image's {image_shape}")


def image_check(image: np.ndarray) -> None:
    if image.ndim != 2 or image.dtype != np.uint8 or 0 in image.shape:
        raise ValueError(f"an engine takes a (H, W) uint8 grey image, not {image.dtype} {image.shape}")


@dataclass(frozen=True)
class EngineEntry:
    name: str
    factory: Callable[[], Engine]  # builds the engine; called once, on first use (SAM loads weights here)
    is_available: Callable[[], bool]  # False where the engine cannot run here (weights not on disk)
    can_prelabel: bool = False  # finds defects with no prompt (PrelabelEngine.prelabel): pre-label jobs use it


@dataclass(frozen=True)
class EngineFamily:
    """Engines made at run time rather than registered one by one: every name "<prefix>-<key>" (a project's trained
    model is "model-<id>"). The registry stays project-agnostic: which family member a project may use is the
    caller's choice (assist/selectors.py `engine_names_for_project`), and a member is built on first use."""

    prefix: str
    factory: Callable[[str], Engine]  # the engine of one name (loads its weights)
    is_available: Callable[[str], bool]  # False where the member cannot run here (unknown key, files gone)
    can_prelabel: bool = False


ENGINES: dict[str, EngineEntry] = {}
FAMILIES: dict[str, EngineFamily] = {}
_INSTANCES: dict[str, Engine] = {}


def _always() -> bool:
    return True


def engine(
    name: str, *, is_available: Callable[[], bool] = _always, can_prelabel: bool = False
) -> Callable[[type], type]:
    """Register an engine class under `name`. The class is built without arguments on first use.
    `can_prelabel`: the class also implements PrelabelEngine.prelabel (defects found with no prompt)."""

    def register(engine_class: type) -> type:
        if name in ENGINES:
            raise ValueError(f"two engines are named {name!r}")
        ENGINES[name] = EngineEntry(
            name=name, factory=engine_class, is_available=is_available, can_prelabel=can_prelabel
        )
        return engine_class

    return register


def engine_family(
    prefix: str, *, factory: Callable[[str], Engine], is_available: Callable[[str], bool], can_prelabel: bool = False
) -> None:
    """Register the family of engines named "<prefix>-<key>" (see EngineFamily)."""
    if prefix in FAMILIES or prefix in ENGINES:
        raise ValueError(f"two engines or families are named {prefix!r}")
    FAMILIES[prefix] = EngineFamily(
        prefix=prefix, factory=factory, is_available=is_available, can_prelabel=can_prelabel
    )


def _family_of(name: str) -> EngineFamily | None:
    prefix, separator, key = name.partition("-")
    return FAMILIES.get(prefix) if separator and key else None


def engine_is_available(name: str) -> bool:
    """Whether `name` (a registered engine or a member of a family) can run here."""
    _load_engines()
    if name in ENGINES:
        return ENGINES[name].is_available()
    family = _family_of(name)
    return family is not None and family.is_available(name)


def engine_get(name: str) -> Engine:
    """The engine called `name` (registered, or a family member), built once. Raises KeyError with the available
    names."""
    if not engine_is_available(name):
        raise KeyError(f"unknown or unavailable assist engine {name!r}; available: {', '.join(engine_names())}")
    if name not in _INSTANCES:
        family = _family_of(name) if name not in ENGINES else None
        _INSTANCES[name] = family.factory(name) if family is not None else ENGINES[name].factory()
    return _INSTANCES[name]


def engine_names() -> list[str]:
    """Names of the registered engines that can run here, sorted (family members are named per project)."""
    _load_engines()
    return sorted(name for name, entry in ENGINES.items() if entry.is_available())


def engine_can_prelabel(name: str) -> bool:
    """Whether the registered engine `name` finds defects with no prompt (False for an unknown name)."""
    _load_engines()
    entry = ENGINES.get(name)
    if entry is not None:
        return entry.can_prelabel
    family = _family_of(name)
    return family is not None and family.can_prelabel


def _load_engines() -> None:
    # Importing an engine module registers it; local, as those modules import this one. New engines add theirs.
    from assist.engines import classical, interactive_model, sam, trained  # noqa: F401
