import io

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image

from common import plot
from common.data import SynthFaces, attribute_groups, select_faces
from common.data.celeba_names import attribute_index
from common.images import from_uint8, to_png_bytes, to_uint8

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def faces():
    return SynthFaces(n=600, size=32, seed=2)


def test_groups_hold_the_asked_attributes_and_gender(faces):
    groups = attribute_groups(faces, "Smiling", "Eyeglasses", n=6, gender_a="Female", gender_b="Male", seed=4)
    assert set(groups) == {"with_A", "without_A", "with_B", "without_B"}
    a = faces.attributes
    for key, attr, has, male in (("with_A", "Smiling", True, False), ("without_A", "Smiling", False, False),
                                 ("with_B", "Eyeglasses", True, True), ("without_B", "Eyeglasses", False, True)):
        group = groups[key]
        assert group.images.shape == (6, 3, 32, 32)
        assert len(set(group.indices)) == 6
        assert (a[group.indices, attribute_index(attr)] == has).all()
        assert (a[group.indices, attribute_index("Male")] == male).all()
        assert torch.equal(group.images, faces.images(group.indices))


def test_groups_are_seeded(faces):
    first = select_faces(faces, 5, seed=1, Bangs=True)
    assert np.array_equal(first.indices, select_faces(faces, 5, seed=1, Bangs=True).indices)
    assert not np.array_equal(first.indices, select_faces(faces, 5, seed=2, Bangs=True).indices)


def test_too_few_faces_and_unknown_names_are_explained(faces):
    with pytest.raises(ValueError, match=r"only \d+ faces have Bald=True, Male=False"):
        select_faces(faces, 50, Bald=True, Male=False)
    with pytest.raises(KeyError, match="unknown attribute 'Smile'"):
        select_faces(faces, 2, Smile=True)
    with pytest.raises(ValueError, match="gender"):
        attribute_groups(faces, "Smiling", "Bangs", gender_a="male")


def test_image_conversions_round_trip():
    pixels = np.random.default_rng(0).integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8)
    images = from_uint8(pixels)
    assert images.shape == (2, 3, 8, 8) and images.min() >= -1 and images.max() <= 1
    assert np.array_equal(to_uint8(images), pixels)
    decoded = np.asarray(Image.open(io.BytesIO(to_png_bytes(images[0]))))
    assert np.array_equal(decoded, pixels[0])


def test_figures_have_one_panel_per_face(faces):
    images = faces.images(range(10))
    assert sum(ax.has_data() for ax in plot.image_grid(images, ncol=4).axes) == 10
    fig = plot.labelled_rows([images[:5], images[5:]], ["a", "b"], plot.strength_labels([-2, -1, 0, 1, 2]))
    assert len(fig.axes) == 10 and fig.axes[0].get_title() == "-2"
    assert fig.axes[2].get_title() == "0"
    curves = plot.loss_curves({"loss": [10.0, 1.0, 0.1]})
    assert curves.axes[0].get_yscale() == "log"


def test_show_code_displays_the_library_functions_own_source():
    from common import plot
    from common.models.glow import Glow, glow_loss

    shown = plot.show_code(glow_loss, Glow.prior_shift)
    assert "def glow_loss(" in shown.data and "def prior_shift(self, attribute: str" in shown.data
    assert "<span" in shown._repr_html_()            # highlighted in the notebook, not plain text
