"""The one gesture, shown: a held-out face per method with its smile slider at -2, 0 and +2.

Strength is in the scoreboard's unit (``scoreboard.Direction``): 1 moves a code by the gap
between the faces that smile and those that do not, so every method is moved by the same
"typical change" whatever the scale of its latent space; 0 is the method's reconstruction.
Under each face is the attribute classifier's reading of the smile factor (SynthFaces'
Smiling rule: smile > 0.25) or, on CelebA, its probability of Smiling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from .arithmetic import decode_faces, encode_faces
from .plot import labelled_rows, strength_labels
from .models.rendered import RenderedFaces
from .direction import Direction
from .judge.scoreboard import EditSpec, EditScorer, group_directions, lookalike_direction, true_values

STRENGTHS = (-2.0, 0.0, 2.0)
DISPLAY_PX = 160       # each face's side in the saved figure (at least 128: nearest-neighbour)
FIGURE_DPI = 100


@dataclass
class EditRow:
    """One method's row: the original face ``[3,H,W]``, its edits ``[S,3,H,W]`` at
    ``strengths``, and the judge's reading of each (``[1+S]``, the original first)."""

    face: Tensor
    edits: Tensor
    readings: Tensor


@dataclass(frozen=True)
class Subject:
    """One method's hold on a face: its ``model`` (a ``LatentModel``), the face's ``code [D]``
    in that model and the ``direction`` a smile slider moves it along."""

    model: object
    code: Tensor
    direction: Direction

    def edited(self, strengths: Sequence[float]) -> Tensor:
        """``[S,3,H,W]`` the face decoded at each strength (in gaps) along the direction, on the CPU."""
        weights = torch.tensor(list(strengths), dtype=self.code.dtype)[:, None]
        return decode_faces(self.model, self.direction.to("cpu").moved(self.code[None].cpu(), weights))


def showcase_faces(test, specs: Sequence[EditSpec], count: int = 1) -> list[int]:
    """Indices of the first ``count`` held-out faces in ``test`` (a ``FaceData``) where
    none of ``specs`` holds yet; on SynthFaces also looking straight ahead (|yaw| < 0.1),
    so the mouth is seen whole."""
    ready = torch.stack([~spec.present(true_values(test, spec)) for spec in specs]).all(0)
    if hasattr(test, "factors"):
        ready &= torch.from_numpy(test.factor("yaw")).abs() < 0.1
    found = torch.nonzero(ready)[:, 0]
    if len(found) < count:
        names = ", ".join(repr(spec.name) for spec in specs)
        raise ValueError(f"only {len(found)} of {len(test)} held-out faces are without {names} (wanted {count}); "
                         "use more held-out faces")
    return found[:count].tolist()


def edit_strip(model, code: Tensor, direction: Direction, face: Tensor, judge: EditScorer, spec: EditSpec,
               strengths: Sequence[float] = STRENGTHS) -> EditRow:
    """Decode ``code [D]`` moved by each strength (in gaps) along ``direction``, and read
    ``face [3,H,W]`` and every edit with ``judge``."""
    edits = Subject(model, code, direction).edited(strengths)
    readings = judge.values(torch.cat([face[None], edits]), spec)
    return EditRow(face, edits, readings)


def encoder_subject(model, train, test, spec: EditSpec, lookalikes: int | None = None,
                    train_codes: Tensor | None = None) -> Subject:
    """``test``'s showcase face (``showcase_faces``) encoded by ``model``, with the direction
    fitted on ``train`` (``scoreboard.group_directions``) or, given ``lookalikes`` = k, the
    face's own vector from its k look-alikes of each group in ``train``
    (``scoreboard.lookalike_direction``); ``train`` and ``test`` are ``FaceData`` at the
    model's size. ``train_codes``: ``train``'s codes ``[N,D]`` when already encoded."""
    code = model.encode(test.images(showcase_faces(test, [spec])))
    if train_codes is None:
        train_codes = encode_faces(model, train.images(slice(None)))
    if lookalikes is None:
        return Subject(model, code[0], group_directions(train_codes, train, [spec])[spec.name])
    own = lookalike_direction(train_codes, train, spec, code, lookalikes)
    return Subject(model, code[0], Direction(spec.name, own.vector[0], float(own.gap[0])))


def renderer_subject(train, test, spec: EditSpec) -> Subject:
    """The yardstick (SynthFaces only): ``test``'s showcase face as the renderer's code (its
    factors, ``models.rendered``) with the renderer's direction fitted on ``train``'s factors
    by the encoders' rule: what the same slider does to the face itself."""
    index = showcase_faces(test, [spec])[0]
    direction = group_directions(torch.from_numpy(train.factors), train, [spec])[spec.name]
    return Subject(RenderedFaces(test.size), torch.from_numpy(test.factors[index]), direction)


def subject_strip(subject: Subject, face: Tensor, judge: EditScorer, spec: EditSpec,
                  strengths: Sequence[float] = STRENGTHS) -> EditRow:
    """``edit_strip`` of a ``Subject`` whose original is ``face [3,H,W]``."""
    return edit_strip(subject.model, subject.code, subject.direction, face, judge, spec, strengths)


def encoder_strip(model, train, test, judge: EditScorer, spec: EditSpec, strengths: Sequence[float] = STRENGTHS,
                  lookalikes: int | None = None, train_codes: Tensor | None = None) -> EditRow:
    """An encoder's strip of ``test``'s showcase face (``encoder_subject``'s arguments)."""
    face = test.images(showcase_faces(test, [spec]))[0]
    return subject_strip(encoder_subject(model, train, test, spec, lookalikes, train_codes), face, judge, spec,
                         strengths)


def renderer_strip(train, test, judge: EditScorer, spec: EditSpec, strengths: Sequence[float] = STRENGTHS) -> EditRow:
    """The yardstick's strip: ``renderer_subject`` moved by each strength."""
    face = test.images(showcase_faces(test, [spec]))[0]
    return subject_strip(renderer_subject(train, test, spec), face, judge, spec, strengths)


def showcase_figure(strips: Mapping[str, EditRow], spec: EditSpec, strengths: Sequence[float] = STRENGTHS,
                    display_px: int = DISPLAY_PX) -> Figure:
    """Rows of methods, columns face, then each strength; every face ``display_px`` wide
    (nearest-neighbour, so a 32-px model shows its own pixels), its reading under it."""
    rows = [_upscaled(torch.cat([strip.face[None], strip.edits]), display_px) for strip in strips.values()]
    columns = ["held-out face"] + [f"{spec.name} {label}" for label in strength_labels(strengths)]
    fig = labelled_rows(rows, list(strips), columns, scale=display_px / FIGURE_DPI * 1.12)
    unit = "P(Smiling)" if spec.reads == "attribute" else spec.factor
    for axis, reading in zip(fig.axes, np.concatenate([strip.readings.numpy() for strip in strips.values()])):
        axis.set_xlabel(f"{unit} {reading:+.2f}", fontsize=9)
    fig.tight_layout()
    return fig


def _upscaled(images: Tensor, size: int) -> Tensor:
    """``[N,3,h,w] -> [N,3,size,size]`` by repeating pixels (``size`` rounded up to a multiple of ``h``)."""
    factor = -(-size // images.shape[-1])
    return images.repeat_interleave(factor, dim=-2).repeat_interleave(factor, dim=-1)
