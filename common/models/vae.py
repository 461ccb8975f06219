"""Convolutional VAE and beta-VAE for 64x64 faces (Kingma & Welling 2014; Higgins et al.
2017; Burgess et al. 2018).

Loss per image, averaged over the batch::

    reconstruction = sum over pixels of (x - x_hat)^2       (a per-image sum, not a mean)
    vanilla:  reconstruction + KL
    beta_h:   reconstruction + beta * KL                    (Higgins: beta = 4)
    beta_b:   reconstruction + gamma * |KL - C(step)|       (Burgess: gamma = 1000, C grows
                                                             linearly 0 -> c_max = 25 nats)

The squared error summed over the image is the Gaussian negative log-likelihood with
variance 1/2 (up to a constant), so the KL weight is the *effective* beta of the ELBO:
beta = 1 is the true ELBO, beta = 4 is Higgins' beta = 4. (A pixel-mean reconstruction,
as some popular code uses, silently divides the data term by 12,288 and makes every
published beta meaningless.)
"""

from __future__ import annotations


from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from ..config import model_device
from .base import on_model_device

KINDS = ("vanilla", "beta_h", "beta_b")
UPSAMPLING = ("transposed", "nearest")


@dataclass
class VAEConfig:
    kind: str = "vanilla"
    latent_dim: int = 128
    channels: tuple[int, ...] = (32, 64, 128, 256)
    image_size: int = 64
    beta: float = 4.0          # beta_h
    gamma: float = 1000.0      # beta_b
    c_max: float = 25.0        # beta_b, nats
    c_stop_step: int = 3000    # beta_b: C reaches c_max here
    upsample: str = "transposed"  # decoder: transposed convs, or nearest upsampling + conv

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"VAE kind must be one of {KINDS}, got {self.kind!r}")
        if self.upsample not in UPSAMPLING:
            raise ValueError(f"VAE upsample must be one of {UPSAMPLING}, got {self.upsample!r}")
        self.channels = tuple(self.channels)
        if not self.channels or self.image_size % 2 ** len(self.channels):
            raise ValueError(f"VAE channels {self.channels}: {self.image_size} px must halve {len(self.channels)} "
                             f"times to whole pixels; give at most {self.image_size.bit_length() - 1} widths")


def _down(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, 2, 1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))


def _up(c_in: int, c_out: int, upsample: str) -> nn.Sequential:
    """Doubles the resolution. A 3x3 transposed conv of stride 2 covers odd output pixels
    with more kernel taps than even ones, which a decoder can leave as a checkerboard when its
    loss does not see single pixels (a perceptual loss); nearest upsampling followed by a 3x3
    conv, as Hou et al.'s DFC-VAE decoder does, treats every pixel alike."""
    if upsample == "nearest":
        double = [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1)]
    else:
        double = [nn.ConvTranspose2d(c_in, c_out, 3, 2, 1, output_padding=1)]
    return nn.Sequential(*double, nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))


class VAE(nn.Module):
    """Encoder: stride-2 convs (BatchNorm, LeakyReLU) down to ``image_size / 2^L`` pixels,
    then linear heads for mu and log-variance ``[N, latent_dim]``. Decoder: the mirror,
    transposed convs (or nearest upsampling + conv, ``config.upsample``) up to the image,
    tanh output in [-1, 1]."""

    def __init__(self, config: VAEConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or VAEConfig()
        self.latent_dim, self.image_size = config.latent_dim, config.image_size
        ch = config.channels
        self.bottom = config.image_size // 2 ** len(ch)
        flat = ch[-1] * self.bottom ** 2
        self.encoder = nn.Sequential(*[_down(a, b) for a, b in zip((3, *ch[:-1]), ch)], nn.Flatten())
        self.to_mu = nn.Linear(flat, config.latent_dim)
        self.to_logvar = nn.Linear(flat, config.latent_dim)
        self.from_latent = nn.Linear(config.latent_dim, flat)
        rev = ch[::-1]
        self.decoder = nn.Sequential(*[_up(a, b, config.upsample) for a, b in zip(rev, (*rev[1:], rev[-1]))],
                                     nn.Conv2d(rev[-1], 3, 3, 1, 1), nn.Tanh())

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``[N,3,H,W]`` -> (mu, logvar), each ``[N,D]``."""
        h = self.encoder(x)
        return self.to_mu(h), self.to_logvar(h).clamp(-30.0, 20.0)

    @on_model_device
    def decode(self, z: Tensor) -> Tensor:
        """``[N,D]`` -> ``[N,3,H,W]`` in [-1,1]."""
        h = self.from_latent(z).view(len(z), self.config.channels[-1], self.bottom, self.bottom)
        return self.decoder(h)

    @on_model_device
    def encode(self, x: Tensor) -> Tensor:
        """Deterministic code: the posterior mean ``[N,D]``."""
        return self.posterior(x)[0]

    @on_model_device
    def encode_sample(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """A sampled code ``mu + sigma * eps`` (the write-up's variant), ``[N,D]``."""
        mu, logvar = self.posterior(x)
        eps = torch.randn(mu.shape, generator=generator).to(mu.device)   # a CPU generator, any device
        return mu + eps * torch.exp(0.5 * logvar)

    def sample_latent(self, n: int, seed: int | None = None) -> Tensor:
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        return torch.randn(n, self.latent_dim, generator=generator)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Training pass: (reconstruction ``[N,3,H,W]``, mu, logvar) with a reparameterised sample."""
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar


def kl_divergence(mu: Tensor, logvar: Tensor) -> Tensor:
    """``KL(N(mu, sigma^2) || N(0, I))`` per image, ``[N,D] -> [N]``."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def capacity(config: VAEConfig, step: int) -> float:
    """Burgess' target KL ``C`` at ``step`` (nats)."""
    return config.c_max * min(1.0, step / max(1, config.c_stop_step))


def vae_objective(config: VAEConfig, x: Tensor, reconstruction: Tensor, mu: Tensor, logvar: Tensor,
                  step: int) -> tuple[Tensor, dict[str, float]]:
    """The loss of ``config.kind`` (module docstring) and its parts, per image."""
    rec = (reconstruction.float() - x.float()).pow(2).flatten(1).sum(1).mean()
    kl = kl_divergence(mu.float(), logvar.float()).mean()
    if config.kind == "vanilla":
        regulariser = kl
    elif config.kind == "beta_h":
        regulariser = config.beta * kl
    else:
        regulariser = config.gamma * (kl - capacity(config, step)).abs()
    return rec + regulariser, {"reconstruction": rec.item(), "kl": kl.item()}


def vae_loss(model: nn.Module, batch: tuple[Tensor, ...], step: int) -> tuple[Tensor, dict[str, float]]:
    """Training loss for ``common.train.train`` (``model`` may be wrapped in DDP)."""
    x = batch[0]
    reconstruction, mu, logvar = model(x)
    config = getattr(model, "module", model).config
    return vae_objective(config, x, reconstruction, mu, logvar, step)


def config_dict(config: VAEConfig) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


@torch.no_grad()
def active_dimensions(model: VAE, images: Tensor, k: int) -> Tensor:
    """The ``k`` latent dimensions carrying the most information (largest mean KL over
    ``images``), ``[k]`` long, most active first. Unused dimensions have KL near 0."""
    mu, logvar = model.eval().posterior(images.to(model_device(model)))
    per_dim = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(0)
    return per_dim.argsort(descending=True)[:k].cpu()


@torch.no_grad()
def reconstruct(model: VAE, images: Tensor) -> Tensor:
    """``decode(mu)`` of ``[N,3,H,W]`` images, in eval mode (training mode restored), computed
    on the model's device (a GPU after training there) and returned on the CPU."""
    was_training = model.training
    model.eval()
    out = model.decode(model.encode(images.to(model_device(model))))
    model.train(was_training)
    return out.cpu()
