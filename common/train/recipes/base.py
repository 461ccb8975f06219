"""What every recipe shares: ``Recipe.run`` trains, measures on held-out faces and ships.

A recipe is a frozen dataclass holding everything a training run is: the model's config,
a complete ``TrainConfig``, the ``DataSpec`` and (in its methods) the loss and the
evaluation. Nothing in it changes after construction; ``quick()`` and
``dataclasses.replace`` make new recipes."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from ...data.celeba import CelebA
from ...data.synthfaces import SynthFaces
from ...weights import (Headline, Record, check_replacement, history_path, load_weights, read_manifest, record_metrics,
                       save_weights)
from ..loop import LATE_FRACTION, History, LossFn, TrainConfig, read_history, save_history, train
from .data_spec import DataSpec, RecipeError
from .preflight import preflight

QUICK_STEPS = 100         # a quick run: at most this many steps ...
QUICK_FACES = 2_000       # ... on at most this many SynthFaces
LATE_FALL = "loss_late_fall"   # metric: relative fall of the training loss over the last fifth


def _brief(value: Any) -> str:
    """A manifest value as ``describe`` prints it: long lists by their length."""
    return f"[{len(value)} names]" if isinstance(value, list) and len(value) > 6 else str(value)


def train_config(steps: int, batch_size: int, lr: float, seed: int, out: str | None, device: str | None,
                  **schedule) -> TrainConfig:
    return TrainConfig(steps=steps, batch_size=batch_size, lr=lr, seed=seed, out=out, device=device, **schedule)


@dataclass(frozen=True)
class Trained:
    """What ``Recipe.run`` returns: the trained model (the module that ships), the history
    of logged metrics, the held-out metrics and the manifest record."""

    model: nn.Module
    history: History
    metrics: dict[str, float]
    record: Record


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """The parts every recipe has; subclasses add the model's config and define ``build``,
    ``loss``, ``evaluate`` and the manifest blocks."""

    train: TrainConfig
    data: DataSpec = field(default_factory=DataSpec)

    model_name: ClassVar[str]            # the command line's MODEL
    headline: ClassVar[Headline]         # decides whether new weights may replace shipped ones
    sizes: ClassVar[tuple[int, ...]]     # the image sizes it trains at
    held_out_faces: ClassVar[int] = 2000
    # Each default in one place: the command line, the loaders and the notebooks read these.
    default_steps: ClassVar[int] = 3000                 # --steps when not given
    default_batch: ClassVar[int] = 64                   # --batch-size when not given
    notebook_steps: ClassVar[tuple[int, int]] = (3000, 80)   # a notebook training it on CelebA: full, quick mode
    notebook_batch: ClassVar[int] = 32
    quick_steps: ClassVar[int] = QUICK_STEPS            # a quick demonstration run (``quick``)

    @classmethod
    def defaults(cls, steps: int | None, batch_size: int | None) -> tuple[int, int]:
        """``steps`` and ``batch_size``, the recipe's defaults where None."""
        return steps or cls.default_steps, batch_size or cls.default_batch

    # -- what each recipe defines ------------------------------------------------------
    @classmethod
    def from_blocks(cls, model: dict, train: dict, **options) -> Recipe:
        """The recipe of a manifest entry's ``model`` and ``train`` blocks; ``options``:
        ``steps``, ``batch_size``, ``lr``, ``seed``, ``data``."""
        raise NotImplementedError

    @property
    def image_size(self) -> int:
        raise NotImplementedError

    def weights_name(self) -> str:
        """The file the model ships as (it depends on the data)."""
        raise NotImplementedError

    def build(self) -> nn.Module:
        """A fresh model (the random initialisation follows ``train.seed``)."""
        raise NotImplementedError

    def loss(self, weights_dir: Path | None) -> LossFn:
        raise NotImplementedError

    def evaluate(self, model: nn.Module, held_out: SynthFaces | CelebA, weights_dir: Path | None) -> dict[str, float]:
        """Held-out metrics of the trained ``model`` (on the CPU)."""
        raise NotImplementedError

    def model_block(self) -> dict:
        """The manifest's ``model`` block: exactly what the loader rebuilds the model from."""
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """The command line's model options (``--kind``, ``--image-size`` ...)."""
        return {}

    def loss_block(self) -> dict:
        """Loss and schedule settings recorded beside the optimisation in the ``train`` block."""
        return {}

    def quick(self, steps: int | None = None) -> Recipe:
        """The same recipe, shortened to a demonstration: at most ``steps`` steps (default
        ``quick_steps``) on at most ``QUICK_FACES`` SynthFaces."""
        steps = min(self.train.steps, steps or self.quick_steps)
        return replace(self, train=replace(self.train, steps=steps, checkpoint_every=steps),
                       data=replace(self.data, faces=min(self.data.faces, QUICK_FACES)))

    # -- hooks with a default ----------------------------------------------------------
    def shipped_module(self, model: nn.Module) -> nn.Module:
        """The part of the trained model that ships (the PGGAN ships its averaged generator)."""
        return model

    def added_parts(self) -> tuple[str, ...]:
        """Prefixes of the parameters this recipe's model adds to a shipped file it may start
        from (``run(init_from=...)``); they start as ``build`` made them."""
        return ()

    def prepare(self, model: nn.Module, training: SynthFaces | CelebA) -> None:
        """Data-dependent initialisation of ``model`` from the training faces, before the first
        step (the conditional Glow fits its prior's map); by default nothing."""

    def finish(self, model: nn.Module, training: SynthFaces | CelebA) -> None:
        """Closed-form parts fitted to the trained ``model`` before it is measured (the
        conditional Glow refits its prior's map); by default nothing."""

    def before_training(self, model: nn.Module, held_out: SynthFaces | CelebA,
                        weights_dir: Path | None) -> dict[str, float]:
        """Metrics measured before the first step (recorded beside the final ones)."""
        return {}

    # -- shared ------------------------------------------------------------------------
    def train_block(self) -> dict:
        """The manifest's ``train`` block: the optimisation and ``loss_block()``."""
        config = self.train
        return {"steps": config.steps, "batch_size": config.batch_size, "lr": config.lr, "seed": config.seed,
                **self.loss_block()}

    def command(self) -> str:
        """The command line that runs exactly this recipe (and ships it with ``--save``)."""
        options = {**self.options(), "steps": self.train.steps, "batch_size": self.train.batch_size,
                   "lr": self.train.lr, "seed": self.train.seed}
        if self.data.name == "synth":
            options["faces"] = self.data.faces
        else:
            options.update(data="celeba", celeba_root=self.data.celeba_root,
                           crop="none" if self.data.crop is None else self.data.crop)
            if self.data.celeba_limit is not None:
                options["celeba_limit"] = self.data.celeba_limit
        words = [f"--{key.replace('_', '-')}" if value is True
                 else f"--{key.replace('_', '-')} {value:g}" if isinstance(value, float)
                 else f"--{key.replace('_', '-')} {','.join(map(str, value))}" if isinstance(value, (tuple, list))
                 else f"--{key.replace('_', '-')} {value}" for key, value in options.items() if value is not False]
        return " ".join(["python -m common.train", self.model_name, *words])

    def describe(self) -> str:
        """The recipe as a person reads it: the command, then every block."""
        lines = [self.command()]
        for block, values in (("model", self.model_block()), ("train", self.train_block()),
                              ("data", {"name": self.data.name, "faces": self.data.faces, "seed": self.data.seed})):
            lines.append(f"  {block:<6}" + ", ".join(f"{key}={_brief(value)}" for key, value in values.items()))
        return "\n".join(lines)

    def initial_model(self) -> nn.Module:
        """The model before its first step: built after seeding with ``train.seed``, so
        every run of the recipe starts from the same weights."""
        torch.manual_seed(self.train.seed)
        return self.build()

    def shipped_start(self, model: nn.Module, weights_dir: Path | None) -> tuple[int, History]:
        """Load this recipe's shipped weights from ``weights_dir`` into ``model`` for a run
        that goes on from them; returns the step they reached and their training curves.

        Refused (``RecipeError``) when the file holds only part of what trains (the PGGAN's
        averaged generator), when it was trained with other settings than this recipe's
        besides the number of steps, or when this recipe's steps do not go past its own."""
        name = self.weights_name()
        if self.shipped_module(model) is not model:
            raise RecipeError(f"{name} holds only the part of {self.model_name} that ships, so a run "
                              "cannot go on from it; train afresh or resume from a checkpoint (--out)")
        entry = load_weights(model, name, weights_dir)           # strict: the same architecture
        done = entry["train"]["steps"]
        ours = {key: value for key, value in self.train_block().items() if key != "steps"}
        theirs = {key: value for key, value in entry["train"].items() if key != "steps"}
        if ours != theirs or entry["data"].get("faces") != self.data.faces:
            raise RecipeError(f"{name} was trained with {theirs} on {entry['data'].get('faces')} faces, "
                              f"this run asks for {ours} on {self.data.faces}; continue with the same settings")
        if done >= self.train.steps:
            raise RecipeError(f"{name} already ran {done} steps; ask for more than that with --steps "
                              f"(got {self.train.steps})")
        return done, read_history(history_path(name, weights_dir))

    def run(self, *, quick: bool = False, save: bool = False, force: bool = False,
            weights_dir: str | Path | None = None, model: nn.Module | None = None,
            on_log: Callable[[int, History], None] | None = None, command: str | None = None,
            continue_shipped: bool = False, init_from: str | None = None) -> Trained:
        """Train by the recipe (``quick``: by its ``quick()`` recipe), measure on the
        held-out faces, print the metrics and, with ``save``, ship the model and its record
        to ``weights_dir`` (default the clone's ``weights/``) unless its headline metric is
        worse than the shipped file's (``force`` overrides).

        ``model``: the model to train (default ``initial_model()``; pass your own to watch
        it through ``on_log``). ``command``: what the manifest records (default ``command()``).
        ``continue_shipped``: start from the weights shipped in ``weights_dir`` and their
        step count instead of afresh (see ``shipped_start``); the learning-rate schedule is
        this recipe's, so the run goes on as if it had been planned for its ``steps``, and the
        recorded command is the shipped file's followed by this one (``A && B``).
        ``init_from``: start from the shipped weights file of that name in ``weights_dir``
        (which may lack ``added_parts()``), at step 0 with this recipe's whole schedule, as
        when a conditional prior is added to a trained Glow; the recorded command is that
        file's followed by this one."""
        recipe = self.quick() if quick else self
        weights_dir = Path(weights_dir) if weights_dir is not None else None
        model = model if model is not None else recipe.initial_model()
        preflight(model, recipe.train.out, save, weights_dir, recipe.data, recipe.image_size, recipe.held_out_faces)
        if save:
            read_manifest(weights_dir)           # unreadable: fail now, not after training
        loss = recipe.loss(weights_dir)
        held_out = recipe.data.held_out(recipe.image_size, recipe.held_out_faces)
        begun = recipe.shipped_start(model, weights_dir) if continue_shipped else None
        if init_from is not None:
            start_command = load_weights(model, init_from, weights_dir, added=recipe.added_parts())["command"]
        start = recipe.before_training(model, held_out, weights_dir)
        training = recipe.data.training(recipe.image_size)
        recipe.prepare(model, training)
        history = train(model, loss, training, replace(recipe.train, made_by=recipe.loss_block()), on_log=on_log,
                        start=begun)
        recipe.finish(model, training)
        shipped = recipe.shipped_module(model).cpu().eval()
        metrics = {**recipe.evaluate(shipped, held_out, weights_dir), **start}
        late_fall = history.late_fall("loss", LATE_FRACTION)
        if math.isfinite(late_fall):                 # undefined for a run of a few logged steps
            metrics[LATE_FALL] = late_fall
        print(f"held-out metrics, measured on {held_out.describe()}:")
        for name, value in metrics.items():
            print(f"{name:<28}{value:.4f}")
        command = command or recipe.command()
        if continue_shipped:                          # the run it went on from, so the record retrains from scratch
            command = f"{read_manifest(weights_dir)[recipe.weights_name()]['command']} && {command}"
        if init_from is not None:
            command = f"{start_command} && {command}"
        record = Record(command, metrics, model=recipe.model_block(),
                        train=recipe.train_block(), data=recipe.data.record(training, held_out))
        if save:
            recipe.ship(shipped, record, history, force, weights_dir)
        return Trained(shipped, history, metrics, record)

    def remeasure(self, weights_dir: str | Path | None = None) -> dict[str, float]:
        """Measure this recipe's shipped weights again as ``run`` measured them (the figures
        before training on ``initial_model()``) and record the new figures in the manifest,
        keeping the training run's own (``loss_late_fall``). For when what measures them
        changed, not the weights: the PGGAN's Frechet distance and attribute frequencies
        are read by the attribute classifier, so a retrained classifier changes them."""
        weights_dir = Path(weights_dir) if weights_dir is not None else None
        name = self.weights_name()
        shipped = self.shipped_module(self.initial_model())
        entry = load_weights(shipped, name, weights_dir)
        held_out = self.data.held_out(self.image_size, self.held_out_faces)
        start = self.before_training(self.initial_model(), held_out, weights_dir)
        kept = {key: value for key, value in entry["metrics"].items() if key == LATE_FALL}
        metrics = {**self.evaluate(shipped.cpu().eval(), held_out, weights_dir), **start, **kept}
        record_metrics(name, metrics, weights_dir)
        return metrics

    def ship(self, model: nn.Module, record: Record, history: History, force: bool, weights_dir: Path | None) -> None:
        """Save ``model`` unless its headline metric is worse than the shipped file's
        (``force`` overrides); say what it replaced."""
        name = self.weights_name()
        replaced = check_replacement(name, record.metrics, self.headline, force=force, folder=weights_dir)
        save_weights(model, name, record, folder=weights_dir)
        save_history(history, history_path(name, weights_dir))
        print(f"saved: {replaced}")
