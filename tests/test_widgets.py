import datetime
import io

import numpy as np
import pytest
import torch
from PIL import Image

from common.data import SynthFaces, attribute_index
from common.images import FaceImageError, load_face_image
from common.direction import Direction, along, coordinate, unit
from common.latent import Lookalikes
from common.models import LatentModel, PCAFaces
from common.panel_files import uploaded_files
from common.widgets import EditPanel, InterpolationPanel


def _raw(name, vector):
    """A direction of gap 1 (one latent unit) and centre 0 along ``vector``."""
    return Direction(name, unit(vector), 1.0)


@pytest.fixture(scope="module")
def pca():
    faces = SynthFaces(n=400, size=64, seed=0)
    return PCAFaces.fit(faces.images(slice(None)), latent_dim=24), faces


@pytest.fixture
def panel(pca, tmp_path):
    model, faces = pca
    g = torch.Generator().manual_seed(0)
    directions = [_raw("smile", torch.randn(24, generator=g)), _raw("pose", torch.randn(24, generator=g))]
    return EditPanel(model, directions, faces=faces.images(range(5)), save_dir=tmp_path)


def _png(array, mode=None, **save):
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format=save.pop("format", "PNG"), **save)
    return buffer.getvalue()


def _upload(panel, data, name="photo.png"):
    panel.upload.value = ({"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
                           "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)},)


def test_pca_faces_is_a_latent_model_that_reconstructs(pca):
    model, faces = pca
    assert isinstance(model, LatentModel)
    images = faces.images(range(16))
    codes = model.encode(images)
    assert codes.shape == (16, 24)
    decoded = model.decode(codes)
    assert decoded.shape == images.shape and decoded.min() >= -1 and decoded.max() <= 1
    assert (decoded - images).pow(2).mean() < 0.5 * images.var()
    assert torch.equal(model.sample_latent(3, seed=1), model.sample_latent(3, seed=1))


def test_moving_a_slider_changes_the_image_and_reset_restores_it(panel):
    before = panel.image.value
    assert before[:4] == b"\x89PNG"
    panel.sliders["smile"].value += 1.0
    assert panel.image.value != before
    panel.reset()
    assert panel.image.value == before


def test_sliders_open_where_the_face_is(panel):
    z = panel.code()
    assert panel.sliders["smile"].value == pytest.approx(float(coordinate(z[None], panel.state.directions["smile"].vector)), abs=1e-6)


def test_keep_other_attributes_holds_the_other_coordinates(panel):
    panel.keep_others.value = True
    pose_before = coordinate(panel.code()[None], panel.state.directions["pose"].vector)
    panel.sliders["smile"].value += 2.0
    assert coordinate(panel.code()[None], panel.state.directions["pose"].vector) == pytest.approx(float(pose_before), abs=1e-5)
    panel.keep_others.value = False
    panel.sliders["smile"].value += 2.0
    assert coordinate(panel.code()[None], panel.state.directions["pose"].vector) != pytest.approx(float(pose_before), abs=1e-3)


def test_each_face_s_own_vector_moves_the_face_along_its_look_alikes(pca, tmp_path):
    model, faces = pca
    codes = model.encode(faces.images(slice(None)))
    lookalikes = Lookalikes(codes, {"Smiling": faces.attributes[:, attribute_index("Smiling")]}, k=40)
    plain = EditPanel(model, [_raw("Smiling", torch.randn(24))], faces=faces.images(range(5)), save_dir=tmp_path)
    assert plain.own_vectors not in _descendants(plain.widget)
    panel = EditPanel(model, [_raw("Smiling", codes[0] - codes[1])], faces=faces.images(range(5)),
                      save_dir=tmp_path, vectors_of=lookalikes)
    assert panel.own_vectors in _descendants(panel.widget)
    panel.own_vectors.value = True
    start, image, position = panel.code(), panel.image.value, panel.sliders["Smiling"].value
    panel.sliders["Smiling"].value = panel.sliders["Smiling"].min          # the slider's far end
    moved = panel.sliders["Smiling"].value - position
    assert moved < -1.0
    assert torch.allclose(panel.code() - start, moved * lookalikes(start)["Smiling"], atol=1e-4)
    assert panel.image.value != image
    panel.new_face()
    assert torch.allclose(panel.state.own_vectors["Smiling"], lookalikes(panel.code())["Smiling"], atol=1e-5)


def _descendants(widget):
    children = getattr(widget, "children", ())
    return [widget, *[w for child in children for w in _descendants(child)]]


def test_new_face_changes_the_face(panel):
    before = panel.image.value
    panel.new_face()
    assert panel.image.value != before


def _eyes_photo():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)
    photo[:150] = [200, 30, 30]
    return photo


@pytest.mark.parametrize("kind", ["gray", "rgba", "palette", "huge", "exif"])
def test_odd_pictures_are_converted_and_encoded(panel, kind):
    photo = _eyes_photo()
    if kind == "gray":
        data = _png(photo[..., 0], "L")
    elif kind == "rgba":
        data = _png(np.dstack([photo, np.full(photo.shape[:2], 128, np.uint8)]), "RGBA")
    elif kind == "palette":
        buffer = io.BytesIO()
        Image.fromarray(photo).convert("P").save(buffer, format="GIF")
        data = buffer.getvalue()
    elif kind == "huge":
        data = _png(np.asarray(Image.fromarray(photo).resize((4000, 3000))), format="JPEG", quality=80)
    else:
        rotated = Image.fromarray(photo).transpose(Image.Transpose.ROTATE_90)
        exif = Image.Exif()
        exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
        buffer = io.BytesIO()
        rotated.save(buffer, format="JPEG", quality=95, exif=exif)
        data = buffer.getvalue()
        upright = load_face_image(_png(photo, format="JPEG", quality=95), 64)
        assert (load_face_image(data, 64) - upright).abs().mean() < 0.05
    before = panel.image.value
    _upload(panel, data)
    assert "encoded" in panel.status.value
    assert panel.image.value != before
    assert panel.upload.value == ()


@pytest.mark.parametrize("data, message", [
    (b"this is not a picture at all", "is not an image file"),
    (_png(_eyes_photo())[:400], "truncated or damaged"),
    (_png(np.zeros((10, 12, 3), np.uint8)), "12x10 pixels"),
], ids=["not-an-image", "truncated", "too-small"])
def test_wrong_files_show_a_message_and_the_panel_keeps_working(panel, data, message):
    with pytest.raises(FaceImageError, match=message):
        load_face_image(data, 64, name="x.png")
    before = panel.image.value
    _upload(panel, data, name="x.png")
    assert message in panel.status.value and "x.png" in panel.status.value
    assert panel.image.value == before
    panel.sliders["pose"].value += 1.0
    assert panel.image.value != before


def test_uploads_in_the_ipywidgets_7_format_colab_uses_are_read_too(panel):
    """ipywidgets 7 (Colab) hands the handler a dict of file name -> metadata and bytes."""
    data = _png(_eyes_photo())
    eight = ({"name": "a.png", "type": "image/png", "size": len(data), "content": memoryview(data)},)
    seven = {"a.png": {"metadata": {"name": "a.png", "type": "image/png", "size": len(data)}, "content": data}}
    assert uploaded_files(eight) == uploaded_files(seven) == [("a.png", data)]
    before = panel.image.value
    panel._on_upload({"new": seven})
    assert "encoded <code>a.png</code>" in panel.status.value and panel.image.value != before


def test_save_png_and_sweep_gif(panel, tmp_path):
    path = panel.save_png()
    assert path.read_bytes() == panel.image.value
    assert "download" in panel.status.value
    panel.gif_direction.value = "pose"
    gif = Image.open(panel.save_gif())
    assert gif.format == "GIF" and gif.n_frames == 32
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_interpolation_panel_ends_and_modes(pca):
    model, _ = pca
    z1, z2 = model.sample_latent(2, seed=5)
    panel = InterpolationPanel(model, z1, z2)
    panel.slider.value = 0.0
    assert panel.image.value == panel.left.value
    panel.slider.value = 1.0
    assert panel.image.value == panel.right.value
    panel.slider.value = 0.5
    lerp = panel.image.value
    panel.mode.value = "slerp"
    assert panel.image.value != lerp


def test_slow_actions_say_they_are_working_and_the_image_keeps_its_square(pca, tmp_path):
    model, faces = pca
    seen, panels = [], []

    class Slow(PCAFaces):          # records what the panel shows while a face is encoded
        def encode(self, x):
            if panels:
                seen.append((panels[0].status.value, panels[0].new_face_button.disabled))
            return super().encode(x)

    slow = Slow(model.latent_dim, model.image_size)
    slow.load_state_dict(model.state_dict())
    panel = EditPanel(slow, [_raw("smile", torch.randn(24))], faces=faces.images(range(3)), save_dir=tmp_path)
    panels.append(panel)
    panel.new_face()
    assert seen and "encoding the next face" in seen[0][0] and seen[0][1] is True
    assert panel.new_face_button.disabled is False and panel.status.value == ""
    assert panel.widget.layout.align_items == "flex-start"


def test_a_large_generator_previews_while_dragging_and_settles_to_full_quality(tmp_path):
    import time

    from common.models.pggan import PGGANConfig, PGGANGenerator

    torch.manual_seed(0)
    generator = PGGANGenerator(PGGANConfig(latent_dim=16, resolution=64, channels=(16, 16, 8, 8, 4))).eval()
    panel = EditPanel(generator, [_raw("smile", torch.randn(16))], display_size=32, preview_size=16, settle_ms=50,
                      save_dir=tmp_path)
    assert panel.view.previews and panel.image.format == "jpeg"        # the full 64 px image, reduced for display
    panel.sliders["smile"].value += 1.0
    shown = Image.open(io.BytesIO(panel.image.value))
    assert panel.image.format == "png" and shown.size == (16, 16)   # the 16 px level of detail, sent as is
    time.sleep(0.5)
    assert panel.image.format == "jpeg" and Image.open(io.BytesIO(panel.image.value)).size == (32, 32)
    assert Image.open(panel.save_png()).size == (64, 64)           # saved at full resolution


def test_the_preview_resolution_halves_over_budget_and_doubles_well_under_it():
    from common.face_view import adapt_preview_size

    assert adapt_preview_size(64, 200.0, 150.0, ceiling=256) == 32
    assert adapt_preview_size(16, 900.0, 150.0, ceiling=256) == 16          # the floor
    assert adapt_preview_size(64, 30.0, 150.0, ceiling=256) == 128
    assert adapt_preview_size(256, 1.0, 150.0, ceiling=256) == 256          # never above the display
    assert adapt_preview_size(64, 100.0, 150.0, ceiling=256) == 64


def test_a_panel_settles_on_the_largest_preview_its_machine_draws_within_budget(tmp_path, monkeypatch):
    """A generator whose preview costs 0.05 ms per pixel, on a clock that only its work moves:
    64 px (205 ms) is over the 150 ms budget, 32 px (51 ms) is within it and stays."""
    import common.face_view
    from common.models.pggan import PGGANConfig, PGGANGenerator

    clock = [0.0]
    monkeypatch.setattr(common.face_view.time, "perf_counter", lambda: clock[0])
    torch.manual_seed(0)
    generator = PGGANGenerator(PGGANConfig(latent_dim=16, resolution=128, channels=(8, 8, 8, 8, 4, 4))).eval()
    real_preview = generator.preview

    def costly_preview(codes, size):
        clock[0] += 0.05e-3 * size * size
        return real_preview(codes, size)

    generator.preview = costly_preview
    panel = EditPanel(generator, [_raw("smile", torch.randn(16))], display_size=64, preview_size=64,
                      preview_budget_ms=150, settle_ms=60_000, save_dir=tmp_path)
    sizes = []
    for _ in range(4):
        panel.sliders["smile"].value += 0.5
        sizes.append(Image.open(io.BytesIO(panel.image.value)).size[0])
    assert sizes == [64, 32, 32, 32]


def test_display_bytes_keep_small_faces_lossless_and_shrink_large_ones():
    from common.images import display_bytes

    small, kind = display_bytes(torch.zeros(3, 64, 64), 256)
    assert kind == "png" and Image.open(io.BytesIO(small)).size == (64, 64)
    large, kind = display_bytes(torch.rand(3, 1024, 1024) * 2 - 1, 256)
    assert kind == "jpeg" and Image.open(io.BytesIO(large)).size == (256, 256) and len(large) < 200_000


def test_a_gan_panel_inverts_new_faces_by_optimisation(tmp_path):
    from common.models.pggan import PGGANConfig, PGGANGenerator

    torch.manual_seed(0)
    generator = PGGANGenerator(PGGANConfig(latent_dim=16, resolution=16, channels=(8, 8, 4))).eval()
    faces = torch.rand(2, 3, 16, 16) * 2 - 1
    panel = EditPanel(generator, [_raw("smile", torch.randn(16))], faces=faces, save_dir=tmp_path)   # encodes faces[0]
    before = panel.image.value
    panel.new_face()
    assert panel.image.value != before and not panel.code().requires_grad


def test_a_slider_says_when_its_unit_is_a_standard_deviation(pca, tmp_path):
    """A direction with no labels behind it (a published boundary, an unlabelled component)
    moves one standard deviation of the codes per slider unit, and its slider says so."""
    model, faces = pca
    codes = model.encode(faces.images(slice(None)))
    panel = EditPanel(model, [along("smile", codes[0] - codes[1], codes)], faces=faces.images(range(3)),
                      save_dir=tmp_path)
    assert panel.sliders["smile"].description == "smile (1 = 1 sd)"
    start, slider = panel.code(), panel.sliders["smile"]
    slider.value = slider.value + (1.0 if slider.value < 0 else -1.0)      # one unit, inside the range
    spread = float(coordinate(codes, codes[0] - codes[1]).std())
    assert float((panel.code() - start).norm()) == pytest.approx(spread, rel=1e-3)
