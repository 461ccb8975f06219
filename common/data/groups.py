"""The write-up's grouping: N faces each of with_A, without_A, with_B, without_B,
optionally within one gender. Works on any dataset with ``attributes [N,40]`` and
``images(indices)`` (SynthFaces and CelebA)."""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np
import torch
from torch import Tensor

from .celeba_names import attribute_index


class LabelledFaces(Protocol):
    attributes: Tensor

    def images(self, indices: np.ndarray) -> Tensor: ...


class FaceGroup(NamedTuple):
    images: Tensor       # [n, 3, H, W] in [-1, 1]
    indices: np.ndarray  # [n] rows of the dataset


def select_faces(dataset: LabelledFaces, n: int, seed: int = 0,
                 **conditions: bool) -> FaceGroup:
    """``n`` random faces (seeded) whose attributes equal ``conditions``,
    for example ``select_faces(ds, 8, Smiling=True, Male=False)``."""
    mask = torch.ones(len(dataset.attributes), dtype=torch.bool)
    for name, wanted in conditions.items():
        mask &= dataset.attributes[:, attribute_index(name)] == bool(wanted)
    candidates = mask.nonzero().flatten().numpy()
    if len(candidates) < n:
        wanted = ", ".join(f"{k}={v}" for k, v in conditions.items())
        raise ValueError(f"only {len(candidates)} faces have {wanted}, {n} asked for; "
                         "use a larger dataset or a smaller n")
    chosen = np.sort(np.random.default_rng(seed).choice(candidates, size=n, replace=False))
    return FaceGroup(dataset.images(chosen), chosen)


def _gender(gender: str | None) -> dict[str, bool]:
    if gender is None:
        return {}
    if gender not in ("Male", "Female"):
        raise ValueError(f"gender must be 'Male', 'Female' or None, got {gender!r}")
    return {"Male": gender == "Male"}


def attribute_groups(dataset: LabelledFaces, attr_a: str, attr_b: str, n: int = 8,
                     gender_a: str | None = None, gender_b: str | None = None,
                     seed: int = 0) -> dict[str, FaceGroup]:
    """The four groups ``with_A, without_A, with_B, without_B`` of ``n`` faces each;
    faces of A's groups have ``gender_a`` (if given), B's groups ``gender_b``."""
    groups = {}
    for key, attr, gender in (("A", attr_a, gender_a), ("B", attr_b, gender_b)):
        for has, prefix in ((True, "with"), (False, "without")):
            conditions = {**_gender(gender), attr: has}
            groups[f"{prefix}_{key}"] = select_faces(dataset, n, seed=seed, **conditions)
    return groups
