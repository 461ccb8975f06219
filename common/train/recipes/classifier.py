"""The attribute classifier's recipe, and ``reading_classifier``: the shipped classifier that
scores the Glow's and the PGGAN's runs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from torch import nn

from ...data.celeba import CelebA
from ...data.celeba_names import CELEBA_ATTRIBUTES
from ...data.synth_factors import SYNTH_ATTRIBUTES
from ...data.synthfaces import SynthFaces
from ...judge.classifier import (CLASSIFIER_FACTORS, AttributeClassifier, classifier_loss, evaluate_classifier,
                                 load_classifier, weights_name)
from ...weights import Headline, WeightsError
from ..loop import LossFn
from .base import Recipe, train_config
from .data_spec import DataSpec, RecipeError


@dataclass(frozen=True, kw_only=True)
class ClassifierRecipe(Recipe):
    """On SynthFaces: 19 attributes and 12 factors; on CelebA: its 40 labelled attributes.
    Reads faces of ``size`` pixels (32: resized to 64 inside)."""

    size: int = 64
    width: int = 24               # channels of the first convolution (doubling with depth)

    model_name: ClassVar[str] = "classifier"
    notebook_steps: ClassVar[tuple[int, int]] = (3000, 60)
    headline: ClassVar[Headline] = Headline("acc/Smiling", higher_is_better=True)
    sizes: ClassVar[tuple[int, ...]] = (64, 32)

    @classmethod
    def from_options(cls, *, image_size: int | None = None, steps: int | None = None, batch_size: int | None = None,
                     lr: float | None = None, seed: int = 0, out: str | None = None, device: str | None = None,
                     data: DataSpec = DataSpec()) -> ClassifierRecipe:
        steps, batch_size = cls.defaults(steps, batch_size)
        return cls(size=image_size or 64, data=data,
                   train=train_config(steps, batch_size, lr or 2e-3, seed, out, device))

    @classmethod
    def from_blocks(cls, model: dict, train: dict, **options) -> ClassifierRecipe:
        """From a manifest entry's ``model`` and ``train`` blocks (``options``: the run's)."""
        return replace(cls.from_options(image_size=model["image_size"], **options), width=model["width"])

    @property
    def image_size(self) -> int:
        return self.size

    def weights_name(self) -> str:
        return weights_name(self.size, self.data.name)

    def _labels(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return (SYNTH_ATTRIBUTES, CLASSIFIER_FACTORS) if self.data.name == "synth" else (CELEBA_ATTRIBUTES, ())

    def build(self) -> AttributeClassifier:
        attributes, factors = self._labels()
        return AttributeClassifier(width=self.width, attributes=attributes, factors=factors)

    def loss(self, weights_dir: Path | None) -> LossFn:
        return classifier_loss

    def evaluate(self, model: nn.Module, held_out: SynthFaces | CelebA, weights_dir: Path | None) -> dict[str, float]:
        return evaluate_classifier(model, held_out)

    def model_block(self) -> dict:
        attributes, factors = self._labels()
        return {"width": self.width, "image_size": self.size,
                "attributes": list(attributes), "factors": list(factors)}

    def options(self) -> dict[str, Any]:
        return {"image_size": self.size}


def reading_classifier(data: DataSpec, weights_dir: Path | None, size: int = 64) -> AttributeClassifier:
    """The shipped classifier that reads faces of ``data`` (CelebA's must be trained first)."""
    try:
        return load_classifier(size, data=data.name, folder=weights_dir)
    except WeightsError as error:
        if data.name == "synth":
            raise
        raise RecipeError(f"{error}. On CelebA, train its classifier first: python -m common.train classifier "
                          f"--data celeba --celeba-root {data.celeba_root} --save") from None
