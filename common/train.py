"""The one training loop every model in this project uses.

- seeded: the batch of step ``k`` is drawn from a generator seeded by (seed, k), so a
  resumed run sees exactly the batches an uninterrupted one would;
- a ``tqdm.auto`` progress bar with the running loss, a history of logged figures, and an
  optional ``on_log`` callback for live plots;
- checkpoints every ``checkpoint_every`` steps, written atomically; ``resume=True``
  continues from the last one with its optimizer state and step count;
- a NaN or inf loss stops the run, keeps the last good checkpoint and says what happened;
- CUDA when present (mixed precision, channels_last), the CPU otherwise.

Command line: ``python -m common.train classifier --steps 3000 --out runs/classifier``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset, default_collate
from tqdm.auto import tqdm

from .config import default_device
from .weights import atomic_path

CHECKPOINT = "checkpoint.pt"
LossFn = Callable[[nn.Module, Any, int], tuple[Tensor, dict[str, float]]]


@dataclass
class TrainConfig:
    steps: int = 1000
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup_steps: int = 0
    cosine: bool = True           # decay the learning rate to 0 along a half cosine
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 250
    grad_clip: float | None = None
    out: str | None = None        # folder for checkpoint.pt; None: no checkpoints
    device: str | None = None     # None: CUDA when present
    progress: bool = True


@dataclass
class History:
    """Logged figures: ``values[name][i]`` is the mean over the steps before ``steps[i]``."""

    steps: list[int] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, step: int, figures: dict[str, float]) -> None:
        self.steps.append(step)
        for name, value in figures.items():
            self.values.setdefault(name, []).append(value)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class CheckpointError(RuntimeError):
    """A checkpoint cannot be resumed from (truncated, foreign or for another model)."""


def learning_rate(config: TrainConfig, step: int) -> float:
    """Linear warm-up over ``warmup_steps``, then a half-cosine decay (if ``cosine``)."""
    rate = config.lr * min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else config.lr
    if config.cosine:
        rate *= 0.5 * (1.0 + math.cos(math.pi * step / config.steps))
    return rate


def batch_indices(n: int, batch_size: int, seed: int, step: int) -> Tensor:
    """The dataset rows of step ``step``: ``[batch_size]``, a pure function of its arguments."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
    return torch.randint(n, (batch_size,), generator=generator)


def make_batch(dataset: Dataset, indices: Tensor) -> Any:
    """A batch from a dataset's own ``batch(indices)`` when it has one, else item by item."""
    if hasattr(dataset, "batch"):
        return dataset.batch(indices.numpy())
    return default_collate([dataset[int(i)] for i in indices])


def to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(b, device) for b in batch)
    return batch


def load_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[int, History]:
    """Restore model and optimizer from ``path``; returns (step, history). The file is
    only read, never changed."""
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:  # truncated zip, not a torch file, unsafe pickle
        raise CheckpointError(f"{path} cannot be read ({type(error).__name__}: {error}); it is left "
                              "as it is: delete it to start afresh, or point --out elsewhere") from error
    if not isinstance(state, dict) or not {"model", "optimizer", "step"} <= set(state):
        raise CheckpointError(f"{path} is not a checkpoint of this training loop (keys: "
                              f"{sorted(state)[:5] if isinstance(state, dict) else type(state).__name__})")
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as error:
        raise CheckpointError(f"{path} was written for another model or configuration: {error}") from error
    history = History(state["history"]["steps"], state["history"]["values"])
    return int(state["step"]), history


def save_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, step: int,
                    history: History, config: TrainConfig) -> None:
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
             "history": asdict(history), "config": asdict(config)}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def train(model: nn.Module, loss_fn: LossFn, dataset: Dataset, config: TrainConfig,
          resume: bool = True, on_log: Callable[[int, History], None] | None = None) -> History:
    """Optimise ``model`` with Adam on ``loss_fn(model, batch, step) -> (loss, figures)``.

    Returns the history of logged figures (also stored in each checkpoint).
    """
    device = torch.device(config.device) if config.device else default_device()
    cuda = device.type == "cuda"
    torch.manual_seed(config.seed)
    model.to(device)
    if cuda:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    checkpoint = Path(config.out) / CHECKPOINT if config.out else None
    step, history = 0, History()
    if resume and checkpoint is not None and checkpoint.exists():
        step, history = load_checkpoint(checkpoint, model, optimizer)
        model.to(device)
    scaler = torch.amp.GradScaler("cuda", enabled=cuda)
    sums: dict[str, float] = {}
    model.train()
    bar = tqdm(total=config.steps, initial=step, disable=not config.progress, desc="training", unit="step")
    while step < config.steps:
        batch = to_device(make_batch(dataset, batch_indices(len(dataset), config.batch_size, config.seed, step)), device)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, step)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            loss, figures = loss_fn(model, batch, step)
        if not math.isfinite(loss.item()):
            bar.close()
            kept = f"the last good checkpoint {checkpoint} is kept" if checkpoint and checkpoint.exists() else "no checkpoint was written"
            raise TrainingDiverged(f"loss became {loss.item()} at step {step}; training stopped and {kept}. "
                                   "Lower the learning rate or add gradient clipping, then resume.")
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if config.grad_clip:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        step += 1
        for name, value in {"loss": loss.item(), **figures}.items():
            sums[name] = sums.get(name, 0.0) + value
        if step % config.log_every == 0 or step == config.steps:
            count = config.log_every if step % config.log_every == 0 else step % config.log_every
            history.add(step, {name: total / count for name, total in sums.items()})
            sums = {}
            bar.set_postfix(loss=f"{history.values['loss'][-1]:.4g}")
            if on_log is not None:
                on_log(step, history)
        bar.update(1)
        if checkpoint is not None and (step % config.checkpoint_every == 0 or step == config.steps):
            save_checkpoint(checkpoint, model, optimizer, step, history, config)
    bar.close()
    model.eval()
    return history


def main(argv: list[str] | None = None) -> None:
    from .models.classifier import train_classifier

    recipes = {"classifier": train_classifier}
    parser = argparse.ArgumentParser(prog="python -m common.train", description="Train a model of this project.")
    parser.add_argument("model", choices=sorted(recipes))
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="checkpoint folder (default runs/MODEL)")
    parser.add_argument("--faces", type=int, default=30_000, help="SynthFaces training faces")
    parser.add_argument("--save", action="store_true", help="save the result into weights/ with the manifest")
    args = parser.parse_args(argv)
    config = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         out=args.out or f"runs/{args.model}")
    command = "python -m common.train " + " ".join(sys.argv[1:] if argv is None else argv)
    recipes[args.model](config, faces=args.faces, save=args.save, command=command)


if __name__ == "__main__":
    main()
