"""Precise BatchNorm: statistics recomputed as a plain average over fixed training batches before a network is
validated or exported. The running averages trail weights that moved during the last steps; on small batches of
mixed crops the eval-mode masks were markedly worse than with recomputed statistics (docs/interactive-model.md,
docs/training-recipes.md). Shared by both training recipes."""

from collections.abc import Callable

import torch
from torch import nn


def batch_norm_recompute(net: nn.Module, forward_batch: Callable[[int], object], batches: int) -> None:
    """Resets every BatchNorm's statistics and recomputes them over `forward_batch(0..batches - 1)`, each of which
    runs the network forward on one fixed training batch. No gradients; the network's mode is kept."""
    was_training = net.training
    net.train()
    norms = [norm for norm in batch_norms(net) if norm.training]  # a frozen part stays in eval mode: keep its own
    if not batches or not norms:
        net.train(was_training)
        return
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the batches
    try:
        with torch.no_grad():
            for batch in range(batches):
                forward_batch(batch)
    finally:
        for norm, momentum in zip(norms, momenta, strict=True):
            norm.momentum = momentum
        net.train(was_training)


def batch_norms(net: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [module for module in net.modules() if isinstance(module, nn.modules.batchnorm._BatchNorm)]
