"""The scoreboard's rules: gaps, component choice, and a judged real edit."""

import pytest
import torch

from common.models.classifier import held_out_faces, load_classifier
from common.models.vae import load_vae
from common.scoreboard import EDITS, Judge, best_component, gap_along, mean_difference


def test_mean_difference_gap_is_the_distance_between_group_means():
    torch.manual_seed(0)
    codes = torch.randn(400, 6)
    holds = codes[:, 2] > 0.3
    direction = mean_difference(codes, holds)
    assert direction.vector.norm() == pytest.approx(1.0, abs=1e-6)
    assert direction.gap == pytest.approx(float((codes[holds].mean(0) - codes[~holds].mean(0)).norm()), rel=1e-5)
    assert gap_along(codes, holds, direction.vector) == pytest.approx(direction.gap, rel=1e-5)


@pytest.mark.parametrize("spec", EDITS[:2], ids=lambda s: s.name)
def test_best_component_picks_the_correlated_axis_and_points_toward_the_edit(spec):
    torch.manual_seed(0)
    codes = torch.randn(500, 8)
    values = 0.3 + 0.5 * codes[:, 5] + 0.05 * torch.randn(500)
    k, direction = best_component(torch.eye(8), codes, values, spec)
    assert k == 5
    assert (direction.vector[5] > 0) == spec.above and direction.gap > 0


def test_a_vae_smile_edit_succeeds_more_with_strength_and_keeps_identity():
    vae, classifier, faces = load_vae("vanilla"), load_classifier(), held_out_faces(n=800)
    judge = Judge(classifier, faces.images(slice(None)))
    smile = EDITS[0]
    with torch.no_grad():
        codes = vae.encode(faces.images(slice(None)))
    truth = torch.from_numpy(faces.factor("smile"))
    direction = mean_difference(codes, smile.holds(truth))
    start = codes[~smile.holds(truth)][:48]
    weak, strong = judge.score(vae, start, direction, smile, 0.5), judge.score(vae, start, direction, smile, 2.0)
    assert weak["before"] == strong["before"] < 0.2
    assert strong["success"] > weak["success"] and strong["success"] > 0.8
    assert strong["factor change"] > 0.2
    assert strong["identity change"] < 0.5 and strong["attribute leakage"] < 0.2
