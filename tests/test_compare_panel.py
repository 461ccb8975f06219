"""Notebook 05's one-slider panel and the README's animation: one strength moves every
method's face along its own direction, side by side."""

import torch
from PIL import Image

from common.compare_panel import ComparePanel, captioned, compare_row, save_sweep_gif, sweep_frames
from common.data import SynthFaces
from common.models import PCAFaces
from common.judge.scoreboard import EDITS
from common.edit_figures import Subject, encoder_subject, renderer_subject

SMILE = EDITS[0]


def subjects() -> dict[str, Subject]:
    train = SynthFaces(n=600, size=32, seed=5)
    test = SynthFaces(n=100, size=32, seed=5, split="test")
    pca = PCAFaces.fit(train.images(slice(None)), 16)
    return {"truth": renderer_subject(train, test, SMILE), "PCA": encoder_subject(pca, train, test, SMILE)}


def test_one_strength_moves_every_face_by_its_own_gap():
    chosen = subjects()
    row = compare_row(chosen, 1.5, size=32)
    assert row.shape == (3, 32, 64) and row.min() >= -1 and row.max() <= 1
    pca = chosen["PCA"]
    expected = pca.model.decode(pca.code[None] + 1.5 * pca.direction.gap * pca.direction.vector)[0]
    assert torch.allclose(row[:, :, 32:], expected, atol=1e-5)
    assert not torch.allclose(compare_row(chosen, 0.0, size=32), row, atol=1e-2)


def test_the_renderer_subject_smiles_more_as_the_strength_grows():
    truth = {"truth": subjects()["truth"]}
    mouth = slice(22, 29)                                  # rows of the mouth at 32 px (79% down the frame)
    rows = [compare_row(truth, s, size=32)[:, mouth] for s in (-2.0, 0.0, 2.0)]
    assert (rows[2] - rows[1]).abs().mean() > 0.02 and (rows[0] - rows[1]).abs().mean() > 0.02


def test_the_panel_redraws_every_face_when_its_one_slider_moves():
    panel = ComparePanel(subjects(), "Smiling", size=32)
    first = panel.image.value
    panel.slider.value = 2.0
    assert panel.image.value != first
    panel.slider.value = 0.0
    assert panel.image.value == first
    assert "truth" in panel.names.value and "PCA" in panel.names.value


def test_the_animation_sweeps_forth_and_back_with_captions(tmp_path):
    chosen = subjects()
    frames = sweep_frames(chosen, [-2.0, 0.0, 2.0], "smile", size=32)
    assert [f.size for f in frames] == [(2 * 64, 2 * 32 + 28)] * 3
    assert frames[0].tobytes() != frames[2].tobytes()
    save_sweep_gif(frames, tmp_path / "sweep.gif")
    assert Image.open(tmp_path / "sweep.gif").n_frames == 4          # -2, 0, +2, 0
    plain = captioned(compare_row(chosen, 0.0, size=32), list(chosen), "")
    assert plain.getpixel((0, 0)) == (255, 255, 255)                  # the caption bar is white
