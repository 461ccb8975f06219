"""The VAE recipes (vanilla, beta_h, beta_b) and the DFC-VAE's, with its feature network:
the attribute classifier on SynthFaces, VGG19 on CelebA."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from ...data.celeba import CelebA
from ...data.synthfaces import SynthFaces
from ...judge.classifier import load_classifier
from ...judge.metrics import evaluate_vae
from ...models.dfc import VGG_LAYER_SETS, ClassifierFeatures, DFCLoss, FeatureNetworkError, VGGFeatures
from ...models.vae import VAE, VAEConfig, config_dict, vae_loss
from ...weights import Headline, WeightsError, shipped_name
from ..loop import LossFn
from .base import Recipe, train_config
from .data_spec import DataSpec, RecipeError


def _vae_config(**settings: Any) -> VAEConfig:
    """``VAEConfig(**settings)``, a ``None`` setting left to its default; a setting it refuses
    (``--channels 0,64``) is a ``RecipeError`` naming it."""
    try:
        return VAEConfig(**{key: value for key, value in settings.items() if value is not None})
    except ValueError as error:
        raise RecipeError(str(error)) from None


@dataclass(frozen=True, kw_only=True)
class VAERecipe(Recipe):
    """A VAE with the objective ``vae.kind``: vanilla, Higgins' beta_h or Burgess' beta_b
    (whose capacity reaches ``c_max`` at the last step)."""

    vae: VAEConfig = field(default_factory=VAEConfig)

    model_name: ClassVar[str] = "vae"
    headline: ClassVar[Headline] = Headline("pixel_mse", higher_is_better=False)
    sizes: ClassVar[tuple[int, ...]] = (64,)

    @classmethod
    def from_options(cls, *, kind: str = "vanilla", channels: tuple[int, ...] | None = None,
                     upsample: str | None = None, steps: int | None = None, batch_size: int | None = None, lr: float | None = None,
                     seed: int = 0, out: str | None = None, device: str | None = None,
                     data: DataSpec = DataSpec()) -> VAERecipe:
        """``channels``, ``upsample``: the architecture (None: ``VAEConfig``'s defaults)."""
        steps, batch_size = cls.defaults(steps, batch_size)
        vae = _vae_config(kind=kind, c_stop_step=steps, channels=channels, upsample=upsample)
        return cls(vae=vae, data=data, train=train_config(steps, batch_size, lr or 1e-3, seed, out, device))

    @classmethod
    def from_blocks(cls, model: dict, train: dict, **options) -> VAERecipe:
        return replace(cls.from_options(kind=model["kind"], **options), vae=VAEConfig(**model))

    @property
    def image_size(self) -> int:
        return self.vae.image_size

    def weights_name(self) -> str:
        return shipped_name(f"vae_{self.vae.kind}.safetensors", self.data.name)

    def build(self) -> VAE:
        return VAE(self.vae)

    def loss(self, weights_dir: Path | None) -> LossFn:
        return vae_loss

    def evaluate(self, model: nn.Module, held_out: SynthFaces | CelebA, weights_dir: Path | None) -> dict[str, float]:
        factors = torch.from_numpy(held_out.factors) if self.data.name == "synth" else None  # CelebA: no MIG, DCI
        return evaluate_vae(model, held_out.images(slice(None)), factors)

    def model_block(self) -> dict:
        return config_dict(self.vae)

    def options(self) -> dict[str, Any]:
        """The kind, and the architecture where it is not ``VAEConfig``'s default."""
        options: dict[str, Any] = {"kind": self.vae.kind, **self.width_option()}
        if self.vae.upsample != VAEConfig().upsample:
            options["upsample"] = self.vae.upsample
        return options

    def width_option(self) -> dict[str, str]:
        """``{"channels": "32,64,..."}`` where the widths are not ``VAEConfig``'s default, else empty."""
        if self.vae.channels == VAEConfig().channels:
            return {}
        return {"channels": ",".join(map(str, self.vae.channels))}

    def loss_block(self) -> dict:
        return {"loss": self.vae.kind}

    def quick(self, steps: int | None = None) -> VAERecipe:
        """Shortened; Burgess' capacity schedule shortened with it."""
        shorter = super().quick(steps)
        return replace(shorter, vae=replace(self.vae, c_stop_step=min(self.vae.c_stop_step, shorter.train.steps)))


@dataclass(frozen=True, kw_only=True)
class DFCRecipe(VAERecipe):
    """Hou et al.'s DFC-VAE: ``alpha * KL + beta * perceptual``, the perceptual term
    comparing ``features`` (the attribute classifier's, or VGG19's) of face and decode; its
    decoder upsamples by nearest neighbour (``VAEConfig.upsample``), which leaves no
    checkerboard for the perceptual term to overlook."""

    features: str = "classifier"
    alpha: float = 1.0
    beta: float = 0.5

    model_name: ClassVar[str] = "dfc"

    @classmethod
    def from_options(cls, *, features: str = "classifier", channels: tuple[int, ...] | None = None,
                     steps: int | None = None, batch_size: int | None = None, lr: float | None = None, seed: int = 0,
                     out: str | None = None, device: str | None = None, data: DataSpec = DataSpec()) -> DFCRecipe:
        """``channels``: the encoder's widths (None: ``VAEConfig``'s default)."""
        steps, batch_size = cls.defaults(steps, batch_size)
        vae = _vae_config(kind="vanilla", c_stop_step=steps, upsample="nearest", channels=channels)
        return cls(features=features, vae=vae, data=data,
                   train=train_config(steps, batch_size, lr or 1e-3, seed, out, device))

    @classmethod
    def from_blocks(cls, model: dict, train: dict, **options) -> DFCRecipe:
        return replace(cls.from_options(features=train["features"], **options), vae=VAEConfig(**model),
                       alpha=train["alpha"], beta=train["beta"])

    def weights_name(self) -> str:
        return shipped_name("vae_dfc.safetensors", self.data.name)

    def loss(self, weights_dir: Path | None) -> LossFn:
        try:
            network = feature_network(self.features, data=self.data.name, folder=weights_dir)
        except (FeatureNetworkError, ValueError, WeightsError) as error:
            raise RecipeError(str(error)) from None
        print(f"feature network: {network.description}")
        return DFCLoss(network, alpha=self.alpha, beta=self.beta)

    def options(self) -> dict[str, Any]:
        """The feature network, and the widths where they are not ``VAEConfig``'s default."""
        return {"features": self.features, **self.width_option()}

    def loss_block(self) -> dict:
        return {"loss": "dfc", "features": self.features, "alpha": self.alpha, "beta": self.beta}


def feature_network(name: str, data: str = "synth", folder: Path | None = None) -> nn.Module:
    """``"classifier"`` (the attribute classifier of ``data``, from ``folder``, default
    ``weights_dir()``), ``"vgg123"`` or ``"vgg345"``."""
    if name == "classifier":
        return ClassifierFeatures(load_classifier(data=data, folder=folder))
    if name in VGG_LAYER_SETS:
        return VGGFeatures(VGG_LAYER_SETS[name])
    raise ValueError(f"feature network must be 'classifier', 'vgg123' or 'vgg345', got {name!r}")
