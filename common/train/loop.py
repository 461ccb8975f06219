"""The one training loop every model in this project uses.

- seeded: the batch of step ``k`` is drawn from a generator seeded by (seed, k), so a
  resumed run sees exactly the batches an uninterrupted one would;
- a ``tqdm.auto`` progress bar with the running loss, a history of logged metrics, and an
  optional ``on_log`` callback for live plots;
- checkpoints every ``checkpoint_every`` steps, written atomically; ``resume=True``
  continues from the last one with its optimizer state and step count;
- a NaN or inf loss stops the run, keeps the last good checkpoint and says what happened;
- CUDA when present (mixed precision, channels_last), the CPU otherwise;
- several processes (GPUs, or CPU processes with gloo) under ``torchrun``: each takes its
  share of the step's batch and DDP averages the gradients.

The command line (``python -m common.train``) is in ``__main__.py``.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset, default_collate
from tqdm.auto import tqdm

from .. import config as settings
from ..files import RunLock, atomic_path, remove_leftovers, write_failure

CHECKPOINT = "checkpoint.pt"
LossFn = Callable[[nn.Module, Any, int], tuple[Tensor, dict[str, float]]]


@dataclass(frozen=True)
class TrainConfig:
    steps: int                    # no default here: each recipe owns its steps and batch (``Recipe.defaults``)
    batch_size: int
    lr: float = 1e-3
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 0
    cosine: bool = True           # decay the learning rate to 0 along a half cosine
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 250
    grad_clip: float | None = None
    out: str | None = None        # folder for checkpoint.pt; None: no checkpoints
    device: str | None = None     # None: CUDA when present
    progress: bool = True
    amp: bool = True              # mixed precision on a GPU (``mixed_precision``); False: fp32 everywhere
    made_by: dict | None = field(default=None, hash=False)   # what the run trains against (a recipe's
                                  # loss block): a checkpoint written with other settings is not resumed

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "log_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"TrainConfig.lr must be positive, got {self.lr}")
        if self.seed < 0:
            raise ValueError(f"TrainConfig.seed must be 0 or more, got {self.seed}")


LATE_FRACTION = 0.2   # the plateau check compares the last fifth of a run with the fifth before


@dataclass
class History:
    """Logged metrics: ``values[name][i]`` is the mean over the steps before ``steps[i]``, NaN
    at the logs where ``name`` was not measured (a metric may start or stop during a run)."""

    steps: list[int] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, step: int, metrics: dict[str, float]) -> None:
        for name in self.values.keys() - metrics.keys():
            self.values[name].append(float("nan"))
        for name, value in metrics.items():
            self.values.setdefault(name, [float("nan")] * len(self.steps)).append(value)
        self.steps.append(step)

    def late_fall(self, name: str = "loss", fraction: float = LATE_FRACTION) -> float:
        """How much ``name`` still fell at the end: the relative drop of its mean from the
        second-to-last ``fraction`` of the run to the last one, ``(before - last) / |before|``.
        Near 0 (under a percent or two) the curve has flattened; NaN with too few logs."""
        end = self.steps[-1] if self.steps else 0
        steps, values = torch.tensor(self.steps, dtype=torch.float64), torch.tensor(self.values.get(name, []))
        last = steps > end * (1 - fraction)
        before = (steps > end * (1 - 2 * fraction)) & ~last
        if not last.any() or not before.any():
            return float("nan")
        earlier, later = values[before].double().nanmean(), values[last].double().nanmean()
        return float((earlier - later) / earlier.abs())


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class CheckpointError(RuntimeError):
    """A checkpoint cannot be resumed from (truncated, foreign or for another model)."""


class TrainingInterrupted(RuntimeError):
    """The user stopped training (Ctrl-C): ``step`` reached, ``checkpoint`` (its path, or None
    when the run writes none) and the step it holds (``saved_step``, None when none was written)."""

    def __init__(self, step: int, checkpoint: Path | None, saved_step: int | None) -> None:
        kept = (f"the checkpoint {checkpoint} holds step {saved_step}" if saved_step is not None
                else "no checkpoint was written yet" if checkpoint is not None else "this run writes no checkpoint")
        super().__init__(f"interrupted at step {step}; {kept}")
        self.step, self.checkpoint, self.saved_step = step, checkpoint, saved_step


def mixed_precision(device: torch.device, amp: bool = True) -> torch.dtype | None:
    """The autocast type on ``device``: bf16 where the GPU computes it natively (Ampere and
    later), fp16 with a gradient scaler on older GPUs such as Colab's T4 (which only
    emulates bf16, slowly); None (full precision) on the CPU or with ``amp`` off."""
    if device.type != "cuda" or not amp:
        return None
    try:
        native = torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:                     # torch before the including_emulation argument
        native = torch.cuda.get_device_capability(device)[0] >= 8
    return torch.bfloat16 if native else torch.float16


_GRADIENT_SCALE: ContextVar[float] = ContextVar("gradient_scale", default=1.0)


def gradient_scale() -> float:
    """The fp16 gradient scaler's scale during a training step (1.0 without one). A loss
    that takes gradients itself (a gradient penalty) multiplies by it before
    ``autograd.grad`` and divides the gradients by it after, as PyTorch's AMP recipe for
    gradient penalties does, so that fp16 gradients neither underflow nor reach the
    penalty scaled."""
    return _GRADIENT_SCALE.get()


@contextmanager
def gradient_scaling(scale: float) -> Iterator[None]:
    """Within the block, ``gradient_scale()`` is ``scale``."""
    token = _GRADIENT_SCALE.set(scale)
    try:
        yield
    finally:
        _GRADIENT_SCALE.reset(token)


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


def _as_json(settings: dict | None) -> dict | None:
    """``settings`` as the manifest would store them (tuples as lists), so that the same
    settings compare equal however they were written."""
    return None if settings is None else json.loads(json.dumps(settings))


def load_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer,
                    made_by: dict | None = None) -> tuple[int, History]:
    """Restore model and optimizer from ``path``; returns (step, history). The file is
    only read, never changed. ``made_by``: the run's settings (``TrainConfig.made_by``); a
    checkpoint that recorded others (an encoder trained against another generator, a GAN
    with another loss) is refused rather than resumed."""
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:  # truncated zip, not a torch file, unsafe pickle
        raise CheckpointError(f"{path} cannot be read ({type(error).__name__}: {error}); it is left "
                              "as it is: delete it to start afresh, or point --out elsewhere") from error
    if not isinstance(state, dict) or not {"model", "optimizer", "step"} <= set(state):
        raise CheckpointError(f"{path} is not a checkpoint of this training loop (keys: "
                              f"{sorted(state)[:5] if isinstance(state, dict) else type(state).__name__})")
    recorded = _as_json((state.get("config") or {}).get("made_by"))
    made_by = _as_json(made_by)
    if made_by is not None and recorded is not None and recorded != made_by:
        differing = sorted(key for key in {*made_by, *recorded} if made_by.get(key) != recorded.get(key))
        raise CheckpointError(f"{path} was written by a run with other settings ({', '.join(differing)}); it is "
                              "left as it is: delete it to start afresh, or point --out elsewhere")
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as error:
        raise CheckpointError(f"{path} was written for another model or configuration: {error}") from error
    history = History(state["history"]["steps"], state["history"]["values"])
    return int(state["step"]), history


def save_checkpoint(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, step: int,
                    history: History, config: TrainConfig) -> None:
    """Write the run's state to ``path`` atomically; a failed write (disk full, read-only)
    raises ``WriteError`` naming ``path`` and leaves the previous checkpoint as it was."""
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
             "history": asdict(history), "config": asdict(config)}
    try:
        with atomic_path(path) as tmp:
            torch.save(state, tmp)
    except (OSError, RuntimeError) as error:        # torch's zip writer raises RuntimeError on a full disk
        raise write_failure(path, error) from error


def save_history(history: History, path: Path, points: int = 400) -> None:
    """Write the logged metrics as JSON (at most ``points`` rows, evenly thinned)."""
    keep = sorted({round(k * (len(history.steps) - 1) / max(1, points - 1)) for k in range(points)})
    data = {"steps": [history.steps[k] for k in keep],
            "values": {name: [values[k] for k in keep] for name, values in history.values.items()}}
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(data))
    except OSError as error:
        raise write_failure(path, error) from error


def read_history(path: Path) -> History:
    """The ``History`` that ``save_history`` wrote."""
    data = json.loads(Path(path).read_text())
    return History(data["steps"], data["values"])


def _distributed(device: torch.device) -> tuple[int, int, torch.device]:
    """(rank, world size, device) under torchrun; (0, 1, device) otherwise."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1, device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), device


NONFINITE_PATIENCE = 3   # consecutive steps with a NaN or inf loss before a run counts as diverged
FORECAST_STEPS = 5       # steps timed (after the first) before the run says how long the rest will take


def forecast(timed_steps: int, seconds: float, remaining: int, where: torch.device) -> str:
    """The line a run prints once it has timed its first steps: how long the ``remaining``
    steps will take on ``where`` at the measured ``seconds / timed_steps`` a step."""
    per_step = seconds / timed_steps
    return (f"{remaining} more steps at {per_step:.2f} s a step (measured over {timed_steps}) on "
            f"{settings.device_name(where)}: about {max(1, round(remaining * per_step / 60))} min")


@dataclass
class Logger:
    """Sums each step's metrics and, every ``log_every`` steps (and at the last), adds their
    means to ``history``, shows the loss on the progress bar and calls ``on_log``. Given
    ``where``, it times the steps after ``first_step + 1`` and, ``FORECAST_STEPS`` later,
    prints how long the rest will take there (``forecast``)."""

    history: History
    config: TrainConfig
    bar: Any
    on_log: Callable[[int, History], None] | None
    first_step: int = 0
    where: torch.device | None = None
    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)     # steps that measured each metric
    count: int = 0
    clock: float = 0.0

    def add(self, step: int, metrics: dict[str, float] | None) -> None:
        """Record the metrics of the step that brought the run to ``step`` (None: a skipped step)."""
        self._time(step)
        for name, metric in (metrics or {}).items():
            self.sums[name] = self.sums.get(name, 0.0) + metric
            self.counts[name] = self.counts.get(name, 0) + 1
        self.count += metrics is not None
        if (step % self.config.log_every == 0 or step == self.config.steps) and self.count:
            self.history.add(step, {name: total / self.counts[name] for name, total in self.sums.items()})
            self.sums, self.counts, self.count = {}, {}, 0
            self.bar.set_postfix(loss=f"{self.history.values['loss'][-1]:.4g}")
            if self.on_log is not None:
                self.on_log(step, self.history)
        self.bar.update(1)

    def _time(self, step: int) -> None:
        if self.where is None:
            return
        if step == self.first_step + 1:
            self.clock = time.perf_counter()          # the first step (warm-up) is not timed
        elif step == self.first_step + 1 + FORECAST_STEPS and step < self.config.steps:
            self.bar.write(forecast(FORECAST_STEPS, time.perf_counter() - self.clock, self.config.steps - step,
                                    self.where))


@dataclass
class Optimisation:
    """What one step needs: the network the loss runs through (DDP-wrapped under torchrun),
    the model, its optimizer, the autocast type and the fp16 gradient scaler."""

    net: nn.Module
    model: nn.Module
    optimizer: torch.optim.Optimizer
    precision: torch.dtype | None
    scaler: torch.amp.GradScaler
    world: int

    def step(self, loss_fn: LossFn, batch: Any, step: int, config: TrainConfig) -> tuple[float, dict[str, float]]:
        """One optimisation step at ``learning_rate(config, step)``; returns (the loss, the
        loss function's metrics). A step whose loss is not finite is skipped (no update)."""
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(config, step)
        device_type = next(self.model.parameters()).device.type
        scale = float(self.scaler.get_scale()) if self.scaler.is_enabled() else 1.0
        with torch.autocast(device_type, dtype=self.precision or torch.bfloat16, enabled=self.precision is not None), \
                gradient_scaling(scale):
            loss, metrics = loss_fn(self.net, batch, step)
        value = loss.detach().float()
        if self.world > 1:
            dist.all_reduce(value)  # every process skips (and stops) together
            value /= self.world
        self.optimizer.zero_grad(set_to_none=True)
        if math.isfinite(value.item()):
            self.scaler.scale(loss).backward()
            if config.grad_clip:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(self.model.parameters(), config.grad_clip)
            self.scaler.step(self.optimizer)   # the fp16 scaler skips a step with overflowed gradients itself
            self.scaler.update()
        return value.item(), metrics


class Checkpoints:
    """A run's checkpoint (``None``: none kept): resumed from, written every
    ``checkpoint_every`` steps and at the end by the lead process, and the step it holds."""

    def __init__(self, path: Path | None, config: TrainConfig, lead: bool) -> None:
        self.path, self.config, self.lead, self.saved_step = path, config, lead, None

    def resume(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> tuple[int, History] | None:
        """(step, history) of the checkpoint loaded into ``model`` and ``optimizer``, if there is one."""
        if self.path is None or not self.path.exists():
            return None
        step, history = load_checkpoint(self.path, model, optimizer, self.config.made_by)
        self.saved_step = step
        return step, history

    def after_step(self, step: int, model: nn.Module, optimizer: torch.optim.Optimizer, history: History) -> None:
        if self.lead and self.path is not None and (step % self.config.checkpoint_every == 0
                                                    or step == self.config.steps):
            save_checkpoint(self.path, model, optimizer, step, history, self.config)
            self.saved_step = step

    def diverged(self, value: float, step: int, count: int) -> TrainingDiverged:
        kept = (f"the last good checkpoint {self.path} is kept" if self.path and self.path.exists()
                else "no checkpoint was written")
        return TrainingDiverged(f"loss became {value} at step {step} ({count} steps in a row); training stopped "
                                f"and {kept}. Lower the learning rate or add gradient clipping, then resume.")


def _placed(model: nn.Module, config: TrainConfig) -> tuple[int, int, torch.device]:
    """(rank, world size, device) of this process, ``model`` moved there (channels-last on CUDA)."""
    device = torch.device(config.device) if config.device else settings.device()
    rank, world, device = _distributed(device)
    model.to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    return rank, world, device


def train(model: nn.Module, loss_fn: LossFn, dataset: Dataset, config: TrainConfig,
          resume: bool = True, on_log: Callable[[int, History], None] | None = None,
          start: tuple[int, History] | None = None) -> History:
    """Optimise ``model`` with Adam on ``loss_fn(model, batch, step) -> (loss, metrics)``.

    ``loss_fn`` must compute through ``model(...)`` (its forward), so that DDP can average
    gradients; under torchrun only rank 0 shows progress and writes checkpoints.
    ``start``: (step, history) of the weights ``model`` already holds, when it continues an
    earlier run without that run's checkpoint (a fresh optimizer; the schedule goes on from
    ``step``); a checkpoint in ``config.out`` still takes precedence. One run at a time may
    train into ``config.out`` (``RunLock``).
    Returns the history of logged metrics (also stored in each checkpoint).

    Raises:
        TrainingDiverged: the loss was not finite for ``NONFINITE_PATIENCE`` steps in a row.
        TrainingInterrupted: Ctrl-C; says the step reached and what the checkpoint holds.
        WriteError: a checkpoint could not be written (the previous one is unchanged).
    """
    checkpoint = Path(config.out) / CHECKPOINT if config.out else None
    if checkpoint is None:
        return _train(model, loss_fn, dataset, config, None, resume, on_log, start)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    with RunLock(checkpoint.parent):
        remove_leftovers(checkpoint)  # a run killed while writing its checkpoint left a .tmp
        return _train(model, loss_fn, dataset, config, checkpoint, resume, on_log, start)


def _train(model: nn.Module, loss_fn: LossFn, dataset: Dataset, config: TrainConfig, checkpoint: Path | None,
           resume: bool, on_log: Callable[[int, History], None] | None,
           start: tuple[int, History] | None) -> History:
    """``train`` once the checkpoint folder is locked: set up, resume, then step, log and checkpoint."""
    torch.manual_seed(config.seed)
    rank, world, device = _placed(model, config)
    lead = rank == 0
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=tuple(config.betas),
                                 weight_decay=config.weight_decay)
    checkpoints = Checkpoints(checkpoint, config, lead)
    step, history = (start[0], copy.deepcopy(start[1])) if start else (0, History())
    if resume and (resumed := checkpoints.resume(model, optimizer)):
        step, history = resumed
        model.to(device)
    net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) \
        if world > 1 else model
    precision = mixed_precision(device, config.amp)
    optimisation = Optimisation(net, model, optimizer, precision,
                                torch.amp.GradScaler("cuda", enabled=precision == torch.float16), world)
    model.train()
    bar = tqdm(total=config.steps, initial=step, disable=not (config.progress and lead), desc="training", unit="step")
    logger = Logger(history, config, bar, on_log if lead else None, first_step=step,
                    where=device if config.progress and lead else None)
    not_finite = 0
    try:
        while step < config.steps:
            rows = batch_indices(len(dataset), config.batch_size, config.seed, step)[rank::world]
            value, metrics = optimisation.step(loss_fn, to_device(make_batch(dataset, rows), device), step, config)
            not_finite = 0 if math.isfinite(value) else not_finite + 1
            if not_finite >= NONFINITE_PATIENCE:
                raise checkpoints.diverged(value, step, not_finite)
            step += 1
            logger.add(step, {"loss": value, **metrics} if not_finite == 0 else None)
            checkpoints.after_step(step, model, optimizer, history)
    except KeyboardInterrupt:
        raise TrainingInterrupted(step, checkpoint, checkpoints.saved_step) from None
    finally:
        bar.close()
    if world > 1:
        dist.barrier()
    model.eval()
    return history
