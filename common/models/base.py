"""The one interface every model in this project implements."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

from torch import Tensor

from ..config import model_device

Method = TypeVar("Method", bound=Callable[..., Tensor])


@runtime_checkable
class LatentModel(Protocol):
    """A model with a flat latent space that slider panels and direction finders can use.

    ``encode``: ``[N,3,H,W]`` in [-1,1] -> ``[N,D]``, deterministic (VAE: mu; Glow: exact;
    GAN: inversion). ``decode``: ``[N,D]`` -> ``[N,3,H,W]`` in [-1,1]. Both compute on the
    model's device and answer on the device of their input (``on_model_device``).
    """

    latent_dim: int
    image_size: int

    def encode(self, x: Tensor) -> Tensor: ...

    def decode(self, z: Tensor) -> Tensor: ...

    def sample_latent(self, n: int, seed: int | None = None) -> Tensor: ...


def on_model_device(method: Method) -> Method:
    """For a model's method of one tensor (``encode``, ``decode``): compute on the model's
    device and answer on the device the tensor came from, so a model moved to the GPU
    (``model.to(common.device())``) still takes and gives CPU tensors in a notebook."""

    @functools.wraps(method)
    def on_device(self, x: Tensor, *args, **kwargs) -> Tensor:
        return method(self, x.to(model_device(self)), *args, **kwargs).to(x.device)

    return on_device
