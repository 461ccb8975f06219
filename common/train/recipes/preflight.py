"""Before a run builds data or takes a step: every folder it will write is checked (exists
or can be made, is a folder, is writable, has room for what the run writes, with a margin),
so that a fault of the disk or the environment is told in one line, not after minutes of
training."""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

from ...config import cache_dir
from ...data.synthfaces import SynthFaces
from ...files import usable_folder
from ...weights import weights_dir as default_weights_dir
from .data_spec import DataSpec

MIB = 2 ** 20


def state_bytes(model: nn.Module) -> int:
    """Bytes of ``model``'s parameters and buffers as stored in float32."""
    return sum(4 * tensor.numel() for tensor in model.state_dict().values())


def data_cache_bytes(data: DataSpec, size: int, held_out: int) -> int:
    """What the run adds to the cache: SynthFaces' rendered pixels (training and held-out
    faces, uint8) when they are not cached yet; CelebA's decoded faces likewise (an upper
    bound: its whole training split)."""
    if data.name == "synth":
        cached = (SynthFaces.cached(data.faces, size, data.seed, "train"), SynthFaces.cached(held_out, size, 0, "test"))
        return sum(n * size * size * 3 for n, done in zip((data.faces, held_out), cached) if not done)
    return (162_770 + held_out) * size * size * 3


def weights_origin(weights_dir: Path | None) -> str:
    """The option or variable a weights folder came from, for messages."""
    if weights_dir is not None:
        return "--weights-dir"
    return "FES_WEIGHTS_DIR" if os.environ.get("FES_WEIGHTS_DIR", "").strip() else "the weights folder (--weights-dir)"


def preflight(model: nn.Module, out: str | None, save: bool, weights_dir: Path | None, data: DataSpec,
              size: int, held_out: int) -> None:
    """Check the folders a run of ``model`` writes: ``out`` (a checkpoint: the weights and
    Adam's two moments), with ``save`` the weights folder (fp16 weights, the history and
    the manifest) and the cache (``FES_CACHE``, for faces not rendered or decoded yet).

    Raises:
        FolderError: one line naming the path, the option or variable it came from and what to do.
        SettingError: ``FES_CACHE`` or ``FES_WEIGHTS_DIR`` cannot be used."""
    weights = state_bytes(model)
    if out is not None:
        usable_folder(Path(out), "--out", needed_bytes=3 * weights + MIB)
    if save:
        usable_folder(weights_dir or default_weights_dir(), weights_origin(weights_dir),
                      needed_bytes=weights // 2 + MIB)
    usable_folder(cache_dir(), "FES_CACHE", needed_bytes=data_cache_bytes(data, size, held_out))
