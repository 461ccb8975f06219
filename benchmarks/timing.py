"""Timing helpers the benchmark scripts share (imported as ``timing`` when a script in this
folder runs)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn


def sync(device: torch.device) -> None:
    """Wait for queued GPU work, so a clock reading covers it (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize()


def training_images_per_s(model: nn.Module, loss_fn: Callable, batch: tuple, device: torch.device, steps: int,
                          lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), step: int | None = None,
                          autocast: bool = True) -> float:
    """Images per second of Adam steps on ``loss_fn(model, batch, k)`` (``step`` instead of
    ``k`` when given); two warm-up steps are not timed; bf16 autocast on CUDA if
    ``autocast``. ``batch`` is the loss's batch tuple, its first tensor ``[B, ...]``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=betas)
    model.train()
    for k in range(steps + 2):
        if k == 2:
            sync(device)
            start = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast and device.type == "cuda"):
            loss, _ = loss_fn(model, batch, k if step is None else step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    sync(device)
    return steps * len(batch[0]) / (time.perf_counter() - start)
