"""One slider, every method: the same face moved along each method's own direction by one
shared strength, side by side (notebook 05's panel and the README's animation).

Strength is the scoreboard's unit (``common.direction``): 1 moves each method's code by
its own gap between faces with and without the attribute, so the same slider position asks
every method for the same "typical change".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import torch
from PIL import Image, ImageDraw
from torch import Tensor

from .images import save_animation, to_png_bytes, to_uint8
from .edit_figures import Subject

CAPTION_PX = 14        # height of the caption bar of an animation frame


def compare_row(subjects: Mapping[str, Subject], strength: float, size: int = 64) -> Tensor:
    """``[3, size, size * M]`` in [-1,1]: each of the ``M`` subjects' faces (``edit_figures.Subject``) moved by
    ``strength`` gaps, decoded and resized to ``size`` (nearest neighbour), side by side."""
    faces = [torch.nn.functional.interpolate(subject.edited([strength]), size=size, mode="nearest")[0]
             for subject in subjects.values()]
    return torch.cat(faces, dim=-1)


def captioned(row: Tensor, names: Sequence[str], caption: str, scale: int = 2) -> Image.Image:
    """A row of faces ``[3, S, S*M]`` enlarged ``scale`` times, with each face's name above
    it and ``caption`` in the top-left corner (PIL's built-in font)."""
    picture = Image.fromarray(to_uint8(row))
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    framed = Image.new("RGB", (picture.width, picture.height + 2 * CAPTION_PX), "white")
    framed.paste(picture, (0, 2 * CAPTION_PX))
    draw, width = ImageDraw.Draw(framed), picture.width // len(names)
    draw.text((4, 1), caption, fill="black")
    for k, name in enumerate(names):
        draw.text((k * width + 4, CAPTION_PX + 1), name[: width // 6], fill="black")
    return framed


def sweep_frames(subjects: Mapping[str, Subject], strengths: Sequence[float], label: str,
                 size: int = 64) -> list[Image.Image]:
    """One captioned frame per strength (``captioned(compare_row(...))``), for a GIF."""
    return [captioned(compare_row(subjects, s, size), list(subjects), f"{label} {s:+.1f}") for s in strengths]


def save_sweep_gif(frames: Sequence[Image.Image], path, milliseconds: int = 150) -> None:
    """Write ``frames`` (PIL images) to ``path`` as an endlessly looping GIF that sweeps
    forth and back."""
    save_animation([*frames, *frames[-2:0:-1]], path, milliseconds)


class ComparePanel:
    """A single slider that moves every subject's face at once: ``widget`` shows the
    method names over one image of all faces, redrawn while the slider moves.

    Args:
        subjects: name -> ``Subject`` (the same face in each method).
        label: the slider's name (e.g. ``"Smiling"``).
        limit: the slider's half-range in gaps.
        size: each face's side in pixels.
    """

    def __init__(self, subjects: Mapping[str, Subject], label: str, limit: float = 2.0, size: int = 64) -> None:
        self.subjects, self.size = dict(subjects), size
        self.slider = widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=0.1, description=label,
                                          continuous_update=True, readout_format="+.1f")
        names = "".join(f"<div style='width:{2 * size}px;font-size:11px'>{name}</div>" for name in self.subjects)
        self.names = widgets.HTML(f"<div style='display:flex'>{names}</div>")
        self.image = widgets.Image(format="png", width=2 * size * len(self.subjects))
        self.slider.observe(lambda change: self.draw(), names="value")
        self.widget = widgets.VBox([self.slider, self.names, self.image])
        self.draw()

    def draw(self) -> None:
        """Redraw every face at the slider's strength."""
        self.image.value = to_png_bytes(compare_row(self.subjects, self.slider.value, self.size))
