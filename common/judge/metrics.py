"""Disentanglement scores of latent codes against SynthFaces' known factors.

- MIG, the mutual information gap (Chen et al. 2018): for each factor, the gap between the
  two code dimensions most informative about it, divided by the factor's entropy; averaged.
- DCI (Eastwood & Williams 2018): from an importance matrix ``R [D, K]`` (absolute Lasso
  weights of per-factor regressions on standardised codes), *disentanglement* (does each
  code dimension explain one factor?), *completeness* (is each factor explained by one
  dimension?) and *informativeness* (held-out R^2 of the regressions).

Codes are ``[N, D]`` arrays, factors ``[N, K]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.linear_model import Lasso
from sklearn.metrics import mutual_info_score
from torch import Tensor

from ..config import model_device
from ..data.synth_factors import FACTOR_INDEX
from ..direction import Direction
from ..models.vae import VAE, kl_divergence

# Factors scored by default: the continuous ones a face model should disentangle.
DISENTANGLEMENT_FACTORS = ("smile", "mouth_open", "eye_open", "brow_raise", "yaw", "roll", "face_width",
                           "jaw", "skin_tone", "age", "bg_hue", "bg_value", "light")


def factor_columns(factors: np.ndarray, names: tuple[str, ...] = DISENTANGLEMENT_FACTORS) -> np.ndarray:
    """The ``names`` columns of a SynthFaces factor array, ``[N, len(names)]``."""
    return factors[:, [FACTOR_INDEX[n] for n in names]]


def _discretise(values: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width histogram bins of each column, ``[N, K] -> [N, K]`` int."""
    out = np.zeros(values.shape, dtype=np.int64)
    for k in range(values.shape[1]):
        edges = np.histogram_bin_edges(values[:, k], bins=bins)
        out[:, k] = np.digitize(values[:, k], edges[1:-1])
    return out


def mutual_information_gap(codes: np.ndarray, factors: np.ndarray, bins: int = 20) -> float:
    """MIG in [0, 1]: 1 when every factor lives in one code dimension alone."""
    c, f = _discretise(codes, bins), _discretise(factors, bins)
    gaps = []
    for k in range(f.shape[1]):
        entropy = mutual_info_score(f[:, k], f[:, k])
        if entropy == 0:
            continue
        information = np.sort([mutual_info_score(c[:, d], f[:, k]) for d in range(c.shape[1])])[::-1]
        gaps.append((information[0] - information[1]) / entropy)
    return float(np.mean(gaps))


@dataclass
class DCI:
    disentanglement: float
    completeness: float
    informativeness: float
    importance: np.ndarray  # [D, K]


def _entropy_one_minus(p: np.ndarray, base: int) -> np.ndarray:
    """``1 - H(p) / log(base)`` for each row of a probability matrix."""
    p = np.clip(p, 1e-12, 1.0)
    return 1.0 - (-(p * np.log(p)).sum(axis=1) / np.log(base))


def dci(codes: np.ndarray, factors: np.ndarray, train_share: float = 0.8, alpha: float = 0.01,
        seed: int = 0) -> DCI:
    """Disentanglement, completeness and informativeness of ``codes`` for ``factors``."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(codes))
    split = int(len(codes) * train_share)
    train, test = order[:split], order[split:]
    x = (codes - codes[train].mean(0)) / (codes[train].std(0) + 1e-8)
    y = (factors - factors[train].mean(0)) / (factors[train].std(0) + 1e-8)
    importance = np.zeros((codes.shape[1], factors.shape[1]))
    scores = []
    for k in range(factors.shape[1]):
        model = Lasso(alpha=alpha, max_iter=5000).fit(x[train], y[train, k])
        importance[:, k] = np.abs(model.coef_)
        scores.append(model.score(x[test], y[test, k]))
    total = importance.sum()
    if total == 0:
        return DCI(0.0, 0.0, float(np.mean(scores)), importance)
    per_code = importance / np.maximum(importance.sum(axis=1, keepdims=True), 1e-12)
    weights = importance.sum(axis=1) / total
    disentanglement = float((weights * _entropy_one_minus(per_code, factors.shape[1])).sum())
    per_factor = (importance / np.maximum(importance.sum(axis=0, keepdims=True), 1e-12)).T
    completeness = float(_entropy_one_minus(per_factor, codes.shape[1]).mean())
    return DCI(disentanglement, completeness, float(np.mean(scores)), importance)


@dataclass
class EditScore:
    """How adding a vector changes a classifier's reading of faces.

    ``success[s]``: share of faces read as having ``attribute`` after strength ``s``.
    ``leakage[s]``: mean absolute change of the *other* attributes' probabilities.
    ``watched[name][s]``: share read as having each watched attribute.
    """

    strengths: list[float]
    success: list[float]
    leakage: list[float]
    watched: dict[str, list[float]]


def success(holds: torch.Tensor) -> float:
    """An edit's success: the share of edited faces ``holds [N] bool`` where it now holds
    (read by the classifier). The one definition ``edit_score`` and the scoreboard use."""
    return float(holds.float().mean())


def attribute_leakage(before: torch.Tensor, after: torch.Tensor, columns: list[int]) -> float:
    """An edit's leakage: the mean absolute change of the attribute probabilities
    ``[N, A]`` in ``columns`` (the attributes the edit should leave alone). The one
    definition ``edit_score`` and the scoreboard use."""
    return float((after[:, columns] - before[:, columns]).abs().mean())


@torch.no_grad()
def edit_score(model, classifier, codes: torch.Tensor, direction: Direction, attribute: str,
               strengths: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0), watch: tuple[str, ...] = ()) -> EditScore:
    """Decode ``codes [N,D]`` moved by ``f`` gaps along ``direction`` (for a mean difference
    ``v``, the write-up's ``z + f v``) for each strength ``f``, read the faces with the
    classifier, and score success, leakage and watched attributes."""
    column = classifier.attribute(attribute)
    others = [k for k in range(len(classifier.attributes)) if k != column]
    before = classifier.read(model.decode(codes)).probabilities
    score = EditScore(list(strengths), [], [], {name: [] for name in watch})
    for strength in strengths:
        after = classifier.read(model.decode(direction.moved(codes, strength))).probabilities
        score.success.append(success(after[:, column] > 0.5))
        score.leakage.append(attribute_leakage(before, after, others))
        for name in watch:
            score.watched[name].append(success(after[:, classifier.attribute(name)] > 0.5))
    return score


def edit_table(model, classifier, targets: dict[str, torch.Tensor],
               variants: dict[str, Sequence[Direction]], strengths: tuple[float, ...] = (1.0,)) -> list[dict]:
    """One row per (variant, direction): each ``Direction`` of ``variants[variant]``, named
    by its attribute, applied to ``targets[attribute]`` (``[N,D]`` codes of faces without
    it) at each strength ``f`` (in gaps). Row keys: variant, attribute, before (share read
    as having it unedited), then per strength ``success f=..`` (share read as having it)
    and ``leakage f=..``."""
    rows = []
    for variant, directions in variants.items():
        for direction in directions:
            attribute = direction.name
            score = edit_score(model, classifier, targets[attribute], direction, attribute, strengths=(0.0, *strengths))
            row = {"variant": variant, "attribute": attribute, "before": score.success[0]}
            for f, success, leakage in zip(strengths, score.success[1:], score.leakage[1:]):
                row[f"success f={f:g}"], row[f"leakage f={f:g}"] = success, leakage
            rows.append(row)
    return rows


def high_frequency_energy(images: torch.Tensor) -> torch.Tensor:
    """Mean squared response to a 3x3 Laplacian, per image: ``[N,3,H,W] -> [N]``.
    Blur lowers it; comparing reconstructions with their originals measures sharpness."""
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).repeat(3, 1, 1, 1)
    response = torch.nn.functional.conv2d(images.float(), kernel, groups=3)
    return response.pow(2).flatten(1).mean(1)


def checkerboard_share(images: torch.Tensor) -> torch.Tensor:
    """Share of each image's power (mean removed per channel) on the Nyquist row and column
    of its spectrum: patterns of period 2 pixels along either axis, such as the checkerboard
    a stride-2 transposed-conv decoder leaves, ``[N,3,H,W] -> [N]``. SynthFaces' faces put
    about 0.1% of their power there."""
    x = images.float() - images.float().mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs().pow(2)
    height, width = x.shape[-2:]
    nyquist_row = (torch.fft.fftfreq(height).abs() * height == height / 2)[:, None]
    nyquist_column = (torch.fft.fftfreq(width).abs() * width == width / 2)[None, :]
    band = nyquist_row | nyquist_column
    return (power * band).flatten(1).sum(1) / power.flatten(1).sum(1).clamp_min(1e-12)


@torch.no_grad()
def attribute_agreement(classifier, originals: torch.Tensor, reconstructions: torch.Tensor) -> float:
    """Share of (face, attribute) pairs the classifier reads the same on the original and
    on its reconstruction: how well a model keeps attributes."""
    before = classifier.read(originals).probabilities > 0.5
    after = classifier.read(reconstructions).probabilities > 0.5
    return float((before == after).float().mean())


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets ``[N, F]``, ``[M, F]``:
    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` (the FID formula)."""
    from scipy.linalg import sqrtm
    from threadpoolctl import threadpool_limits


    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with threadpool_limits(limits=1, user_api="blas"):  # idle BLAS threads would spin against torch's
        root = sqrtm(cov_a @ cov_b)
    root = root.real if np.iscomplexobj(root) else root
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2.0 * root))


def classifier_frechet(classifier, images_a: torch.Tensor, images_b: torch.Tensor, batch: int = 256) -> float:
    """Frechet distance in the attribute classifier's embedding space (our offline FID)."""
    return frechet_distance(classifier.read(images_a, batch).features.double().numpy(),
                            classifier.read(images_b, batch).features.double().numpy())


def factor_direction(codes: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """The ground-truth latent direction of a factor: the least-squares slope of every code
    coordinate on the factor, ``cov(z, f) / var(f)``; ``[N, D], [N] -> [D]``. An attribute
    vector that points along it edits that factor."""
    f = factor.to(codes.dtype) - factor.to(codes.dtype).mean()
    return ((codes - codes.mean(0)) * f[:, None]).sum(0) / (f * f).sum()


@torch.no_grad()
def evaluate_vae(model: VAE, images: Tensor, factors: Tensor | None = None) -> dict[str, float]:
    """Held-out metrics: reconstruction error of ``decode(mu)`` (per-image sum and per-pixel
    mean of squared error, images in [-1,1]), KL per image, and with SynthFaces factors
    ``[N,F]`` the MIG and DCI disentanglement of the codes."""
    model.eval()
    device = model_device(model)
    mus, logvars, errors = [], [], []
    for start in range(0, len(images), 256):
        x = images[start:start + 256].to(device)
        mu, logvar = model.posterior(x)
        errors.append((model.decode(mu) - x).pow(2).flatten(1).sum(1).cpu())
        mus.append(mu.cpu())
        logvars.append(logvar.cpu())
    mu, logvar, error = torch.cat(mus), torch.cat(logvars), torch.cat(errors)
    metrics = {"reconstruction_sse": float(error.mean()), "pixel_mse": float(error.mean() / images[0].numel()),
               "kl": float(kl_divergence(mu, logvar).mean())}
    if factors is not None:
        truth = factor_columns(factors.numpy())
        metrics["mig"] = mutual_information_gap(mu.numpy(), truth)
        metrics["dci_disentanglement"] = dci(mu.numpy(), truth).disentanglement
    return metrics
