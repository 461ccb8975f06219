"""Run-time switches every notebook reads.

``FES_QUICK=1`` (set by the test command) switches the notebooks to a quick mode:
fewer samples and few training steps, so that nbval runs each notebook in under two
minutes. ``FES_CACHE`` moves the on-disk cache (default ``~/.cache/fes``).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import torch


def quick_mode() -> bool:
    """True when ``FES_QUICK`` is set to a non-empty value other than ``0``."""
    return os.environ.get("FES_QUICK", "0") not in ("", "0")


def pick(full: int, quick: int) -> int:
    """Return ``quick`` in quick mode, else ``full`` (sample counts, steps)."""
    return quick if quick_mode() else full


def cache_dir() -> Path:
    """Folder for generated data and downloads; created on first use."""
    path = Path(os.environ.get("FES_CACHE", Path.home() / ".cache" / "fes"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def device() -> torch.device:
    """Where models run: CUDA when present, else the CPU (never required)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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
