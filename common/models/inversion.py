"""GAN inversion: find the latent whose image matches a picture.

By optimisation alone (``invert``): start from the best of ``candidates`` random latents
(lowest pixel error), then minimise the mean squared pixel error with Adam. With an
encoder (the in-domain inversion of Zhu et al. 2020, arXiv 2004.00049): ``LatentEncoder``
maps the picture to a latent in one pass, trained on the generator's own faces and on
real ones, and a short optimisation refines it with a perceptual term beside the pixel
term (``invert(..., start=..., features=...)``), so the result stays a face the generator
draws well and keeps the person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..config import model_device
from .base import on_model_device

Features = Callable[[Tensor], list[Tensor]]     # images [N,3,H,W] -> feature maps, shallow first


@dataclass(frozen=True)
class EncoderConfig:
    latent_dim: int = 128            # the generator's
    image_size: int = 64
    width: int = 32                  # channels of the first convolution, doubled at each of the four


class LatentEncoder(nn.Module):
    """``[N,3,R,R]`` in [-1,1] -> ``[N, latent_dim]`` codes of a generator's edit space
    (``w``, or ``z`` without a mapping network): four stride-2 convolutions (``R -> R/16``)
    with LeakyReLU, then a linear layer."""

    def __init__(self, config: EncoderConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or EncoderConfig()
        layers, channels = [], 3
        for k in range(4):
            layers += [nn.Conv2d(channels, config.width * 2 ** k, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            channels = config.width * 2 ** k
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(channels * (config.image_size // 16) ** 2, config.latent_dim)
        self.latent_dim, self.image_size = config.latent_dim, config.image_size

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x).flatten(1))

    @on_model_device
    def encode(self, x: Tensor) -> Tensor:
        """``[N,3,R,R]`` -> ``[N, latent_dim]``, without gradients."""
        if x.shape[-1] != self.image_size:
            raise ValueError(f"images are {x.shape[-1]}px; this encoder reads {self.image_size}px")
        with torch.no_grad():
            return self(x)


def feature_distance(features: Features, x: Tensor, target_maps: list[Tensor]) -> Tensor:
    """``sum_l mean((phi_l(x) - phi_l(target))^2)``: the perceptual term, scalar."""
    return sum((estimate - target).pow(2).mean() for estimate, target in zip(features(x), target_maps))


def _best_of_samples(generator: nn.Module, images: Tensor, candidates: int, seed: int) -> Tensor:
    """``[N, D]``: for each image the one of ``candidates`` seeded samples closest in pixels."""
    with torch.no_grad():
        pool = generator.sample_latent(candidates, seed=seed).to(images.device)
        errors = ((generator.decode(pool)[None] - images[:, None]) ** 2).flatten(2).mean(2)  # [N, candidates]
        return pool[errors.argmin(dim=1)].clone()


def invert(generator: nn.Module, images: Tensor, steps: int = 200, lr: float = 0.05,
           candidates: int = 64, seed: int = 0, progress: bool = False,
           on_step: Callable[[int, float], None] | None = None, start: Tensor | None = None,
           features: Features | None = None, feature_weight: float = 1.0) -> tuple[Tensor, list[float]]:
    """Latents ``[N, D]`` that ``generator.decode`` maps close to ``images [N,3,H,W]``
    (in [-1,1], at the generator's resolution), and the mean squared pixel error per step.

    ``start [N, D]``: where the search begins (an encoder's answer); default the best of
    ``candidates`` samples. ``features``: a network's feature maps; the loss adds
    ``feature_weight`` times their squared distance to the pixel error. The search runs on
    the generator's device; the latents come back on the images' device."""
    if images.shape[-1] != generator.image_size:
        raise ValueError(f"images are {images.shape[-1]}px; this generator draws {generator.image_size}px")
    answer_device, images = images.device, images.to(model_device(generator))
    was_training = generator.training
    generator.eval()
    for parameter in generator.parameters():
        parameter.requires_grad_(False)
    w = (start.to(images.device).clone() if start is not None
         else _best_of_samples(generator, images, candidates, seed)).requires_grad_(True)
    with torch.no_grad():
        target_maps = features(images) if features is not None else []
    optimizer = torch.optim.Adam([w], lr=lr)
    history = []
    for step in tqdm(range(steps), desc="inverting", disable=not progress):
        drawn = generator(w)
        pixel = (drawn - images).pow(2).mean()
        loss = pixel if features is None else pixel + feature_weight * feature_distance(features, drawn, target_maps)
        w.grad, = torch.autograd.grad(loss, w)      # no gradient left in the networks' parameters
        optimizer.step()
        history.append(pixel.item())
        if on_step is not None:
            on_step(step, history[-1])
    for parameter in generator.parameters():
        parameter.requires_grad_(True)
    generator.train(was_training)
    return w.detach().to(answer_device), history
