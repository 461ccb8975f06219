"""The one place where images change representation.

Inside the code images are float32 NCHW RGB in [-1, 1]; uint8 HWC exists only at the
edges (files, PNG bytes, widgets, matplotlib).
"""

from __future__ import annotations

from collections.abc import Sequence

import io
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
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


def display_bytes(image: Tensor, display_size: int) -> tuple[bytes, str]:
    """``[3,H,W]`` in [-1,1] -> (file bytes, format) for a widget shown ``display_size``
    pixels wide: a lossless PNG when the image is no larger (the browser enlarges it,
    pixel for pixel), else the image reduced to the display size as a JPEG, a fraction of
    a full-size PNG's bytes (a 1024x1024 face: about 1.6 MB as PNG)."""
    if image.shape[-1] <= display_size:
        return to_png_bytes(image), "png"
    picture = Image.fromarray(to_uint8(image)).resize((display_size, display_size), Image.Resampling.BOX)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue(), "jpeg"


class FaceImageError(ValueError):
    """An uploaded file cannot be used as a face picture; the message says why."""


MAX_PICTURE_PIXELS = 40_000_000   # a 40-megapixel photo decodes in about 120 MB; larger ones are refused


def refuse_huge(picture: Image.Image, name: str) -> None:
    """Raise ``FaceImageError`` for a picture (header read, not decoded) over ``MAX_PICTURE_PIXELS``."""
    width, height = picture.size
    if width * height > MAX_PICTURE_PIXELS:
        raise FaceImageError(f"{name} is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); "
                             f"pictures above {MAX_PICTURE_PIXELS / 1e6:.0f} megapixels are refused: resize it first")


def load_face_image(data: bytes, size: int, name: str = "the file", min_side: int = 32) -> Tensor:
    """Any picture file -> ``[3,size,size]`` in [-1,1]: EXIF rotation applied, grayscale,
    palette and CMYK converted, transparency composited on white, centre-cropped to a
    square and resized. Raises ``FaceImageError`` naming the file and the problem."""

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)   # the limit below decides
            picture = Image.open(io.BytesIO(data))                           # reads the header only
        refuse_huge(picture, name)
        picture.draft("RGB", (size * 4, size * 4))  # JPEG: decode huge photos at a reduced scale
        picture.load()
    except FaceImageError:
        raise
    except UnidentifiedImageError:
        raise FaceImageError(f"{name} is not an image file (PNG, JPEG, GIF, BMP, WebP ...)") from None
    except Image.DecompressionBombError:
        raise FaceImageError(f"{name} has too many pixels to open safely; resize it first") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise FaceImageError(f"{name} is truncated or damaged ({error})") from None
    picture = ImageOps.exif_transpose(picture)
    width, height = picture.size
    if min(width, height) < min_side:
        raise FaceImageError(f"{name} is {width}x{height} pixels; a face picture needs at least "
                             f"{min_side} pixels on its short side")
    picture = _eight_bit(picture)
    if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
        rgba = picture.convert("RGBA")
        picture = Image.new("RGB", rgba.size, (255, 255, 255))
        picture.paste(rgba, mask=rgba.getchannel("A"))
    picture = picture.convert("RGB")
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    picture = picture.crop((left, top, left + side, top + side)).resize((size, size), Image.LANCZOS)
    return from_uint8(np.asarray(picture))


def _eight_bit(picture: Image.Image) -> Image.Image:
    """16-bit, 32-bit integer and float grayscale pictures (modes ``I;16*``, ``I``, ``F``)
    as 8-bit ``L``, scaled by their range (PIL's own conversion clips them to white)."""
    if not (picture.mode.startswith("I") or picture.mode == "F"):
        return picture
    values = np.asarray(picture, dtype=np.float64)
    if picture.mode == "F":
        top = 1.0 if values.max(initial=0.0) <= 1.0 else 255.0   # float images come in [0, 1] or [0, 255]
    else:
        top = 65535.0 if picture.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
    return Image.fromarray((values / top * 255.0).clip(0, 255).round().astype(np.uint8), mode="L")


def save_gif(frames: Tensor, path: str | Path | BinaryIO, milliseconds: int = 80) -> None:
    """``[T,3,H,W]`` in [-1,1] -> an endlessly looping animated GIF at ``path`` (or into a file object)."""
    save_animation([Image.fromarray(p) for p in to_uint8(frames)], path, milliseconds)


def save_animation(pictures: Sequence[Image.Image], path: str | Path | BinaryIO, milliseconds: int = 80) -> None:
    """PIL pictures -> an endlessly looping animated GIF at ``path`` (or into a file object)."""
    pictures[0].save(path, format="GIF", save_all=True, append_images=list(pictures[1:]),
                     duration=milliseconds, loop=0)
