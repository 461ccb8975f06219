"""The shipped 32x32 Glow reproduces its recorded held-out bits/dim and stays invertible."""

import pytest
import torch

from common.data import SynthFaces
from common.models.classifier import held_out_faces
from common.models.glow import load_glow
from common.recipes import held_out_bits_per_dim
from common.weights import read_manifest


@pytest.fixture(scope="module")
def glow():
    return load_glow(32)


def test_shipped_glow_reaches_its_manifest_bits_per_dim(glow):
    recorded = read_manifest()["glow_32.safetensors"]["metrics"]["bits_per_dim"]
    held_out = held_out_faces(n=1000, size=32)
    assert held_out_bits_per_dim(glow, held_out) == pytest.approx(recorded, abs=0.02)


def test_shipped_glow_encodes_exactly_and_samples_in_range(glow):
    faces = SynthFaces(n=8, size=32, seed=0, split="test").images(slice(None))
    with torch.no_grad():
        codes = glow.encode(faces)
        assert (glow.decode(codes) - faces).abs().max() < 1e-3   # float32, 24 flow steps
        samples = glow.decode(glow.sample_latent(8, seed=0, temperature=0.7))
    assert samples.shape == (8, 3, 32, 32)
    assert samples.abs().max() < 1.5 and samples.std() > 0.1
