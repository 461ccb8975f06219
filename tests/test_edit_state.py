"""The panel's edit state on its own: positions, moves, conditioning, reset and sweeps."""

import pytest
import torch

from common.direction import Direction, coordinate, unit
from common.edit_state import EditState


def _direction(name, vector, gap=1.0, centre=0.0):
    return Direction(name, unit(vector), gap, centre)


def _plain(**vectors):
    """Directions of gap 1 and centre 0 from raw vectors, by name."""
    return [_direction(name, vector) for name, vector in vectors.items()]


@pytest.fixture
def state():
    g = torch.Generator().manual_seed(0)
    directions = [_direction("smile", torch.randn(16, generator=g), centre=0.5),
                  _direction("pose", torch.randn(16, generator=g))]
    edit = EditState(directions)
    edit.set_base(torch.randn(16, generator=g))
    return edit


def test_positions_start_where_the_face_sits_minus_the_centre(state):
    smile = state.directions["smile"].vector
    assert smile.norm() == pytest.approx(1.0, abs=1e-6)
    assert state.start["smile"] == pytest.approx(float(coordinate(state.base[None], smile)) - 0.5, abs=1e-6)
    assert state.positions == state.start and state.history == []
    assert torch.equal(state.code(), state.base)


def test_moving_a_slider_moves_the_code_by_the_offset_along_its_direction(state):
    state.move("smile", state.start["smile"] + 2.0)
    assert torch.allclose(state.code() - state.base, 2.0 * state.directions["smile"].vector, atol=1e-6)
    assert state.position_of(state.code(), "smile") == pytest.approx(state.start["smile"] + 2.0, abs=1e-5)
    assert state.history == [("smile", state.start["smile"] + 2.0)]
    with pytest.raises(KeyError, match="smile, pose"):
        state.move("frown", 1.0)


def test_keep_others_holds_the_other_coordinates_and_keeps_the_current_edit(state):
    state.move("smile", state.start["smile"] + 1.0)
    edited = state.code()
    state.set_keep_others(True)
    assert torch.allclose(state.code(), edited)                  # switching does not jump the face
    pose_before = state.position_of(state.code(), "pose")
    state.move("smile", state.positions["smile"] + 2.0)
    assert state.position_of(state.code(), "pose") == pytest.approx(pose_before, abs=1e-5)
    assert state.position_of(state.code(), "smile") > state.position_of(edited, "smile") + 0.5
    state.set_keep_others(False)
    state.move("smile", state.positions["smile"] + 2.0)
    assert state.position_of(state.code(), "pose") != pytest.approx(pose_before, abs=1e-3)


def test_reset_returns_to_the_start_and_clears_the_history(state):
    state.move("pose", 2.5)
    assert state.reset() == state.start
    assert torch.allclose(state.code(), state.base) and state.history == []


def test_sweep_runs_from_minus_to_plus_limit_around_the_current_code(state):
    codes = state.sweep("pose", limit=3.0, frames=7)
    pose = state.directions["pose"].vector
    along = coordinate(codes, pose) - coordinate(state.code()[None], pose)
    assert codes.shape == (7, 16)
    assert torch.allclose(along, torch.linspace(-3, 3, 7), atol=1e-5)


def test_an_edit_needs_a_direction():
    with pytest.raises(ValueError, match="at least one direction"):
        EditState([])
    with pytest.raises(TypeError, match="Direction objects"):
        EditState({"smile": torch.ones(3)})
    with pytest.raises(ValueError, match="share a name"):
        EditState(_plain(smile=torch.ones(3)) * 2)


def test_a_slider_reads_gaps_from_the_centre_like_the_write_ups_strength():
    """A mean difference v of length 5 whose groups' midpoint is at 5: a face at the origin
    sits one gap below the boundary, and moving its slider by f adds f v (``z + f v``)."""
    vector = torch.tensor([3.0, 4.0, 0.0])
    edit = EditState([Direction("smile", unit(vector), 5.0, centre=5.0)])
    edit.set_base(torch.zeros(3))
    assert edit.start["smile"] == pytest.approx(-1.0)
    edit.move("smile", edit.start["smile"] + 2.0)
    assert torch.allclose(edit.code(), 2.0 * vector)
    assert torch.allclose(edit.sweep("smile", limit=1.0, frames=3)[0], vector)
    with pytest.raises(ValueError, match="positive"):
        EditState([Direction("smile", unit(vector), 0.0)])


def _own_vectors(code):
    """A face's own vectors that depend on the face: 'smile' along its first two coordinates."""
    smile = torch.zeros_like(code)
    smile[:2] = code[:2].sign() * 0.5
    return {"smile": smile, "pose": torch.ones_like(code) * 0.1}


def test_own_vectors_step_each_slider_unit_by_the_face_s_own_vector_without_jumping():
    g = torch.Generator().manual_seed(1)
    edit = EditState([_direction("smile", torch.randn(8, generator=g), gap=2.0),
                      _direction("pose", torch.randn(8, generator=g))], vectors_of=_own_vectors)
    edit.set_base(torch.randn(8, generator=g))
    edit.move("smile", edit.start["smile"] + 1.0)
    edited, positions = edit.code(), dict(edit.positions)
    edit.set_own_vectors(True)
    assert torch.allclose(edit.code(), edited) and edit.positions == positions    # nothing jumps
    edit.move("smile", edit.positions["smile"] + 2.0)
    assert torch.allclose(edit.code() - edited, 2.0 * _own_vectors(edited)["smile"], atol=1e-6)
    assert torch.allclose(edit.sweep("pose", limit=1.0, frames=3)[2] - edit.code(), _own_vectors(edited)["pose"])
    edit.set_own_vectors(False)
    moved = edit.code()
    edit.move("smile", edit.positions["smile"] + 1.0)
    assert torch.allclose(edit.code() - moved, 2.0 * edit.directions["smile"].vector, atol=1e-6)


def test_a_new_face_gets_its_own_vectors_and_keep_others_conditions_them():
    edit = EditState(_plain(smile=torch.tensor([1.0, 0, 0, 0]), pose=torch.tensor([0, 1.0, 0, 0])),
                     vectors_of=_own_vectors)
    edit.set_base(torch.tensor([1.0, 1.0, 0, 0]))
    edit.set_own_vectors(True)
    edit.set_base(torch.tensor([-1.0, 1.0, 0, 0]))                  # its smile vector points the other way
    assert edit.own_vectors["smile"][0] == -0.5 and torch.equal(edit.code(), torch.tensor([-1.0, 1.0, 0, 0]))
    edit.set_keep_others(True)
    before = edit.code()
    edit.move("smile", edit.positions["smile"] + 1.0)
    pose = edit.own_vectors["pose"]
    assert float((edit.code() - before) @ pose) == pytest.approx(0.0, abs=1e-6)   # the pose vector's coordinate stays
    assert float((edit.code() - before).norm()) == pytest.approx(float(edit.own_vectors["smile"].norm()), rel=1e-5)


def test_own_vectors_need_a_source_and_every_slider():
    edit = EditState(_plain(smile=torch.ones(4)))
    with pytest.raises(ValueError, match="vectors_of"):
        edit.set_own_vectors(True)
    partial = EditState(_plain(smile=torch.ones(4), pose=torch.ones(4)), vectors_of=lambda code: {"smile": code})
    with pytest.raises(KeyError, match="lack pose"):
        partial.set_own_vectors(True)
