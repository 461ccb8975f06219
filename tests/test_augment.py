"""The classifier's training augmentations: expression blends and degradations."""

import numpy as np
import pytest
import torch

from common.data import SynthFaces, attributes_from_factors, factor_sweep
from common.data.synth_factors import EXPRESSION_FACTORS, FACTOR_INDEX
from common.data.synthfaces import blend_expressions
from common.judge.augment import blend_expressions_randomly, blend_with_batch, degrade_randomly


@pytest.fixture(scope="module")
def faces():
    return SynthFaces(n=64, size=64, seed=0, split="test", progress=False)


def test_a_blend_weighted_on_the_face_itself_is_the_face(faces):
    factors = torch.from_numpy(faces.factors[:4])
    donors = torch.stack([factors, factors.flip(0)], dim=1)             # [4, 2, F]
    weights = torch.tensor([[1.0, 0.0]]).repeat(4, 1)
    images, mean = blend_expressions(factors, donors, weights, 64)
    assert images.shape == (4, 3, 64, 64)
    assert (images - faces.images(range(4))).abs().max() <= 2 / 255 + 1e-6     # the cache holds uint8
    assert torch.equal(mean, factors)


def test_an_even_blend_is_the_mean_of_the_two_expressions(faces):
    face, donor = faces.factors[0], faces.factors[1]
    factors = torch.from_numpy(face[None])
    images, mean = blend_expressions(factors, torch.from_numpy(np.stack([face, donor])[None]),
                                     torch.tensor([[0.5, 0.5]]), 64)
    own = face.copy()
    borrowed = face.copy()
    for name in EXPRESSION_FACTORS:
        borrowed[FACTOR_INDEX[name]] = donor[FACTOR_INDEX[name]]
    both = torch.cat([factor_sweep(own, "smile", [own[FACTOR_INDEX["smile"]]]),
                      factor_sweep(borrowed, "smile", [borrowed[FACTOR_INDEX["smile"]]])])
    assert torch.allclose(images[0], both.mean(0), atol=1e-5)
    expected = torch.from_numpy((own + borrowed) / 2)
    assert torch.allclose(mean[0], expected, atol=1e-6)
    identity = [i for i in range(len(face)) if i not in [FACTOR_INDEX[n] for n in EXPRESSION_FACTORS]]
    assert torch.equal(mean[0, identity], factors[0, identity])


def test_batch_donors_start_with_the_face_and_weights_sum_to_one(faces):
    factors = torch.from_numpy(faces.factors)
    donors, weights = blend_with_batch(factors, torch.Generator().manual_seed(3), variants=5)
    assert donors.shape == (64, 5, factors.shape[1]) and weights.shape == (64, 5)
    assert torch.equal(donors[:, 0], factors)
    assert (weights >= 0).all() and torch.allclose(weights.sum(1), torch.ones(64))


def test_random_blends_are_labelled_by_their_mean_expression_and_repeat_by_seed(faces):
    images, attributes, factors = faces.batch(np.arange(64))
    first = blend_expressions_randomly(images, attributes, factors, torch.Generator().manual_seed(7), share=0.5)
    again = blend_expressions_randomly(images, attributes, factors, torch.Generator().manual_seed(7), share=0.5)
    for a, b in zip(first, again):
        assert torch.equal(a, b)
    new_images, new_attributes, new_factors = first
    changed = (new_images != images).flatten(1).any(1)
    assert 16 <= int(changed.sum()) <= 48                                   # about half of 64
    assert torch.equal(new_images[~changed], images[~changed])
    labels = torch.from_numpy(attributes_from_factors(new_factors.numpy())).float()
    assert torch.equal(new_attributes, labels)
    assert torch.equal(images, faces.images(np.arange(64)))                 # the inputs are kept


def test_degradation_softens_a_share_of_the_batch_and_repeats_by_seed(faces):
    images = faces.images(range(32))
    first = degrade_randomly(images, torch.Generator().manual_seed(1))
    assert torch.equal(first, degrade_randomly(images, torch.Generator().manual_seed(1)))
    changed = (first != images).flatten(1).any(1)
    assert 4 <= int(changed.sum()) <= 28
    def edge_strength(x):                     # at 16 px, where the added noise averages out
        return torch.nn.functional.avg_pool2d(x, 4).diff(dim=-1).abs().mean()
    assert edge_strength(first[changed]) < edge_strength(images[changed])
    assert first.min() >= -1 and first.max() <= 1
