"""GAN inversion by optimisation: find the latent whose image matches a picture.

Start from the best of ``candidates`` random latents (lowest pixel error), then minimise
the mean squared pixel error with Adam; the error is recorded as it goes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..config import model_device


def invert(generator: nn.Module, images: Tensor, steps: int = 200, lr: float = 0.05,
           candidates: int = 64, seed: int = 0, progress: bool = False,
           on_step: Callable[[int, float], None] | None = None) -> tuple[Tensor, list[float]]:
    """Latents ``[N, D]`` that ``generator.decode`` maps close to ``images [N,3,H,W]``
    (in [-1,1], at the generator's resolution), and the mean squared error per step. The
    search runs on the generator's device; the latents come back on the images' device."""
    if images.shape[-1] != generator.image_size:
        raise ValueError(f"images are {images.shape[-1]}px; this generator draws {generator.image_size}px")
    answer_device, images = images.device, images.to(model_device(generator))
    was_training = generator.training
    generator.eval()
    for parameter in generator.parameters():
        parameter.requires_grad_(False)
    with torch.no_grad():
        pool = generator.sample_latent(candidates, seed=seed).to(images.device)
        pool_images = generator.decode(pool)
        errors = ((pool_images[None] - images[:, None]) ** 2).flatten(2).mean(2)  # [N, candidates]
        z = pool[errors.argmin(dim=1)].clone()
    z.requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=lr)
    history = []
    for step in tqdm(range(steps), desc="inverting", disable=not progress):
        loss = (generator(z) - images).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
        if on_step is not None:
            on_step(step, history[-1])
    for parameter in generator.parameters():
        parameter.requires_grad_(True)
    generator.train(was_training)
    return z.detach().to(answer_device), history
