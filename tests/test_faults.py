"""Faults of the disk and the environment (issue 51): checked before any work, told in one
line naming the path and where it came from, never after minutes of training; nothing
changed. Full disks and read-only folders are simulated by patching the writers (root
passes permission checks, and a tmpfs is not needed)."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from collections import namedtuple
from pathlib import Path

import pytest
import torch

from common.config import SettingError, cache_dir, quick_mode
from common.data import SynthFaces
from common.data.celeba import CelebA, CelebAError
from common.files import FolderError, RunLock, usable_folder
from common.images import FaceImageError, load_face_image
from common.train.__main__ import main, portable_command
from common.weights import WEIGHTS_DIR, WeightsError, load_weights, weights_dir

ROOT = Path(__file__).resolve().parents[1]
# a tiny classifier run: 2 steps on 64 faces of 32 pixels
TINY_RUN = ["classifier", "--image-size", "32", "--steps", "2", "--faces", "64", "--batch-size", "8"]


def _one_line_error(capsys) -> str:
    """The run's standard error: one line, no traceback; returned for the caller's checks."""
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith(("training", "SynthFaces"))]
    assert len(lines) == 1, lines
    return lines[0]


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    return stopped.value.code


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def weights_copy(tmp_path) -> Path:
    """A copy of the shipped classifier_32 and the manifest, for runs that --save."""
    folder = tmp_path / "weights"
    folder.mkdir()
    for name in ("manifest.json", "classifier_32.safetensors", "classifier_32.history.json"):
        shutil.copy(WEIGHTS_DIR / name, folder / name)
    return folder


# --- environment variables, validated where they are read --------------------------------

@pytest.mark.parametrize("value, on", [("1", True), ("TRUE", True), ("yes", True), ("On", True), ("0", False),
                                       ("false", False), ("No", False), ("off", False), ("", False), (" ", False)])
def test_fes_quick_takes_the_usual_switch_words(monkeypatch, value, on):
    monkeypatch.setenv("FES_QUICK", value)
    assert quick_mode() is on


@pytest.mark.parametrize("value", ["maybe", "2", "y e s"])
def test_any_other_fes_quick_is_refused_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("FES_QUICK", value)
    with pytest.raises(SettingError, match=f"FES_QUICK={value!r} is not a switch"):
        quick_mode()


def test_fes_cache_that_cannot_be_created_or_is_a_file_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("FES_CACHE", "/proc/forbidden")
    with pytest.raises(SettingError, match=r"FES_CACHE /proc/forbidden cannot be created"):
        cache_dir()
    a_file = tmp_path / "cache.txt"
    a_file.write_text("not a folder")
    monkeypatch.setenv("FES_CACHE", str(a_file))
    with pytest.raises(SettingError, match=f"FES_CACHE {a_file} is a file, not a folder"):
        cache_dir()
    monkeypatch.setenv("FES_CACHE", str(tmp_path / "new" / "cache"))
    assert cache_dir().is_dir()                                  # missing but creatable: made


def test_fes_weights_dir_is_checked_and_never_advises_git_outside_the_clone(monkeypatch, tmp_path):
    monkeypatch.setenv("FES_WEIGHTS_DIR", "/proc/nonexistent")
    with pytest.raises(SettingError, match="FES_WEIGHTS_DIR /proc/nonexistent cannot be created"):
        weights_dir()
    elsewhere = tmp_path / "my-weights"
    monkeypatch.setenv("FES_WEIGHTS_DIR", str(elsewhere))
    with pytest.raises(WeightsError, match="is not the clone's weights/ folder") as caught:
        load_weights(torch.nn.Linear(2, 2), "classifier.safetensors")
    assert "git checkout" not in str(caught.value)


def test_the_command_line_names_a_bad_variable_before_any_work(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("FES_CACHE", "/proc/forbidden")
    assert _exit_code([*TINY_RUN, "--out", str(tmp_path / "run")]) == 2
    assert "FES_CACHE /proc/forbidden" in _one_line_error(capsys)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


# --- preflight: every folder a run writes, checked before data or steps --------------------

def test_an_out_that_is_a_file_is_refused_up_front(capsys, tmp_path):
    a_file = tmp_path / "run"
    a_file.write_text("x")
    assert _exit_code([*TINY_RUN, "--out", str(a_file)]) == 2
    assert _one_line_error(capsys) == f"error: --out {a_file} is a file, not a folder; point --out at a folder"


def test_a_read_only_weights_folder_is_refused_before_training(monkeypatch, capsys, tmp_path, weights_copy):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == weights_copy and mode & os.W_OK
                        else real_access(path, mode))
    trained = []
    monkeypatch.setattr("common.train.recipes.base.train", lambda *a, **k: trained.append(1))
    before = _snapshot(weights_copy)
    argv = [*TINY_RUN, "--out", str(tmp_path / "run"), "--save", "--force", "--weights-dir", str(weights_copy)]
    assert _exit_code(argv) == 2
    assert _one_line_error(capsys) == (f"error: --weights-dir {weights_copy} is not writable by this user; "
                                       "point --weights-dir at a folder you can write")
    assert not trained and _snapshot(weights_copy) == before


def test_a_disk_without_room_for_the_checkpoint_is_refused_up_front(monkeypatch, capsys, tmp_path):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(3 << 20, 3 << 20, 100 << 10))
    assert _exit_code([*TINY_RUN, "--out", str(tmp_path / "run")]) == 2
    line = _one_line_error(capsys)
    assert re.fullmatch(rf"error: --out {tmp_path / 'run'} has 0 MiB free and this run writes about \d+ MiB "
                        r"there; free some space or point --out elsewhere", line), line


def test_usable_folder_names_its_origin_and_creates_missing_folders(tmp_path):
    assert usable_folder(tmp_path / "a" / "b", "--out").is_dir()
    with pytest.raises(FolderError, match="--out /proc/x cannot be created"):
        usable_folder(Path("/proc/x"), "--out")


# --- faults during a run: one line, the file, the state of what was kept -------------------

def test_a_full_disk_while_checkpointing_is_one_line_and_keeps_the_old_checkpoint(monkeypatch, capsys, tmp_path):
    out = tmp_path / "run"

    def full_disk(state, path):
        Path(path).write_bytes(b"half")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", full_disk)
    monkeypatch.setattr("common.files.shutil.disk_usage",
                        lambda path: namedtuple("u", "total used free")(1 << 30, 1 << 30, 0))
    monkeypatch.setattr("common.train.recipes.preflight.usable_folder", lambda *a, **k: None)
    assert _exit_code([*TINY_RUN, "--out", str(out)]) == 1
    assert _one_line_error(capsys) == (f"error: No space left on device while writing {out / 'checkpoint.pt'}; "
                                       "no checkpoint was written")
    assert [p.name for p in out.iterdir()] == []                  # no half-written file, the lock released


def test_a_read_only_weights_folder_at_save_time_changes_nothing(monkeypatch, capsys, tmp_path, weights_copy):
    def read_only(state, path):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)

    monkeypatch.setattr("common.weights.store.save_file", read_only)
    monkeypatch.setattr("common.train.recipes.ClassifierRecipe.evaluate", lambda *args: {"acc/Smiling": 0.5})   # no held-out pass
    before = _snapshot(weights_copy)
    argv = [*TINY_RUN, "--out", str(tmp_path / "run"), "--save", "--force", "--weights-dir", str(weights_copy)]
    assert _exit_code(argv) == 1
    assert _one_line_error(capsys) == (
        f"error: Read-only file system while writing {weights_copy / 'classifier_32.safetensors'}; the checkpoint "
        f"{tmp_path / 'run' / 'checkpoint.pt'} is unchanged; the weights in {weights_copy} are unchanged")
    assert _snapshot(weights_copy) == before
    assert not [p for p in weights_copy.iterdir() if p.name.startswith(".")]


def test_debug_shows_the_traceback(monkeypatch, tmp_path):
    a_file = tmp_path / "run"
    a_file.write_text("x")
    with pytest.raises(FolderError):
        main([*TINY_RUN, "--out", str(a_file), "--debug"])


# --- Ctrl-C and one run per folder ----------------------------------------------------------

def test_ctrl_c_says_where_it_stopped_and_how_to_resume(monkeypatch, capsys, tmp_path):
    from common.train import loop

    real_batch, calls = loop.make_batch, []

    def interrupted(dataset, rows):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_batch(dataset, rows)

    monkeypatch.setattr(loop, "make_batch", interrupted)
    argv = [*TINY_RUN, "--out", str(tmp_path / "run")]
    assert _exit_code(argv) == 130
    assert _one_line_error(capsys) == ("interrupted at step 1; no checkpoint was written yet; resume with: "
                                       f"python -m common.train {' '.join(argv)}")
    assert not (tmp_path / "run" / "run.lock").exists()


def test_a_second_run_into_the_same_out_is_refused(capsys, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / "run.lock").write_text(str(sleeper.pid))
        assert _exit_code([*TINY_RUN, "--out", str(out)]) == 2
        assert _one_line_error(capsys) == (f"error: another run (process {sleeper.pid}) is training into {out}; "
                                           "wait for it to finish or choose another --out")
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_lock_left_by_a_dead_run_is_taken_over_with_a_note(capsys, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "run.lock").write_text(str(dead.pid))
    with RunLock(tmp_path):
        assert (tmp_path / "run.lock").read_text() == str(os.getpid())
    assert f"left by a run that has ended (process {dead.pid}); taking it over" in capsys.readouterr().err
    assert not (tmp_path / "run.lock").exists()


# --- recorded commands are the ones a user runs from a clone ---------------------------------

def test_the_recorded_command_drops_this_machines_folders():
    argv = ["glow", "--steps", "10", "--out", "/root/.cache/run", "--save", "--weights-dir=/tmp/w"]
    assert portable_command(argv) == "python -m common.train glow --steps 10 --save"


def test_the_manifest_names_no_absolute_or_home_path():
    text = (ROOT / "weights" / "manifest.json").read_text()
    for name, entry in json.loads(text).items():
        assert not re.search(r"(^|[\s=])(/|~)", entry["command"]), (name, entry["command"])
        assert "--out" not in entry["command"] and "--weights-dir" not in entry["command"], name


# --- the small ones ------------------------------------------------------------------------

def test_synthfaces_takes_integral_floats_and_refuses_others():
    assert SynthFaces(n=4, size=64.0, cache=False, progress=False).images(slice(None)).shape == (4, 3, 64, 64)
    with pytest.raises(ValueError, match=r"SynthFaces size \(pixels per side\) must be a whole number, got 64.5"):
        SynthFaces(n=4, size=64.5, cache=False)


def test_a_file_given_as_the_celeba_folder_is_named_as_such(tmp_path):
    a_file = tmp_path / "list_attr_celeba.txt"
    a_file.write_text("x")
    with pytest.raises(CelebAError, match=f"{a_file} is a file, not a folder"):
        CelebA(a_file, cache=False)


def test_an_unreadable_celeba_file_is_a_clear_error(monkeypatch, tmp_path):
    (tmp_path / "img_align_celeba").mkdir()
    listed = tmp_path / "list_attr_celeba.txt"

    def denied(path):
        raise PermissionError(errno.EACCES, "Permission denied", str(listed))

    monkeypatch.setattr("common.data.celeba.parse_attributes", denied)
    with pytest.raises(CelebAError, match=f"{listed} cannot be read by this user.*chmod"):
        CelebA(tmp_path, cache=False)


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header says ``width`` x ``height`` (8-bit RGB) and whose data is cut off."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_a_huge_upload_is_refused_before_it_is_decoded():
    with pytest.raises(FaceImageError, match=r"huge.png is 13000x13000 pixels \(169 megapixels\); "
                                             r"pictures above 40 megapixels are refused"):
        load_face_image(_png_header(13000, 13000), 64, name="huge.png")


def test_a_full_disk_while_caching_faces_names_the_cache_file(monkeypatch, tmp_path):
    from common.files import WriteError

    monkeypatch.setenv("FES_CACHE", str(tmp_path))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("numpy.lib.format.open_memmap", full)
    with pytest.raises(WriteError, match=r"No space left on device while writing .*synthfaces.*\.npy"):
        SynthFaces(n=4, size=32, progress=False)
    assert not list(tmp_path.rglob("*.npy*"))
