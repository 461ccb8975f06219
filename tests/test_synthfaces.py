import numpy as np
import pytest
import torch

from common.data import (FACTOR_NAMES, SynthFaces, attributes_from_factors, average_factors, changed_region,
                         render_faces, sample_factors)
from common.data.celeba_names import attribute_index
from common.data.synth_render import EYE_X, EYE_Y, HEAD_CENTRE_Y, HEAD_HALF_HEIGHT, MOUTH_Y

F = {name: i for i, name in enumerate(FACTOR_NAMES)}


def test_faces_are_deterministic_per_seed_and_index_whatever_the_batch():
    whole = render_faces(torch.from_numpy(sample_factors(7, np.arange(20))), 64)
    part = render_faces(torch.from_numpy(sample_factors(7, np.arange(10, 20))), 64)
    assert torch.equal(whole[10:], part)
    other_seed = render_faces(torch.from_numpy(sample_factors(8, np.arange(10, 20))), 64)
    assert not torch.equal(part, other_seed)


@pytest.mark.parametrize("size", [32, 64, 128, 256])
def test_render_shape_and_range(size):
    faces = render_faces(torch.from_numpy(sample_factors(0, np.arange(3))), size)
    assert faces.shape == (3, 3, size, size)
    assert faces.dtype == torch.float32
    assert 0.0 <= faces.min() and faces.max() <= 1.0
    assert faces.std() > 0.1  # not a blank canvas


def test_sizes_outside_32_to_256_are_refused():
    with pytest.raises(ValueError, match="32..256"):
        render_faces(torch.from_numpy(sample_factors(0, np.arange(1))), 16)


def test_edges_are_anti_aliased():
    face = render_faces(torch.from_numpy(sample_factors(0, np.arange(1))), 64)[0]
    levels = torch.unique((face * 255).round())
    assert len(levels) > 100  # hard-edged drawing would use a handful of colours


def _sweep(name, values, index=0):
    base = torch.from_numpy(sample_factors(3, np.array([index])))
    rows = base.repeat(len(values), 1)
    rows[:, F[name]] = torch.tensor(values, dtype=torch.float32)
    rows[:, F["roll"]] = 0.0
    return render_faces(rows, 64)


def test_faces_sit_where_celeba_aligned_crops_put_them():
    """At 64 px: eyes 51% and mouth 79% down the frame, eye centres about 17 px apart."""
    eye_row = (HEAD_CENTRE_Y + HEAD_HALF_HEIGHT * EYE_Y + 1) / 2
    mouth_row = (HEAD_CENTRE_Y + HEAD_HALF_HEIGHT * MOUTH_Y + 1) / 2
    inter_ocular_px = 2 * EYE_X * HEAD_HALF_HEIGHT / 2 * 64
    assert abs(eye_row - 0.51) < 0.02 and abs(mouth_row - 0.79) < 0.02
    assert abs(inter_ocular_px - 17) < 1.0


def test_frown_to_broad_smile_changes_hundreds_of_pixels_of_the_lower_face():
    assert changed_region(average_factors(), "smile", -1.0, 1.0).sum() >= 250
    eye_row = int((HEAD_CENTRE_Y + HEAD_HALF_HEIGHT * EYE_Y + 1) / 2 * 64)
    for index in range(5):
        frown, smile = _sweep("smile", [-1.0, 1.0], index)
        change = (frown - smile).abs().sum(0)
        assert (change > 0.2).sum() >= 150
        assert change[eye_row - 3:].sum() / change.sum() > 0.95   # nothing above the eyes moves


def test_a_broad_smile_shows_teeth_and_lifts_the_lower_eyelids():
    neutral, smile = _sweep("smile", [0.0, 1.0])
    mouth_row = int((HEAD_CENTRE_Y + HEAD_HALF_HEIGHT * MOUTH_Y + 1) / 2 * 64)
    mouth = slice(mouth_row - 4, mouth_row + 5), slice(22, 42)
    bright = lambda face: (face[:, mouth[0], mouth[1]].min(0).values > 0.85).sum()  # near-white: teeth
    assert bright(smile) >= 6 > bright(neutral)
    eye_row = int((HEAD_CENTRE_Y + HEAD_HALF_HEIGHT * EYE_Y + 1) / 2 * 64)
    white = lambda face: (face[:, eye_row - 3:eye_row + 4].min(0).values > 0.85).sum()  # eye whites
    assert white(smile) < white(neutral)


def test_yaw_moves_the_eyes_sideways():
    faces = _sweep("yaw", [-1.0, 0.0, 1.0])
    y_eye = HEAD_CENTRE_Y + HEAD_HALF_HEIGHT * EYE_Y
    row = int((y_eye + 1) / 2 * 64)
    darkness = 1.0 - faces[:, :, row - 2:row + 3, :].mean(dim=(1, 2))  # [3, W] dark = eyes
    darkness = darkness - darkness.median(dim=1, keepdim=True).values
    columns = torch.arange(64, dtype=torch.float32)
    weights = darkness.clamp(min=0) ** 2
    centre = (weights * columns).sum(1) / weights.sum(1)
    assert centre[0] < centre[1] - 3 < centre[2] - 6


def test_attributes_follow_the_documented_thresholds():
    factors = sample_factors(0, np.arange(4000))
    attrs = attributes_from_factors(factors)
    assert np.array_equal(attrs[:, attribute_index("Smiling")], factors[:, F["smile"]] > 0.25)
    assert np.array_equal(attrs[:, attribute_index("Narrow_Eyes")], factors[:, F["eye_open"]] < 0.3)
    assert np.array_equal(attrs[:, attribute_index("Bald")], factors[:, F["hair_style"]] == 0)
    no_beard = attrs[:, attribute_index("No_Beard")]
    assert not (no_beard & attrs[:, attribute_index("Goatee")]).any()
    hair = attrs[:, [attribute_index(n) for n in ("Black_Hair", "Brown_Hair", "Blond_Hair", "Gray_Hair")]]
    assert (hair.sum(1) == 1).all()


def test_attributes_are_correlated_as_in_real_photos():
    factors = sample_factors(0, np.arange(20000))
    a = attributes_from_factors(factors)
    col = {n: a[:, attribute_index(n)] for n in ("Male", "Bald", "Goatee", "Wearing_Lipstick", "Gray_Hair", "Young", "Smiling")}
    assert col["Male"][col["Bald"]].mean() > 0.9
    assert col["Male"][col["Goatee"]].mean() > 0.9
    assert col["Male"][col["Wearing_Lipstick"]].mean() < 0.1
    assert col["Young"][col["Gray_Hair"]].mean() < 0.2
    for name in ("Bald", "Smiling", "Male", "Young"):
        assert 0.02 < col[name].mean() < 0.98, name


def test_dataset_items_and_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FES_CACHE", str(tmp_path))
    first = SynthFaces(n=50, size=32, seed=1, split="valid")
    assert first.cache_path().exists()
    assert not list(first.cache_path().parent.glob("*.tmp"))
    image, attributes = first[3]
    assert image.shape == (3, 32, 32) and -1.0 <= image.min() and image.max() <= 1.0
    assert attributes.shape == (40,) and set(attributes.unique().tolist()) <= {0.0, 1.0}
    monkeypatch.setattr("common.data.synthfaces.render_uint8", lambda *a, **k: pytest.fail("re-rendered"))
    again = SynthFaces(n=50, size=32, seed=1, split="valid")
    assert np.array_equal(first.pixels, again.pixels)


def test_splits_hold_different_faces():
    train = SynthFaces(n=20, size=32, split="train", cache=False)
    test = SynthFaces(n=20, size=32, split="test", cache=False)
    assert not np.array_equal(train.pixels, test.pixels)
    with pytest.raises(ValueError, match="split"):
        SynthFaces(n=5, split="validation", cache=False)
