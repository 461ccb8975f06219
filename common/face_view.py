"""The picture a slider panel shows, and how it keeps up with a moving slider.

A model no larger than the display is drawn in full at every move. A larger one with a
``preview(codes, size)`` method (the 1024x1024 PGGAN) is drawn at a preview resolution
while a slider moves, and in full once the sliders have rested. The preview starts at
``preview_size`` pixels and adapts to the machine (``adapt_preview_size``): it halves while
a move takes longer than its budget and doubles, up to the display size, while it takes
under a quarter of it (a GPU previews at display size)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import ipywidgets as widgets
import torch
from torch import Tensor

from .images import display_bytes


def adapt_preview_size(size: int, elapsed_ms: float, budget_ms: float, ceiling: int, floor: int = 16) -> int:
    """The next preview resolution after a move that took ``elapsed_ms`` at ``size`` pixels:
    half (not below ``floor``) when over ``budget_ms``, double (not above ``ceiling``) when
    under a quarter of it (a level costs about four times the one below), else the same."""
    if elapsed_ms > budget_ms and size // 2 >= floor:
        return size // 2
    if elapsed_ms < budget_ms / 4 and size * 2 <= ceiling:
        return size * 2
    return size


class FaceView:
    """One face on screen (``image``, an ipywidgets ``Image``).

    Args:
        model: the model whose faces are shown (its ``preview``, when it has one).
        display_size: the shown image's width in pixels.
        preview_size: the first resolution drawn while dragging a large model (on a 2-core
            CPU the 1024 PGGAN takes about 2.4 s at 1024 px, 0.7 s at 256, 0.27 s at 64).
        preview_budget_ms: the time one preview should take (None: always ``preview_size``).
        settle_ms: how long the sliders rest before the full-quality image (0: no previews).
    """

    def __init__(self, model, display_size: int = 256, preview_size: int = 64,
                 preview_budget_ms: float | None = 150.0, settle_ms: int = 300) -> None:
        self.model, self.display_size, self.preview_size = model, display_size, preview_size
        self.preview_budget_ms, self.settle_ms = preview_budget_ms, settle_ms
        self.previews = hasattr(model, "preview") and model.image_size > display_size and settle_ms > 0
        self.image = widgets.Image(format="png", width=display_size, height=display_size)
        self._settle_timer: threading.Timer | None = None

    def show(self, face: Tensor) -> None:
        """Draw ``face [3,H,W]`` in [-1,1] (PNG, or JPEG when larger than the display)."""
        self.image.value, self.image.format = display_bytes(face, self.display_size)

    def preview(self, code: Tensor, settled: Callable[[], None]) -> None:
        """Draw ``code [D]`` at the preview resolution, then call ``settled`` (the full draw)
        once no other preview has followed for ``settle_ms``."""
        start = time.perf_counter()
        with torch.no_grad():
            self.show(self.model.preview(code[None], self.preview_size)[0].float().cpu())
        if self.preview_budget_ms is not None:
            elapsed_ms = (time.perf_counter() - start) * 1000
            self.preview_size = adapt_preview_size(self.preview_size, elapsed_ms, self.preview_budget_ms,
                                                   ceiling=self.display_size)
        if self._settle_timer is not None:
            self._settle_timer.cancel()
        self._settle_timer = threading.Timer(self.settle_ms / 1000, settled)
        self._settle_timer.daemon = True
        self._settle_timer.start()
