"""Glow (Kingma & Dhariwal 2018), after openai/glow: an exactly invertible flow.

One flow step: ActNorm (data-dependent initialisation) -> invertible 1x1 convolution in LU
form -> coupling (affine with a sigmoid scale, or additive; its last convolution starts at
zero, so each step starts as the identity). A level: squeeze, K steps, then split off half
the channels with a learned prior ``p(z2 | z1)``; the last level has a learned top prior.

Every module has ``forward(x) -> (y, logdet)`` and ``reverse(y) -> (x, logdet)`` side by
side (``logdet`` per image, ``[N]``; the two cancel). Images are ``[-1,1]``; the flow sees
``x / 2`` in ``[-0.5, 0.5]``. As a ``LatentModel``, ``encode`` returns the *raw* latents ``z``
of all levels (what each level splits off, and the top), flattened: exact, no resampling.
An edit moves ``z`` and the reverse pass never evaluates the learned priors ``p(z2 | z1)``,
whose scale extrapolates exponentially for an edited ``z1`` (on SynthFaces an edit of one
attribute vector took the finest prior's largest std from 3.8 to 24 and pixels to 8x the
range). Only sampling goes through the priors: ``sample_latent`` draws standard normal
``eps`` and turns it into ``z = mean + eps * std`` level by level (``latents_from_noise``).

The class-conditional Glow (the paper's section 5.2, openai/glow's ``ycond``): with
``GlowConfig.condition`` naming attributes ``y`` (multi-hot), the top level's prior is
``p(z_top | y) = N(mu(y), sigma(y)^2)``, ``(mu, log sigma)`` a learned linear map of ``y``
(here one mean and scale per top coordinate, not per channel), and a small head reads ``y``
back from the spatially pooled ``z_top`` (its cross-entropy joins the loss). An attribute's
edit is then the model's own: ``delta z_top = mu(y with it) - mu(y without it)``
(``prior_shift``), the same for every face.
"""

from __future__ import annotations


import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import model_device
from ..data.celeba_names import attribute_index
from .base import on_model_device


@dataclass
class GlowConfig:
    image_size: int = 32
    channels: int = 3
    levels: int = 3
    steps: int = 8              # flow steps per level
    hidden: int = 128           # coupling network width
    affine: bool = True         # False: additive coupling
    n_bits: int = 5             # colour depth the likelihood is measured at
    condition: tuple[str, ...] = ()   # attributes the top prior is conditioned on (empty: unconditional)

    def __post_init__(self) -> None:
        self.condition = tuple(self.condition)     # a manifest stores it as a list


def levels_to_top(image_size: int, top_size: int = 4) -> int:
    """Levels whose last squeeze leaves a ``top_size`` x ``top_size`` top (a 4x4 top: 3 levels
    at 32 px, 4 at 64 px; an 8x8 top: 3 at 64 px). The top level is where attribute vectors
    act most: a 4x4 top sees the whole face at the same coarse grid at either size, an 8x8
    one gives each top cell a smaller patch of the face (8x8 pixels at 64 px)."""
    for name, value in (("image_size", image_size), ("top_size", top_size)):
        if value < 4 or value & (value - 1):
            raise ValueError(f"Glow {name} must be a power of two >= 4, got {value}")
    if image_size < 2 * top_size:
        raise ValueError(f"Glow image_size {image_size} must be at least twice top_size {top_size}")
    return (image_size // top_size).bit_length() - 1


def _sum_per_image(x: Tensor) -> Tensor:
    return x.flatten(1).sum(1)


class ActNorm(nn.Module):
    """Per-channel affine ``y = (x + bias) * exp(logs)``; initialised from the first batch
    so outputs have zero mean and unit variance. ``initialized`` is a buffer: it is saved
    with the weights, so loading never re-initialises."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.logs = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(0, dtype=torch.uint8))

    @torch.no_grad()
    def _initialise(self, x: Tensor) -> None:
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        std = x.std(dim=(0, 2, 3), keepdim=True)
        self.bias.copy_(-mean)
        self.logs.copy_(-torch.log(std + 1e-6))
        self.initialized.fill_(1)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if self.training and not self.initialized:
            self._initialise(x)
        logdet = x.shape[2] * x.shape[3] * self.logs.sum()
        return (x + self.bias) * torch.exp(self.logs), logdet.expand(len(x))

    def reverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        logdet = -y.shape[2] * y.shape[3] * self.logs.sum()
        return y * torch.exp(-self.logs) - self.bias, logdet.expand(len(y))


class InvConv1x1(nn.Module):
    """Invertible 1x1 convolution, ``W = P L (U + diag(sign * exp(log_s)))``: the
    log-determinant is ``H * W * sum(log_s)``, cheap and exact."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(channels, channels))
        p, lower, upper = torch.linalg.lu(q)
        diagonal = torch.diagonal(upper)
        self.register_buffer("p", p)
        self.register_buffer("sign_s", torch.sign(diagonal))
        self.register_buffer("lower_mask", torch.tril(torch.ones(channels, channels), -1))
        self.register_buffer("eye", torch.eye(channels))
        self.lower = nn.Parameter(lower)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(torch.log(diagonal.abs()))

    def weight(self) -> Tensor:
        lower = self.lower * self.lower_mask + self.eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign_s * torch.exp(self.log_s))
        return self.p @ lower @ upper

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        logdet = x.shape[2] * x.shape[3] * self.log_s.sum()
        return F.conv2d(x, self.weight()[:, :, None, None]), logdet.expand(len(x))

    def reverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        logdet = -y.shape[2] * y.shape[3] * self.log_s.sum()
        return F.conv2d(y, torch.linalg.inv(self.weight())[:, :, None, None]), logdet.expand(len(y))


class ZeroConv2d(nn.Module):
    """3x3 convolution initialised to zero, output scaled by ``exp(3 * logs)`` (openai/glow)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.logs = nn.Parameter(torch.zeros(1, c_out, 1, 1))
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x) * torch.exp(3.0 * self.logs)


class Coupling(nn.Module):
    """The second half of the channels is shifted (and scaled) by a network of the first:
    affine ``y_b = (x_b + t) * sigmoid(s + 2)``, additive ``y_b = x_b + t``."""

    def __init__(self, channels: int, hidden: int, affine: bool) -> None:
        super().__init__()
        self.affine = affine
        half = channels // 2
        self.net = nn.Sequential(nn.Conv2d(half, hidden, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
                                 ZeroConv2d(hidden, (channels - half) * (2 if affine else 1)))

    def _shift_scale(self, x_a: Tensor) -> tuple[Tensor, Tensor | None]:
        h = self.net(x_a)
        if not self.affine:
            return h, None
        return h[:, 0::2], torch.sigmoid(h[:, 1::2] + 2.0)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x_a, x_b = x.chunk(2, dim=1)
        shift, scale = self._shift_scale(x_a)
        if scale is None:
            return torch.cat([x_a, x_b + shift], 1), x.new_zeros(len(x))
        return torch.cat([x_a, (x_b + shift) * scale], 1), _sum_per_image(torch.log(scale))

    def reverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        y_a, y_b = y.chunk(2, dim=1)
        shift, scale = self._shift_scale(y_a)
        if scale is None:
            return torch.cat([y_a, y_b - shift], 1), y.new_zeros(len(y))
        return torch.cat([y_a, y_b / scale - shift], 1), -_sum_per_image(torch.log(scale))


class FlowStep(nn.Module):
    def __init__(self, channels: int, hidden: int, affine: bool) -> None:
        super().__init__()
        self.layers = nn.ModuleList([ActNorm(channels), InvConv1x1(channels), Coupling(channels, hidden, affine)])

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        total = x.new_zeros(len(x))
        for layer in self.layers:
            x, logdet = layer(x)
            total = total + logdet
        return x, total

    def reverse(self, y: Tensor) -> tuple[Tensor, Tensor]:
        total = y.new_zeros(len(y))
        for layer in reversed(self.layers):
            y, logdet = layer.reverse(y)
            total = total + logdet
        return y, total


def squeeze(x: Tensor) -> Tensor:
    """``[N,C,H,W] -> [N,4C,H/2,W/2]``: each 2x2 patch becomes four channels."""
    n, c, h, w = x.shape
    return x.view(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, h // 2, w // 2)


def unsqueeze(x: Tensor) -> Tensor:
    """Inverse of ``squeeze``."""
    n, c, h, w = x.shape
    return x.view(n, c // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c // 4, 2 * h, 2 * w)


def gaussian_log_density(x: Tensor, mean: Tensor, logs: Tensor) -> Tensor:
    """``log N(x; mean, exp(logs)^2)`` summed per image."""
    return _sum_per_image(-0.5 * (math.log(2 * math.pi) + 2.0 * logs + (x - mean) ** 2 * torch.exp(-2.0 * logs)))


class ConditionalTop(nn.Module):
    """The class-conditional part of the top prior: ``y [N,A] -> (mean, log-scale)`` shifts,
    each ``[N,C,H,W]``, a linear map that starts at zero (so a Glow trained without it is
    unchanged when it is added), and the head that reads ``y`` back: pooled ``z_top [N,C]``
    -> logits ``[N,A]``."""

    def __init__(self, attributes: int, shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.shape = shape
        channels, height, width = shape
        self.prior = nn.Linear(attributes, 2 * channels * height * width)
        # openai/glow's linear_zeros: the output scaled by exp(3 * logs), so that a map that
        # starts at zero can grow to the size of the latents within a short run
        self.prior_logs = nn.Parameter(torch.zeros(2 * channels * height * width))
        self.classify = nn.Linear(channels, attributes)
        for layer in (self.prior, self.classify):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.register_buffer("fitted", torch.tensor(0, dtype=torch.uint8))   # saved: loading never refits

    def _rows(self) -> tuple[Tensor, Tensor]:
        """Which outputs of ``prior`` are the mean and which the log-scale of each top
        coordinate (``forward`` reads even channels as means, odd ones as log-scales)."""
        channels, height, width = self.shape
        area = height * width
        mean_rows = ((2 * torch.arange(channels))[:, None] * area + torch.arange(area)[None]).flatten()
        return mean_rows, mean_rows + area

    @torch.no_grad()
    def fit(self, z_top: Tensor, y: Tensor, mean: Tensor, logs: Tensor, ridge: float = 1e-3) -> None:
        """Data-dependent initialisation (as ActNorm's): set the map so that ``mean + shift(y)``
        is the least-squares fit of ``z_top [N,C,H,W]`` on ``y [N,A]`` (ridge ``ridge``), and
        ``logs + log-scale shift`` the log of the fit's residual spread; ``mean, logs
        [1,C,H,W]`` are the prior's constant part. Without it the map, starting at zero,
        grows by at most the learning rate a step and lags far behind the latents."""
        target = z_top.flatten(1).double()                                                            # [N, D]
        design = torch.cat([torch.ones(len(y), 1, dtype=target.dtype), y.to(target.dtype)], dim=1)    # [N, 1+A]
        gram = design.T @ design + ridge * len(y) * torch.eye(design.shape[1], dtype=target.dtype)
        solution = torch.linalg.solve(gram, design.T @ target)                                        # [1+A, D]
        spread = (target - design @ solution).std(0).clamp_min(1e-3)
        mean_rows, logs_rows = self._rows()
        weight, bias = torch.zeros_like(self.prior.weight), torch.zeros_like(self.prior.bias)
        weight[mean_rows] = solution[1:].T.to(weight.dtype)
        bias[mean_rows] = (solution[0] - mean.flatten().double()).to(bias.dtype)
        bias[logs_rows] = (torch.log(spread) - logs.flatten().double()).to(bias.dtype)
        self.prior.weight.copy_(weight)
        self.prior.bias.copy_(bias)
        self.prior_logs.zero_()
        self.fitted.fill_(1)

    def forward(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """``y [N,A]`` -> the shift of the top prior's (mean, log-scale), each ``[N,C,H,W]``."""
        h = (self.prior(y) * torch.exp(3.0 * self.prior_logs)).view(len(y), 2 * self.shape[0], *self.shape[1:])
        return h[:, 0::2], h[:, 1::2]

    def logits(self, z_top: Tensor) -> Tensor:
        """``z_top [N,C,H,W]`` -> attribute logits ``[N,A]`` (from its spatial mean)."""
        return self.classify(z_top.mean(dim=(2, 3)))


class Level(nn.Module):
    """squeeze -> K flow steps -> split (with a learned prior), or the learned top prior
    (conditioned on attributes ``y`` when ``config.condition`` names them)."""

    def __init__(self, channels: int, config: GlowConfig, last: bool, size: int = 0) -> None:
        super().__init__()
        self.last = last
        width = 4 * channels
        self.steps = nn.ModuleList([FlowStep(width, config.hidden, config.affine) for _ in range(config.steps)])
        # last: mean and log-scale for all `width` channels; split: for the `width // 2` split off
        self.prior = ZeroConv2d(width if last else width // 2, 2 * width if last else width)
        conditional = last and config.condition
        self.conditional = ConditionalTop(len(config.condition), (width, size // 2, size // 2)) if conditional else None

    def _prior(self, condition: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(mean, log-scale) of this level's ``z``: given ``condition`` (the kept half), or at
        the top a learned constant plus, for a conditional Glow, the shift for ``y [N,A]``."""
        h = self.prior(torch.zeros_like(condition) if self.last else condition)
        mean, logs = h[:, 0::2], h[:, 1::2]
        if self.conditional is not None and y is not None:
            mean_shift, logs_shift = self.conditional(y.to(mean.dtype))
            mean, logs = mean + mean_shift, logs + logs_shift
        return mean, logs

    def forward(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """-> (x passed on, z of this level, its eps = (z - mean) / std, log p(z | y), logdet)."""
        x = squeeze(x)
        logdet = x.new_zeros(len(x))
        for step in self.steps:
            x, step_logdet = step(x)
            logdet = logdet + step_logdet
        if self.last:
            z, kept = x, x
            mean, logs = self._prior(x, y)
        else:
            kept, z = x.chunk(2, dim=1)
            mean, logs = self._prior(kept)
        eps = (z - mean) * torch.exp(-logs)
        return kept, z, eps, gaussian_log_density(z, mean, logs), logdet

    def latent_from_noise(self, kept: Tensor | None, eps: Tensor, y: Tensor | None = None) -> Tensor:
        """This level's ``z = mean + eps * std`` under its prior given ``kept`` (None at the
        top, where ``y`` conditions it)."""
        mean, logs = self._prior(eps, y) if self.last else self._prior(kept)
        return mean + eps * torch.exp(logs)

    def reverse(self, kept: Tensor | None, z: Tensor) -> Tensor:
        """``kept`` (from the levels above; None at the top) and this level's ``z`` -> its input."""
        x = z if self.last else torch.cat([kept, z], dim=1)
        for step in reversed(self.steps):
            x, _ = step.reverse(x)
        return unsqueeze(x)


class Glow(nn.Module):
    """Multi-scale Glow as a ``LatentModel`` (``latent_dim = C * H * W``)."""

    def __init__(self, config: GlowConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or GlowConfig()
        self.image_size = config.image_size
        self.latent_dim = config.channels * config.image_size ** 2
        self.levels = nn.ModuleList()
        channels, size, self.shapes = config.channels, config.image_size, []
        for k in range(config.levels):
            last = k == config.levels - 1
            self.levels.append(Level(channels, config, last, size))
            channels, size = (4 * channels if last else 2 * channels), size // 2
            self.shapes.append((channels, size, size))
        # the conditional Glow's share of each attribute among its training faces: the ``y``
        # that sampling without attributes conditions on (the prior's mean is linear in y, so
        # this is the marginal mean of mu(y))
        if config.condition:
            self.register_buffer("attribute_share", torch.zeros(len(config.condition)))
            self.register_buffer("faces_seen", torch.zeros((), dtype=torch.float64))

    @property
    def conditional(self) -> ConditionalTop | None:
        """The conditional part of the top prior, None for an unconditional Glow."""
        return self.levels[-1].conditional

    def latents(self, x: Tensor, y: Tensor | None = None) -> tuple[list[Tensor], list[Tensor], Tensor]:
        """``x`` in [-0.5, 0.5] (and for a conditional Glow its attributes ``y [N,A]``, else
        ``attribute_share``) -> (z of every level, their eps, log p(x | y) per image in nats,
        for the continuous density, before dequantisation)."""
        y = self._attributes_or_share(y, len(x))
        z_all, eps_all, log_p = [], [], x.new_zeros(len(x))
        for level in self.levels:
            x, z, eps, level_log_p, logdet = level(x, y)
            z_all.append(z)
            eps_all.append(eps)
            log_p = log_p + level_log_p + logdet
        return z_all, eps_all, log_p

    def _attributes_or_share(self, y: Tensor | None, n: int) -> Tensor | None:
        """``y [n,A]`` as given, or the training share ``[n,A]`` when None (conditional Glow only)."""
        if self.conditional is None:
            return None
        if y is None:
            return self.attribute_share.expand(n, -1)
        if y.shape != (n, len(self.config.condition)):
            raise ValueError(f"a conditional Glow takes attributes [N, {len(self.config.condition)}] "
                             f"({', '.join(self.config.condition)}), got {tuple(y.shape)}")
        return y.to(self.attribute_share.dtype)

    def flow(self, x: Tensor, y: Tensor | None = None) -> tuple[list[Tensor], Tensor]:
        """``x`` in [-0.5, 0.5] -> (eps of every level, log p(x | y) per image in nats)."""
        _, eps, log_p = self.latents(x, y)
        return eps, log_p

    @torch.no_grad()
    def fit_conditional_prior(self, images: Tensor, y: Tensor, batch: int = 250, refit: bool = False) -> None:
        """Fit the conditional top prior to the top latents of ``images [N,3,H,W]`` (in [-1,1])
        with attributes ``y [N,A]`` (``ConditionalTop.fit``): before training, once (a Glow
        whose prior is already fitted, ``fitted``, is left as it is), and with ``refit`` after
        training, when the flow has moved its top latents further than gradient steps moved
        the map (the fit is the prior's maximum-likelihood mean and scale for the flow as it is)."""
        if self.conditional is None or (self.conditional.fitted and not refit):
            return
        generator = torch.Generator().manual_seed(0)       # the top latents of dequantised faces, as training sees them
        z_top = torch.cat([self._dequantised_latents(part, torch.rand(part.shape, generator=generator).to(part), None)[0][-1]
                           for part in images.split(batch)])
        zeros = torch.zeros(1, *self.shapes[-1], device=z_top.device)
        mean, logs = self.levels[-1]._prior(zeros)
        self.conditional.fit(z_top.cpu(), y.cpu(), mean.cpu(), logs.cpu())

    def attributes_of(self, labels: Tensor) -> Tensor:
        """``labels [N,40]`` (CelebA's columns, as every data set here gives them) -> ``y [N,A]``
        float: the columns this Glow's prior is conditioned on."""
        return labels[:, condition_columns(self.config.condition)].float()

    def prior_shift(self, attribute: str, with_it: Tensor | None = None, without_it: Tensor | None = None) -> Tensor:
        """``[latent_dim]``: the conditional prior's edit for ``attribute``,
        ``mu(y_+) - mu(y_-)`` on the top level's coordinates, zero elsewhere. By default
        ``y_+`` has only ``attribute`` and ``y_-`` nothing (the prior mean is linear in ``y``,
        so this is the same whatever the other attributes); ``with_it``, ``without_it``
        ``[A]``: another pair (``group_prior_shift``)."""
        if self.conditional is None:
            raise ValueError("an unconditional Glow has no prior shift; use an attribute vector of its codes")
        if attribute not in self.config.condition:
            raise ValueError(f"this Glow's prior is conditioned on {', '.join(self.config.condition)}, "
                             f"not {attribute!r}")
        like = {"device": model_device(self), "dtype": self.attribute_share.dtype}
        if with_it is None or without_it is None:
            pair = torch.zeros(2, len(self.config.condition), **like)
            pair[0, self.config.condition.index(attribute)] = 1.0
        else:
            pair = torch.stack([with_it, without_it]).to(**like)
        with torch.no_grad():
            mean, _ = self.conditional(pair)
        shift = torch.zeros(self.latent_dim, device=mean.device)
        shift[self.level_slices()[-1]] = (mean[0] - mean[1]).flatten()
        return shift

    def group_prior_shift(self, attribute: str, labels: Tensor) -> Tensor:
        """``[latent_dim]``: ``prior_shift`` between the mean attributes of the faces with and
        without ``attribute`` among ``labels [N,40]``, so that what comes with it in the data
        (a smile's raised cheeks, its open mouth) moves as well."""
        y, holds = self.attributes_of(labels), labels[:, attribute_index(attribute)].bool()
        return self.prior_shift(attribute, y[holds].mean(0), y[~holds].mean(0))

    def attribute_logits(self, codes: Tensor) -> Tensor:
        """``[N, latent_dim]`` codes -> ``[N, A]`` the conditional Glow's reading of its
        attributes from the top level (the auxiliary classifier)."""
        if self.conditional is None:
            raise ValueError("an unconditional Glow has no attribute head")
        return self.conditional.logits(self.split_latents(codes)[-1])

    @on_model_device
    def encode(self, x: Tensor) -> Tensor:
        """``[N,3,H,W]`` in [-1,1] -> ``[N, latent_dim]`` raw latents ``z`` (exact)."""
        z, _, _ = self.latents(x / 2.0)
        return torch.cat([level_z.flatten(1) for level_z in z], dim=1)

    @on_model_device
    def latents_from_noise(self, noise: Tensor, y: Tensor | None = None) -> Tensor:
        """``[N, latent_dim]`` standardised ``eps`` -> the raw latents ``z`` they stand for
        under the learned priors (top level first, each prior given the levels above; a
        conditional Glow's top given ``y [N,A]``, default the training share)."""
        z_all, x = [], None
        y = self._attributes_or_share(y, len(noise))
        top_first = list(zip(reversed(self.levels), reversed(self.split_latents(noise))))
        for k, (level, eps) in enumerate(top_first):
            z = level.latent_from_noise(x, eps, y)
            z_all.insert(0, z)
            if k < len(top_first) - 1:          # the finest level's output is the image, not needed here
                x = level.reverse(x, z)
        return torch.cat([level_z.flatten(1) for level_z in z_all], dim=1)

    def level_slices(self) -> list[slice]:
        """Where each level's latent sits in a flattened code ``[latent_dim]``, finest split first."""
        slices, start = [], 0
        for c, h, w in self.shapes:
            slices.append(slice(start, start + c * h * w))
            start += c * h * w
        return slices

    def split_latents(self, codes: Tensor) -> list[Tensor]:
        """``[N, latent_dim]`` -> each level's latent ``[N, C, H, W]``, finest split first."""
        return [codes[:, where].view(len(codes), *shape) for where, shape in zip(self.level_slices(), self.shapes)]

    def on_level(self, codes: Tensor, level: int) -> Tensor:
        """``codes [..., latent_dim]`` with every coordinate outside level ``level`` (0 = the
        finest split, ``len(shapes) - 1`` = the top) set to zero: the part of an edit vector
        that level carries; the parts of all levels sum to ``codes``."""
        where = self.level_slices()[level]
        part = torch.zeros_like(codes)
        part[..., where] = codes[..., where]
        return part

    def reverse(self, codes: Tensor) -> Tensor:
        """The reverse pass as computed: ``[N, latent_dim]`` -> ``[N,3,H,W]`` in the flow's own
        scale (``[-0.5, 0.5]`` for data). With additive coupling it has no division, so it
        stays finite for any finite code; affine coupling divides by its scale and can
        overflow for codes far from the data."""
        x = None
        for level, z in zip(reversed(self.levels), reversed(self.split_latents(codes))):
            x = level.reverse(x, z)
        return x

    @on_model_device
    def decode(self, codes: Tensor) -> Tensor:
        """``[N, latent_dim]`` -> ``[N,3,H,W]`` in [-1,1]. Codes far from the data can leave
        that range (or, with affine coupling, overflow); such pixels are clamped (NaN
        becomes 0), which never touches the exact reconstruction of an image."""
        return torch.nan_to_num(self.reverse(codes) * 2.0, nan=0.0).clamp(-1.0, 1.0)

    def sample_latent(self, n: int, seed: int | None = None, temperature: float = 1.0,
                      attributes: Tensor | None = None) -> Tensor:
        """``[n, latent_dim]`` raw latents of samples: standard normal ``eps`` times
        ``temperature``, through the learned priors (``latents_from_noise``; a conditional
        Glow given ``attributes [n,A]``, default the training share)."""
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        with torch.no_grad():
            return self.latents_from_noise(temperature * torch.randn(n, self.latent_dim, generator=generator),
                                           attributes)

    def bits_per_dim(self, x: Tensor, noise: Tensor | None = None, y: Tensor | None = None) -> Tensor:
        """The training objective per image: ``-log p(x | y)`` of ``n_bits``-quantised images
        under uniform dequantisation, in bits per dimension. ``x`` in [-1,1], ``[N,3,H,W]``;
        ``y [N,A]`` a conditional Glow's attributes (default the training share).

        ``x`` is quantised to ``2^n_bits`` levels in [-0.5, 0.5) and uniform noise of one
        bin is added; the discrete likelihood is ``p(x) * bin width^D``, so
        ``D * log(n_bins)`` is added once."""
        _, log_p = self._dequantised_latents(x, noise, y)
        return self._bits(log_p, x)

    def _dequantised_latents(self, x: Tensor, noise: Tensor | None, y: Tensor | None) -> tuple[list[Tensor], Tensor]:
        """Quantise ``x`` to ``n_bits``, add one bin of ``noise`` -> (z of every level, log p in nats)."""
        bins = 2 ** self.config.n_bits
        quantised = torch.floor((x + 1.0) / 2.0 * bins).clamp(0, bins - 1) / bins - 0.5
        noise = torch.rand_like(quantised) if noise is None else noise
        z, _, log_p = self.latents(quantised + noise / bins, y)
        return z, log_p

    def _bits(self, log_p: Tensor, x: Tensor) -> Tensor:
        """``log p`` (nats per image) of dequantised ``x`` -> bits per dimension of the discrete image."""
        dims = np.prod(x.shape[1:])
        return (-log_p + dims * math.log(2 ** self.config.n_bits)) / (dims * math.log(2.0))

    def forward(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """Training pass: (bits per dimension ``[N]``, the conditional Glow's attribute logits
        ``[N,A]`` read from ``z_top``, None when unconditional). Training a conditional Glow
        also keeps ``attribute_share``, the running mean of the ``y`` it saw."""
        z, log_p = self._dequantised_latents(x, None, y)
        if self.conditional is None:
            return self._bits(log_p, x), None
        if self.training and y is not None:
            with torch.no_grad():
                seen = self.faces_seen + len(y)
                self.attribute_share.copy_(self.attribute_share + (y.sum(0) - len(y) * self.attribute_share) / seen)
                self.faces_seen.copy_(seen)
        return self._bits(log_p, x), self.conditional.logits(z[-1])


def condition_columns(condition: tuple[str, ...]) -> list[int]:
    """The columns of CelebA's 40 attributes that a conditional Glow's ``condition`` names."""
    return [attribute_index(name) for name in condition]


def glow_loss(model: nn.Module, batch: tuple[Tensor, ...], step: int, condition: tuple[int, ...] = (),
              classifier_weight: float = 0.0) -> tuple[Tensor, dict[str, float]]:
    """``common.train`` loss: mean bits per dimension of ``x`` (given its attributes ``y``,
    the batch's columns ``condition``, for a conditional Glow), plus ``classifier_weight``
    times the attribute head's cross-entropy in bits per image, summed over the attributes
    (openai/glow's ``weight_y`` times its ``bits_y``)."""
    y = batch[1][:, list(condition)] if condition else None
    bpd, logits = model(batch[0], y)
    bpd = bpd.mean()
    if logits is None:
        return bpd, {"bits_per_dim": bpd.item()}
    cross_entropy = F.binary_cross_entropy_with_logits(logits, y.to(logits.dtype), reduction="sum") / (len(y) * math.log(2.0))
    return bpd + classifier_weight * cross_entropy, {"bits_per_dim": bpd.item(), "attribute_bits": cross_entropy.item()}


