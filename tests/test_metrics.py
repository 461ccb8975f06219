import numpy as np
import pytest

from common.metrics import dci, mutual_information_gap


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
