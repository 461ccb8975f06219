"""Models that implement ``LatentModel``: one file per model over ``base.py``. Loading the
shipped ones is ``common.weights.shipped``; the classifier that scores them is in ``common.judge``."""

from .base import LatentModel
from .pca import PCAFaces

__all__ = ["LatentModel", "PCAFaces"]
