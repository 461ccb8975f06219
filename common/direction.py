"""One edit direction and one meaning of strength, for every model, panel and score.

A ``Direction`` is a unit vector in a latent space with two numbers measured on codes of
faces: its *gap*, the distance between the mean coordinates of faces with and without the
attribute along it, and its *centre*, the midpoint of those two means (where the attribute
flips). **Strength 1 moves a face one gap**, so a slider at +1 has moved the face as far as
the typical face with the attribute sits from the typical face without it, whatever the
model and the scale of its latent space; a slider position 0 is the boundary.

The mean difference (DFC-VAE's and Glow's attribute vector, the write-up's ``z + f v``)
makes one with ``mean_difference``::

    v = mean(z | attribute) - mean(z | no attribute),    vector = v / |v|,   gap = |v|

so strength ``f`` moves a code by ``f v``. An axis found another way (an InterFaceGAN
boundary's normal, a PCA or SeFa component) becomes one with ``along``: with labels its gap
is measured the same way; without labels (a published boundary, an unlabelled component)
its unit is one standard deviation of the codes along it, and its ``unit`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

GAP = "gap"      # strength 1 = the distance between the groups' means along the direction
SD = "sd"        # strength 1 = one standard deviation of the codes along it (no labels)


def unit(vector: Tensor) -> Tensor:
    """``vector / ||vector||``; a zero vector is an error, not a NaN."""
    norm = vector.norm()
    if norm == 0:
        raise ValueError("a zero vector has no direction")
    return vector / norm


def coordinate(codes: Tensor, vector: Tensor) -> Tensor:
    """Where codes sit along a vector: ``codes . unit(vector)``, ``[N, D] -> [N]``."""
    return codes @ unit(vector).to(codes.dtype)


@dataclass(frozen=True)
class Direction:
    """A named edit direction: ``vector`` ``[D]`` of unit length (or ``[M,D]``, one per face
    to edit, with ``gap`` ``[M,1]``: each face's own vector), the latent distance ``gap``
    that strength 1 means, the ``centre`` coordinate where the attribute flips (slider 0),
    and what the unit is (``GAP``, or ``SD`` where no labels measured a gap)."""

    name: str
    vector: Tensor
    gap: float | Tensor
    centre: float = 0.0
    unit: str = GAP

    @property
    def step(self) -> Tensor:
        """The move of strength 1: ``gap * vector`` (``[D]``, or ``[M,D]``)."""
        return self.gap * self.vector

    @property
    def label(self) -> str:
        """The name, and the unit when it is not a gap (``"smile (1 = 1 sd)"``)."""
        return self.name if self.unit == GAP else f"{self.name} (1 = 1 sd)"

    def moved(self, codes: Tensor, strength: float | Tensor) -> Tensor:
        """``codes [N,D]`` (or ``[D]``) moved by ``strength`` gaps: ``codes + strength * step``."""
        return codes + strength * self.step.to(codes.dtype).to(codes.device)

    def position(self, codes: Tensor) -> Tensor:
        """Where ``codes [N,D]`` sit along the direction, in gaps from the centre: ``[N]``."""
        return (coordinate(codes, self.vector) - self.centre) / self.gap

    def to(self, device: torch.device | str) -> Direction:
        """The same direction with its vector on ``device``."""
        return Direction(self.name, self.vector.to(device), self.gap, self.centre, self.unit)


def _groups(name: str, labels: Tensor) -> Tensor:
    """``labels [N]`` (bool or 0/1) as booleans, when both groups have codes."""
    labels = labels.bool()
    if labels.all() or not labels.any():
        raise ValueError(f"{name}: a gap needs codes both with and without the attribute "
                         f"({int(labels.sum())} of {len(labels)} have it)")
    return labels


def _means_along(name: str, codes: Tensor, labels: Tensor, vector: Tensor) -> tuple[float, float]:
    """Mean coordinate along ``vector`` of the codes with the attribute, and of those without."""
    labels = _groups(name, labels)
    along = coordinate(codes, vector)
    return float(along[labels].mean()), float(along[~labels].mean())


def mean_difference(name: str, codes: Tensor, labels: Tensor) -> Direction:
    """The attribute vector of ``codes [N,D]`` split by ``labels [N]`` (bool or 0/1): the
    mean of the codes with the attribute minus the mean of those without, as a ``Direction``
    whose gap is that vector's length and whose centre is the midpoint of the two means."""
    labels = _groups(name, labels)
    difference = codes[labels].mean(0) - codes[~labels].mean(0)
    vector = unit(difference)
    with_it, without = _means_along(name, codes, labels, vector)
    return Direction(name, vector, float(difference.norm()), (with_it + without) / 2)


def along(name: str, axis: Tensor, codes: Tensor, labels: Tensor | None = None) -> Direction:
    """``axis [D]`` (an SVM normal, a PCA or SeFa component, a published boundary) as a
    ``Direction``, its unit measured on ``codes [N,D]``: with ``labels [N]``, the gap
    between the groups' means and their midpoint (as ``mean_difference``); without, one
    standard deviation of the codes along it around their mean (``unit`` ``SD``)."""
    vector = unit(axis.to(codes.dtype))
    if labels is None:
        along_axis = coordinate(codes, vector)
        return Direction(name, vector, float(along_axis.std()), float(along_axis.mean()), SD)
    with_it, without = _means_along(name, codes, labels, vector)
    return Direction(name, vector, with_it - without, (with_it + without) / 2)


def from_step(name: str, step: Tensor, codes: Tensor | None = None, labels: Tensor | None = None) -> Direction:
    """A vector ``step [D]`` whose whole length is strength 1: a model's own estimate of one
    gap, such as a conditional Glow's prior shift ``mu(y+) - mu(y-)``. Its centre is the
    midpoint of the labelled groups of ``codes`` when given (0 otherwise)."""
    centre = along(name, step, codes, labels).centre if codes is not None and labels is not None else 0.0
    return Direction(name, unit(step), float(step.norm()), centre)
