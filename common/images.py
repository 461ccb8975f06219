"""The one place where images change representation.

Inside the code images are float32 NCHW RGB in [-1, 1]; uint8 HWC exists only at the
edges (files, PNG bytes, widgets, matplotlib).
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image
from torch import Tensor


def to_uint8(images: Tensor) -> np.ndarray:
    """``[N,3,H,W]`` or ``[3,H,W]`` in [-1,1] -> ``[N,H,W,3]`` or ``[H,W,3]`` uint8."""
    x = images.detach().float().cpu().clamp(-1.0, 1.0)
    x = ((x + 1.0) * 127.5).round().to(torch.uint8)
    return x.movedim(-3, -1).numpy()


def from_uint8(pixels: np.ndarray | Tensor) -> Tensor:
    """``[N,H,W,3]`` or ``[H,W,3]`` uint8 -> float32 channels-first in [-1,1]."""
    x = torch.from_numpy(np.asarray(pixels, dtype=np.float32)).movedim(-1, -3)
    return x / 127.5 - 1.0


def unit_to_signed(images: Tensor) -> Tensor:
    """Images in [0,1] (a renderer's output) -> [-1,1]."""
    return images * 2.0 - 1.0


def to_png_bytes(image: Tensor) -> bytes:
    """``[3,H,W]`` in [-1,1] -> PNG file bytes (for widgets and downloads)."""
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="PNG")
    return buffer.getvalue()
