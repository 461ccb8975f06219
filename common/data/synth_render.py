"""SynthFaces renderer: factors -> anti-aliased RGB faces, vectorised over a batch.

The head is drawn in *head units* (head half-height = 1, y pointing down, origin at the
head centre) after rotating the image grid by the roll angle. Yaw turns the head as a
sphere: a feature at local x ``fx`` moves to ``R sin(asin(fx/R) + yaw)`` and is squeezed
horizontally by ``cos(asin(fx/R) + yaw) / cos(asin(fx/R))``, so features shift sideways
and the far side compresses. Layers are painted back to front.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Callable

import torch
from torch import Tensor

from .synth_factors import FACTOR_INDEX
from .synth_shapes import capsule, coverage, ellipse, hsv_to_rgb, paint, rounded_box

# Placed like CelebA's aligned faces after the 148-px centre crop: eyes 51% and mouth 79%
# down the frame, eye centres 26% of the width apart (17 px at 64 px).
HEAD_CENTRE_Y = 0.063     # image units, [-1, 1] spans the picture
HEAD_HALF_HEIGHT = 0.875  # image units
EYE_X, EYE_Y, MOUTH_Y = 0.3, -0.04, 0.6   # head units
MAX_YAW = 0.6             # radians at yaw = +-1
MAX_ROLL = 0.26           # radians at roll = +-1

_SKIN = torch.tensor([[0.98, 0.86, 0.78], [0.88, 0.66, 0.50], [0.42, 0.27, 0.18]])
_HAIR = torch.tensor([[0.10, 0.08, 0.07], [0.42, 0.26, 0.14], [0.92, 0.80, 0.50],
                      [0.76, 0.76, 0.77]])
_LIPSTICK = torch.tensor([0.78, 0.10, 0.22])
_DARK = torch.tensor([0.08, 0.06, 0.06])


@dataclass
class _Head:
    """Per-batch drawing context. Maps are ``[N,1,S,S]``, parameters ``[N,1,1,1]``."""

    u: Tensor
    v: Tensor
    pixel: float
    factors: dict[str, Tensor]
    half_width: Tensor
    yaw: Tensor
    skin: Tensor
    hair: Tensor
    shade: Tensor

    def place(self, fx: float | Tensor, fy: float | Tensor, depth: float = 0.0) -> tuple[Tensor, Tensor]:
        """Local coordinates around a feature at head-frame (fx, fy) after the yaw turn.
        ``depth`` pushes features that stand out of the sphere (the nose) further."""
        r = self.half_width
        a = torch.asin(torch.as_tensor(fx / r).clamp(-0.99, 0.99))
        screen_x = r * torch.sin(a + self.yaw) + depth * torch.sin(self.yaw)
        squeeze = (torch.cos(a + self.yaw) / torch.cos(a)).clamp(min=0.15)
        return (self.u - screen_x) / squeeze, self.v - fy

    def alpha(self, sdf: Tensor) -> Tensor:
        return coverage(sdf, self.pixel)

    def band(self, canvas: Tensor, v_top: float, v_bottom: float) -> tuple[Tensor, "_Head"]:
        """Views of ``canvas`` and of this context cut to the image rows that a feature
        lying between head-frame heights ``v_top`` and ``v_bottom`` can reach at any roll."""
        size = canvas.shape[-1]
        margin = 1.0 * math.sin(MAX_ROLL) + 0.05
        y_top = HEAD_CENTRE_Y + HEAD_HALF_HEIGHT * (v_top - margin)
        y_bottom = HEAD_CENTRE_Y + HEAD_HALF_HEIGHT * (v_bottom + margin)
        r0 = max(0, int((y_top + 1.0) / 2.0 * size) - 1)
        r1 = min(size, int((y_bottom + 1.0) / 2.0 * size) + 2)
        rows = slice(r0, r1)
        cut = replace(self, u=self.u[..., rows, :], v=self.v[..., rows, :],
                      shade=self.shade[..., rows, :], hair=self.hair[..., rows, :])
        return canvas[..., rows, :], cut

    def select(self, index: Tensor) -> "_Head":
        """This context for the faces ``index`` only."""
        picked = {fld.name: getattr(self, fld.name) for fld in fields(self)}
        for name, value in picked.items():
            if isinstance(value, Tensor):
                picked[name] = value[index]
        picked["factors"] = {name: value[index] for name, value in self.factors.items()}
        return _Head(**picked)


def _draw_where(layer: Callable[[Tensor, _Head], None], view: Tensor, h: _Head,
                mask: Tensor) -> None:
    """Run ``layer`` on the faces where ``mask`` ([N,1,1,1]) is set, writing back into
    ``view``; faces without the feature cost nothing."""
    index = mask.flatten().nonzero().flatten()
    if index.numel() == 0:
        return
    some = view[index]
    layer(some, h.select(index))
    view[index] = some


def _param(factors: Tensor, name: str) -> Tensor:
    return factors[:, FACTOR_INDEX[name]].reshape(-1, 1, 1, 1)


def _skin_colour(tone: Tensor) -> Tensor:
    """``[N]`` tone in [0,1] -> ``[N,3]``: pale .. mid .. dark."""
    t = tone[:, None] * 2.0
    low = _SKIN[0] + (_SKIN[1] - _SKIN[0]) * t.clamp(max=1.0)
    return low + (_SKIN[2] - _SKIN[1]) * (t - 1.0).clamp(min=0.0)


def _make_head(factors: Tensor, size: int) -> tuple[_Head, Tensor, Tensor]:
    n = factors.shape[0]
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2.0 - 1.0
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    x, y = x.expand(n, 1, size, size), y.expand(n, 1, size, size)
    roll = _param(factors, "roll") * MAX_ROLL
    cos_r, sin_r = torch.cos(roll), torch.sin(roll)
    dy = y - HEAD_CENTRE_Y
    u = (cos_r * x + sin_r * dy) / HEAD_HALF_HEIGHT
    v = (-sin_r * x + cos_r * dy) / HEAD_HALF_HEIGHT
    by_name = {name: _param(factors, name) for name in FACTOR_INDEX}
    half_width = 0.7 + 0.12 * by_name["face_width"]
    light = by_name["light"]
    shade = 1.0 + 0.22 * light * (u / half_width).clamp(-1, 1) - 0.10 * (u / half_width) ** 2
    skin = _skin_colour(by_name["skin_tone"].flatten()).reshape(n, 3, 1, 1)
    hair = _HAIR[by_name["hair_colour"].flatten().long()].reshape(n, 3, 1, 1)
    hair = hair * (1.0 + 0.15 * light * (u / half_width).clamp(-1, 1))
    head = _Head(u, v, 2.0 / size / HEAD_HALF_HEIGHT, by_name, half_width, by_name["yaw"] * MAX_YAW,
                 skin, hair, shade)
    return head, x, y


def _background(h: _Head, x: Tensor, y: Tensor) -> Tensor:
    bg = hsv_to_rgb(h.factors["bg_hue"].flatten(), 0.35, h.factors["bg_value"].flatten())
    bg = bg.reshape(-1, 3, 1, 1) * (1.0 + 0.12 * h.factors["light"] * x - 0.08 * y)
    return bg.clamp(0, 1).contiguous()


def _long_hair(canvas: Tensor, h: _Head) -> None:
    """Hair falling behind the head to the shoulders (long styles only)."""
    back = rounded_box(h.u + 0.12 * torch.sin(h.yaw), h.v - 0.25, h.half_width + 0.2, 1.25, 0.45)
    paint(canvas, h.alpha(back), h.hair * 0.8)


def _neck_and_shirt(canvas: Tensor, h: _Head) -> None:
    neck = rounded_box(h.u, h.v - 1.3, 0.32 + 0.06 * h.factors["male"], 0.6, 0.05)
    paint(canvas, h.alpha(neck), h.skin * 0.78)
    shirt = ellipse(h.u, h.v - 1.95, 1.5, 0.75)
    shirt_rgb = hsv_to_rgb(h.factors["shirt_hue"].flatten(), 0.5, 0.55).reshape(-1, 3, 1, 1)
    paint(canvas, h.alpha(shirt), shirt_rgb)


def _ears(canvas: Tensor, h: _Head) -> None:
    """Both ears slide against the turn: the far one hides behind the head."""
    for side in (-1.0, 1.0):
        ex = side * (h.half_width + 0.02) - 0.25 * torch.sin(h.yaw)
        ear = ellipse(h.u - ex, h.v - 0.08, 0.1, 0.17)
        paint(canvas, h.alpha(ear), h.skin * 0.9)


def _head_sdf(h: _Head) -> Tensor:
    """Signed distance to the head outline: an ellipse above the eyes; below, narrowed
    toward a pointed chin or squared toward a box, by the jaw factor."""
    lower = (h.v > 0).float()
    width = h.half_width * (1.0 - lower * (0.28 - 0.2 * h.factors["jaw"]) * h.v.clamp(0, 1) ** 2)
    oval = ellipse(h.u, h.v, width, 1.0)
    box = rounded_box(h.u, h.v, width, 1.0, 0.45)
    return oval + lower * h.factors["jaw"] * 0.8 * (box - oval)


def _face(canvas: Tensor, h: _Head) -> None:
    """The head's skin, shaded by the light."""
    paint(canvas, h.alpha(_head_sdf(h)), h.skin * h.shade)


def _age_lines(canvas: Tensor, h: _Head) -> None:
    """Forehead and smile lines, darker with age."""
    strength = ((h.factors["age"] - 0.5) * 2.0).clamp(0, 1) * 0.55
    lines = torch.full_like(h.u, 1.0)
    for row in (-0.42, -0.52):
        u_local, v_local = h.place(0.0, row)
        lines = torch.minimum(lines, capsule(u_local, v_local, -0.25, 0.0, 0.25, 0.0, 0.008))
    for side in (-1.0, 1.0):
        u_local, v_local = h.place(side * 0.22, 0.42)
        lines = torch.minimum(lines, capsule(u_local, v_local, 0.0, -0.1, side * 0.07, 0.14, 0.008))
    paint(canvas, h.alpha(lines) * strength, h.skin * 0.62)


def _eyes(canvas: Tensor, h: _Head) -> None:
    """Eyes open from a slit to wide by ``eye_open``; a smile raises the lower lids
    (the lower half of the eye closes by up to 45%, with a crease under it)."""
    factors = h.factors
    height = 0.02 + 0.1 * factors["eye_open"]
    lower = height * (1.0 - 0.45 * factors["smile"].clamp(min=0))
    iris_rgb = (torch.tensor([0.30, 0.18, 0.10]) * (1 - factors["iris_hue"].reshape(-1, 1))
                + torch.tensor([0.25, 0.45, 0.70]) * factors["iris_hue"].reshape(-1, 1))
    lash = 0.012 + 0.012 * (1.0 - factors["male"])
    for side in (-1.0, 1.0):
        u_local, v_local = h.place(side * EYE_X, EYE_Y)
        upper_eye = ellipse(u_local, v_local, 0.16, height)
        eye = torch.maximum(upper_eye, ellipse(u_local, v_local, 0.16, lower) - (v_local < 0).float())
        eye_alpha = h.alpha(eye)
        paint(canvas, eye_alpha, torch.tensor([0.96, 0.95, 0.93]).reshape(1, 3, 1, 1) * h.shade)
        iris = ellipse(u_local, v_local, 0.075, 0.075)
        paint(canvas, torch.minimum(h.alpha(iris), eye_alpha), iris_rgb.reshape(-1, 3, 1, 1))
        pupil = ellipse(u_local, v_local, 0.032, 0.032)
        paint(canvas, torch.minimum(h.alpha(pupil), eye_alpha), _DARK.reshape(1, 3, 1, 1))
        lid = torch.maximum(upper_eye.abs() - lash, v_local + 0.3 * height)
        paint(canvas, h.alpha(lid), _DARK.reshape(1, 3, 1, 1) * 1.5)
        crease = torch.maximum(ellipse(u_local, v_local - lower, 0.14, 0.035).abs() - 0.012, -v_local + lower)
        paint(canvas, h.alpha(crease) * 0.6 * factors["smile"].clamp(min=0), h.skin * h.shade * 0.7)


def _brows(canvas: Tensor, h: _Head) -> None:
    factors = h.factors
    lift = 0.12 * factors["brow_raise"]
    thick = 0.018 + 0.03 * factors["brow_thickness"]
    brows = torch.full_like(h.u, 1.0)
    for side in (-1.0, 1.0):
        u_local, v_local = h.place(side * 0.3, -0.22 - lift)
        brows = torch.minimum(brows, capsule(u_local, v_local, -side * 0.14, 0.02 - 0.3 * lift,
                                             side * 0.15, 0.03, thick))
    paint(canvas, h.alpha(brows), h.hair * 0.7)


def _nose(canvas: Tensor, h: _Head) -> None:
    side = torch.where(h.factors["light"] >= 0, -1.0, 1.0)
    u_local, v_local = h.place(0.0, 0.0, depth=0.12)
    ridge = capsule(u_local, v_local, side * 0.05, 0.0, side * 0.07, 0.28, 0.018)
    paint(canvas, h.alpha(ridge) * 0.35, h.skin * 0.6)
    base = ellipse(u_local, v_local - 0.32, 0.11, 0.045)
    paint(canvas, h.alpha(base) * 0.35, h.skin * 0.65)
    for s in (-1.0, 1.0):
        nostril = ellipse(u_local - s * 0.05, v_local - 0.33, 0.028, 0.016)
        paint(canvas, h.alpha(nostril) * 0.8, h.skin * 0.35)


def _facial_hair(canvas: Tensor, h: _Head) -> None:
    factors = h.factors
    colour = h.hair * 0.75
    u_local, v_local = h.place(0.0, 0.0)
    beard = torch.maximum(_head_sdf(h), 0.3 + 0.25 * (1 - (u_local / h.half_width) ** 2) - v_local)
    paint(canvas, h.alpha(beard) * factors["beard"] * 0.92, colour)
    moustache = ellipse(u_local, v_local - 0.47, 0.24, 0.055)
    paint(canvas, h.alpha(moustache) * factors["moustache"], colour)
    goatee = ellipse(u_local, v_local - 0.78, 0.14, 0.15)
    paint(canvas, h.alpha(goatee) * factors["goatee"], colour)


def _mouth_shape(h: _Head) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Where the lips meet, in the mouth's frame: ``u_local, v_local`` (local coordinates),
    ``half`` (half-width) and ``centre`` (the lip line's height at each ``u_local``).

    A smile widens the mouth by up to 32% and lifts its corners; a frown narrows it by
    10% and turns the corners down."""
    smile = h.factors["smile"]
    u_local, v_local = h.place(0.0, MOUTH_Y)
    half = 0.24 * (1.0 + 0.32 * smile.clamp(min=0) - 0.1 * (-smile).clamp(min=0))
    t = 1.0 - (u_local / half).clamp(-1, 1) ** 2            # 1 at the centre, 0 at the corners
    centre = 0.15 * smile * (t - 0.7)                   # smile: corners up 0.1, centre down
    return u_local, v_local, half, centre


def _mouth(canvas: Tensor, h: _Head) -> None:
    """Lips, and between them the dark inside with the upper teeth: a broad smile parts
    the lips in a crescent that shows the teeth; an open mouth drops the lower lip."""
    factors = h.factors
    u_local, v_local, half, centre = _mouth_shape(h)
    t = 1.0 - (u_local / half).clamp(-1, 1) ** 2
    grin = ((factors["smile"] - 0.3) / 0.7).clamp(0, 1)
    parted = 0.17 * factors["mouth_open"] + 0.12 * grin
    gap = parted * t.sqrt()
    top = centre - 0.012 - 0.25 * gap
    bottom = centre + 0.012 + gap
    ends = u_local.abs() - half
    stretch = 1.0 - 0.35 * factors["smile"].clamp(min=0)      # lips thin as they stretch
    lip_rgb = torch.where(factors["lipstick"] > 0, _LIPSTICK.reshape(1, 3, 1, 1),
                          h.skin * torch.tensor([0.80, 0.52, 0.52]).reshape(1, 3, 1, 1))
    lips = torch.maximum(torch.maximum(top - 0.055 * stretch * t - v_local, v_local - bottom - 0.07 * stretch * t),
                         ends - 0.012)
    paint(canvas, h.alpha(lips), lip_rgb * h.shade)
    inside = torch.maximum(torch.maximum(top - v_local, v_local - bottom), ends)
    paint(canvas, h.alpha(inside), torch.tensor([0.25, 0.04, 0.06]).reshape(1, 3, 1, 1))
    teeth = torch.maximum(inside, v_local - top - 0.09)
    paint(canvas, h.alpha(teeth) * (parted / 0.04).clamp(max=1.0), torch.tensor([0.96, 0.95, 0.90]).reshape(1, 3, 1, 1))


def _smile_folds(canvas: Tensor, h: _Head) -> None:
    """What a smile does around the mouth: the cheeks lift and catch the light, and a
    shading fold runs from the nose wing to the mouth corner; a frown instead pulls
    lines down from the corners to the chin."""
    smile = h.factors["smile"]
    lift, drop = smile.clamp(min=0), (-smile).clamp(min=0)
    _, _, half, _ = _mouth_shape(h)
    corner_v = MOUTH_Y - 0.105 * smile
    folds = torch.full_like(h.u, 1.0)
    sag = torch.full_like(h.u, 1.0)
    for side in (-1.0, 1.0):
        u_local, v_local = h.place(side * 0.34, 0.36 - 0.06 * lift)
        cheek = ellipse(u_local, v_local, 0.16, 0.11)
        paint(canvas, h.alpha(cheek) * 0.6 * lift, (h.skin * h.shade * 1.14).clamp(max=1.0))
        u_local, v_local = h.place(0.0, 0.0)
        folds = torch.minimum(folds, capsule(u_local, v_local, side * 0.15, 0.36, side * (half + 0.05),
                                             corner_v + 0.03, 0.022))
        sag = torch.minimum(sag, capsule(u_local, v_local, side * (half + 0.01), corner_v + 0.03,
                                         side * (half - 0.03), 0.8, 0.018))
    paint(canvas, h.alpha(folds) * 0.8 * lift, h.skin * h.shade * 0.62)
    paint(canvas, h.alpha(sag) * 0.5 * drop, h.skin * h.shade * 0.66)


def _cap_outline(h: _Head) -> tuple[Tensor, Tensor]:
    """Signed distance to the skull's hair outline and the turned horizontal coordinate."""
    cap_u = h.u + 0.12 * torch.sin(h.yaw)
    return ellipse(cap_u, h.v + 0.06, h.half_width + 0.08, 1.08), cap_u


def _hair_cap(canvas: Tensor, h: _Head) -> None:
    outline, cap_u = _cap_outline(h)
    hairline = -0.55 + 0.62 * (cap_u / h.half_width).clamp(-1, 1) ** 4
    paint(canvas, h.alpha(torch.maximum(outline, h.v - hairline)), h.hair)


def _bangs(canvas: Tensor, h: _Head) -> None:
    outline, cap_u = _cap_outline(h)
    fringe_edge = -0.3 + 0.035 * torch.sin(cap_u * 38.0)
    paint(canvas, h.alpha(torch.maximum(outline, h.v - fringe_edge)), h.hair * 0.95)


def _bald(canvas: Tensor, h: _Head) -> None:
    """Tufts above the ears and a shine on the crown."""
    outline, cap_u = _cap_outline(h)
    inner = ellipse(cap_u, h.v + 0.02, h.half_width - 0.06, 0.98)
    tufts = torch.maximum(torch.maximum(outline + 0.02, -inner), torch.maximum(h.v - 0.1, -0.45 - h.v))
    paint(canvas, h.alpha(tufts), h.hair)
    shine = ellipse(cap_u + 0.2 * h.factors["light"], h.v + 0.72, 0.22, 0.1)
    paint(canvas, h.alpha(shine) * 0.35, torch.ones(1, 3, 1, 1))


def _glasses(canvas: Tensor, h: _Head) -> None:
    frame = torch.full_like(h.u, 1.0)
    lens = torch.full_like(h.u, 1.0)
    for side in (-1.0, 1.0):
        u_local, v_local = h.place(side * EYE_X, EYE_Y)
        box = rounded_box(u_local, v_local, 0.2, 0.14, 0.07)
        frame = torch.minimum(frame, box.abs() - 0.022)
        lens = torch.minimum(lens, box)
    mid_u, mid_v = h.place(0.0, -0.08)
    bridge = capsule(mid_u, mid_v, -0.12, 0.0, 0.12, 0.0, 0.018)
    paint(canvas, h.alpha(lens) * 0.18, torch.tensor([0.6, 0.75, 0.85]).reshape(1, 3, 1, 1))
    paint(canvas, h.alpha(torch.minimum(frame, bridge)), torch.tensor([0.1, 0.1, 0.12]).reshape(1, 3, 1, 1))


def render_faces(factors: Tensor, size: int = 64) -> Tensor:
    """Render faces from their factors.

    Args:
        factors: ``[N, len(FACTOR_NAMES)]`` float32 (see ``synth_factors``).
        size: output height and width in pixels, 32 to 256.
    Returns:
        ``[N, 3, size, size]`` float32 RGB in [0, 1].
    """
    if not 32 <= size <= 256:
        raise ValueError(f"SynthFaces size must be 32..256 pixels, got {size}")
    h, x, y = _make_head(factors.float(), size)
    factors = h.factors
    canvas = _background(h, x, y)
    _draw_where(_long_hair, canvas, h, factors["hair_style"] == 2)
    _neck_and_shirt(*h.band(canvas, 0.6, 1.5))
    _ears(*h.band(canvas, -0.15, 0.3))
    _face(*h.band(canvas, -1.1, 1.1))
    _draw_where(_age_lines, *h.band(canvas, -0.6, 0.6), factors["age"] > 0.5)
    _eyes(*h.band(canvas, -0.17, 0.09))
    _brows(*h.band(canvas, -0.4, -0.05))
    _nose(*h.band(canvas, -0.05, 0.4))
    bearded = factors["beard"] + factors["moustache"] + factors["goatee"] > 0
    _draw_where(_facial_hair, *h.band(canvas, 0.2, 1.1), bearded)
    _smile_folds(*h.band(canvas, 0.2, 0.9))
    _mouth(*h.band(canvas, 0.4, 0.85))
    _draw_where(_hair_cap, *h.band(canvas, -1.2, 0.15), factors["hair_style"] > 0)
    _draw_where(_bangs, *h.band(canvas, -1.2, -0.2), factors["bangs"] > 0)
    _draw_where(_bald, *h.band(canvas, -1.2, 0.15), factors["hair_style"] == 0)
    _draw_where(_glasses, *h.band(canvas, -0.22, 0.14), factors["glasses"] > 0)
    return canvas.clamp_(0.0, 1.0)
