"""The bad-input and fault battery (issue 16): each case gets a clear message naming the
file or value, and nothing is lost (shipped weights unchanged, no leftovers)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from common.data import SynthFaces
from common.files import WriteError, atomic_path, remove_leftovers
from common.images import load_face_image
from common.train import TrainConfig, train
from common.weights import (MANIFEST, WEIGHTS_DIR, Download, Headline, Record, WeightsError, check_replacement,
                            fetch, load_weights, read_manifest, save_weights, sha256_of)

ROOT = Path(__file__).resolve().parents[1]


def _shipped_hashes() -> dict[str, str]:
    return {p.name: sha256_of(p) for p in sorted(WEIGHTS_DIR.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def shipped():
    """The shipped weights' hashes before the module's tests; after them, none changed
    and nothing was left beside them."""
    before = _shipped_hashes()
    yield before
    assert _shipped_hashes() == before
    assert not [p.name for p in WEIGHTS_DIR.iterdir() if p.name.startswith(".")]


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "common.train", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600)


# --- the command line: every number and choice checked before any work ---------------------

@pytest.mark.parametrize("args, named", [
    (["classifier", "--steps", "-5", "--save"], ["--steps", "-5"]),
    (["classifier", "--batch-size", "0"], ["--batch-size", "0"]),
    (["classifier", "--batch-size", "-4"], ["--batch-size", "-4"]),
    (["classifier", "--faces", "0"], ["--faces", "0"]),
    (["classifier", "--seed", "-1"], ["--seed", "-1"]),
    (["classifier", "--lr", "0"], ["--lr", "0"]),
    (["classifier", "--lr", "nan"], ["--lr", "nan"]),
    (["vae", "--image-size", "17"], ["--image-size", "17", "64"]),
    (["pggan", "--image-size", "16"], ["--image-size", "16", "32"]),
    (["glow", "--image-size", "48"], ["--image-size", "48"]),
    (["vae", "--kind", "beta"], ["--kind", "beta", "beta_h"]),
    (["dfc", "--features", "vgg"], ["--features", "vgg", "vgg345"]),
    (["vae", "--device", "tpu"], ["--device", "tpu"]),
    (["vae", "--data", "celeba", "--crop", "-1"], ["--crop", "-1"]),
])
def test_bad_command_line_values_are_refused_up_front(shipped, args, named, capsys):
    from common.train.__main__ import main

    with pytest.raises(SystemExit) as stopped:
        main(args)
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    error = err.strip().splitlines()[-1]
    assert "Traceback" not in err
    for word in named:
        assert word in error, (word, error)


def test_the_command_itself_refuses_a_bad_value_in_one_line(shipped):
    """The same check through ``python -m common.train``, as a user types it."""
    result = _run_cli("classifier", "--steps", "-5", "--save")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--steps" in result.stderr.strip().splitlines()[-1]


def test_a_save_that_would_replace_better_weights_is_refused(shipped, monkeypatch, capsys):
    """A two-step run whose held-out figures read below the shipped classifier's (its
    evaluation replaced by those figures minus 0.1, so the test costs no held-out pass)."""
    from common.train.__main__ import main
    from common.train.recipes import ClassifierRecipe

    recorded = read_manifest()["classifier.safetensors"]["metrics"]
    monkeypatch.setattr(ClassifierRecipe, "evaluate", lambda *args: {k: v - 0.1 for k, v in recorded.items()})
    with pytest.raises(SystemExit) as stopped:
        main(["classifier", "--steps", "2", "--faces", "64", "--batch-size", "8", "--save"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2, err
    assert "classifier.safetensors" in err and "--force" in err
    assert "shipped weights are better" in err


def test_a_broken_manifest_is_named_with_how_to_restore_it(shipped, tmp_path):
    broken = tmp_path / "weights"
    broken.mkdir()
    (broken / MANIFEST).write_text("{not json")
    with pytest.raises(WeightsError, match=f"{broken / MANIFEST}.*not valid JSON.*not the clone's weights/") as caught:
        read_manifest(broken)
    assert "git checkout" not in str(caught.value)      # that would not restore a folder outside the clone


# --- saving: weights and manifest change together or not at all ----------------------------

def _saved(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_save_with_an_unreadable_manifest_changes_nothing(tmp_path):
    model = torch.nn.Linear(2, 2)
    save_weights(model, "m.safetensors", Record("first", {"loss": 1.0}), folder=tmp_path)
    (tmp_path / MANIFEST).write_text("[broken")
    before = _saved(tmp_path)
    with pytest.raises(WeightsError, match="not valid JSON"):
        save_weights(torch.nn.Linear(2, 2), "m.safetensors", Record("second", {"loss": 0.5}),
                     folder=tmp_path)
    assert _saved(tmp_path) == before


def test_a_failing_manifest_rename_puts_the_old_weights_back(tmp_path, monkeypatch):
    save_weights(torch.nn.Linear(2, 2), "m.safetensors", Record("first", {"loss": 1.0}), folder=tmp_path)
    before = _saved(tmp_path)
    real_replace = os.replace

    def replace(source, destination):
        if Path(destination).name == MANIFEST:
            raise OSError("disk full")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(WriteError, match=f"disk full while writing {tmp_path / MANIFEST}"):
        save_weights(torch.nn.Linear(2, 2), "m.safetensors", Record("second", {"loss": 0.5}),
                     folder=tmp_path)
    monkeypatch.undo()
    assert _saved(tmp_path) == before   # old weights back, manifest untouched, no temporary files


def test_replacement_is_checked_against_the_shipped_figures(tmp_path):
    headline = Headline("loss", higher_is_better=False)
    assert "is new" in check_replacement("m.safetensors", {"loss": 1.0}, headline, folder=tmp_path)
    save_weights(torch.nn.Linear(2, 2), "m.safetensors", Record("first", {"loss": 1.0}), folder=tmp_path)
    with pytest.raises(WeightsError, match=r"shipped weights are better \(loss 1 -> 2"):
        check_replacement("m.safetensors", {"loss": 2.0}, headline, folder=tmp_path)
    assert "loss 1 -> 2" in check_replacement("m.safetensors", {"loss": 2.0}, headline, force=True, folder=tmp_path)
    assert "replaces" in check_replacement("m.safetensors", {"loss": 0.5}, headline, folder=tmp_path)
    with pytest.raises(WeightsError, match="not finite"):
        check_replacement("m.safetensors", {"loss": float("nan")}, headline, force=True, folder=tmp_path)


def test_a_missing_manifest_says_how_to_restore_it(tmp_path):
    save_weights(torch.nn.Linear(2, 2), "m.safetensors", Record("first", {}), folder=tmp_path)
    (tmp_path / MANIFEST).unlink()
    with pytest.raises(WeightsError, match=r"manifest.json is missing.*copy the manifest and weights there"):
        load_weights(torch.nn.Linear(2, 2), "m.safetensors", folder=tmp_path)


def test_the_clones_own_missing_manifest_is_restored_by_git():
    from common.weights import restore_manifest
    assert "git checkout -- weights/manifest.json" in restore_manifest(WEIGHTS_DIR)


# --- caches heal ----------------------------------------------------------------------------

@pytest.mark.parametrize("damage", [
    lambda data: data[:1000],                           # truncated
    lambda data: data[:128],                            # the .npy header alone
    lambda data: bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)),  # random bytes
    lambda data: b"",                                   # empty
], ids=["truncated", "header-only", "random", "empty"])
def test_a_damaged_synthfaces_cache_is_reported_moved_aside_and_made_again(tmp_path, monkeypatch, damage):
    monkeypatch.setenv("FES_CACHE", str(tmp_path))
    good = SynthFaces(n=20, progress=False)
    path = good.cache_path()
    path.write_bytes(damage(path.read_bytes()))
    with pytest.warns(UserWarning, match=str(path)):
        healed = SynthFaces(n=20, progress=False)
    assert np.array_equal(healed.pixels, good.pixels)
    assert path.with_name(path.name + ".damaged").exists()
    assert np.array_equal(np.load(path), good.pixels)   # the cache was written again


@pytest.mark.parametrize("arguments, message", [
    ({"n": -3}, "n .* at least 1, got -3"), ({"n": 0}, "at least 1, got 0"),
    ({"seed": -1}, "seed .* 0 or more, got -1"), ({"size": 16}, "32..256"),
])
def test_bad_synthfaces_arguments_are_refused_before_anything_is_written(tmp_path, monkeypatch, arguments, message):
    monkeypatch.setenv("FES_CACHE", str(tmp_path))
    with pytest.raises(ValueError, match=message):
        SynthFaces(progress=False, **arguments)
    assert not list(tmp_path.rglob("*.npy"))


# --- uploads in every pixel format ------------------------------------------------------------

def _gradient_file(mode: str) -> bytes:
    ramp = np.linspace(0.0, 1.0, 64 * 64).reshape(64, 64)
    picture = {"I;16": lambda: Image.fromarray((ramp * 65535).astype(np.uint16)),
               "I": lambda: Image.fromarray((ramp * 65535).astype(np.int32), mode="I"),
               "F": lambda: Image.fromarray(ramp.astype(np.float32), mode="F")}[mode]()
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG" if mode == "I;16" else "TIFF")
    return buffer.getvalue()


@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_16_bit_and_float_grayscale_uploads_keep_their_tones(mode):
    face = load_face_image(_gradient_file(mode), 64)
    assert abs(float(face.mean())) < 0.05                     # a 0..1 ramp averages mid-grey
    assert float((face > 0.98).float().mean()) < 0.05         # not washed out to white
    assert float(face[:, 0].mean()) < -0.9 and float(face[:, -1].mean()) > 0.9   # dark top, light bottom


# --- leftovers of killed runs -----------------------------------------------------------------

def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_leftovers_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    destination = tmp_path / "file.bin"
    dead = tmp_path / f".file.bin.{_dead_pid()}.abc.part"
    live = tmp_path / f".file.bin.{os.getpid()}.xyz.tmp"
    dead.write_bytes(b"half"), live.write_bytes(b"busy")
    assert remove_leftovers(destination) == [dead]
    assert live.exists()


def test_a_killed_download_leaves_nothing_after_the_next_try(tmp_path):
    destination = tmp_path / "model.pth"
    leftover = tmp_path / f".model.pth.{_dead_pid()}.abc.part"
    leftover.write_bytes(b"half a download")
    item = Download("model", ("http://example.invalid/model.pth",), sha256=None, destination=destination,
                    manual="by hand", validate=lambda path: None)
    fetch(item, getter=lambda url, target: target.write_bytes(b"the whole file"))
    assert destination.read_bytes() == b"the whole file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pth"]


def test_a_checkpoint_killed_mid_write_is_cleaned_when_training_starts(tmp_path):
    leftover = tmp_path / f".checkpoint.pt.{_dead_pid()}.abc.tmp"
    leftover.write_bytes(b"half a checkpoint")

    def loss(model, batch, step):
        return model(batch[0]).pow(2).mean(), {}

    data = torch.utils.data.TensorDataset(torch.randn(16, 3))
    train(torch.nn.Linear(3, 1), loss, data, TrainConfig(steps=1, batch_size=4, out=str(tmp_path), progress=False))
    assert not leftover.exists()


def test_an_atomic_write_that_fails_leaves_nothing(tmp_path):
    destination = tmp_path / "out.json"
    with pytest.raises(RuntimeError), atomic_path(destination) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert not list(tmp_path.iterdir())


# --- each clone imports its own code -------------------------------------------------------------

def test_each_clone_imports_its_own_common(tmp_path):
    other = tmp_path / "other-clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(other)], check=True)
    for name in ("Makefile", "scripts/setup-env.sh"):   # this working tree's versions of the rule
        (other / name).write_bytes((ROOT / name).read_bytes())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MAKEFLAGS", "MAKELEVEL")}
    where = {clone: subprocess.run(["make", "-s", "-C", str(clone), "which-common"], capture_output=True,
                                   text=True, env=env, check=True).stdout.strip().splitlines()[-1]
             for clone in (other, ROOT)}
    assert where == {other: str(other / "common"), ROOT: str(ROOT / "common")}
    assert json.loads((ROOT / "weights" / MANIFEST).read_text())   # the shipped manifest is untouched
