"""The renderer as a latent model: the scoreboard's ceiling."""

import numpy as np
import pytest
import torch

from common.data import FACTOR_NAMES, sample_factors
from common.data.synth_factors import valid_factors
from common.judge.classifier import held_out_faces, load_classifier
from common.models.rendered import RenderedFaces
from common.judge.scoreboard import EDITS, EditScorer, faces_to_edit, group_directions

F = {name: i for i, name in enumerate(FACTOR_NAMES)}


def test_valid_factors_clip_ranges_and_round_categories():
    drawn = sample_factors(0, np.arange(500))
    assert np.array_equal(valid_factors(drawn), drawn)          # drawn faces are valid already
    edited = drawn[:2].copy()
    edited[:, F["smile"]] = (1.4, -1.3)
    edited[:, F["eye_open"]] = (-0.2, 1.5)
    edited[:, F["hair_colour"]] = (1.4, 3.6)
    edited[:, F["male"]] = (0.51, -0.3)
    fixed = valid_factors(edited)
    assert fixed[:, F["smile"]].tolist() == [1.0, -1.0]
    assert fixed[:, F["eye_open"]].tolist() == [0.0, 1.0]
    assert fixed[:, F["hair_colour"]].tolist() == [1.0, 3.0]
    assert fixed[:, F["male"]].tolist() == [1.0, 0.0]


def test_decoding_a_faces_factors_reproduces_the_face():
    faces = held_out_faces(n=16)
    model = RenderedFaces(64)
    decoded = model.decode(torch.from_numpy(faces.factors))
    assert decoded.shape == (16, 3, 64, 64)
    assert (decoded - faces.images(slice(None))).abs().max() <= 1.01 / 127.5   # the uint8 cache's rounding
    with pytest.raises(TypeError, match="factors"):
        model.encode(decoded)


def test_the_ceiling_meets_the_smile_targets_under_the_scoreboards_rules():
    """A perfect model edited by the scoreboard's rule (group mean difference, moved by the
    gap) turns nearly every held-out non-smiling face smiling; the learned models are
    measured against this."""
    faces = held_out_faces(n=800)
    judge = EditScorer(load_classifier(), faces.images(slice(None)))
    smile = EDITS[0]
    direction = group_directions(torch.from_numpy(faces.factors), faces, [smile])["smile"]
    start = torch.from_numpy(faces.factors[faces_to_edit(faces, smile, 96).numpy()])
    once, twice = (judge.score(RenderedFaces(64), start, direction, smile, s) for s in (1.0, 2.0))
    assert once["before"] < 0.05
    assert once["success"] > 0.85 and twice["success"] > 0.95
    assert once["target change"] > 0.8          # the factor moves by about the gap (1.1)
