"""The assist engine interface and the classical engine, on synthetic ground tiles (pure: no database)."""

import cv2
import numpy as np
import pytest

from assist.engines import base
from assist.engines.base import EngineResult, Prompt, engine, engine_get, engine_names, prompt_check
from assist.engines.classical import ClassicalEngine

SURFACE_GREY = 128
TEXTURE_NOISE_GREY = 6  # pixel noise of the synthetic surface
STRIPE_GREY = 8  # column-to-column offsets, like grinding marks
DEFECT_DEPTH_GREY = 40  # how much darker (or brighter) a synthetic defect is than the surface


def _surface(*, height: int = 200, width: int = 200, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    stripes = rng.normal(0, STRIPE_GREY, size=(1, width))
    return SURFACE_GREY + stripes + rng.normal(0, TEXTURE_NOISE_GREY, size=(height, width))


def _with_blob(surface: np.ndarray, *, depth_grey: float = -DEFECT_DEPTH_GREY) -> tuple[np.ndarray, np.ndarray]:
    """A 36 x 24 px elliptical pore centred at (100, 100): the image and the pore's mask."""
    blob = np.zeros(surface.shape, np.uint8)
    cv2.ellipse(blob, (100, 100), (18, 12), 0, 0, 360, 1, thickness=-1)
    image = np.clip(surface + depth_grey * blob.astype(np.float64), 0, 255).astype(np.uint8)
    return image, blob.astype(bool)


def _filled(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    mask = np.zeros(shape, bool)
    mask[y0 : y1 + 1, x0 : x1 + 1] = True
    return mask


def _iou(first: np.ndarray, second: np.ndarray) -> float:
    return float((first & second).sum() / (first | second).sum())


BLOB_TIGHT_BOX = (82, 88, 118, 112)
BLOB_LOOSE_BOX = (67, 73, 133, 127)  # 15 px of surface on every side


def test_registry_names_and_builds_each_engine_once():
    assert "classical" in engine_names()
    first = engine_get("classical")
    assert isinstance(first, ClassicalEngine)
    assert engine_get("classical") is first


def test_registry_refuses_unknown_and_duplicate_names():
    with pytest.raises(KeyError, match="available: .*classical"):
        engine_get("no-such-engine")
    with pytest.raises(ValueError, match="two engines are named 'classical'"):
        engine("classical")(ClassicalEngine)


def test_unavailable_engine_is_not_listed():
    # given: an engine whose weights are "not on disk"
    @engine("test-missing-weights", is_available=lambda: False)
    class MissingWeights:
        def predict(self, image: np.ndarray, prompt: Prompt) -> EngineResult:
            raise AssertionError("never built")

    try:
        # then
        assert "test-missing-weights" not in engine_names()
        with pytest.raises(KeyError):
            engine_get("test-missing-weights")
    finally:
        del base.ENGINES["test-missing-weights"]


def test_loose_box_around_dark_pore_beats_filled_box_by_far():
    # given
    image, pore = _with_blob(_surface())
    # when
    result = ClassicalEngine().predict(image, Prompt(box=BLOB_LOOSE_BOX, defect_class="blowhole"))
    # then
    box_iou = _iou(_filled(image.shape, BLOB_LOOSE_BOX), pore)
    engine_iou = _iou(result.full_mask(), pore)
    assert box_iou < 0.25
    assert engine_iou > 0.85
    assert result.engine == "classical"
    assert 0.5 < result.score <= 1.0


def test_bright_defect_is_found_as_well_as_dark():
    image, spot = _with_blob(_surface(), depth_grey=+DEFECT_DEPTH_GREY)
    result = ClassicalEngine().predict(image, Prompt(box=BLOB_TIGHT_BOX))
    assert _iou(result.full_mask(), spot) > 0.85


def test_negative_click_removes_area_and_adds_none():
    # given
    image, _ = _with_blob(_surface())
    engine_under_test = ClassicalEngine()
    before = engine_under_test.predict(image, Prompt(box=BLOB_LOOSE_BOX)).full_mask()
    # when: "not this part" on the pore's left end
    after = engine_under_test.predict(image, Prompt(box=BLOB_LOOSE_BOX, negative_clicks=((86.0, 100.0),))).full_mask()
    # then
    assert not after[100, 86]
    assert after.sum() < before.sum()
    assert not (after & ~before).any()


def test_positive_click_alone_finds_the_pore():
    image, pore = _with_blob(_surface())
    result = ClassicalEngine().predict(image, Prompt(positive_clicks=((100.0, 100.0),)))
    assert _iou(result.full_mask(), pore) > 0.8


def test_thin_crack_beats_its_box():
    # given: a 3 px dark diagonal line in a tight box
    surface = _surface()
    crack = np.zeros(surface.shape, np.uint8)
    cv2.line(crack, (60, 50), (120, 150), 1, thickness=3)
    image = np.clip(surface - DEFECT_DEPTH_GREY * crack.astype(np.float64), 0, 255).astype(np.uint8)
    rows, columns = np.nonzero(crack)
    box = (int(columns.min()), int(rows.min()), int(columns.max()), int(rows.max()))
    # when
    result = ClassicalEngine().predict(image, Prompt(box=box, geometry_kind="linear"))
    # then
    assert _iou(_filled(image.shape, box), crack.astype(bool)) < 0.1
    assert _iou(result.full_mask(), crack.astype(bool)) > 0.6


def test_box_with_nothing_visible_returns_the_filled_box():
    # given: plain surface; the inspector boxed something the pixels do not show
    image = np.clip(_surface(), 0, 255).astype(np.uint8)
    box = (60, 70, 130, 120)
    # when
    result = ClassicalEngine().predict(image, Prompt(box=box))
    # then: the floor, exactly
    assert np.array_equal(result.full_mask(), _filled(image.shape, box))
    assert result.score == 0.0


def test_defect_filling_its_box_keeps_the_box():
    # given: a dark rectangle, boxed exactly: the box is already the right answer
    surface = _surface()
    box = (70, 80, 129, 119)
    rectangle = _filled(surface.shape, box)
    image = np.clip(surface - DEFECT_DEPTH_GREY * rectangle, 0, 255).astype(np.uint8)
    # when
    result = ClassicalEngine().predict(image, Prompt(box=box))
    # then
    assert _iou(result.full_mask(), rectangle) > 0.95


def test_box_filling_the_image_returns_the_image():
    image = np.clip(_surface(height=40, width=50), 0, 255).astype(np.uint8)
    result = ClassicalEngine().predict(image, Prompt(box=(0, 0, 49, 39)))
    assert result.full_mask().all()


def test_negative_click_on_a_box_filling_the_image_removes_around_it():
    image = np.clip(_surface(height=40, width=50), 0, 255).astype(np.uint8)
    result = ClassicalEngine().predict(image, Prompt(box=(0, 0, 49, 39), negative_clicks=((25.0, 20.0),)))
    mask = result.full_mask()
    assert not mask[20, 25]
    assert 0 < mask.sum() < mask.size


def test_masks_have_the_image_shape():
    image, _ = _with_blob(_surface(height=180, width=220))
    for prompt in (
        Prompt(box=BLOB_LOOSE_BOX),
        Prompt(positive_clicks=((100.0, 100.0),)),
        Prompt(box=BLOB_TIGHT_BOX, positive_clicks=((0.0, 0.0),), negative_clicks=((219.0, 179.0),)),
    ):
        result = ClassicalEngine().predict(image, prompt)
        assert result.mask.dtype == bool
        assert result.full_mask().shape == (180, 220)


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        (Prompt(positive_clicks=((-1.0, 5.0),)), "positive click .* outside the 200x200 image"),
        (Prompt(box=BLOB_TIGHT_BOX, negative_clicks=((200.0, 0.0),)), "negative click .* outside"),
        (Prompt(positive_clicks=((float("nan"), 5.0),)), "outside"),
        (Prompt(box=(150, 150, 250, 190)), "box .* outside"),
        (Prompt(box=(120, 100, 80, 110)), "inverted"),
        (Prompt(negative_clicks=((10.0, 10.0),)), "needs a box or a positive click"),
    ],
)
def test_prompts_outside_the_image_are_refused(prompt, message):
    image, _ = _with_blob(_surface())
    with pytest.raises(ValueError, match=message):
        ClassicalEngine().predict(image, prompt)


def test_half_pixel_clicks_round_like_the_rasteriser():
    # (199.4, 0) is the centre of the last column, rounded; (199.5, 0) would be the pixel beyond the edge.
    prompt_check(Prompt(positive_clicks=((199.4, 0.0),)), image_shape=(200, 200))
    with pytest.raises(ValueError, match="outside"):
        prompt_check(Prompt(positive_clicks=((199.5, 0.0),)), image_shape=(200, 200))


def test_colour_or_float_images_are_refused():
    with pytest.raises(ValueError, match="uint8 grey image"):
        ClassicalEngine().predict(np.zeros((20, 20, 3), np.uint8), Prompt(box=(1, 1, 5, 5)))
    with pytest.raises(ValueError, match="uint8 grey image"):
        ClassicalEngine().predict(np.zeros((20, 20), np.float32), Prompt(box=(1, 1, 5, 5)))


def test_prompt_as_provenance_json():
    prompt = Prompt(
        box=(3, 4, 10, 12),
        positive_clicks=((5.5, 6.0),),
        negative_clicks=((9, 11),),
        previous_mask=np.ones((20, 20), bool),
        defect_class="crack",
        geometry_kind="linear",
    )
    assert prompt.to_json() == {
        "box": [3.0, 4.0, 10.0, 12.0],
        "positive_clicks": [[5.5, 6.0]],
        "negative_clicks": [[9.0, 11.0]],
        "defect_class": "crack",
        "geometry_kind": "linear",
    }


def test_result_crop_must_lie_inside_the_image():
    with pytest.raises(ValueError, match="leaves the image"):
        EngineResult(np.ones((5, 5), bool), (18, 0), (20, 20), 1.0, "test")
