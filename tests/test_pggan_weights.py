"""The shipped 64x64 SynthFaces PGGAN reproduces the metrics its manifest records."""

import pytest

from common.judge.classifier import held_out_faces, load_classifier
from common.weights.shipped import load_pggan, pggan_name
from common.train.progressive_gan import sample_quality
from common.weights import read_manifest


@pytest.fixture(scope="module")
def quality():
    return sample_quality(load_pggan(), load_classifier(), held_out_faces())


def test_shipped_generator_reaches_its_manifest_figures(quality):
    recorded = read_manifest()[pggan_name()]["metrics"]
    assert quality["frechet"] == pytest.approx(recorded["frechet"], rel=0.01)
    for name, value in recorded.items():
        if name.startswith(("sample/", "data/")):
            assert quality[name] == pytest.approx(value, abs=0.01), name


def test_training_brought_the_samples_toward_the_data_without_collapsing(quality):
    recorded = read_manifest()[pggan_name()]["metrics"]
    assert quality["frechet"] < recorded["frechet_at_start"] / 3
    for name in ("Smiling", "Eyeglasses", "Bangs", "Mouth_Slightly_Open", "Young"):  # both values still drawn
        assert 0.05 < quality[f"sample/{name}"] < 0.95, name
