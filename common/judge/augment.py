"""What generative models do to faces, made on purpose, so the attribute classifier that
scores their edits reads what a face shows and is not fooled by a smear.

Two kinds: degradations (blur, down-sampling) and expression blends. A decoder trained on
pixel error draws, for a code that does not pin the expression down, the *mean* of the
faces the code allows: a mouth that is several mouths at once. ``blend_expressions``
renders exactly that, and labels it by the mean expression, so a mouthless blur reads as
the average face (not smiling), and half a smile as half a smile.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.synth_factors import attributes_from_factors
from ..data.synthfaces import blend_expressions

# The degradations held-out accuracy is also reported under (``evaluate_classifier``).
DEGRADATIONS = (("blur", 1.5), ("down", 4.0))
# Expressions mixed in one blended face (the face's own and ``BLEND_VARIANTS - 1`` others').
BLEND_VARIANTS = 5


def gaussian_blur(images: Tensor, sigma: Tensor) -> Tensor:
    """Blur each image by its own Gaussian: ``images [N,3,H,W]``, ``sigma [N]`` in pixels."""
    radius = int(3 * float(sigma.max()) + 0.5)
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-0.5 * (offsets[None] / sigma[:, None].clamp(min=1e-3)) ** 2)   # [N, K]
    kernel = kernel / kernel.sum(1, keepdim=True)
    n, c, h, w = images.shape
    flat = images.reshape(1, n * c, h, w)
    weights = kernel.repeat_interleave(c, 0)                                              # [N*C, K]
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="replicate"), weights[:, None, None, :], groups=n * c)
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="replicate"), weights[:, None, :, None], groups=n * c)
    return flat.reshape(n, c, h, w)


def degrade(images: Tensor, kind: str, amount: float) -> Tensor:
    """``"blur"`` (Gaussian of ``amount`` pixels) or ``"down"`` (down-sampled by
    ``amount``, then back up): ``[N,3,S,S]`` -> ``[N,3,S,S]``."""
    if kind == "blur":
        return gaussian_blur(images, torch.full((len(images),), amount, device=images.device))
    if kind == "down":
        size = images.shape[-1]
        small = F.interpolate(images, scale_factor=1 / amount, mode="area")
        return F.interpolate(small, size=(size, size), mode="bilinear", align_corners=False)
    raise ValueError(f"kind must be 'blur' or 'down', got {kind!r}")


def _uniform(n: int, generator: torch.Generator) -> Tensor:
    return torch.rand(n, generator=generator)


def degrade_randomly(images: Tensor, generator: torch.Generator, share: float = 0.5) -> Tensor:
    """Training augmentation: a random ``share`` of the batch ``[N,3,S,S]`` is blurred
    (sigma 0.5-2 px) or down-sampled by 2-4 and back, with a little noise, so the classifier
    reads the soft faces that decoders produce by what they show. The draws come from
    ``generator`` only, so a resumed run that seeds it by the step repeats them."""
    picked = (_uniform(len(images), generator) < share).to(images.device)
    if not picked.any():
        return images
    out = images.clone()
    chosen = out[picked]
    blurred = gaussian_blur(chosen, 0.5 + 1.5 * _uniform(len(chosen), generator).to(images.device))
    downsampled = degrade(chosen, "down", int(torch.randint(2, 5, (), generator=generator).item()))
    use_blur = (_uniform(len(chosen), generator) < 0.5).to(images.device)[:, None, None, None]
    chosen = torch.where(use_blur, blurred, downsampled)
    noise = torch.randn(chosen.shape, generator=generator).to(images.device)
    out[picked] = (chosen + 0.03 * noise).clamp(-1, 1)
    return out


def blend_with_batch(factors: Tensor, generator: torch.Generator,
                     variants: int = BLEND_VARIANTS) -> tuple[Tensor, Tensor]:
    """Each face's own expression and ``variants - 1`` others drawn from the batch, with
    flat-Dirichlet weights (some blends lean on one expression, some are an even smear).

    Args:
        factors: ``[N,F]`` SynthFaces factors (CPU).
    Returns:
        donors ``[N,variants,F]`` (donor 0 is the face itself) and weights ``[N,variants]``.
    """
    n = len(factors)
    others = torch.randint(0, n, (n, variants - 1), generator=generator)
    donors = torch.cat([factors[:, None], factors[others]], dim=1)
    weights = -torch.log(torch.rand(n, variants, generator=generator).clamp(min=1e-12))   # Exp(1) draws
    return donors, weights / weights.sum(1, keepdim=True)


def blend_expressions_randomly(images: Tensor, attributes: Tensor, factors: Tensor, generator: torch.Generator,
                               share: float = 0.25) -> tuple[Tensor, Tensor, Tensor]:
    """Training augmentation: a random ``share`` of a SynthFaces batch is replaced by
    expression blends (``blend_expressions``), with the attributes and factors of the
    mean expression they show.

    Args:
        images: ``[N,3,S,S]`` in [-1,1]; attributes: ``[N,40]`` 0/1; factors: ``[N,F]``.
    Returns:
        the three, with the picked rows replaced (the inputs are not changed).
    """
    picked = _uniform(len(images), generator) < share
    if not picked.any():
        return images, attributes, factors
    donors, weights = blend_with_batch(factors.cpu(), generator)
    blended, mean_factors = blend_expressions(factors.cpu()[picked], donors[picked], weights[picked],
                                              images.shape[-1])
    where = picked.to(images.device)
    images, attributes, factors = images.clone(), attributes.clone(), factors.clone()
    images[where] = blended.to(images.device, images.dtype)
    factors[where] = mean_factors.to(factors.device, factors.dtype)
    labels = torch.from_numpy(attributes_from_factors(mean_factors.numpy()))
    attributes[where] = labels.to(attributes.device, attributes.dtype)
    return images, attributes, factors

