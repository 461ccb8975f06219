"""The one data switch: ``CELEBA_ROOT`` set, every notebook and recipe runs on CelebA;
unset, on SynthFaces.

``CELEBA_ROOT`` names the folder holding ``img_align_celeba/`` and the two lists;
``CELEBA_CROP`` (optional) overrides the 148-px centre crop: a number of pixels, or
``none`` for images that are already square face crops.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..config import device_name, full_or_quick
from .celeba import CelebA, CelebAError
from .synthfaces import SynthFaces

FaceData = SynthFaces | CelebA


def celeba_root() -> Path | None:
    """The CelebA folder named by ``CELEBA_ROOT``, or None (then SynthFaces is used)."""
    root = os.environ.get("CELEBA_ROOT", "").strip()
    return Path(root).expanduser() if root else None


def celeba_crop() -> int | None:
    """The centre crop from ``CELEBA_CROP`` (default 148; ``none``: the largest square)."""
    text = os.environ.get("CELEBA_CROP", "148").strip().lower()
    if text == "none":
        return None
    if not text.isdigit() or int(text) < 1:
        raise CelebAError(f"CELEBA_CROP must be a number of pixels or 'none', got {text!r}")
    return int(text)


CELEBA_NOTEBOOK_FACES = (20_000, 2_000)    # training faces of a model a notebook trains: full, quick mode


def celeba_limit() -> int:
    """How many CelebA training faces a model trained inside a notebook sees (the first of
    the split): ``CELEBA_LIMIT``, default 20,000 in full mode and 2,000 in quick mode. The
    command line trains on the whole split."""
    text = os.environ.get("CELEBA_LIMIT", "").strip()
    if not text:
        return full_or_quick(*CELEBA_NOTEBOOK_FACES)
    if not text.isdigit() or int(text) < 1:
        raise CelebAError(f"CELEBA_LIMIT must be a whole number of faces (at least 1), got {text!r}")
    return int(text)


def using_celeba() -> bool:
    """True when the switch points at CelebA."""
    return celeba_root() is not None


def face_data(split: str = "train", n: int = 10_000, size: int = 64, seed: int = 0) -> FaceData:
    """The faces every notebook works on: the first ``n`` of CelebA's ``split`` when
    ``CELEBA_ROOT`` is set (all of them when the split is smaller), else ``n`` SynthFaces."""
    root = celeba_root()
    if root is None:
        return SynthFaces(n=n, size=size, seed=seed, split=split)
    return CelebA(root, split=split, size=size, crop=celeba_crop(), limit=n)


def describe_data(**datasets: FaceData) -> str:
    """What a notebook runs on: the device, then one line per named dataset, for its first output."""
    source = (f"data: CelebA (CELEBA_ROOT={celeba_root()})" if using_celeba()
              else "data: SynthFaces (set CELEBA_ROOT to a CelebA folder to run on real faces)")
    return "\n".join([f"device: {device_name()}", source]
                     + [f"  {role}: {data.describe()}" for role, data in datasets.items()])
