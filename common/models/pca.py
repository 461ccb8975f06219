"""PCA faces (eigenfaces): the baseline row of every comparison.

A linear latent model: ``z = ((x - mean) V^T) / s`` with the top principal axes ``V`` and
their standard deviations ``s``, so codes are whitened and ``N(0, I)`` samples decode to
plausible (blurry) faces. Fitted with scikit-learn's randomized PCA in seconds.
"""

from __future__ import annotations

import torch
from sklearn.decomposition import PCA
from torch import Tensor, nn

from .base import on_model_device


class PCAFaces(nn.Module):
    """Eigenfaces as a ``LatentModel``. Buffers: ``mean [P]``, ``components [D,P]``,
    ``scale [D]`` with ``P = 3 * image_size**2``."""

    def __init__(self, latent_dim: int = 64, image_size: int = 64) -> None:
        super().__init__()
        self.latent_dim, self.image_size = latent_dim, image_size
        pixels = 3 * image_size * image_size
        self.register_buffer("mean", torch.zeros(pixels))
        self.register_buffer("components", torch.zeros(latent_dim, pixels))
        self.register_buffer("scale", torch.ones(latent_dim))

    @classmethod
    def fit(cls, images: Tensor, latent_dim: int = 64, seed: int = 0) -> PCAFaces:
        """Fit on ``[N,3,H,W]`` faces in [-1,1] (N > latent_dim)."""
        n, _, size, _ = images.shape
        if n <= latent_dim:
            raise ValueError(f"PCA with {latent_dim} components needs more than {latent_dim} faces, got {n}")
        pca = PCA(n_components=latent_dim, svd_solver="randomized", random_state=seed)
        pca.fit(images.reshape(n, -1).double().numpy())
        model = cls(latent_dim, size)
        model.mean.copy_(torch.from_numpy(pca.mean_))
        model.components.copy_(torch.from_numpy(pca.components_))
        model.scale.copy_(torch.from_numpy(pca.explained_variance_).sqrt())
        return model

    @on_model_device
    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        """``[N,3,H,W]`` -> ``[N,D]`` whitened codes."""
        return ((x.reshape(len(x), -1) - self.mean) @ self.components.T) / self.scale

    @on_model_device
    @torch.no_grad()
    def decode(self, z: Tensor) -> Tensor:
        """``[N,D]`` -> ``[N,3,H,W]`` clamped to [-1,1]."""
        flat = (z * self.scale) @ self.components + self.mean
        return flat.reshape(len(z), 3, self.image_size, self.image_size).clamp(-1.0, 1.0)

    def sample_latent(self, n: int, seed: int | None = None) -> Tensor:
        """``[n,D]`` standard normal codes (seeded when ``seed`` is given)."""
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        return torch.randn(n, self.latent_dim, generator=generator)
