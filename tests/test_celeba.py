from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from common.data import (CELEBA_ATTRIBUTES, CelebA, CelebAError, SynthFaces, describe_data, download_celeba,
                         export_celeba_layout, export_synthfaces_as_celeba, face_data)
from common.data.celeba import ATTR_FILE, IMAGE_DIR, PARTITION_FILE
from common.images import to_uint8


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    splits = {s: SynthFaces(n=n, size=64, split=s, cache=False) for s, n in (("train", 12), ("valid", 4), ("test", 4))}
    root = export_celeba_layout({s: (d.pixels, d.attributes.numpy()) for s, d in splits.items()},
                                tmp_path_factory.mktemp("celeba") / "celeba")
    return root, splits


def test_round_trip_keeps_attributes_and_pixels_up_to_jpeg(exported):
    root, splits = exported
    for split, original in splits.items():
        loaded = CelebA(root, split=split, size=64, crop=None)
        assert len(loaded) == len(original)
        assert torch.equal(loaded.attributes, original.attributes)
        difference = np.abs(to_uint8(loaded.images(range(len(loaded)))).astype(int) - original.pixels.astype(int))
        assert difference.mean() < 3.0


def test_attribute_file_has_celebas_exact_format(exported):
    root, _ = exported
    lines = (root / ATTR_FILE).read_text().splitlines()
    assert lines[0] == "20"
    assert len(lines[1].split()) == 40 and lines[1].split()[0] == "5_o_Clock_Shadow"
    assert lines[2].startswith("000001.jpg ") and len(lines[2].split()) == 41
    assert set(lines[2].split()[1:]) <= {"1", "-1"}
    assert (root / PARTITION_FILE).read_text().splitlines()[-1] == "000020.jpg 2"


def test_the_default_crop_keeps_the_faces_centre_and_drops_the_rest(tmp_path, exported):
    """On CelebA's 178x218 photos the default 148-pixel centre crop keeps the face's centre
    (a red mark there stays at the centre of the 64-pixel face) and none of what lies outside
    the crop (painted blue)."""
    root, _ = exported
    copy = tmp_path / "celeba"
    (copy / IMAGE_DIR).mkdir(parents=True)
    for name in (ATTR_FILE, PARTITION_FILE):
        (copy / name).write_bytes((root / name).read_bytes())
    picture = np.zeros((218, 178, 3), np.uint8)
    picture[:, :, 2] = 255                                        # outside the crop: blue
    picture[35:183, 15:163] = (0, 160, 0)                         # the 148x148 centre crop: green
    picture[99:119, 79:99] = (255, 0, 0)                          # the centre: a red mark
    for path in (root / IMAGE_DIR).iterdir():
        Image.fromarray(picture).save(copy / IMAGE_DIR / path.name, quality=95)
    image, labels = CelebA(copy, split="train", size=64)[0]
    assert image.shape == (3, 64, 64) and labels.shape == (40,)
    pixels = to_uint8(image[None])[0].astype(int)                # [64, 64, 3]
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    assert red[30:34, 30:34].min() > 180 and blue[30:34, 30:34].max() < 80      # the mark, at the centre
    assert (blue > 128).mean() < 0.01                                           # nothing from outside the crop
    assert green[2:8, 2:8].min() > 100                                          # the crop's own corner


def _broken_copy(tmp_path, root, edit):
    copy = tmp_path / "broken"
    (copy / IMAGE_DIR).mkdir(parents=True)
    for path in (root / IMAGE_DIR).iterdir():
        (copy / IMAGE_DIR / path.name).write_bytes(path.read_bytes())
    for name in (ATTR_FILE, PARTITION_FILE):
        (copy / name).write_text((root / name).read_text())
    edit(copy)
    return copy


def _replace_line(path: Path, number: int, new: str) -> None:
    lines = path.read_text().splitlines()
    lines[number - 1] = new
    path.write_text("\n".join(lines) + "\n")


def test_missing_folder_says_how_to_get_celeba(tmp_path):
    with pytest.raises(CelebAError, match="img_align_celeba.*mmlab"):
        CelebA(tmp_path / "nowhere")


@pytest.mark.parametrize("edit, message", [
    (lambda c: (c / ATTR_FILE).unlink(), "missing CelebA file .*list_attr_celeba.txt"),
    (lambda c: _replace_line(c / ATTR_FILE, 4, "000002.jpg 1 -1"), r"line 4: expected a file name and 40 values, got 3"),
    (lambda c: _replace_line(c / ATTR_FILE, 3, "000001.jpg " + " ".join(["1"] * 39 + ["0"])), r"line 3: values must be 1 or -1, got '0'"),
    (lambda c: _replace_line(c / ATTR_FILE, 2, "Smiling Male"), r"line 2: .* name 1 is 'Smiling' where CelebA has '5_o_Clock_Shadow'"),
    (lambda c: _replace_line(c / ATTR_FILE, 2, " ".join(CELEBA_ATTRIBUTES).replace("Bald", "Bold")),
     r"line 2: .* name 5 is 'Bold' where CelebA has 'Bald'"),
    (lambda c: (c / IMAGE_DIR / "000004.jpg").write_bytes(b""), r"1 image\(s\) .* cannot be read: 000004.jpg"),
    (lambda c: [(c / IMAGE_DIR / f"00000{k}.jpg").write_text("not a picture") for k in (2, 7)],
     r"2 image\(s\) .* cannot be read: 000002.jpg .*; 000007.jpg"),
    (lambda c: _replace_line(c / ATTR_FILE, 1, "21"), r"line 1 says 21 images but 20 rows follow"),
    (lambda c: _replace_line(c / PARTITION_FILE, 5, "000005.jpg 7"), r"list_eval_partition.txt, line 5"),
    (lambda c: (c / IMAGE_DIR / "000003.jpg").unlink(), r"line 5 lists 000003.jpg, .* does not exist"),
])
def test_bad_files_name_the_file_and_line(tmp_path, exported, edit, message):
    copy = _broken_copy(tmp_path, exported[0], edit)
    with pytest.raises(CelebAError, match=message):
        CelebA(copy, split="train", crop=None)


def test_image_smaller_than_the_crop_is_explained(exported):
    with pytest.raises(CelebAError, match="64x64, smaller than the 148px crop; .*crop=None.*--crop none"):
        CelebA(exported[0], split="train", crop=148)


def test_decoded_faces_are_cached_and_a_damaged_cache_heals(exported, monkeypatch, tmp_path):
    monkeypatch.setenv("FES_CACHE", str(tmp_path))
    first = CelebA(exported[0], split="train", crop=None)
    decoded = np.array(first.pixels)
    monkeypatch.setattr("common.data.celeba.decode_face", lambda *a: pytest.fail("decoded a JPEG again"))
    again = CelebA(exported[0], split="train", crop=None)
    assert isinstance(again.pixels, np.memmap) and np.array_equal(again.pixels, decoded)
    path = again.cache_path()
    del first, again                                  # unmap before damaging the file in place
    path.write_bytes(path.read_bytes()[:300])
    monkeypatch.undo()
    monkeypatch.setenv("FES_CACHE", str(tmp_path))
    with pytest.warns(UserWarning, match=str(path)):
        healed = CelebA(exported[0], split="train", crop=None)
    assert np.array_equal(healed.pixels, decoded)


def test_a_cached_split_opens_without_listing_or_stating_its_images(exported, monkeypatch, tmp_path):
    monkeypatch.setenv("FES_CACHE", str(tmp_path))
    decoded = np.array(CelebA(exported[0], split="train", crop=None, limit=6).pixels)
    image_dir = exported[0] / IMAGE_DIR
    real_stat = Path.stat
    monkeypatch.setattr(Path, "iterdir", lambda self: pytest.fail(f"listed {self}"))
    monkeypatch.setattr(Path, "stat", lambda self, **kw: pytest.fail(f"stat {self}") if self.parent == image_dir
                        else real_stat(self, **kw))
    assert np.array_equal(CelebA(exported[0], split="train", crop=None, limit=6).pixels, decoded)


def test_celeba_has_the_synthfaces_interface(exported):
    data = CelebA(exported[0], split="train", crop=None, limit=10)
    assert len(data) == 10 and data.pixels.shape == (10, 64, 64, 3)
    assert torch.equal(data.images(slice(2, 5)), data.images([2, 3, 4]))
    images, attributes = data.batch(np.array([1, 4]))
    assert images.shape == (2, 3, 64, 64) and attributes.shape == (2, 40)
    assert "train split, 10 faces, 64x64" in data.describe()


def test_synthfaces_exported_in_celebas_geometry_reads_back_as_the_faces(tmp_path):
    root = export_synthfaces_as_celeba(tmp_path / "synth_celeba", n=20)
    assert Image.open(root / IMAGE_DIR / "000001.jpg").size == (178, 218)
    data = CelebA(root, split="train")                       # the standard 148-px centre crop
    rendered = SynthFaces(n=20, size=64, cache=False)
    assert np.abs(data.pixels.astype(int) - rendered.pixels.astype(int)).mean() < 4
    assert torch.equal(data.attributes, rendered.attributes)
    assert len(CelebA(root, split="valid")) == 2


def test_the_switch_picks_celeba_and_says_so(tmp_path, monkeypatch, exported):
    monkeypatch.delenv("CELEBA_ROOT", raising=False)
    assert isinstance(face_data("test", n=5), SynthFaces)
    described = describe_data(test=face_data("test", n=5)).splitlines()
    assert "SynthFaces" in described[1]
    expected = "device: GPU (" if torch.cuda.is_available() else f"device: CPU ({torch.get_num_threads()} thread"
    assert described[0].startswith(expected)                 # a notebook's first output names its device
    monkeypatch.setenv("CELEBA_ROOT", str(exported[0]))
    monkeypatch.setenv("CELEBA_CROP", "none")
    data = face_data("train", n=5)
    assert isinstance(data, CelebA) and len(data) == 5
    assert str(exported[0]) in describe_data(train=data)
    monkeypatch.setenv("CELEBA_CROP", "wide")
    with pytest.raises(CelebAError, match="CELEBA_CROP .* 'wide'"):
        face_data("train", n=5)


def test_export_refuses_an_existing_folder_and_leaves_nothing_on_failure(tmp_path, monkeypatch):
    faces = SynthFaces(n=3, size=32, cache=False)
    data = {"train": (faces.pixels, faces.attributes.numpy())}
    with pytest.raises(FileExistsError):
        export_celeba_layout(data, tmp_path)
    calls = []

    def failing_save(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return original_save(self, *args, **kwargs)

    original_save = Image.Image.save
    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        export_celeba_layout(data, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_google_drive_quota_gives_manual_steps(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("Too many users have viewed or downloaded this file recently")

    monkeypatch.setattr("torchvision.datasets.CelebA", refuse)
    with pytest.raises(CelebAError, match="quota.*by hand.*img_align_celeba"):
        download_celeba(tmp_path)


def test_a_notebook_trains_on_the_first_celeba_limit_faces_and_the_command_says_so(exported, monkeypatch):
    from common.data.source import celeba_limit
    from common.train.recipes import DataSpec, VAERecipe

    monkeypatch.setenv("FES_QUICK", "1")
    monkeypatch.delenv("CELEBA_LIMIT", raising=False)
    assert celeba_limit() == 2_000
    monkeypatch.setenv("CELEBA_LIMIT", "7")
    assert celeba_limit() == 7
    monkeypatch.setenv("CELEBA_ROOT", str(exported[0]))
    monkeypatch.setenv("CELEBA_CROP", "none")
    data = DataSpec.current(celeba_limit=celeba_limit())
    assert len(data.training(64)) == 7 and data.record(data.training(64), data.held_out(64, n=2))["celeba_limit"] == 7
    recipe = VAERecipe.from_options(steps=3, data=data)
    assert "--celeba-limit 7" in recipe.command()
    assert DataSpec.from_record(recipe.data.record(data.training(64), data.held_out(64, n=2)),
                                str(exported[0])).celeba_limit == 7
    monkeypatch.setenv("CELEBA_LIMIT", "many")
    with pytest.raises(CelebAError, match="CELEBA_LIMIT must be a whole number of faces .* 'many'"):
        celeba_limit()
