import numpy as np
import pytest
import torch

from common.judge.metrics import dci, edit_table, mutual_information_gap
from common.plot import text_table


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(0)
    factors = rng.uniform(-1, 1, size=(3000, 5))
    rotation, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    return factors, rotation


def test_an_identity_code_scores_near_one(planted):
    factors, _ = planted
    assert mutual_information_gap(factors, factors) > 0.9
    scores = dci(factors, factors)
    assert scores.disentanglement > 0.9 and scores.completeness > 0.9 and scores.informativeness > 0.95


def test_a_rotated_code_scores_lower_but_stays_informative(planted):
    factors, rotation = planted
    rotated = factors @ rotation
    assert mutual_information_gap(rotated, factors) < 0.5 * mutual_information_gap(factors, factors)
    scores = dci(rotated, factors)
    assert scores.disentanglement < 0.7 and scores.completeness < 0.7
    assert scores.informativeness > 0.95


def test_extra_noise_dimensions_do_not_break_the_scores(planted):
    factors, _ = planted
    noise = np.random.default_rng(1).normal(size=(len(factors), 3))
    codes = np.concatenate([factors, noise], axis=1)
    assert mutual_information_gap(codes, factors) > 0.8
    assert dci(codes, factors).disentanglement > 0.85


def test_edit_table_scores_a_real_edit_against_its_start():
    from common.data import attribute_index, select_faces
    from common.direction import mean_difference
    from common.judge.classifier import held_out_faces, load_classifier
    from common.weights.shipped import load_vae

    vae, classifier, faces = load_vae("vanilla"), load_classifier(), held_out_faces(n=600)
    with torch.no_grad():
        codes = vae.encode(faces.images(slice(None)))
    smile = mean_difference("Smiling", codes, faces.attributes[:, attribute_index("Smiling")])
    targets = {"Smiling": vae.encode(select_faces(faces, 32, Smiling=False).images)}
    rows = edit_table(vae, classifier, targets, {"mean difference": [smile]}, strengths=(1.0, 2.0))
    (row,) = rows
    assert list(row) == ["variant", "attribute", "before", "success f=1", "leakage f=1", "success f=2", "leakage f=2"]
    assert row["before"] < 0.3 and row["success f=2"] > row["before"] + 0.5
    assert 0 < row["leakage f=1"] < row["leakage f=2"] < 0.5


def test_text_table_aligns_columns_and_formats_by_prefix():
    table = text_table([{"name": "a", "share x": 0.5, "n": 3}, {"name": "longer", "share x": 0.25, "n": 10}],
                       {"share": ".0%"})
    lines = table.splitlines()
    assert len({len(line) for line in lines}) == 1
    assert lines[1].split() == ["a", "50%", "3"] and lines[2].split() == ["longer", "25%", "10"]
