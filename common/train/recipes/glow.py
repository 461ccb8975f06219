"""Glow's recipe: the unconditional model, or the class-conditional one whose top prior is
fitted to the training faces' attributes first; held-out bits per dimension."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from ...config import full_or_quick
from ...data.celeba import CelebA
from ...data.celeba_names import CELEBA_ATTRIBUTES
from ...data.synth_factors import SYNTH_ATTRIBUTES
from ...data.synthfaces import SynthFaces
from ...models.glow import Glow, GlowConfig, condition_columns, glow_loss, levels_to_top
from ...weights import Headline, shipped_name
from ..loop import LossFn
from .base import Recipe, train_config
from .data_spec import DataSpec, RecipeError


@torch.no_grad()
def held_out_bits_per_dim(model: Glow, faces: SynthFaces | CelebA) -> float:
    """Mean bits/dim on held-out ``faces`` (fixed dequantisation noise, seed 0); for a
    conditional Glow, of each face given its own attributes."""
    model.eval()
    generator = torch.Generator().manual_seed(0)
    total = 0.0
    for start in range(0, len(faces), 100):
        x = faces.images(slice(start, start + 100))
        y = model.attributes_of(faces.attributes[start:start + 100]) if model.conditional is not None else None
        total += float(model.bits_per_dim(x, torch.rand(x.shape, generator=generator), y).sum())
    return total / len(faces)


PRIOR_FIT_FACES = (2000, 500)   # training faces the conditional Glow's prior map is fitted to: full, quick mode


@dataclass(frozen=True, kw_only=True)
class GlowRecipe(Recipe):
    """Glow by maximum likelihood, with a learning-rate warm-up and gradient clipping; the
    conditional Glow (``conditional=True``) conditions its top prior on the data's
    attributes and adds ``classifier_weight`` times its attribute head's cross-entropy."""

    glow: GlowConfig = field(default_factory=lambda: GlowConfig(affine=False))
    classifier_weight: float = 0.01      # openai/glow's weight_y

    model_name: ClassVar[str] = "glow"
    notebook_steps: ClassVar[tuple[int, int]] = (4000, 40)
    notebook_batch: ClassVar[int] = 16
    headline: ClassVar[Headline] = Headline("bits_per_dim", higher_is_better=False)
    sizes: ClassVar[tuple[int, ...]] = (32, 64)
    held_out_faces: ClassVar[int] = 1000

    @classmethod
    def from_options(cls, *, image_size: int | None = None, coupling: str = "additive", top_size: int | None = None,
                     conditional: bool = False, steps: int | None = None, batch_size: int | None = None, lr: float | None = None,
                     seed: int = 0, out: str | None = None, device: str | None = None,
                     data: DataSpec = DataSpec()) -> GlowRecipe:
        steps, batch_size = cls.defaults(steps, batch_size)
        size = image_size or 32
        try:
            levels = levels_to_top(size, top_size or 4)
        except ValueError as error:
            raise RecipeError(str(error)) from None
        condition = (SYNTH_ATTRIBUTES if data.name == "synth" else CELEBA_ATTRIBUTES) if conditional else ()
        return cls(glow=GlowConfig(image_size=size, levels=levels, affine=coupling == "affine", condition=condition),
                   data=data,
                   train=train_config(steps, batch_size, lr or 1e-3, seed, out, device,
                                       warmup_steps=min(500, steps // 5), grad_clip=50.0))

    @classmethod
    def from_blocks(cls, model: dict, train: dict, **options) -> GlowRecipe:
        recipe = replace(cls.from_options(**options), glow=GlowConfig(**model))
        return replace(recipe, classifier_weight=train.get("classifier_weight", recipe.classifier_weight))

    @property
    def image_size(self) -> int:
        return self.glow.image_size

    def weights_name(self) -> str:
        size, stem = self.glow.image_size, "glow_cond" if self.glow.condition else "glow"
        return shipped_name(f"{stem}_{size}.safetensors", self.data.name, stem, size)

    def build(self) -> Glow:
        return Glow(self.glow)

    def added_parts(self) -> tuple[str, ...]:
        """The conditional prior and its head, added to an unconditional Glow it starts from."""
        return (f"levels.{self.glow.levels - 1}.conditional.", "attribute_share", "faces_seen") if self.glow.condition else ()

    def prepare(self, model: nn.Module, training: SynthFaces | CelebA, refit: bool = False) -> None:
        """A conditional Glow's prior map starts at the least-squares fit of the top latents
        of the first ``PRIOR_FIT_FACES`` training faces on their attributes."""
        if self.glow.condition:
            n = min(full_or_quick(*PRIOR_FIT_FACES), len(training))
            model.eval()
            model.fit_conditional_prior(training.images(slice(0, n)), model.attributes_of(training.attributes[:n]),
                                        refit=refit)

    def finish(self, model: nn.Module, training: SynthFaces | CelebA) -> None:
        """The map is fitted again to the trained flow: gradient steps move it by at most the
        learning rate a step, while the flow moves the top latents further (the attribute
        head pulls the groups apart), so the prior's means lag behind them."""
        self.prepare(model.cpu(), training, refit=True)

    def loss(self, weights_dir: Path | None) -> LossFn:
        return partial(glow_loss, condition=tuple(condition_columns(self.glow.condition)),
                       classifier_weight=self.classifier_weight)

    def evaluate(self, model: nn.Module, held_out: SynthFaces | CelebA, weights_dir: Path | None) -> dict[str, float]:
        return {"bits_per_dim": held_out_bits_per_dim(model, held_out)}

    def model_block(self) -> dict:
        """The Glow's config; ``condition`` (as a list) only for a conditional Glow."""
        block = asdict(self.glow)
        condition = block.pop("condition")
        return block | ({"condition": list(condition)} if condition else {})

    @property
    def top_size(self) -> int:
        """The side of the top level's grid."""
        return self.glow.image_size >> self.glow.levels

    def options(self) -> dict[str, Any]:
        """Size and coupling, the top's size where it is not the default 4x4, and whether
        the prior is conditional."""
        options: dict[str, Any] = {"image_size": self.glow.image_size,
                                   "coupling": "affine" if self.glow.affine else "additive"}
        if self.top_size != 4:
            options["top_size"] = self.top_size
        if self.glow.condition:
            options["conditional"] = True
        return options

    def loss_block(self) -> dict:
        block = {"warmup_steps": self.train.warmup_steps, "grad_clip": self.train.grad_clip}
        return block | ({"classifier_weight": self.classifier_weight} if self.glow.condition else {})

    def quick(self, steps: int | None = None) -> GlowRecipe:
        shorter = super().quick(steps)
        return replace(shorter, train=replace(shorter.train, warmup_steps=min(self.train.warmup_steps,
                                                                              shorter.train.steps // 5)))
