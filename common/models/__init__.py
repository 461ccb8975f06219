"""Models that implement ``LatentModel``, and the attribute classifier that scores them."""

from .base import LatentModel
from .pca import PCAFaces

__all__ = ["LatentModel", "PCAFaces"]
