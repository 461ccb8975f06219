"""What a slider panel edits, without any widget: a base code, named directions, the
slider positions, and the moves made since the face was set.

A position is where the face sits along a ``Direction`` (``Direction.position``): its
coordinate minus the direction's ``centre`` (the attribute's boundary, so 0 is "on the
fence"), in the direction's gaps (for an attribute vector, the strength ``f`` of the
write-up's ``z + f v``). Moving a slider from its start position ``s0`` to ``s`` moves the
code by ``(s - s0)`` times the direction's *step* (``Direction.step``, one gap along it),
or, with the face's own vectors on (``set_own_vectors``:
``vectors_of(code)``, for example its look-alikes' attribute vectors), the face's own
vector for that slider, so that one slider unit is one of the face's own gaps. With "keep
other attributes" on, each step is conditioned on the others' (``latent.condition``, the
same length), so that their coordinates stay put. ``widgets.EditPanel`` draws this state; tests drive it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from .direction import Direction
from .latent import condition


class EditState:
    """Edits one code ``[D]`` along named directions.

    Args:
        directions: the ``Direction`` of each slider (its name, unit vector, gap and centre).
        device: where the codes live (the model's device).
        vectors_of: ``code [D] -> {name: [D]}``, a face's own vectors (``latent.Lookalikes``),
            used while ``set_own_vectors(True)``; None: only the shared directions.

    Attributes:
        base: ``[D]`` the code the current positions are measured from.
        start: ``{name: position}`` of ``base``.
        positions: ``{name: position}`` now.
        keep_others: whether moves are conditioned on the other directions.
        own_vectors: ``{name: [D]}`` the face's own step per slider unit, or None (the shared directions).
        history: ``(name, position)`` of each move since the face was set.
    """

    def __init__(self, directions: Sequence[Direction], device: torch.device | str = "cpu",
                 vectors_of: Callable[[Tensor], dict[str, Tensor]] | None = None) -> None:
        if not directions:
            raise ValueError("an edit needs at least one direction")
        if any(not isinstance(d, Direction) for d in directions):
            raise TypeError("EditState takes common.direction.Direction objects (mean_difference, along), "
                            f"got {', '.join(sorted({type(d).__name__ for d in directions}))}")
        bad = [f"{d.name}: {d.gap}" for d in directions if not float(d.gap) > 0]
        if bad:
            raise ValueError(f"a slider's gap must be positive, got {', '.join(bad)}")
        self.names = [d.name for d in directions]
        if len(set(self.names)) < len(self.names):
            raise ValueError(f"two directions share a name: {', '.join(self.names)}")
        self.directions = {d.name: Direction(d.name, d.vector.detach().float(), float(d.gap), d.centre, d.unit).to(device)
                           for d in directions}
        self.keep_others = False
        self.vectors_of = vectors_of
        self.own_vectors: dict[str, Tensor] | None = None
        self._steps = self._current_steps()
        self.base = torch.zeros_like(self.directions[self.names[0]].vector)
        self.start = {n: 0.0 for n in self.names}
        self.positions = dict(self.start)
        self.history: list[tuple[str, float]] = []

    def position_of(self, code: Tensor, name: str) -> float:
        """Where ``code [D]`` sits along ``name``: its coordinate minus the centre, in gaps."""
        return float(self.directions[name].position(code[None].to(self.base))[0])

    def set_base(self, code: Tensor) -> dict[str, float]:
        """Edit ``code [D]`` from now on; returns the positions it starts at."""
        self.base = code.detach().float().to(self.base.device)
        if self.own_vectors is not None:           # the new face's own vectors, not the last one's
            self.own_vectors = self._own_vectors_of(self.base)
            self._steps = self._current_steps()
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
            code += (self.positions[name] - self.start[name]) * self._steps[name]
        return code

    def _current_steps(self) -> dict[str, Tensor]:
        """Each slider's step per unit under the current switches (own vectors, keep others)."""
        if self.own_vectors is not None:
            steps = dict(self.own_vectors)
        else:
            steps = {n: self.directions[n].step for n in self.names}
        if self.keep_others and len(self.names) > 1:
            steps = {n: condition(steps[n], *[steps[o] for o in self.names if o != n]) * steps[n].norm()
                     for n in self.names}
        return steps

    def _switch(self) -> None:
        """New steps for the current switches; the face keeps its current edit (it becomes the new base)."""
        current = self.code()
        self._steps = self._current_steps()
        self.base, self.start = current, dict(self.positions)

    def set_keep_others(self, on: bool) -> None:
        """Switch conditioning; the face keeps its current edit (it becomes the new base)."""
        self.keep_others = bool(on)
        self._switch()

    def set_own_vectors(self, on: bool) -> None:
        """Step along the face's own vectors (``vectors_of`` the current code; one slider unit =
        the whole vector) or, off, along the shared directions again. The sliders stay where
        they are and the face keeps its current edit; only the way each slider moves it changes."""
        if on and self.vectors_of is None:
            raise ValueError("this edit has no per-face vectors: pass vectors_of to EditState")
        self.own_vectors = self._own_vectors_of(self.code()) if on else None
        self._switch()

    def _own_vectors_of(self, code: Tensor) -> dict[str, Tensor]:
        vectors = self.vectors_of(code)
        missing = [n for n in self.names if n not in vectors]
        if missing:
            raise KeyError(f"the face's own vectors lack {', '.join(missing)}; the sliders are {', '.join(self.names)}")
        return {n: vectors[n].detach().float().to(self.base.device) for n in self.names}

    def sweep(self, name: str, limit: float, frames: int) -> Tensor:
        """``[frames, D]``: the edited code moved along ``name`` from ``-limit`` to ``+limit`` gaps."""
        strengths = torch.linspace(-limit, limit, frames, device=self.base.device)
        return self.code()[None] + strengths[:, None] * self._steps[name][None]
