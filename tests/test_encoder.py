"""The PGGAN's in-domain encoder: it learns the generator's latents, a generator given one
starts its inversion from the encoder's answer, the refinement's perceptual term leaves no
gradient in the networks, and the shipped encoder reaches its manifest figures and is
refused for another generator than the one it was trained against."""

import json
import shutil

import pytest
import torch

from common.models.inversion import EncoderConfig, LatentEncoder, invert
from common.models.pggan import EncoderInversion, PGGANConfig, PGGANGenerator
from common.train.recipes.encoder import EVALUATED_FACES, EncoderLoss

TINY = PGGANConfig(latent_dim=64, resolution=16, channels=(64, 32, 16))


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return PGGANGenerator(TINY).eval()


def _features(images):
    """A fixed random convolution's maps, as a stand-in for the classifier's stages."""
    torch.manual_seed(5)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    return [conv(images), conv(images).relu().mean(1, keepdim=True)]


def test_training_the_encoder_lowers_its_loss_and_leaves_the_generator_as_it_was(tiny):
    torch.manual_seed(1)
    encoder = LatentEncoder(EncoderConfig(latent_dim=64, image_size=16, width=8))
    before = {name: value.clone() for name, value in tiny.state_dict().items()}
    loss_fn = EncoderLoss(tiny, _features, latent_weight=1.0, feature_weight=0.1)
    with torch.no_grad():
        faces = tiny(tiny.sample_latent(64, seed=3)).clamp(-1, 1)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=2e-3)
    losses = []
    for step in range(120):
        loss, metrics = loss_fn(encoder, (faces[torch.randint(64, (16,))],), step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(metrics["latent"])
    assert sum(losses[-20:]) < 0.7 * sum(losses[:20])
    assert all(torch.equal(before[name], value) for name, value in tiny.state_dict().items())
    assert all(parameter.grad is None for parameter in tiny.parameters())


def test_a_generator_with_an_encoder_starts_from_its_answer_and_refines_it(tiny):
    encoder = LatentEncoder(EncoderConfig(latent_dim=64, image_size=16, width=8)).eval()
    with torch.no_grad():
        faces = tiny(tiny.sample_latent(3, seed=7)).clamp(-1, 1)
    keys = set(tiny.state_dict())
    tiny.use_encoder(EncoderInversion(encoder, _features, steps=0))
    try:
        assert set(tiny.state_dict()) == keys                     # the encoder is not part of the generator's weights
        assert torch.equal(tiny.encode(faces), encoder.encode(faces))   # no refinement: the encoder's answer
        refined, history = invert(tiny, faces, steps=40, lr=0.01, start=encoder.encode(faces), features=_features)
        assert history[-1] < history[0]
    finally:
        tiny.use_encoder(None)
    with pytest.raises(ValueError, match="16px"):
        encoder.encode(torch.zeros(1, 3, 32, 32))


def test_the_shipped_encoder_reaches_its_manifest_figures_and_beats_optimisation_alone():
    from common.judge.classifier import held_out_faces, load_classifier
    from common.judge.scoreboard import EditScorer
    from common.weights import read_manifest
    from common.weights.shipped import encoder_name, load_pggan, load_pggan_encoder

    entry = read_manifest()[encoder_name()]
    metrics = entry["metrics"]
    encoder, generator = load_pggan_encoder(), load_pggan()
    faces = held_out_faces(n=EVALUATED_FACES).images(slice(None))
    with torch.no_grad():
        redrawn = generator.decode(encoder.encode(faces))
    judge = EditScorer(load_classifier(64), faces)
    assert float((redrawn - faces).pow(2).mean()) == pytest.approx(metrics["pixel_mse"], rel=0.02)
    assert judge.identity_change(judge.read(faces), judge.read(redrawn)) == pytest.approx(metrics["identity_change"],
                                                                                         rel=0.05)
    # the training run's own comparison on its held-out faces: refined from the encoder, the
    # person changes less than after the optimisation alone from the best random sample
    assert metrics["refined_identity_change"] < metrics["optimised_identity_change"]


def test_an_encoder_trained_for_another_generator_is_refused_naming_the_command(tmp_path):
    from common.weights.shipped import StaleEncoderError, encoder_name, load_pggan_encoder

    name = encoder_name()
    manifest = _weights_copy(tmp_path, (name,))
    manifest[manifest[name]["train"]["generator"]] = {"sha256": "0" * 64}     # a retrained generator
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(StaleEncoderError, match="python -m common.train encoder --save"):
        load_pggan_encoder(folder=tmp_path)


def _weights_copy(folder, names) -> dict:
    """Copy the shipped ``names`` and the manifest into ``folder``; returns the manifest."""
    from common.weights import weights_dir

    for file in (*names, "manifest.json"):
        shutil.copy(weights_dir() / file, folder / file)
    return json.loads((folder / "manifest.json").read_text())


def test_the_panels_forgive_a_stale_encoder_with_a_warning_but_not_a_damaged_one(tmp_path, monkeypatch):
    from common.load_or_train import pggan_on_data
    from common.weights import WeightsError
    from common.weights.shipped import encoder_name, pggan_name

    name = encoder_name()
    manifest = _weights_copy(tmp_path, (name, pggan_name(), "classifier.safetensors"))
    monkeypatch.setenv("FES_WEIGHTS_DIR", str(tmp_path))
    trained = manifest[name]["train"]
    stale = manifest | {name: manifest[name] | {"train": trained | {"generator_sha256": "0" * 64}}}
    (tmp_path / "manifest.json").write_text(json.dumps(stale))                # trained for an older generator
    with pytest.warns(UserWarning, match="optimisation alone"):
        assert pggan_on_data().inversion is None
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    data = (tmp_path / name).read_bytes()
    (tmp_path / name).write_bytes(data[: len(data) // 2])                     # a truncated download
    with pytest.raises(WeightsError, match=name):
        pggan_on_data()
