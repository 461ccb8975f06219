"""The one interface every model in this project implements (see ../shared/DESIGN.md)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from torch import Tensor


@runtime_checkable
class LatentModel(Protocol):
    """A model with a flat latent space that slider panels and direction finders can use.

    ``encode``: ``[N,3,H,W]`` in [-1,1] -> ``[N,D]``, deterministic (VAE: mu; Glow: exact;
    GAN: inversion). ``decode``: ``[N,D]`` -> ``[N,3,H,W]`` in [-1,1].
    """

    latent_dim: int
    image_size: int

    def encode(self, x: Tensor) -> Tensor: ...

    def decode(self, z: Tensor) -> Tensor: ...

    def sample_latent(self, n: int, seed: int | None = None) -> Tensor: ...
