"""SAM's input conventions in numpy, exactly as `segment_anything`/`mobile_sam` apply them (ResizeLongestSide,
Sam.preprocess, the ONNX example's prompt layout), so that the ONNX graphs see what the PyTorch model saw.

Coordinates: (x, y) image px of a pixel, (0, 0) the top-left pixel, as in assist/engines/base.py. SAM takes them
as they are (its prompt encoder adds the half pixel itself); a box (x0, y0, x1, y1) is passed corner for corner,
the inclusive convention SAM's own mask-to-box gives (amg.batched_mask_to_box).

Every image here is a *region*: the whole image or a crop of it (the part the inspector is viewing). Region
shapes are (height, width) px; the caller subtracts the crop's offset before calling these functions.
"""

import numpy as np
from PIL import Image

IMAGE_SIDE_PX = 1024  # the encoder's square input: the longest side is resized to this, the rest padded
EMBEDDING_SHAPE = (1, 256, 64, 64)  # the encoder's output (channels, 16 px cells), for every SAM variant
LOW_RES_SIDE_PX = 256  # side of the decoder's mask input and low-resolution mask output (4 px cells)
PIXEL_MEAN_RGB = (123.675, 116.28, 103.53)  # Sam.pixel_mean, grey levels 0..255 (ImageNet's mean)
PIXEL_STD_RGB = (58.395, 57.12, 57.375)  # Sam.pixel_std
MASK_THRESHOLD_LOGIT = 0.0  # Sam.mask_threshold: a pixel is in the mask where the decoder's logit is above this
MASK_INPUT_LOGIT = 10.0  # logit magnitude given to a bool mask turned into a mask input (see mask_input_from_mask)

LABEL_NEGATIVE, LABEL_POSITIVE = 0, 1  # SAM's point labels ...
LABEL_BOX_TOP_LEFT, LABEL_BOX_BOTTOM_RIGHT = 2, 3  # ... the two corners of a box ...
LABEL_PADDING = -1  # ... and "not a point": appended when there is no box, as SamPredictor pads

Point = tuple[float, float]  # (x, y) region px
Box = tuple[float, float, float, float]  # (x0, y0, x1, y1) region px, inclusive


def resized_shape(height: int, width: int) -> tuple[int, int]:
    """(height, width) of a region after SAM resizes its longest side to IMAGE_SIDE_PX (rounded half up, as
    ResizeLongestSide.get_preprocess_shape)."""
    scale = IMAGE_SIDE_PX / max(height, width)
    return int(height * scale + 0.5), int(width * scale + 0.5)


def image_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 from a grey (H, W) or (H, W, 1) image, or an RGB one as it is. SAM was trained on colour
    photographs: a grey image is the same grey level in the three channels."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or 0 in image.shape[:2]:
        raise ValueError(f"SAM takes a uint8 grey (H, W) or RGB (H, W, 3) image, not {image.dtype} {image.shape}")
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] != 1:
        raise ValueError(f"SAM takes 1 or 3 channels, not {image.shape[2]}")
    return np.repeat(image.reshape(image.shape[0], image.shape[1], 1), 3, axis=2)


def image_preprocess(image: np.ndarray) -> np.ndarray:
    """The encoder's input (1, 3, 1024, 1024) float32: resized (bilinear, through PIL as SAM's torchvision
    `resize` of a PIL image does: antialiased when shrinking), normalised by SAM's pixel mean and spread, padded
    with zeros at the bottom and right."""
    rgb = image_rgb(image)
    height, width = resized_shape(rgb.shape[0], rgb.shape[1])
    resized = np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)
    normalised = (resized - np.asarray(PIXEL_MEAN_RGB, np.float32)) / np.asarray(PIXEL_STD_RGB, np.float32)
    padded = np.zeros((1, 3, IMAGE_SIDE_PX, IMAGE_SIDE_PX), dtype=np.float32)
    padded[0, :, :height, :width] = normalised.transpose(2, 0, 1)
    return padded


def points_transform(points: np.ndarray, region_shape: tuple[int, int]) -> np.ndarray:
    """Region px -> encoder-input px, as ResizeLongestSide.apply_coords: x and y scale by the rounded new width
    and height over the old ones (they differ by up to half a pixel from one common scale)."""
    height, width = region_shape
    new_height, new_width = resized_shape(height, width)
    transformed = np.array(points, dtype=np.float64).reshape(-1, 2)
    transformed[:, 0] *= new_width / width
    transformed[:, 1] *= new_height / height
    return transformed.astype(np.float32)


def prompt_arrays(
    *,
    positive_clicks: tuple[Point, ...],
    negative_clicks: tuple[Point, ...],
    box: Box | None,
    region_shape: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """The decoder's `point_coords` (1, N, 2) float32 and `point_labels` (1, N) float32: clicks first, then the
    box's two corners, or one padding point (0, 0) labelled -1 when there is no box (SAM's ONNX example; the
    prompt encoder was trained with that pad whenever no box is given)."""
    points = [*positive_clicks, *negative_clicks]
    labels = [LABEL_POSITIVE] * len(positive_clicks) + [LABEL_NEGATIVE] * len(negative_clicks)
    if box is not None:
        points += [(box[0], box[1]), (box[2], box[3])]
        labels += [LABEL_BOX_TOP_LEFT, LABEL_BOX_BOTTOM_RIGHT]
    coords = points_transform(np.array(points, dtype=np.float64).reshape(-1, 2), region_shape)
    if box is None:
        coords = np.concatenate([coords, np.zeros((1, 2), np.float32)])
        labels.append(LABEL_PADDING)
    return coords[None], np.array([labels], dtype=np.float32)


def mask_input_from_mask(mask: np.ndarray) -> np.ndarray:
    """A bool region mask as the decoder's `mask_input` (1, 1, 256, 256) float32 logits, in SAM's low-resolution
    frame (the region resized so its longest side is 256, padded at the bottom and right).

    Prefer the decoder's own `low_res_logits` from the previous answer: SAM was trained on those. This is for
    callers that kept only the bool mask (an engine's `Prompt.previous_mask`): inside +MASK_INPUT_LOGIT, outside
    and padding -MASK_INPUT_LOGIT (a sure mask, about what SAM outputs away from edges), edge cells by the share
    of the cell the mask covers. Not tuned: no real SAM weights could be tried here."""
    if mask.dtype != bool or mask.ndim != 2:
        raise ValueError(f"a mask input is a bool (H, W) mask, not {mask.dtype} {mask.shape}")
    height, width = resized_shape(*mask.shape)
    stride_px = IMAGE_SIDE_PX // LOW_RES_SIDE_PX  # encoder-input px per low-resolution cell
    low_height, low_width = round(height / stride_px), round(width / stride_px)
    share = Image.fromarray(mask.astype(np.float32)).resize((low_width, low_height), Image.Resampling.BOX)
    logits = np.full((1, 1, LOW_RES_SIDE_PX, LOW_RES_SIDE_PX), -MASK_INPUT_LOGIT, dtype=np.float32)
    logits[0, 0, :low_height, :low_width] = (np.asarray(share, np.float32) * 2.0 - 1.0) * MASK_INPUT_LOGIT
    return logits
