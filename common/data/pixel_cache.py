"""Decoded faces on disk: ``[N,H,W,3]`` uint8 ``.npy`` files, written atomically, read
memory-mapped, and healed when damaged (reported, moved aside, made again)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..files import atomic_path, write_failure


def read_pixels(path: Path, shape: tuple[int, ...], mmap: bool = False) -> np.ndarray | None:
    """The uint8 array cached at ``path``, or None when there is none. A damaged file
    (truncated, empty, not an array, or of the wrong shape) is reported with its path,
    moved aside to ``path.damaged`` and treated as missing, so it is made again.

    Args:
        shape: the array's expected shape, ``[N,H,W,3]``.
        mmap: map the file read-only instead of reading it into memory.
    """
    if not path.exists():
        return None
    try:
        pixels = np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
        if pixels.dtype != np.uint8 or pixels.shape != tuple(shape):
            raise ValueError(f"holds a {pixels.dtype} array of shape {pixels.shape}, not uint8 {tuple(shape)}")
    except (OSError, ValueError, EOFError) as error:
        aside = path.with_name(path.name + ".damaged")
        os.replace(path, aside)
        warnings.warn(f"cache file {path} is unreadable ({error}); moved it to {aside} and making it again",
                      stacklevel=3)
        return None
    return pixels


@contextmanager
def writing_pixels(path: Path, shape: tuple[int, ...]) -> Iterator[np.ndarray]:
    """A writable memory-mapped ``[N,H,W,3]`` uint8 array that becomes ``path`` when the
    block succeeds; nothing is left at ``path`` when it fails. A full or read-only disk is a
    ``WriteError`` naming ``path``."""
    try:
        with atomic_path(path) as tmp:
            pixels = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=tuple(shape))
            yield pixels
            pixels.flush()
            del pixels
    except OSError as error:
        raise write_failure(path, error) from error
