"""SynthFaces: the embedded default dataset, generated on first use and cached on disk.

Face ``i`` of a split is a pure function of (seed, split, i), so datasets of different
lengths share their first faces and a deleted cache regenerates the same pixels.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from ..config import cache_dir
from ..images import from_uint8, unit_to_signed
from .celeba_names import CELEBA_ATTRIBUTES
from .synth_factors import EXPRESSION_FACTORS, FACTOR_INDEX, FACTOR_NAMES, attributes_from_factors, sample_factors
from .pixel_cache import read_pixels, writing_pixels
from .synth_render import render_faces

SPLITS = ("train", "valid", "test")
_SPLIT_OFFSET = {"train": 0, "valid": 10_000_000, "test": 20_000_000}
_RENDERER_FILES = ("synth_factors.py", "synth_render.py", "synth_shapes.py")


def renderer_version() -> str:
    """Short hash of the renderer's source: a cache made by other code is never reused."""
    digest = hashlib.sha256()
    for name in _RENDERER_FILES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:12]


def split_indices(split: str, n: int) -> np.ndarray:
    """Global face indices ``[n]`` of the first ``n`` faces of a split."""
    if split not in _SPLIT_OFFSET:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return np.arange(n, dtype=np.int64) + _SPLIT_OFFSET[split]


def render_uint8(factors: np.ndarray, size: int, batch: int = 64,
                 progress: bool = False) -> np.ndarray:
    """Render ``[N,F]`` factors to ``[N,size,size,3]`` uint8, ``batch`` faces at a time."""
    out = np.empty((len(factors), size, size, 3), dtype=np.uint8)
    starts = range(0, len(factors), batch)
    for start in tqdm(starts, desc=f"SynthFaces {size}px", disable=not progress, unit="batch"):
        chunk = torch.from_numpy(factors[start:start + batch])
        faces = render_faces(chunk, size)
        out[start:start + batch] = (faces * 255.0).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return out


def whole(value: object, what: str) -> int:
    """``value`` as an ``int``: whole numbers, including floats such as ``64.0``; anything
    else (``64.5``, ``True``, ``"64"``) is a ``ValueError`` naming ``what`` and the value."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    raise ValueError(f"{what} must be a whole number, got {value!r}")


class SynthFaces(Dataset):
    """Procedural faces with ground-truth factors and CelebA attribute labels.

    Attributes:
        pixels: ``[N,H,W,3]`` uint8.
        factors: ``[N, len(FACTOR_NAMES)]`` float32.
        attributes: ``[N, 40]`` bool, columns ``CELEBA_ATTRIBUTES``.
    Items are ``(image [3,H,W] in [-1,1], attributes [40] float 0/1)``.
    """

    name = "SynthFaces"
    attribute_names = CELEBA_ATTRIBUTES
    factor_names = FACTOR_NAMES

    def __init__(self, n: int = 10_000, size: int = 64, seed: int = 0, split: str = "train",
                 cache: bool = True, progress: bool = True) -> None:
        n = whole(n, "SynthFaces n (the number of faces)")
        if n < 1:
            raise ValueError(f"SynthFaces n (the number of faces) must be at least 1, got {n}")
        seed = whole(seed, "SynthFaces seed")
        if seed < 0:
            raise ValueError(f"SynthFaces seed must be 0 or more, got {seed}")
        size = whole(size, "SynthFaces size (pixels per side)")
        self.n, self.size, self.seed, self.split = n, size, seed, split
        self.indices = split_indices(split, n)
        self.factors = sample_factors(seed, self.indices)
        self.attributes = torch.from_numpy(attributes_from_factors(self.factors))
        path = self.cache_path() if cache else None
        self.pixels = read_pixels(path, (n, size, size, 3)) if path is not None else None
        if self.pixels is None:
            self.pixels = render_uint8(self.factors, size, progress=progress and n >= 2000)
            if path is not None:
                with writing_pixels(path, self.pixels.shape) as stored:
                    stored[:] = self.pixels

    def cache_path(self) -> Path:
        return self.cache_file(self.n, self.size, self.seed, self.split)

    @staticmethod
    def cache_file(n: int, size: int, seed: int, split: str) -> Path:
        """Where the rendered pixels of these faces are cached."""
        return cache_dir() / "synthfaces" / f"{renderer_version()}_seed{seed}_{split}_{n}_{size}px.npy"

    @classmethod
    def cached(cls, n: int, size: int, seed: int = 0, split: str = "train") -> bool:
        """Whether these faces are rendered in the cache already."""
        return cls.cache_file(n, size, seed, split).exists()

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        return from_uint8(self.pixels[i]), self.attributes[i].float()

    def batch(self, indices: np.ndarray) -> tuple[Tensor, Tensor, Tensor]:
        """Training batch: images ``[B,3,H,W]``, attributes ``[B,40]`` 0/1, factors ``[B,F]``."""
        return (self.images(indices), self.attributes[indices].float(),
                torch.from_numpy(self.factors[indices]))

    def images(self, indices: np.ndarray | list[int] | slice) -> Tensor:
        """``[len(indices),3,H,W]`` in [-1,1]."""
        return from_uint8(self.pixels[indices])

    def describe(self) -> str:
        """One line for a notebook's first output: name, split, size."""
        return (f"SynthFaces (rendered, seed {self.seed}): {self.split} split, {self.n} faces, "
                f"{self.size}x{self.size} px")

    def factor(self, name: str) -> np.ndarray:
        """``[N]`` values of one factor."""
        return self.factors[:, FACTOR_NAMES.index(name)]


def factor_sweep(factors: np.ndarray, name: str, values: np.ndarray | list[float],
                 size: int = 64) -> Tensor:
    """One face with one factor set to each of ``values`` (everything else fixed).

    Args:
        factors: ``[F]`` the face's factors (a row of ``SynthFaces.factors``).
        name: a factor in ``FACTOR_NAMES``, e.g. ``"smile"`` or ``"yaw"``.
        values: ``[K]`` values for it.
    Returns:
        ``[K,3,size,size]`` in [-1,1].
    """
    if name not in FACTOR_NAMES:
        raise KeyError(f"unknown factor {name!r}; factors are: {', '.join(FACTOR_NAMES)}")
    rows = np.repeat(np.asarray(factors, dtype=np.float32)[None], len(values), axis=0)
    rows[:, FACTOR_NAMES.index(name)] = values
    return unit_to_signed(render_faces(torch.from_numpy(rows), size))


def average_factors(n: int = 1000, seed: int = 0) -> np.ndarray:
    """The factors of an "average" face: the mean of ``n`` training faces for the
    continuous factors, the most common value for the categorical ones (sex, hair,
    glasses, facial hair, lipstick), head straight and mouth closed.

    Returns:
        ``[F]`` float32.
    """
    factors = sample_factors(seed, split_indices("train", n))
    average = factors.mean(axis=0)
    for name in ("male", "hair_colour", "hair_style", "bangs", "glasses", "moustache", "goatee",
                 "beard", "lipstick"):
        values, counts = np.unique(factors[:, FACTOR_NAMES.index(name)], return_counts=True)
        average[FACTOR_NAMES.index(name)] = values[counts.argmax()]
    for name in ("yaw", "roll", "mouth_open"):
        average[FACTOR_NAMES.index(name)] = 0.0
    return average.astype(np.float32)


def changed_region(factors: np.ndarray, name: str, low: float, high: float, size: int = 64,
                   threshold: float = 0.1) -> Tensor:
    """Where a face changes when one factor goes from ``low`` to ``high``: the pixels whose
    summed RGB change (in [0, 1] units) exceeds ``threshold``.

    Args:
        factors: ``[F]`` one face's factors, e.g. ``average_factors()``.

    Returns:
        ``[size, size]`` bool; its sum is the number of changed pixels.
    """
    low_face, high_face = factor_sweep(factors, name, [low, high], size)
    change = (low_face - high_face).abs().sum(0) / 2.0   # [-1, 1] images: halve to [0, 1] units
    return change > threshold


def blend_expressions(factors: Tensor, donors: Tensor, weights: Tensor, size: int = 64) -> tuple[Tensor, Tensor]:
    """What a pixel-error decoder draws for faces whose expression its code leaves open:
    the weighted mean of each face rendered with several expressions (such a decoder's
    output is the mean of the images the code allows), and the mean expression it shows.

    Args:
        factors: ``[N,F]`` the faces (float32).
        donors: ``[N,K,F]`` faces whose expression factors (``EXPRESSION_FACTORS``) each
            face is rendered with; everything else stays the face's own.
        weights: ``[N,K]`` non-negative, each row summing to 1.
        size: pixels.
    Returns:
        images ``[N,3,size,size]`` in [-1,1], and factors ``[N,F]``: the face's own with
        the weighted mean of the donors' expression factors.
    """
    n, k, _ = donors.shape
    columns = [FACTOR_INDEX[name] for name in EXPRESSION_FACTORS]
    variants = factors[:, None].repeat(1, k, 1)
    variants[..., columns] = donors[..., columns]
    rendered = render_faces(variants.flatten(0, 1), size).view(n, k, 3, size, size)
    images = (weights[:, :, None, None, None] * rendered).sum(1)
    mean = factors.clone()
    mean[:, columns] = (weights[..., None] * donors[..., columns]).sum(1)
    return unit_to_signed(images), mean
