"""PGGAN generator (Karras et al. 2018) in the exact layout of InterFaceGAN's PyTorch port,
so its published ``pggan_celebahq.pth`` (CelebA-HQ, 1024x1024, latent 512) loads unchanged
with ``strict=True``.

Per resolution 4, 8, ..., R there are two conv blocks (``layer{2i}``, ``layer{2i+1}``) and a
1x1 to-RGB block (``output{i}``). Every block: pixel norm of its input, nearest 2x
upsampling (first block of each resolution above 4), a bias-free conv, the weight-scale
``gain / sqrt(fan_in)`` (a computed constant, not stored) plus a learned bias, then
LeakyReLU(0.2) (linear for to-RGB). The first block turns the pixel-normed latent
``[N, D, 1, 1]`` into 4x4 with a 4x4 kernel and padding 3.

With ``mapping_layers > 0`` a StyleGAN-like mapping network (Karras et al. 2019) turns the
sampled ``z`` into an intermediate latent ``w`` first, and ``w`` is the space edits live in:
``sample_latent`` returns mapped codes, ``decode`` and ``forward`` draw from them and
``generate`` is the whole path from ``z`` that training uses. Without it (InterFaceGAN's
layout) ``w = z``.

``lod`` (a stored buffer) is the level of detail: 0 renders at full resolution; an integer
``k`` stops ``k`` resolutions early and upsamples that image by nearest neighbour (as
InterFaceGAN does); a fraction fades between the two neighbouring levels, as PGGAN's
progressive training does. Output is unclamped (about [-1, 1]); ``decode`` clamps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import on_model_device
from .inversion import Features, LatentEncoder, invert


MAPPING_LR_MULTIPLIER = 0.01     # StyleGAN's: the mapping network learns 100x slower than the generator


@dataclass
class PGGANConfig:
    latent_dim: int = 512
    resolution: int = 1024
    channels: tuple[int, ...] | None = None  # per resolution 4..R; default min(16384 // res, 512)
    mapping_layers: int = 0                  # dense layers z -> w in front of the generator; 0: none
    mapping_lr: float = MAPPING_LR_MULTIPLIER   # the mapping network's learning-rate multiplier

    def __post_init__(self) -> None:
        levels = int(math.log2(self.resolution)) - 1
        if 2 ** (levels + 1) != self.resolution or levels < 1:
            raise ValueError(f"resolution must be a power of two >= 4, got {self.resolution}")
        if self.channels is None:
            self.channels = tuple(min(16384 // 2 ** (k + 2), 512) for k in range(levels))
        self.channels = tuple(self.channels)
        if len(self.channels) != levels:
            raise ValueError(f"{levels} channel counts needed for resolutions 4..{self.resolution}, "
                             f"got {len(self.channels)}")


def pixel_norm(x: Tensor, eps: float = 1e-8) -> Tensor:
    """Normalise each pixel's feature vector to unit root-mean-square: ``[N,C,H,W]``."""
    return x / torch.sqrt(x.pow(2).mean(dim=1, keepdim=True) + eps)


class WScale(nn.Module):
    """Equalised learning rate: multiply by ``gain / sqrt(fan_in)`` and add the bias."""

    def __init__(self, fan_in: int, channels: int, gain: float) -> None:
        super().__init__()
        self.scale = gain / math.sqrt(fan_in)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale + self.bias.view(1, -1, 1, 1)


class ConvBlock(nn.Module):
    """pixel norm -> [2x nearest upsample] -> conv (no bias) -> WScale -> [LeakyReLU 0.2]."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 3, padding: int = 1, upsample: bool = False,
                 gain: float = math.sqrt(2.0), linear: bool = False) -> None:
        super().__init__()
        self.upsample, self.linear = upsample, linear
        self.conv = nn.Conv2d(c_in, c_out, kernel, 1, padding, bias=False)
        self.wscale = WScale(c_in * kernel * kernel, c_out, gain)
        nn.init.normal_(self.conv.weight)

    def forward(self, x: Tensor) -> Tensor:
        x = pixel_norm(x)
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = self.wscale(self.conv(x))
        return x if self.linear else F.leaky_relu(x, 0.2)


class EqualizedLinear(nn.Module):
    """Dense layer with N(0, 1/m) weights scaled at run time by ``m * gain / sqrt(fan_in)``
    (equalised learning rate with StyleGAN's learning-rate multiplier ``m``): ``[N,I] -> [N,O]``."""

    def __init__(self, features_in: int, features_out: int, multiplier: float, gain: float = math.sqrt(2.0)) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features_out, features_in) / multiplier)
        self.bias = nn.Parameter(torch.zeros(features_out))
        self.scale, self.multiplier = multiplier * gain / math.sqrt(features_in), multiplier

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.multiplier)


class MappingNetwork(nn.Module):
    """``z [N,D] -> w [N,D]``: pixel norm of ``z``, then ``layers`` equalised dense layers,
    each followed by LeakyReLU(0.2) (StyleGAN's mapping network, narrower), learning at
    ``lr_multiplier`` times the generator's rate (StyleGAN's ``MAPPING_LR_MULTIPLIER``)."""

    def __init__(self, dim: int, layers: int, lr_multiplier: float) -> None:
        super().__init__()
        self.layers = nn.ModuleList(EqualizedLinear(dim, dim, lr_multiplier) for _ in range(layers))

    def forward(self, z: Tensor) -> Tensor:
        w = pixel_norm(z[:, :, None, None]).flatten(1)
        for layer in self.layers:
            w = F.leaky_relu(layer(w), 0.2)
        return w


@dataclass(frozen=True)
class EncoderInversion:
    """How a generator with an encoder inverts a face: the encoder's answer, refined by
    ``steps`` Adam steps at ``lr`` on the pixel error plus ``feature_weight`` times the
    distance of ``features``' maps (``common.models.inversion.invert``)."""

    encoder: LatentEncoder
    features: Features | None
    steps: int = 100
    lr: float = 0.01
    feature_weight: float = 1.0


class PGGANGenerator(nn.Module):
    """``[N, latent_dim]`` -> ``[N, 3, R, R]``; a ``LatentModel`` over ``w`` (``z`` itself
    without a mapping network) whose ``encode`` inverts by optimisation
    (``common.models.inversion``), from an encoder's answer once ``use_encoder`` gave one."""

    def __init__(self, config: PGGANConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or PGGANConfig()
        self.latent_dim, self.image_size = config.latent_dim, config.resolution
        self.levels = len(config.channels)
        self.register_buffer("lod", torch.zeros(()))
        if config.mapping_layers:
            self.mapping = MappingNetwork(config.latent_dim, config.mapping_layers, config.mapping_lr)
        previous = config.latent_dim
        for i, c in enumerate(config.channels):
            first = ConvBlock(previous, c, kernel=4, padding=3) if i == 0 else ConvBlock(previous, c, upsample=True)
            self.add_module(f"layer{2 * i}", first)
            self.add_module(f"layer{2 * i + 1}", ConvBlock(c, c))
            self.add_module(f"output{i}", ConvBlock(c, 3, kernel=1, padding=0, gain=1.0, linear=True))
            previous = c

    def block(self, name: str) -> ConvBlock:
        return self.get_submodule(name)

    def map(self, z: Tensor) -> Tensor:
        """``z [N,D]`` -> ``w [N,D]`` through the mapping network (``z`` itself without one)."""
        return self.mapping(z) if self.config.mapping_layers else z

    def generate(self, z: Tensor, lod: float | None = None) -> Tensor:
        """``z [N,D]`` -> ``[N,3,R,R]`` unclamped: the path training takes, mapping included."""
        return self(self.map(z), lod)

    def forward(self, w: Tensor, lod: float | None = None) -> Tensor:
        """Render codes ``w [N,D]`` at level of detail ``lod`` (default: the stored buffer),
        upsampled to the full resolution ``[N, 3, R, R]``."""
        out = self.render(w, lod)
        return F.interpolate(out, size=self.image_size, mode="nearest") if out.shape[-1] != self.image_size else out

    @on_model_device
    def render(self, w: Tensor, lod: float | None = None) -> Tensor:
        """Render at level of detail ``lod`` at that level's own resolution: ``R / 2^ceil(lod)``
        pixels (``lod`` 0 is full resolution), without the layers above it."""
        if w.dim() != 2 or w.shape[1] != self.latent_dim:
            raise ValueError(f"latent codes must be [N, {self.latent_dim}], got {list(w.shape)}")
        lod = float(self.lod) if lod is None else float(lod)
        if not 0.0 <= lod <= self.levels - 1:
            raise ValueError(f"lod must be in [0, {self.levels - 1}], got {lod}")
        top = self.levels - 1 - math.floor(lod)        # highest level computed
        fade = lod - math.floor(lod)                    # weight of the level below it
        x = w.view(len(w), self.latent_dim, 1, 1)
        image = None
        for i in range(top + 1):
            x = self.block(f"layer{2 * i + 1}")(self.block(f"layer{2 * i}")(x))
            if i == top - 1 and fade > 0:
                image = F.interpolate(self.block(f"output{i}")(x), scale_factor=2, mode="nearest")
        out = self.block(f"output{top}")(x)
        if image is not None:
            out = out + fade * (image - out)
        return out

    @on_model_device
    def preview(self, w: Tensor, size: int) -> Tensor:
        """``[N, D]`` -> ``[N, 3, S, S]`` in [-1, 1]: the lowest level of detail whose resolution
        ``S`` is at least ``size`` (the full image when none is smaller), for dragging speed."""
        lod = max(0, min(self.levels - 1, int(math.log2(self.image_size / max(size, 4)))))
        return self.render(w, float(lod)).clamp(-1.0, 1.0)

    @on_model_device
    def activations(self, w: Tensor, layer: int = 1) -> Tensor:
        """Output of block ``layer{layer}`` for codes ``w [N, D]``, flattened to ``[N, F]``
        (GANSpace's early-layer features; ``layer=1`` is the 4x4 stage)."""
        x = w.view(len(w), self.latent_dim, 1, 1)
        for k in range(layer + 1):
            x = self.block(f"layer{k}")(x)
        return x.flatten(1)

    def use_encoder(self, inversion: EncoderInversion | None) -> None:
        """From now on ``encode`` starts from ``inversion``'s encoder and refines (None: back
        to optimisation from random samples). Not part of the generator's weights."""
        self.__dict__["_inversion"] = inversion       # a plain attribute: no submodule, no state_dict entry

    @property
    def inversion(self) -> EncoderInversion | None:
        """How ``encode`` starts (``use_encoder``); None: from the best random sample."""
        return self.__dict__.get("_inversion")

    @on_model_device
    def encode(self, x: Tensor, steps: int | None = None) -> Tensor:
        """``[N,3,R,R]`` -> ``[N,D]``: the encoder's answer refined (``use_encoder``), or
        ``steps`` (default 200) of optimisation from the best random sample
        (``common.models.inversion.invert``)."""
        inversion = self.inversion
        if inversion is None:
            return invert(self, x, steps=steps or 200)[0]
        start = inversion.encoder.to(x.device).encode(x)
        return invert(self, x, steps=inversion.steps if steps is None else steps, lr=inversion.lr, start=start,
                      features=inversion.features, feature_weight=inversion.feature_weight)[0]

    @on_model_device
    def decode(self, w: Tensor) -> Tensor:
        """Codes ``w [N,D]`` -> ``[N,3,R,R]`` clamped to [-1,1], without gradients (the
        forward pass, ``self(w)``, is the differentiable one)."""
        with torch.no_grad():
            return self(w).clamp(-1.0, 1.0)

    @torch.no_grad()
    def sample_latent(self, n: int, seed: int | None = None) -> Tensor:
        """``[n, D]`` codes of the edit space: ``w = map(z)`` of seeded Gaussian ``z`` (on the CPU)."""
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        z = torch.randn(n, self.latent_dim, generator=generator)
        if not self.config.mapping_layers:
            return z
        return self.map(z.to(next(self.parameters()).device)).cpu()


# The generator trained on SynthFaces and shipped in weights/ (python -m common.train pggan).
SYNTH_PGGAN = PGGANConfig(latent_dim=128, resolution=64, channels=(128, 128, 64, 32, 16))


