import numpy as np
import pytest
import torch

from common.metrics import frechet_distance
from common.models.pggan_training import Discriminator, progressive_lod


def test_lod_schedule_grows_from_4x4_to_full_resolution():
    lods = [progressive_lod(s, 900, levels=5) for s in range(0, 900, 50)]
    assert lods[0] == 4.0 and progressive_lod(899, 900, 5) == 0.0
    assert all(a >= b for a, b in zip(lods, lods[1:]))          # never shrinks
    assert any(0 < lod % 1 < 1 for lod in lods)                  # passes through fades
    assert progressive_lod(150, 900, 5) == pytest.approx(3.5)    # middle of the first fade-in


def test_discriminator_scores_any_level():
    d = Discriminator((16, 16, 8, 8))
    images = torch.randn(3, 3, 32, 32)
    for lod in (3.0, 2.5, 1.0, 0.0):
        assert d(images, lod).shape == (3,)


def test_frechet_distance_is_zero_for_one_set_and_grows_with_a_shift():
    a = np.random.default_rng(0).normal(size=(500, 4))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + 1.0) == pytest.approx(4.0, rel=0.05)
