"""The README's smile figure: the face it picks, the strip it decodes, the figure it draws,
and the script that writes it from the shipped weights."""

import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest
import torch
from PIL import Image

from common.data import SynthFaces
from common.models import PCAFaces
from common.latent import lookalike_vectors
from common.judge.scoreboard import EDITS, EditSpec, EditScorer, group_directions, true_values
from common.edit_figures import STRENGTHS, edit_strip, encoder_strip, renderer_strip, showcase_faces, showcase_figure
from common.load_or_train import classifier_on_data

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
SMILE = EDITS[0]


@pytest.fixture(scope="module")
def setting():
    train = SynthFaces(n=1500, size=64, seed=3)
    test = SynthFaces(n=200, size=64, seed=3, split="test")
    pca = PCAFaces.fit(train.images(slice(None)), 64)
    judge = EditScorer(classifier_on_data(64), test.images(slice(None)))
    return train, test, pca, judge


def test_the_face_shown_does_not_smile_yet_and_looks_ahead(setting):
    _, test, _, _ = setting
    chosen = showcase_faces(test, [SMILE], count=3)
    assert len(set(chosen)) == 3
    assert (test.factor("smile")[chosen] <= SMILE.threshold).all()
    assert (abs(test.factor("yaw")[chosen]) < 0.1).all()


def test_no_suitable_face_is_a_clear_error():
    smiling = SynthFaces(n=400, size=32, seed=1, split="test")
    always = EditSpec("smile", "smile", -10.0, True, ())   # every face "smiles"
    with pytest.raises(ValueError, match="only 0 of 400 held-out faces are without 'smile'"):
        showcase_faces(smiling, [always])


def test_the_strip_moves_the_code_by_each_strength_in_gaps_and_reads_every_face(setting):
    train, test, pca, judge = setting
    direction = group_directions(pca.encode(train.images(slice(None))), train, [SMILE])[SMILE.name]
    face = test.images(showcase_faces(test, [SMILE]))
    code = pca.encode(face)[0]
    strip = edit_strip(pca, code, direction, face[0], judge, SMILE)
    assert strip.edits.shape == (len(STRENGTHS), 3, 64, 64)
    for strength, edited in zip(STRENGTHS, strip.edits):
        expected = pca.decode((code + strength * direction.gap * direction.vector)[None])[0]
        assert torch.allclose(edited, expected, atol=1e-5)
    assert torch.allclose(strip.edits[STRENGTHS.index(0.0)], pca.decode(code[None])[0], atol=1e-5)
    assert torch.allclose(strip.readings, judge.values(torch.cat([face, strip.edits]), SMILE))


def test_a_look_alike_strip_moves_the_face_along_its_own_vector(setting):
    train, test, pca, judge = setting
    strip = encoder_strip(pca, train, test, judge, SMILE, lookalikes=40)
    face = test.images(showcase_faces(test, [SMILE]))
    code = pca.encode(face)
    own = lookalike_vectors(pca.encode(train.images(slice(None))), SMILE.present(true_values(train, SMILE)), code, 40)[0]
    assert torch.allclose(strip.edits[STRENGTHS.index(2.0)], pca.decode(code + 2.0 * own)[0], atol=1e-4)
    shared = encoder_strip(pca, train, test, judge, SMILE)
    assert not torch.allclose(strip.edits[STRENGTHS.index(2.0)], shared.edits[STRENGTHS.index(2.0)], atol=1e-3)
    codes = pca.encode(train.images(slice(None)))        # encoded once, for both strips (the README script)
    for given, computed in ((encoder_strip(pca, train, test, judge, SMILE, lookalikes=40, train_codes=codes), strip),
                            (encoder_strip(pca, train, test, judge, SMILE, train_codes=codes), shared)):
        assert torch.allclose(given.edits, computed.edits, atol=1e-5)


def test_the_renderers_strip_reproduces_the_face_and_smiles_at_plus_two(setting):
    train, test, _, judge = setting
    strip = renderer_strip(train, test, judge, SMILE)
    assert torch.allclose(strip.edits[STRENGTHS.index(0.0)], strip.face, atol=1.01 / 127.5)   # exact, up to uint8
    readings = dict(zip(STRENGTHS, strip.readings[1:].tolist()))
    assert readings[2.0] > SMILE.threshold + 0.3 and readings[-2.0] < readings[0.0] < SMILE.threshold


def test_every_face_in_the_figure_is_at_least_128_pixels_wide(setting):
    train, test, pca, judge = setting
    direction = group_directions(pca.encode(train.images(slice(None))), train, [SMILE])[SMILE.name]
    face = test.images(showcase_faces(test, [SMILE]))
    strip = edit_strip(pca, pca.encode(face)[0], direction, face[0], judge, SMILE)
    figure = showcase_figure({"PCA": strip, "PCA again": strip}, SMILE)
    figure.canvas.draw()
    assert len(figure.axes) == 2 * (1 + len(STRENGTHS))
    for axis in figure.axes:
        box = axis.get_window_extent()
        assert min(box.width, box.height) >= 128, f"a face drawn {box.width:.0f}x{box.height:.0f} px"
    assert figure.axes[0].get_xlabel() == f"smile {float(strip.readings[0]):+.2f}"


def test_the_script_writes_the_readme_figure_from_the_shipped_weights(tmp_path):
    out, gif = tmp_path / "grid.png", tmp_path / "sweep.gif"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "smile_grid.py"), "--out", str(out), "--gif", str(gif),
                           "--frames", "5", "--fit", "300", "--held-out", "100", "--inversion-steps", "3"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    for method in ("Renderer (truth)", "VAE", "VAE, own vector", "DFC-VAE", "DFC-VAE, own vector", "Glow (64x64, conditional)",
                   "PGGAN + InterFaceGAN", "PGGAN + InterFaceGAN, identity held"):
        assert method in done.stdout
    width, height = Image.open(out).size
    assert width >= 4 * 128 and height >= 8 * 128
    animation = Image.open(gif)
    assert animation.n_frames == 5 + 3                             # -2 .. +2 and back
    assert animation.size[0] == 6 * 2 * 64                        # the six shared-vector rows, side by side
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png", "sweep.gif"]    # nothing half-written beside them


def test_training_curves_shade_the_last_fifth_and_say_how_much_it_still_fell():
    from common import plot
    from common.train import History

    history = History()
    for step in range(10, 1001, 10):
        history.add(step, {"loss": 1000.0 / step})
    figure = plot.training_curves(history, ("loss",))
    label = figure.axes[0].get_legend().get_texts()[0].get_text()
    assert label == f"loss (last 20% of the run: {-100 * history.late_fall('loss', 0.2):+.1f}%)"
    shaded = figure.axes[0].patches[0]
    assert shaded.get_x() == pytest.approx(800) and shaded.get_x() + shaded.get_width() == pytest.approx(1000)


def test_a_shipped_model_without_its_curves_says_how_to_get_them(tmp_path, monkeypatch):
    from common import load_or_train as trained
    from common.weights import WeightsError

    monkeypatch.setattr(trained, "training_record", lambda name: ({}, tmp_path))
    with pytest.raises(WeightsError, match="vae_dfc.history.json is missing.*python -m common.train"):
        trained.shipped_history("vae_dfc.safetensors")
