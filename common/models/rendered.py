"""SynthFaces' own renderer as a latent model: the scoreboard's ceiling.

A face's code is its factor vector (``FACTOR_NAMES`` order) and decoding renders it, so
this "model" reconstructs perfectly and every factor moves linearly along its own axis.
Edited with the same rules as the learned models (the mean factor difference between the
faces where an edit holds and the others, moved by the group gap), it shows what those
rules and the judge give a perfect model: where it misses a target, the miss lies in the
rule or in the judge's reading rather than in the models.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..data import FACTOR_NAMES, render_faces, sample_factors
from ..data.synth_factors import valid_factors
from ..images import unit_to_signed


class RenderedFaces:
    """``LatentModel`` whose codes are SynthFaces factors ``[N, len(FACTOR_NAMES)]``."""

    def __init__(self, image_size: int = 64) -> None:
        self.image_size = image_size
        self.latent_dim = len(FACTOR_NAMES)

    def encode(self, x: Tensor) -> Tensor:
        raise TypeError("the renderer has no encoder: a SynthFaces face's code is its row of "
                        "`SynthFaces.factors` (torch.from_numpy(data.factors[rows]))")

    @torch.no_grad()
    def decode(self, z: Tensor) -> Tensor:
        """``[N, F]`` factors, any real values (clipped and rounded to renderable ones)
        -> ``[N,3,S,S]`` in [-1,1]."""
        factors = torch.from_numpy(valid_factors(z.detach().cpu().numpy()))
        return unit_to_signed(render_faces(factors, self.image_size)).to(z.device)

    def sample_latent(self, n: int, seed: int | None = None) -> Tensor:
        """``[n, F]`` factors drawn as SynthFaces draws its faces (dataset ``seed``, default 0)."""
        return torch.from_numpy(sample_factors(seed or 0, np.arange(n)))
