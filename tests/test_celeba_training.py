"""Models trained on CelebA (here: SynthFaces exported in CelebA's files and geometry) go
to files of their own, are measured on CelebA's held-out split, and say so (issue 13)."""

from __future__ import annotations

import json

import pytest

from common.data import export_synthfaces_as_celeba
from common.judge.classifier import load_classifier
from common.weights.shipped import load_vae
from common.train.__main__ import main
from common.weights import WEIGHTS_DIR, sha256_of


@pytest.fixture(scope="module")
def celeba_root(tmp_path_factory):
    return export_synthfaces_as_celeba(tmp_path_factory.mktemp("data") / "celeba", n=80)


@pytest.fixture
def own_weights(tmp_path, monkeypatch):
    """A separate weights folder; the shipped files must not change."""
    before = {p.name: sha256_of(p) for p in WEIGHTS_DIR.iterdir() if p.is_file()}
    monkeypatch.setenv("FES_WEIGHTS_DIR", str(tmp_path / "weights"))
    yield tmp_path / "weights"
    assert {p.name: sha256_of(p) for p in WEIGHTS_DIR.iterdir() if p.is_file()} == before


def _train(model: str, root, tmp_path, *extra: str) -> None:
    main([model, "--data", "celeba", "--celeba-root", str(root), "--steps", "3", "--batch-size", "8",
          "--out", str(tmp_path / "runs" / model), "--save", *extra])


def test_celeba_models_get_their_own_files_and_celeba_metrics(celeba_root, own_weights, tmp_path, capsys):
    _train("classifier", celeba_root, tmp_path)
    _train("vae", celeba_root, tmp_path)
    printed = capsys.readouterr().out
    assert f"measured on CelebA from {celeba_root}: test split" in printed
    manifest = json.loads((own_weights / "manifest.json").read_text())
    assert set(manifest) == {"classifier_celeba64.safetensors", "vae_vanilla_celeba64.safetensors"}
    for entry in manifest.values():
        assert entry["data"]["name"] == "celeba" and str(celeba_root) in entry["data"]["held_out"]
    classifier = load_classifier(data="celeba")
    assert len(classifier.attributes) == 40 and classifier.factors == ()
    assert "mig" not in manifest["vae_vanilla_celeba64.safetensors"]["metrics"]   # no factors on CelebA
    assert load_vae("vanilla", data="celeba").config.image_size == 64


def test_a_gan_on_celeba_asks_for_the_celeba_classifier_first(celeba_root, own_weights, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        _train("pggan", celeba_root, tmp_path)
    assert stop.value.code == 2
    assert "train its classifier first: python -m common.train classifier --data celeba" in capsys.readouterr().err
