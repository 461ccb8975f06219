"""DFC-VAE: a VAE trained with a deep-feature perceptual loss (Hou et al. 2017).

Loss per image::

    alpha * KL + beta * sum over layers l of  P * mean((phi_l(x) - phi_l(x_hat))^2)

with alpha = 1, beta = 0.5 (the paper's), ``phi_l`` the activations of a fixed network,
and ``P = 3 * H * W`` the number of image values. The per-layer mean squared difference is
the paper's; multiplying it by ``P`` puts it on the same per-image scale as the VAE's
summed pixel error and the KL in nats (with a bare mean, the KL term outweighs it a
hundredfold and the posterior collapses to one blurry face).

Feature networks: torchvision's ImageNet VGG19 (relu1_1, relu2_1, relu3_1: "VAE-123";
relu3_1, relu4_1, relu5_1: "VAE-345"), when its weights are cached or downloadable; here,
offline, the project's attribute classifier (trained on the same faces). Either way the
network is frozen, in eval mode, and stops after the last layer used.
"""

from __future__ import annotations


import torch
from torch import Tensor, nn

from .vae import kl_divergence

VGG_RELU = {"relu1_1": 1, "relu2_1": 6, "relu3_1": 11, "relu4_1": 20, "relu5_1": 29}
VGG_LAYER_SETS = {"vgg123": ("relu1_1", "relu2_1", "relu3_1"), "vgg345": ("relu3_1", "relu4_1", "relu5_1")}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class FeatureNetworkError(RuntimeError):
    """The requested feature network's weights cannot be had; the message says what to do."""


def _freeze(module: nn.Module) -> nn.Module:
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module.eval()


class VGGFeatures(nn.Module):
    """VGG19 activations at named ReLU layers for images in [-1,1] (ImageNet-normalised).

    Args:
        layers: e.g. ``VGG_LAYER_SETS["vgg123"]``.
        pretrained: load torchvision's ImageNet weights (cached or downloaded); False gives
            random weights (tests, or a user without the weights who wants the code path).
    """

    def __init__(self, layers: tuple[str, ...], pretrained: bool = True) -> None:
        super().__init__()
        from torchvision.models import VGG19_Weights, vgg19

        unknown = [n for n in layers if n not in VGG_RELU]
        if unknown:
            raise ValueError(f"unknown VGG layers {unknown}; choose from {list(VGG_RELU)}")
        if pretrained:
            try:
                net = vgg19(weights=VGG19_Weights.IMAGENET1K_V1)
            except Exception as error:  # offline, blocked, or a damaged cache file
                raise FeatureNetworkError(
                    "torchvision's ImageNet VGG19 weights are not in the torch cache "
                    f"({torch.hub.get_dir()}/checkpoints/vgg19-dcbb9e9d.pth) and could not be downloaded "
                    f"({type(error).__name__}: {error}). Put the file there, or use the attribute "
                    "classifier as the feature network (features='classifier').") from error
        else:
            net = vgg19(weights=None)
        self.indices = [VGG_RELU[n] for n in layers]
        self.body = _freeze(net.features[: max(self.indices) + 1])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.description = f"ImageNet VGG19 {'/'.join(layers)}" if pretrained else f"random-weight VGG19 {'/'.join(layers)}"

    def forward(self, x: Tensor) -> list[Tensor]:
        h = ((x + 1.0) / 2.0 - self.mean) / self.std
        out = []
        for k, layer in enumerate(self.body):
            h = layer(h)
            if k in self.indices:
                out.append(h)
        return out


class ClassifierFeatures(nn.Module):
    """The attribute classifier's stage activations (64, 32 and 16 pixels by default)."""

    def __init__(self, classifier: nn.Module, stages: tuple[int, ...] = (0, 1, 2)) -> None:
        super().__init__()
        self.classifier, self.stages = _freeze(classifier), stages
        self.description = f"attribute classifier, stages {stages}"

    def forward(self, x: Tensor) -> list[Tensor]:
        maps = self.classifier.feature_maps(x, upto=max(self.stages))
        return [maps[s] for s in self.stages]

    def train(self, mode: bool = True) -> ClassifierFeatures:
        return super().train(False)  # frozen: BatchNorm keeps its statistics


def perceptual_loss(features: nn.Module, x: Tensor, x_hat: Tensor) -> Tensor:
    """``sum_l P * mean((phi_l(x) - phi_l(x_hat))^2)`` per image, averaged over the batch.

    Targets ``phi_l(x)`` carry no gradient; gradients flow only through ``x_hat``.
    """
    values = x[0].numel()
    with torch.no_grad():
        targets = features(x)
    total = x_hat.new_zeros(())
    for target, estimate in zip(targets, features(x_hat)):
        total = total + values * (estimate.float() - target.float()).pow(2).mean()
    return total


class DFCLoss:
    """``common.train`` loss for a ``VAE`` trained with a perceptual reconstruction term."""

    def __init__(self, features: nn.Module, alpha: float = 1.0, beta: float = 0.5) -> None:
        self.features, self.alpha, self.beta = features, alpha, beta

    def __call__(self, model: nn.Module, batch: tuple[Tensor, ...], step: int) -> tuple[Tensor, dict[str, float]]:
        x = batch[0]
        self.features.to(x.device)
        reconstruction, mu, logvar = model(x)
        perceptual = perceptual_loss(self.features, x, reconstruction)
        kl = kl_divergence(mu.float(), logvar.float()).mean()
        return self.alpha * kl + self.beta * perceptual, {"perceptual": perceptual.item(), "kl": kl.item()}
