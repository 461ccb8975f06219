"""Every shipped VAE reproduces the metrics its manifest records and decodes without a
checkerboard, and the DFC-VAE's Smiling vector points along the true smile factor."""

import numpy as np
import pytest
import torch

from common.data.celeba_names import attribute_index
from common.direction import mean_difference, unit
from common.judge.metrics import checkerboard_share, factor_direction
from common.judge.classifier import held_out_faces
from common.judge.metrics import evaluate_vae
from common.models.vae import reconstruct
from common.weights.shipped import load_vae
from common.weights import read_manifest

SHIPPED = ("vanilla", "beta_h", "beta_b", "dfc")


@pytest.fixture(scope="module")
def held_out():
    faces = held_out_faces()
    return faces, faces.batch(np.arange(len(faces)))


@pytest.mark.parametrize("kind", SHIPPED)
def test_shipped_vae_reaches_its_manifest_figures(kind, held_out):
    _, (images, _, factors) = held_out
    recorded = read_manifest()[f"vae_{kind}.safetensors"]["metrics"]
    metrics = evaluate_vae(load_vae(kind), images, factors)
    for name in ("reconstruction_sse", "pixel_mse", "kl"):
        assert metrics[name] == pytest.approx(recorded[name], rel=0.02), name
    for name in ("mig", "dci_disentanglement"):
        assert metrics[name] == pytest.approx(recorded[name], abs=0.02), name


@pytest.mark.parametrize("kind", SHIPPED)
def test_shipped_vae_reconstructions_carry_no_checkerboard(kind, held_out):
    """At most twice the faces' own power at period 2 pixels (a stride-2 transposed-conv
    decoder trained on a perceptual loss alone put ten times as much there)."""
    _, (images, _, _) = held_out
    faces = float(checkerboard_share(images[:256]).mean())
    decoded = float(checkerboard_share(reconstruct(load_vae(kind), images[:256])).mean())
    assert decoded < 2 * faces, f"reconstructions {decoded:.4f} against faces {faces:.4f}"


def test_dfc_smiling_vector_points_along_the_smile_factor(held_out):
    faces, (images, attributes, _) = held_out
    with torch.no_grad():
        codes = load_vae("dfc").encode(images).double()
    vector = mean_difference("Smiling", codes, attributes[:, attribute_index("Smiling")].bool()).vector
    smile = unit(factor_direction(codes, torch.from_numpy(faces.factor("smile"))))
    assert torch.dot(vector, smile) > 0.9
    for other in ("yaw", "eye_open"):
        assert abs(torch.dot(vector, unit(factor_direction(codes, torch.from_numpy(faces.factor(other)))))) < 0.3
