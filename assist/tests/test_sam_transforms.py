"""SAM's input conventions in numpy against SAM's own code (mobile_sam's ResizeLongestSide and Sam.preprocess,
which Meta's segment_anything shares). No model is run. Pure: no database."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from assist.sam.transforms import (
    PIXEL_MEAN_RGB,
    PIXEL_STD_RGB,
    image_preprocess,
    mask_input_from_mask,
    prompt_arrays,
    resized_shape,
)


def _sam_preprocess(rgb: np.ndarray) -> np.ndarray:
    """What SamPredictor.set_image feeds the encoder."""
    from mobile_sam.modeling import Sam  # type: ignore[import-untyped]
    from mobile_sam.utils.transforms import ResizeLongestSide  # type: ignore[import-untyped]

    resized = ResizeLongestSide(1024).apply_image(rgb)
    pixels = torch.as_tensor(resized).permute(2, 0, 1)[None].float()
    sam = SimpleNamespace(
        pixel_mean=torch.tensor(PIXEL_MEAN_RGB).view(-1, 1, 1),
        pixel_std=torch.tensor(PIXEL_STD_RGB).view(-1, 1, 1),
        image_encoder=SimpleNamespace(img_size=1024),
    )
    return Sam.preprocess(sam, pixels).numpy()


@pytest.mark.parametrize(
    "shape",
    [(180, 300), (1500, 1100), (64, 64)],
    ids=["enlarged non-square", "shrunk (antialiased)", "square"],
)
def test_preprocess_is_sams(shape):
    # given
    grey = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    # when
    pixels = image_preprocess(grey)
    # then
    assert (pixels.dtype, pixels.shape) == (np.float32, (1, 3, 1024, 1024))
    np.testing.assert_allclose(pixels, _sam_preprocess(np.repeat(grey[:, :, None], 3, axis=2)), atol=1e-5)


def test_resized_shape_rounds_half_up_as_sam():
    assert resized_shape(180, 300) == (614, 1024)  # 180 * 1024 / 300 = 614.4
    assert resized_shape(1500, 1100) == (1024, 751)  # 1100 * 1024 / 1500 = 750.93


def test_click_prompt_is_scaled_and_padded():
    # when
    coords, labels = prompt_arrays(
        positive_clicks=((150, 90),), negative_clicks=((10, 20),), box=None, region_shape=(180, 300)
    )
    # then: x by 1024 / 300, y by 614 / 180 (the rounded height), then SAM's padding point
    np.testing.assert_allclose(coords, [[[512.0, 307.0], [10 * 1024 / 300, 20 * 614 / 180], [0.0, 0.0]]], rtol=1e-6)
    assert labels.tolist() == [[1.0, 0.0, -1.0]]
    assert (coords.dtype, labels.dtype) == (np.float32, np.float32)


def test_box_prompt_follows_the_clicks_without_padding():
    coords, labels = prompt_arrays(
        positive_clicks=((150, 90),), negative_clicks=(), box=(30, 60, 90, 120), region_shape=(300, 300)
    )
    scale = 1024 / 300
    np.testing.assert_allclose(coords[0], np.array([[150, 90], [30, 60], [90, 120]]) * scale, rtol=1e-6)
    assert labels.tolist() == [[1.0, 2.0, 3.0]]


def test_mask_input_from_a_mask_is_in_sams_low_resolution_frame():
    # given: a 180 x 300 region whose left half is the mask
    mask = np.zeros((180, 300), bool)
    mask[:, :150] = True
    # when
    logits = mask_input_from_mask(mask)
    # then: the region is 154 x 256 cells of the 256 x 256 frame (614 x 1024 px / 4), the rest padding
    assert (logits.dtype, logits.shape) == (np.float32, (1, 1, 256, 256))
    assert (logits[0, 0, :154, :128] > 0).all()
    assert (logits[0, 0, :154, 128:] < 0).all()
    assert (logits[0, 0, 154:, :] < 0).all()
