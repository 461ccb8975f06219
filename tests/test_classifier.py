"""The shipped attribute classifier reproduces the metrics its manifest records."""

import pytest
import torch

from common.data import SynthFaces
from common.judge.classifier import (AttributeClassifier, classifier_loss, evaluate_classifier,
                                      held_out_faces, load_classifier, weights_name)
from common.train.recipes.base import LATE_FALL
from common.train import TrainConfig, train
from common.weights import read_manifest

REQUIRED = ("Smiling", "Eyeglasses", "Male", "Bangs", "Bald", "Narrow_Eyes")


@pytest.fixture(scope="module", params=[64, 32], ids=["64px", "32px"])
def shipped(request):
    """(image size, held-out metrics of the classifier shipped for that size)."""
    size = request.param
    return size, evaluate_classifier(load_classifier(size), held_out_faces(size=size))


def test_shipped_weights_reach_the_manifest_figures(shipped):
    size, metrics = shipped
    recorded = read_manifest()[weights_name(size)]["metrics"]
    for name, value in recorded.items():
        if name != LATE_FALL:                       # a figure of the training run, not of the weights
            assert metrics[name] == pytest.approx(value, abs=0.005), name


def test_required_attributes_are_read_at_95_percent_or_better(shipped):
    size, metrics = shipped
    for name in REQUIRED:
        assert metrics[f"acc/{name}"] >= 0.95, (size, name)


def test_a_smeared_mouth_is_read_by_the_expression_it_averages(shipped):
    """Expression blends (what a decoder draws when its code leaves the expression open)
    are read by their mean expression: a smear of several mouths is not a smile."""
    size, metrics = shipped
    for name in ("Smiling", "Narrow_Eyes", "Mouth_Slightly_Open"):
        assert metrics[f"acc_blend/{name}"] >= 0.9, (size, name)


def test_faces_of_other_sizes_are_resized_to_the_trained_size():
    model = load_classifier()
    faces = held_out_faces(n=16).images(slice(None))
    small = torch.nn.functional.interpolate(faces, size=32, mode="area")
    assert model.feature_maps(small)[0].shape[-1] == 64
    assert model.read(small).probabilities.shape == (16, len(model.attributes))


def test_feature_maps_and_embedding_shapes():
    model = load_classifier()
    x = torch.zeros(2, 3, 64, 64)
    shapes = [tuple(m.shape) for m in model.feature_maps(x)]
    assert shapes == [(2, 24, 64, 64), (2, 48, 32, 32), (2, 96, 16, 16), (2, 192, 8, 8), (2, 192, 4, 4)]
    assert len(model.feature_maps(x, upto=1)) == 2
    features = model.read(x).features
    assert features.shape == (2, model.embedding_dim)
    assert torch.allclose(features, model.feature_maps(x)[-1].mean(dim=(2, 3)), atol=1e-6)  # the last stage, pooled
    with pytest.raises(KeyError, match="does not read 'Wearing_Hat'"):
        model.attribute("Wearing_Hat")


def test_a_short_training_run_lowers_the_loss():
    faces = SynthFaces(n=256, size=64, seed=0)
    history = train(AttributeClassifier(width=8), classifier_loss, faces,
                    TrainConfig(steps=30, batch_size=32, lr=3e-3, log_every=10, progress=False))
    assert history.values["loss"][-1] < 0.8 * history.values["loss"][0]
