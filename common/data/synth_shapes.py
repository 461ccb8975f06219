"""Signed-distance primitives and anti-aliased painting for the SynthFaces renderer.

All tensors broadcast: coordinates are ``[N, 1, S, S]``, shape parameters ``[N, 1, 1, 1]``.
A signed distance is negative inside a shape; ``coverage`` turns it into an anti-aliased
alpha by integrating a one-pixel box filter across the edge.
"""

from __future__ import annotations

import torch
from torch import Tensor


def coverage(sdf: Tensor, pixel: float | Tensor) -> Tensor:
    """Alpha in [0, 1]: 1 well inside, 0 well outside, linear across one pixel."""
    return (0.5 - sdf / pixel).clamp_(0.0, 1.0)


def ellipse(x: Tensor, y: Tensor, rx: Tensor | float, ry: Tensor | float) -> Tensor:
    """Approximate signed distance to an axis-aligned ellipse centred at the origin."""
    r = torch.sqrt((x / rx) ** 2 + (y / ry) ** 2)
    return (r - 1.0) * torch.minimum(torch.as_tensor(rx), torch.as_tensor(ry))


def capsule(x: Tensor, y: Tensor, ax: Tensor | float, ay: Tensor | float,
            bx: Tensor | float, by: Tensor | float, radius: Tensor | float) -> Tensor:
    """Exact signed distance to a segment a-b thickened by ``radius``."""
    px, py = x - ax, y - ay
    dx, dy = bx - ax, by - ay
    t = ((px * dx + py * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0)
    return torch.sqrt((px - t * dx) ** 2 + (py - t * dy) ** 2) - radius


def rounded_box(x: Tensor, y: Tensor, hx: Tensor | float, hy: Tensor | float,
                radius: float) -> Tensor:
    """Exact signed distance to a box of half-sizes (hx, hy) with rounded corners."""
    qx = x.abs() - (hx - radius)
    qy = y.abs() - (hy - radius)
    outside = torch.sqrt(qx.clamp(min=0) ** 2 + qy.clamp(min=0) ** 2)
    return outside + torch.maximum(qx, qy).clamp(max=0) - radius


def paint(canvas: Tensor, alpha: Tensor, colour: Tensor) -> None:
    """Composite ``colour`` over ``canvas`` in place.

    Args:
        canvas: ``[N, 3, S, S]`` in [0, 1].
        alpha: ``[N, 1, S, S]`` in [0, 1].
        colour: ``[N, 3, 1, 1]`` or ``[N, 3, S, S]``.
    """
    canvas.add_(alpha * (colour - canvas))


def hsv_to_rgb(h: Tensor, s: Tensor | float, v: Tensor | float) -> Tensor:
    """``[N]`` hue, saturation, value in [0, 1] -> ``[N, 3]`` RGB in [0, 1]."""
    h = h[:, None]
    k = (torch.tensor([5.0, 3.0, 1.0]) + h * 6.0) % 6.0
    s = torch.as_tensor(s, dtype=torch.float32).reshape(-1, 1)
    v = torch.as_tensor(v, dtype=torch.float32).reshape(-1, 1)
    return v - v * s * torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0)
