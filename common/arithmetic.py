"""The write-up's latent arithmetic and interpolation, for any ``LatentModel``.

Arithmetic: encode N faces with A and N without; the attribute vector is
``mean(z_with) - mean(z_without)`` (``common.direction.mean_difference``); add it, weighted
by a strength ``f`` (``z + f v``: ``f`` gaps), to faces without A.
Interpolation: decode blends of two faces' codes (lerp or slerp).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .config import model_device
from .direction import Direction, mean_difference
from .latent import interpolate
from .models.base import LatentModel


@torch.no_grad()
def encode_faces(model: LatentModel, images: Tensor, sample: bool = False, seed: int = 0,
                 batch: int = 500) -> Tensor:
    """``[N,3,H,W] -> [N,D]``: the deterministic code, or (``sample=True``, as the write-up
    did on VAEs) a draw from the posterior, seeded; ``batch`` faces at a time, so memory
    stays flat however many faces are encoded."""
    if sample:
        if not hasattr(model, "encode_sample"):
            raise ValueError(f"{type(model).__name__} has no posterior to sample from; use sample=False")
        return model.encode_sample(images, generator=torch.Generator().manual_seed(seed))
    device = model_device(model)
    return torch.cat([model.encode(images[i:i + batch].to(device)).cpu() for i in range(0, len(images), batch)])


@torch.no_grad()
def decode_faces(model: LatentModel, codes: Tensor, batch: int = 250) -> Tensor:
    """``[N,D] -> [N,3,H,W]``, ``batch`` codes at a time (the twin of ``encode_faces``); both
    compute on the model's device and return on the CPU."""
    device = model_device(model)
    return torch.cat([model.decode(codes[i:i + batch].to(device)).cpu() for i in range(0, len(codes), batch)])


def group_direction(name: str, model: LatentModel, with_images: Tensor, without_images: Tensor,
                    sample: bool = False, seed: int = 0) -> Direction:
    """The mean difference of the two groups' codes, ``mean(z_with) - mean(z_without)``,
    as a ``Direction`` (its gap is that vector's length)."""
    codes = torch.cat([encode_faces(model, with_images, sample, seed),
                       encode_faces(model, without_images, sample, seed + 1)])
    return mean_difference(name, codes, torch.arange(len(codes)) < len(with_images))


@torch.no_grad()
def add_vector(model: LatentModel, images: Tensor, direction: Direction, strengths: list[float],
               sample: bool = False, seed: int = 0) -> list[Tensor]:
    """One row per face: ``decode(z + f * gap * vector)`` for each strength ``f`` (in gaps);
    each row ``[len(strengths),3,H,W]``."""
    codes = encode_faces(model, images, sample, seed)
    weights = torch.tensor(strengths, dtype=codes.dtype)[:, None]
    return [model.decode(direction.moved(code[None], weights).to(model_device(model))) for code in codes]


@torch.no_grad()
def interpolation_row(model: LatentModel, first: Tensor, second: Tensor, steps: int = 8,
                      mode: str = "lerp") -> Tensor:
    """``[3,H,W], [3,H,W] -> [steps,3,H,W]``: decoded blends from the first face's code to
    the second's; the ends are the two reconstructions."""
    z1, z2 = model.encode(torch.stack([first, second]))
    return model.decode(interpolate(z1, z2, steps, mode))
