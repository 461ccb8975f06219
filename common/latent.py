"""Directions in a latent space and how to move along them; the same for every model.

Latent codes are flat ``[N, D]``; a raw direction is a ``[D]`` tensor, an edit direction with
its unit a ``common.direction.Direction``. References:
DFC-VAE (Hou et al. 2017) and Glow (Kingma & Dhariwal 2018) for attribute vectors;
InterFaceGAN (Shen et al. 2020) for SVM boundaries and conditional manipulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .direction import Direction, coordinate, mean_difference, unit


class LookalikeIndex:
    """The faces with known labels that look-alikes are drawn from, prepared once: the global
    attribute vector's axis and, per group (with the attribute, without), the codes and
    their coordinates with that axis removed. ``vectors`` then costs one distance matrix
    and one product per group.

    Args:
        codes: ``[N, D]`` codes of faces with known labels; labels: ``[N]`` bool.
        k: look-alikes per group and face (fewer are more local and noisier).
    """

    def __init__(self, codes: Tensor, labels: Tensor, k: int) -> None:
        labels = labels.bool()
        smaller = min(int(labels.sum()), int((~labels).sum()))
        if not 0 < k <= smaller:
            raise ValueError(f"k={k} look-alikes per group cannot be drawn when the smaller group has {smaller} "
                             f"codes; use 0 < k <= {smaller}")
        self.k = k
        self.axis = mean_difference("axis", codes, labels).vector.to(codes.dtype)
        rest = self._without_axis(codes)
        self.groups = [(codes[members], rest[members]) for members in (labels, ~labels)]

    def _without_axis(self, codes: Tensor) -> Tensor:
        return codes - coordinate(codes, self.axis)[:, None] * self.axis

    def vectors(self, faces: Tensor, batch: int = 256) -> Tensor:
        """``[M, D]`` each face's mean of its ``k`` nearest with the attribute minus that of its
        ``k`` nearest without, for the codes ``faces [M, D]``; not normalised."""
        vectors = []
        for start in range(0, len(faces), batch):
            chunk = self._without_axis(faces[start:start + batch].to(self.axis))
            means = []
            for group_codes, group_rest in self.groups:
                nearest = torch.cdist(chunk, group_rest).topk(self.k, largest=False).indices     # [B, k]
                # the mean of each face's k nearest as one product: weight 1/k on each of them
                weights = torch.zeros(len(chunk), len(group_codes), dtype=group_codes.dtype,
                                      device=group_codes.device)
                weights.scatter_(1, nearest, 1.0 / self.k)
                means.append(weights @ group_codes)
            vectors.append(means[0] - means[1])
        return torch.cat(vectors)


def lookalike_vectors(codes: Tensor, labels: Tensor, faces: Tensor, k: int, batch: int = 256) -> Tensor:
    """Each face's own attribute vector: the mean of its ``k`` nearest look-alikes with the
    attribute minus the mean of its ``k`` nearest look-alikes without it.

    The write-up's vector averages faces whose mouths (or eyes) sit in different places, so
    added to one face it paints the average smile over the face's own mouth. Look-alikes are
    found once the coordinate along that global vector is removed from every code, so they
    match the face in everything but (most of) the attribute, and their difference moves
    this face's own mouth. Its length is the gap between the two groups of look-alikes.

    Args:
        codes: ``[N, D]`` codes of faces with known labels; labels: ``[N]`` bool.
        faces: ``[M, D]`` codes of the faces to edit.
        k: look-alikes per group and face (``LookalikeIndex``).
    Returns:
        ``[M, D]``, not normalised.
    """
    return LookalikeIndex(codes, labels, k).vectors(faces, batch)


class Lookalikes:
    """A face's own attribute vectors, for a slider panel's "each face's own vector"
    (``EditState.vectors_of``): ``code [D] -> {name: [D]}``, each by ``lookalike_vectors``
    from ``codes [N,D]`` and their ``labels {name: [N] bool}``, ``k`` look-alikes per group;
    the indexes are built once, so a new face costs only its own search."""

    def __init__(self, codes: Tensor, labels: dict[str, Tensor], k: int) -> None:
        self.indexes = {name: LookalikeIndex(codes, named, k) for name, named in labels.items()}

    def __call__(self, code: Tensor) -> dict[str, Tensor]:
        return {name: index.vectors(code.detach()[None])[0] for name, index in self.indexes.items()}


@dataclass
class Boundary:
    """A linear decision boundary ``n . z + b = 0`` with ``n`` of unit length."""

    normal: Tensor          # [D]
    offset: float           # b / ||w||
    val_accuracy: float     # on the held-out 30% of the extremes


def svm_boundary(codes: Tensor, scores: Tensor, ratio: float = 0.02, split: float = 0.7,
                 seed: int = 0) -> Boundary:
    """InterFaceGAN's ``train_boundary``: a linear SVM separating the top and bottom ``ratio``
    of codes by score, trained on ``split`` of them and validated on the rest.

    Args:
        codes: ``[N, D]`` latent codes.
        scores: ``[N]`` attribute scores (classifier logits or probabilities).
        ratio: share of samples taken from each end (0.02 keeps 2% positives, 2% negatives).
    Returns:
        The unit normal (pointing toward high scores), offset and validation accuracy.
    """
    from sklearn.svm import LinearSVC

    x = codes.detach().double().cpu().numpy()
    order = np.argsort(scores.detach().cpu().numpy())[::-1]
    count = int(len(order) * ratio)
    if count < 2:
        raise ValueError(f"ratio {ratio} of {len(order)} samples leaves {count} per side; use more samples")
    rng = np.random.default_rng(seed)
    positives, negatives = rng.permutation(order[:count]), rng.permutation(order[-count:])
    n_train = int(count * split)
    train = np.concatenate([positives[:n_train], negatives[:n_train]])
    valid = np.concatenate([positives[n_train:], negatives[n_train:]])
    target = lambda k: np.concatenate([np.ones(k), np.zeros(k)])  # noqa: E731
    svm = LinearSVC(C=1.0, dual="auto", max_iter=10_000).fit(x[train], target(n_train))
    accuracy = float((svm.predict(x[valid]) == target(len(valid) // 2)).mean()) if len(valid) else float("nan")
    w = torch.from_numpy(svm.coef_[0]).to(codes.dtype)
    return Boundary(unit(w), float(svm.intercept_[0] / np.linalg.norm(svm.coef_[0])), accuracy)


def boundary_sweep(code: Tensor, boundary: Boundary, distances: Tensor) -> Tensor:
    """InterFaceGAN's absolute sweep (``linear_interpolate``): ``code`` ``[D]`` moved along
    the boundary's normal so that its signed distance ``n . z + b`` takes each value of
    ``distances`` ``[K]`` in turn; returns ``[K, D]``. (InterFaceGAN measures ``n . z``
    alone; the offset makes 0 the boundary itself.)"""
    normal = boundary.normal.to(code.dtype)
    current = float(code @ normal) + boundary.offset
    return code[None] + (distances.to(code.dtype) - current)[:, None] * normal[None]


def condition(direction: Tensor, *others: Tensor) -> Tensor:
    """Project ``direction`` onto the orthogonal complement of ``others`` (any number),
    exactly (least squares, not Gram-Schmidt on unnormalised vectors), then normalise.

    Moving along the result leaves the coordinate along every other direction unchanged:
    InterFaceGAN's conditional manipulation.

    Args:
        direction: ``[D]``.
        others: each ``[D]``.
    Returns:
        ``[D]`` unit vector orthogonal to every one of ``others``.
    """
    if not others:
        return unit(direction)
    basis = torch.stack([o.to(direction.dtype) for o in others], dim=1)   # [D, K]
    coefficients = torch.linalg.lstsq(basis, direction[:, None]).solution  # [K, 1]
    residual = direction - (basis @ coefficients)[:, 0]
    if residual.norm() <= 1e-9 * direction.norm():
        raise ValueError("the direction lies in the span of the conditions; nothing is left to move")
    return unit(residual)


def traversal(code: Tensor, axis: int | Direction, values: Tensor) -> Tensor:
    """One code moved along a latent axis (an index: set that coordinate to each value) or
    a ``Direction`` (each value a strength, in its gaps). ``[D] -> [K, D]``."""
    if isinstance(axis, Direction):
        return axis.moved(code[None], values.to(code.dtype)[:, None])
    codes = code[None].repeat(len(values), 1)
    codes[:, axis] = values.to(code.dtype)
    return codes


def interpolate(z1: Tensor, z2: Tensor, steps: int = 8, mode: str = "lerp") -> Tensor:
    """Blend two codes: ``[D], [D] -> [steps, D]``, the ends equal to ``z1`` and ``z2``.

    ``lerp``: ``(1 - t) z1 + t z2`` (the write-up's recipe).
    ``slerp``: along the great circle, keeping the norm typical of Gaussian latents
    (Shoemake 1985; White 2016 for generative models).
    """
    t = torch.linspace(0.0, 1.0, steps, dtype=z1.dtype)[:, None]
    return blend(z1, z2, t, mode)


def blend(z1: Tensor, z2: Tensor, t: Tensor | float, mode: str = "lerp") -> Tensor:
    """One or more blends at ``t`` in [0, 1] (``[K, 1]`` or a float)."""
    t = torch.as_tensor(t, dtype=z1.dtype)
    if mode == "lerp":
        return (1 - t) * z1 + t * z2
    if mode != "slerp":
        raise ValueError(f"mode must be 'lerp' or 'slerp', got {mode!r}")
    cosine = torch.dot(unit(z1), unit(z2)).clamp(-1.0, 1.0)
    omega = torch.arccos(cosine)
    if omega < 1e-6:
        return (1 - t) * z1 + t * z2
    return (torch.sin((1 - t) * omega) * z1 + torch.sin(t * omega) * z2) / torch.sin(omega)


def sefa_directions(weight: Tensor, k: int = 10) -> Tensor:
    """SeFa (Shen & Zhou 2021), closed form: the top eigenvectors of ``A^T A`` for the first
    layer's weight ``A`` seen as a map from the latent, each output unit's weight vector
    (row of ``A``) normalised first.

    Args:
        weight: ``[out, latent, ...]`` (e.g. PGGAN's ``layer0.conv.weight [C, D, 4, 4]``).
    Returns:
        ``[k, D]`` unit directions, largest eigenvalue first.
    """
    a = weight.detach().cpu().double().movedim(1, -1).reshape(-1, weight.shape[1])  # [out * ..., D]
    a = a / a.norm(dim=1, keepdim=True)
    values, vectors = torch.linalg.eigh(a.T @ a)
    return vectors[:, values.argsort(descending=True)[:k]].T.float()


def pca_directions(activations: Tensor, codes: Tensor, k: int = 10, batch: int = 512) -> tuple[Tensor, Tensor]:
    """GANSpace (Harkonen et al. 2020) for a latent without a mapping network: incremental
    PCA of early-layer activations, then each principal axis regressed back to the latent.

    Args:
        activations: ``[N, F]`` flattened activations of ``N`` samples.
        codes: ``[N, D]`` the latents that produced them.
    Returns:
        (``[k, D]`` unit latent directions, ``[k]`` explained-variance ratios).
    """
    from sklearn.decomposition import IncrementalPCA

    pca = IncrementalPCA(n_components=k, batch_size=max(batch, k))
    x = activations.detach().cpu().double().numpy()
    coordinates = torch.from_numpy(pca.fit_transform(x))                       # [N, k]
    mapping = torch.linalg.lstsq(coordinates, codes.detach().cpu().double()).solution  # [k, D]
    directions = mapping / mapping.norm(dim=1, keepdim=True)
    return directions.float(), torch.from_numpy(pca.explained_variance_ratio_).float()
