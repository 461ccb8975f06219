"""Run-time switches every notebook reads, checked where they are read.

``FES_QUICK=1`` (set by the test command) switches the notebooks to a quick mode:
fewer samples and few training steps, so that nbval runs each notebook in under two
minutes (1/0, true/false, yes/no, on/off in any case; empty is off). ``FES_CACHE`` moves
the on-disk cache (default ``~/.cache/fes``); it must be a folder this user can write.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import torch

from .files import FolderError, usable_folder

SWITCH_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False,
                "off": False, "": False}


class SettingError(ValueError):
    """An environment variable holds a value this project cannot use; the message names it."""


def switch(variable: str) -> bool:
    """The on/off environment variable ``variable``: 1/0, true/false, yes/no, on/off (any
    case, surrounding spaces ignored); unset or empty is off.

    Raises:
        SettingError: any other value, naming the variable and the words allowed."""
    value = os.environ.get(variable, "")
    try:
        return SWITCH_WORDS[value.strip().lower()]
    except KeyError:
        raise SettingError(f"{variable}={value!r} is not a switch; use 1 or 0 (also true/false, yes/no, "
                           "on/off)") from None


def quick_mode() -> bool:
    """True when ``FES_QUICK`` is on (``switch``)."""
    return switch("FES_QUICK")


def full_or_quick(full: int, quick: int) -> int:
    """Return ``quick`` in quick mode, else ``full`` (sample counts, steps)."""
    return quick if quick_mode() else full


def cache_dir() -> Path:
    """Folder for generated data and downloads (``FES_CACHE``, default ``~/.cache/fes``);
    created on first use.

    Raises:
        SettingError: ``FES_CACHE`` is a file, cannot be created or is not writable."""
    value = os.environ.get("FES_CACHE", "").strip()
    try:
        return usable_folder(Path(value) if value else Path.home() / ".cache" / "fes", "FES_CACHE")
    except FolderError as error:
        raise SettingError(str(error)) from None


def device() -> torch.device:
    """Where models run: CUDA when present, else the CPU (never required)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_name(where: torch.device | None = None) -> str:
    """``where`` (default: where models run, ``device()``) in words: the GPU's name, or the
    CPU with its threads."""
    where = where or device()
    if where.type == "cuda":
        return f"GPU ({torch.cuda.get_device_name(where)})"
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'s' if threads != 1 else ''} of {os.cpu_count()} cores)"


def model_device(model) -> torch.device:
    """The device of ``model``'s parameters (or buffers, for a model made of buffers only);
    the CPU for a model that holds no tensors."""
    if isinstance(model, torch.nn.Module):
        first = next(itertools.chain(model.parameters(), model.buffers()), None)   # lazily: on hot paths
        if first is not None:
            return first.device
    return torch.device("cpu")


def peak_memory_mib(device: torch.device) -> float:
    """Peak memory so far: CUDA's allocator peak on a GPU, the process's peak resident set
    size on the CPU (Linux reports it in KiB)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
