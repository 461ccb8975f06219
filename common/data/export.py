"""Write a face dataset in CelebA's file layout, so the CelebA code path can be run (and
tested) on SynthFaces."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from .celeba import ATTR_FILE, IMAGE_DIR, PARTITION_FILE
from .celeba_names import CELEBA_ATTRIBUTES
from .synthfaces import SynthFaces


def export_celeba_layout(splits: dict[str, tuple[np.ndarray, np.ndarray]], out: str | Path,
                         quality: int = 95) -> Path:
    """Write ``img_align_celeba/*.jpg``, ``list_attr_celeba.txt`` (CelebA's exact format,
    all 40 names, absent ones -1) and ``list_eval_partition.txt``.

    Args:
        splits: ``{"train"|"valid"|"test": (pixels [N,H,W,3] uint8, attributes [N,40] bool)}``;
            files are numbered 000001.jpg onwards, train first.
        out: destination folder; it must not exist yet. Everything is written to a
            temporary folder beside it, then renamed, so nothing half-written is left.
    Returns:
        ``out`` as a Path.
    """
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose a new folder or delete it first")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-"))
    try:
        (tmp / IMAGE_DIR).mkdir()
        attr_rows, partition_rows = [], []
        number = 0
        for code, split in enumerate(("train", "valid", "test")):
            pixels, attributes = splits.get(split, (np.zeros((0,)), np.zeros((0, 40), bool)))
            for face, labels in zip(pixels, attributes):
                number += 1
                name = f"{number:06d}.jpg"
                Image.fromarray(face).save(tmp / IMAGE_DIR / name, quality=quality)
                attr_rows.append(name + " " + " ".join(f"{1 if v else -1:2d}" for v in labels))
                partition_rows.append(f"{name} {code}")
        header = [str(number), " ".join(CELEBA_ATTRIBUTES)]
        (tmp / ATTR_FILE).write_text("\n".join(header + attr_rows) + "\n")
        (tmp / PARTITION_FILE).write_text("\n".join(partition_rows) + "\n")
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


CELEBA_WIDTH, CELEBA_HEIGHT, CELEBA_CROP = 178, 218, 148


def in_celeba_frame(faces: np.ndarray) -> np.ndarray:
    """``[N,148,148,3]`` square faces -> ``[N,218,178,3]``: CelebA's aligned-image size,
    the face where CelebA's 148-px centre crop finds it, the border continuing the edges."""
    if faces.shape[1:3] != (CELEBA_CROP, CELEBA_CROP):
        raise ValueError(f"faces must be {CELEBA_CROP}x{CELEBA_CROP}, got {faces.shape[1]}x{faces.shape[2]}")
    left = (CELEBA_WIDTH - CELEBA_CROP) // 2
    top = (CELEBA_HEIGHT - CELEBA_CROP) // 2
    return np.pad(faces, ((0, 0), (top, CELEBA_HEIGHT - CELEBA_CROP - top),
                          (left, CELEBA_WIDTH - CELEBA_CROP - left), (0, 0)), mode="edge")


def export_synthfaces_as_celeba(out: str | Path, n: int, seed: int = 0) -> Path:
    """SynthFaces in CelebA's real geometry: ``n`` training faces and ``n // 10`` (at least
    one) each for validation and test, rendered at 148 px, framed as 178x218 JPEGs, with
    CelebA's attribute and partition files. ``CelebA(out)`` with its default 148-px crop
    then reads exactly the rendered faces (up to JPEG)."""
    counts = {"train": n, "valid": max(1, n // 10), "test": max(1, n // 10)}
    splits = {}
    for split, count in counts.items():
        faces = SynthFaces(n=count, size=CELEBA_CROP, seed=seed, split=split, cache=False)
        splits[split] = (in_celeba_frame(faces.pixels), faces.attributes.numpy())
    return export_celeba_layout(splits, out)
