import re

import numpy as np
import pytest
import torch

from common.direction import mean_difference, unit
from common.latent import (Boundary, blend, boundary_sweep, condition, interpolate, lookalike_vectors, svm_boundary,
                           traversal)


def _boundaries(folder):
    return {p.name: torch.from_numpy(np.load(p)[0]) for p in folder.glob("*.npy")}


def test_condition_reproduces_every_interfacegan_conditional_boundary(fixtures):
    boundaries = _boundaries(fixtures / "interfacegan_boundaries")
    conditional = [n for n in boundaries if "_c_" in n]
    assert len(conditional) >= 9
    for name in conditional:
        primal, conditions = re.match(r"pggan_celebahq_(\w+?)_c_(\w+)_boundary\.npy", name).groups()
        others = [boundaries[f"pggan_celebahq_{c}_boundary.npy"] for c in conditions.split("_")]
        ours = condition(boundaries[f"pggan_celebahq_{primal}_boundary.npy"], *others)
        cosine = torch.dot(ours, unit(boundaries[name])).item()
        assert cosine >= 0.999999, (name, cosine)


def test_condition_leaves_other_coordinates_unchanged():
    g = torch.Generator().manual_seed(0)
    d, a, b, c = torch.randn(4, 32, generator=g, dtype=torch.float64)
    moved = condition(d, a, b, c)
    for other in (a, b, c):
        assert abs(torch.dot(moved, other)) < 1e-12
    assert torch.dot(moved, d) > 0
    with pytest.raises(ValueError, match="span"):
        condition(a + 2 * b, a, b)


def test_svm_boundary_recovers_a_planted_direction():
    g = torch.Generator().manual_seed(1)
    planted = unit(torch.randn(64, generator=g))
    codes = torch.randn(5000, 64, generator=g)
    scores = codes @ planted + 0.05 * torch.randn(5000, generator=g)
    boundary = svm_boundary(codes, scores, ratio=0.1)
    assert torch.dot(boundary.normal.float(), planted) > 0.9
    assert boundary.val_accuracy > 0.95
    assert abs(boundary.normal.norm().item() - 1) < 1e-6


def test_lookalike_vectors_follow_each_kind_of_face_where_the_attribute_vector_averages():
    """Two kinds of face (dim 5 at -3 or +3) show the attribute on different axes (dim 0 or 1):
    the global vector points between them, each face's look-alikes along its own axis."""
    torch.manual_seed(0)
    kind = torch.rand(2000) < 0.5
    labels = torch.rand(2000) < 0.4
    codes = 0.3 * torch.randn(2000, 6)
    codes[:, 5] += torch.where(kind, 3.0, -3.0)
    codes[kind, 0] += 2.0 * labels[kind]
    codes[~kind, 1] += 2.0 * labels[~kind]
    faces = codes[:20]
    vectors = lookalike_vectors(codes, labels, faces, k=100)
    own_axis = torch.where(kind[:20, None], torch.tensor([1.0, 0, 0, 0, 0, 0]), torch.tensor([0, 1.0, 0, 0, 0, 0]))
    cosine = torch.nn.functional.cosine_similarity(vectors, own_axis)
    overall = torch.nn.functional.cosine_similarity(mean_difference("a", codes, labels).vector[None], own_axis)
    assert cosine.min() > 0.95 and overall.max() < 0.8
    lengths = vectors.norm(dim=1)                   # the attribute's size, 2 (matching shortens it a little)
    assert lengths.min() > 1.5 and lengths.max() < 2.2


def test_lookalike_vectors_need_k_faces_in_each_group():
    codes, labels = torch.randn(100, 4), torch.arange(100) < 30
    assert lookalike_vectors(codes, labels, codes[:3], k=30).shape == (3, 4)
    with pytest.raises(ValueError, match="k=31 .* smaller group has 30"):
        lookalike_vectors(codes, labels, codes[:3], k=31)


def test_traversal_sets_an_axis_or_steps_a_direction_in_gaps():
    code = torch.zeros(4)
    assert torch.equal(traversal(code, 2, torch.tensor([-1.0, 1.0]))[:, 2], torch.tensor([-1.0, 1.0]))
    codes = torch.randn(300, 4)
    direction = mean_difference("smile", codes, codes[:, 0] > 0)
    path = traversal(code, direction, torch.tensor([0.0, 1.0, 2.0]))
    assert torch.allclose(path[2] - path[0], 2 * direction.step, atol=1e-6)
    assert torch.allclose(direction.position(path[1:]) - direction.position(path[:2]), torch.ones(2), atol=1e-5)


@pytest.mark.parametrize("mode", ["lerp", "slerp"])
def test_interpolation_ends_at_the_inputs(mode):
    z1, z2 = torch.randn(2, 128, dtype=torch.float64)
    path = interpolate(z1, z2, steps=9, mode=mode)
    assert path.shape == (9, 128)
    assert torch.allclose(path[0], z1) and torch.allclose(path[-1], z2)


def test_slerp_keeps_the_norm_of_gaussian_codes_where_lerp_shrinks_it():
    z1, z2 = torch.randn(2, 512, generator=torch.Generator().manual_seed(3))
    middle_lerp = blend(z1, z2, 0.5, "lerp").norm()
    middle_slerp = blend(z1, z2, 0.5, "slerp").norm()
    assert middle_lerp < 0.8 * z1.norm()
    assert abs(middle_slerp - (z1.norm() + z2.norm()) / 2) < 0.05 * z1.norm()
    with pytest.raises(ValueError, match="lerp"):
        blend(z1, z2, 0.5, "cubic")


def test_the_mean_difference_on_synthfaces_codes_points_along_the_smile_factor():
    from common.data import SynthFaces
    from common.data.celeba_names import attribute_index
    from common.judge.metrics import factor_direction
    from common.models import PCAFaces

    faces = SynthFaces(n=2000, size=64, seed=0)
    images = faces.images(slice(None))
    codes = PCAFaces.fit(images[:1500], latent_dim=64).encode(images).double()
    smile = unit(factor_direction(codes, torch.from_numpy(faces.factor("smile"))))
    smiling = mean_difference("Smiling", codes, faces.attributes[:, attribute_index("Smiling")])
    assert torch.dot(smiling.vector, smile) > 0.9
    unrelated = mean_difference("Eyeglasses", codes, faces.attributes[:, attribute_index("Eyeglasses")])
    assert abs(torch.dot(unrelated.vector, smile)) < 0.3


def test_sefa_finds_the_direction_the_first_layer_amplifies():
    g = torch.Generator().manual_seed(4)
    loud = unit(torch.randn(16, generator=g))
    weight = 0.05 * torch.randn(32, 16, 4, 4, generator=g)
    weight += 3.0 * torch.randn(32, 1, 4, 4, generator=g) * loud[None, :, None, None]
    from common.latent import sefa_directions

    directions = sefa_directions(weight, k=3)
    assert directions.shape == (3, 16)
    assert abs(torch.dot(directions[0], loud)) > 0.9


def test_pca_directions_recover_the_latent_axis_of_the_largest_activation_change():
    g = torch.Generator().manual_seed(5)
    codes = torch.randn(2000, 8, generator=g)
    mixing = torch.randn(8, 40, generator=g) * 0.1
    mixing[2] *= 30.0                                   # latent axis 2 dominates the activations
    activations = torch.tanh(codes @ mixing) + 0.01 * torch.randn(2000, 40, generator=g)
    from common.latent import pca_directions

    directions, explained = pca_directions(activations, codes, k=3)
    assert directions.shape == (3, 8) and explained[0] > explained[1]
    assert abs(directions[0, 2]) > 0.9


def test_boundary_sweep_places_the_code_at_each_signed_distance():
    normal = unit(torch.randn(16, generator=torch.Generator().manual_seed(3)))
    boundary = Boundary(normal, offset=0.7, val_accuracy=1.0)
    code = torch.randn(16)
    distances = torch.tensor([-3.0, 0.0, 2.5])
    swept = boundary_sweep(code, boundary, distances)
    assert torch.allclose(swept @ normal + 0.7, distances, atol=1e-5)
    residual = swept - (swept @ normal)[:, None] * normal        # nothing moves off the normal
    assert torch.allclose(residual, (code - (code @ normal) * normal).expand_as(residual), atol=1e-5)
