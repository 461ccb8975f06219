"""What a slider panel edits, without any widget: a base code, named directions, the
slider positions, and the moves made since the face was set.

A position is where the face sits along a direction: its coordinate (``latent.coordinate``)
minus the direction's ``centre`` (the attribute's boundary, so 0 is "on the fence"), in
the direction's ``unit`` (1 by default: latent distance; an attribute vector's length makes
a position the strength ``f`` of the write-up's ``z + f v``). Moving a slider from its start
position ``s0`` to ``s`` moves the code by ``(s - s0) * unit`` along the direction's *move*: the unit direction itself, or, with "keep other attributes" on, the
direction conditioned on all the others (``latent.condition``), so that their coordinates
stay put. ``widgets.EditPanel`` draws this state; tests drive it directly.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .latent import condition, coordinate, unit


class EditState:
    """Edits one code ``[D]`` along named directions.

    Args:
        directions: ``{name: [D] tensor}`` (any length; stored as unit vectors).
        centres: ``{name: coordinate of the attribute boundary}`` (default 0).
        units: ``{name: latent distance of one slider unit}`` (default 1).
        device: where the codes live (the model's device).

    Attributes:
        base: ``[D]`` the code the current positions are measured from.
        start: ``{name: position}`` of ``base``.
        positions: ``{name: position}`` now.
        keep_others: whether moves are conditioned on the other directions.
        history: ``(name, position)`` of each move since the face was set.
    """

    def __init__(self, directions: dict[str, Tensor], centres: dict[str, float] | None = None,
                 units: dict[str, float] | None = None, device: torch.device | str = "cpu") -> None:
        if not directions:
            raise ValueError("an edit needs at least one direction")
        self.names = list(directions)
        self.directions = {n: unit(d.detach().float()).to(device) for n, d in directions.items()}
        self.centres = {n: float((centres or {}).get(n, 0.0)) for n in self.names}
        self.units = {n: float((units or {}).get(n, 1.0)) for n in self.names}
        if any(not u > 0 for u in self.units.values()):
            raise ValueError(f"slider units must be positive, got {self.units}")
        self.keep_others = False
        self._moves = dict(self.directions)
        self.base = torch.zeros_like(self.directions[self.names[0]])
        self.start = {n: 0.0 for n in self.names}
        self.positions = dict(self.start)
        self.history: list[tuple[str, float]] = []

    def position_of(self, code: Tensor, name: str) -> float:
        """Where ``code [D]`` sits along ``name``: its coordinate minus the centre, in units."""
        along = float(coordinate(code[None].to(self.base), self.directions[name])[0])
        return (along - self.centres[name]) / self.units[name]

    def set_base(self, code: Tensor) -> dict[str, float]:
        """Edit ``code [D]`` from now on; returns the positions it starts at."""
        self.base = code.detach().float().to(self.base.device)
        self.start = {n: self.position_of(self.base, n) for n in self.names}
        self.positions = dict(self.start)
        self.history = []
        return dict(self.start)

    def move(self, name: str, position: float) -> None:
        """Put slider ``name`` at ``position``."""
        if name not in self.positions:
            raise KeyError(f"no direction named {name!r}; the directions are {', '.join(self.names)}")
        self.positions[name] = float(position)
        self.history.append((name, float(position)))

    def reset(self) -> dict[str, float]:
        """Every slider back to its start; returns the start positions."""
        self.positions = dict(self.start)
        self.history = []
        return dict(self.start)

    def code(self) -> Tensor:
        """The edited code ``[D]``: the base plus every slider's offset along its move."""
        code = self.base.clone()
        for name in self.names:
            code += (self.positions[name] - self.start[name]) * self.units[name] * self._moves[name]
        return code

    def set_keep_others(self, on: bool) -> None:
        """Switch conditioning; the face keeps its current edit (it becomes the new base)."""
        current = self.code()
        self.keep_others = bool(on)
        if self.keep_others and len(self.names) > 1:
            self._moves = {n: condition(self.directions[n], *[self.directions[o] for o in self.names if o != n])
                           for n in self.names}
        else:
            self._moves = dict(self.directions)
        self.base, self.start = current, dict(self.positions)

    def sweep(self, name: str, limit: float, frames: int) -> Tensor:
        """``[frames, D]``: the edited code moved along ``name`` from ``-limit`` to ``+limit`` units."""
        steps = torch.linspace(-limit, limit, frames, device=self.base.device) * self.units[name]
        return self.code()[None] + steps[:, None] * self._moves[name][None]
