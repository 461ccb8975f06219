"""One Direction, one strength: strength 1 moves a face one gap, everywhere."""

import pytest
import torch

from common.direction import GAP, SD, Direction, along, coordinate, from_step, mean_difference, unit


def test_the_mean_difference_is_the_group_means_difference_with_its_gap_and_midpoint():
    codes = torch.tensor([[4.0, 1.0], [6.0, -1.0], [0.0, 3.0], [2.0, 5.0]])
    labels = torch.tensor([True, True, False, False])
    direction = mean_difference("smile", codes, labels)
    v = codes[:2].mean(0) - codes[2:].mean(0)                       # [4, -4]
    assert torch.allclose(direction.step, v) and direction.gap == pytest.approx(float(v.norm()))
    assert direction.centre == pytest.approx(float(coordinate(codes, v).mean()))   # the midpoint of the groups
    assert direction.unit == GAP and direction.label == "smile"
    with pytest.raises(ValueError, match="smile: .*both with and without .*4 of 4"):
        mean_difference("smile", codes, torch.ones(4, dtype=torch.bool))


def test_strength_one_moves_the_mean_face_without_the_attribute_onto_the_mean_face_with_it():
    torch.manual_seed(0)
    codes = torch.randn(600, 5)
    labels = codes[:, 1] + 0.3 * codes[:, 3] > 0.4
    direction = mean_difference("smile", codes, labels)
    assert torch.allclose(direction.moved(codes[~labels].mean(0), 1.0), codes[labels].mean(0), atol=1e-5)
    positions = direction.position(codes)
    assert positions[labels].mean() == pytest.approx(0.5, abs=1e-5)      # half a gap each side of the centre
    assert positions[~labels].mean() == pytest.approx(-0.5, abs=1e-5)
    assert torch.allclose(direction.position(direction.moved(codes, 2.0)), positions + 2.0, atol=1e-5)


def test_an_axis_with_labels_gets_the_same_unit_and_one_without_gets_a_standard_deviation():
    torch.manual_seed(1)
    codes = torch.randn(2000, 4) * torch.tensor([1.0, 3.0, 1.0, 1.0])
    labels = codes[:, 1] > 1.0
    measured = along("pose", torch.tensor([0.0, 2.0, 0.0, 0.0]), codes, labels)
    with_it, without = codes[labels, 1].mean(), codes[~labels, 1].mean()
    assert measured.gap == pytest.approx(float(with_it - without), rel=1e-5) and measured.unit == GAP
    assert measured.centre == pytest.approx(float(with_it + without) / 2, rel=1e-5)
    unlabelled = along("pose", torch.tensor([0.0, 2.0, 0.0, 0.0]), codes)
    assert unlabelled.gap == pytest.approx(3.0, rel=0.05) and unlabelled.unit == SD
    assert unlabelled.label == "pose (1 = 1 sd)"
    assert torch.allclose(unlabelled.vector, torch.tensor([0.0, 1.0, 0.0, 0.0]))


def test_per_face_directions_move_each_face_by_its_own_gap():
    vectors = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    own = Direction("smile", vectors, torch.tensor([[2.0], [3.0]]))
    assert torch.allclose(own.moved(torch.zeros(2, 2), 1.0), torch.tensor([[2.0, 0.0], [0.0, 3.0]]))


def test_unit_refuses_a_zero_vector():
    assert torch.allclose(unit(torch.tensor([3.0, 4.0])), torch.tensor([0.6, 0.8]))
    with pytest.raises(ValueError, match="zero vector"):
        unit(torch.zeros(3))


def test_a_models_own_step_is_strength_one_and_centred_by_labels():
    codes = torch.tensor([[0.0, 0.0], [2.0, 0.0], [4.0, 1.0], [6.0, -1.0]])
    labels = torch.tensor([False, False, True, True])
    shift = from_step("Smiling", torch.tensor([3.0, 0.0]), codes, labels)
    assert shift.gap == 3.0 and torch.allclose(shift.step, torch.tensor([3.0, 0.0]))
    assert shift.centre == pytest.approx(3.0) and from_step("Smiling", torch.tensor([3.0, 0.0])).centre == 0.0
