"""The five recipes: classifier, VAE (vanilla, beta_h, beta_b), DFC-VAE, Glow, PGGAN.

Each is built complete by ``from_options`` (the command line's options, the recipe's own
learning rate and schedule unless given) or read back from a manifest entry
(``common.recipes.shipped``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from ..data.celeba import CelebA
from ..data.celeba_names import CELEBA_ATTRIBUTES
from ..data.synth_factors import SYNTH_ATTRIBUTES
from ..data.synthfaces import SynthFaces
from ..models.classifier import (CLASSIFIER_FACTORS, AttributeClassifier, classifier_loss, evaluate_classifier,
                                 load_classifier, weights_name)
from ..models.dfc import DFCLoss, FeatureNetworkError, feature_network
from ..models.glow import Glow, GlowConfig, condition_columns, glow_loss, levels_to_top
from ..models.pggan import MAPPING_LR_MULTIPLIER, SYNTH_PGGAN, PGGANConfig
from ..models.pggan_training import ProgressiveGAN, progressive_gan_loss, sample_quality
from ..models.vae import VAE, VAEConfig, config_dict, evaluate_vae, vae_loss
from ..train.loop import LossFn, TrainConfig
from ..weights import Headline, WeightsError, shipped_name
from .base import Recipe
from .data_spec import DataSpec, RecipeError


def _train_config(steps: int, batch_size: int, lr: float, seed: int, out: str | None, device: str | None,
                  **schedule) -> TrainConfig:
    return TrainConfig(steps=steps, batch_size=batch_size, lr=lr, seed=seed, out=out, device=device, **schedule)


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
                   train=_train_config(steps, batch_size, lr or 2e-3, seed, out, device))

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
        return cls(vae=vae, data=data, train=_train_config(steps, batch_size, lr or 1e-3, seed, out, device))

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
                   train=_train_config(steps, batch_size, lr or 1e-3, seed, out, device))

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


PRIOR_FIT_FACES = 2000   # training faces the conditional Glow's prior map is first fitted to


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
                   train=_train_config(steps, batch_size, lr or 1e-3, seed, out, device,
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
            n = min(PRIOR_FIT_FACES, len(training))
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


def reading_classifier(data: DataSpec, weights_dir: Path | None, size: int = 64) -> AttributeClassifier:
    """The shipped classifier that reads faces of ``data`` (CelebA's must be trained first)."""
    try:
        return load_classifier(size, data=data.name, folder=weights_dir)
    except WeightsError as error:
        if data.name == "synth":
            raise
        raise RecipeError(f"{error}. On CelebA, train its classifier first: python -m common.train classifier "
                          f"--data celeba --celeba-root {data.celeba_root} --save") from None


@dataclass(frozen=True, kw_only=True)
class PGGANRecipe(Recipe):
    """Progressive growing 4x4 -> ``gan.resolution``, ``phase_steps`` per fade-in or stable
    phase; ships the averaged generator with its Frechet distance and attribute frequencies
    (``pggan_training.sample_quality``)."""

    gan: PGGANConfig
    phase_steps: int
    gan_loss: str = "logistic"

    model_name: ClassVar[str] = "pggan"
    default_steps: ClassVar[int] = 9000
    notebook_steps: ClassVar[tuple[int, int]] = (9000, 90)
    notebook_batch: ClassVar[int] = 16
    headline: ClassVar[Headline] = Headline("frechet", higher_is_better=False)
    sizes: ClassVar[tuple[int, ...]] = (64, 32)

    @classmethod
    def from_options(cls, *, image_size: int | None = None, phase_steps: int | None = None,
                     gan_loss: str = "logistic", channels: tuple[int, ...] | None = None, mapping_layers: int = 0,
                     mapping_lr: float = MAPPING_LR_MULTIPLIER,
                     steps: int | None = None, batch_size: int | None = None, lr: float | None = None,
                     seed: int = 0, out: str | None = None, device: str | None = None,
                     data: DataSpec = DataSpec()) -> PGGANRecipe:
        steps, batch_size = cls.defaults(steps, batch_size)
        size = image_size or 64
        levels = size.bit_length() - 2                      # resolutions 4 .. size
        if channels is not None and len(channels) != levels:
            raise RecipeError(f"--channels {','.join(map(str, channels))}: a {size}x{size} generator has {levels} "
                              f"levels (4x4 .. {size}x{size}), so give {levels} widths")
        gan = PGGANConfig(latent_dim=SYNTH_PGGAN.latent_dim, resolution=size,
                          channels=channels or SYNTH_PGGAN.channels[:levels], mapping_layers=mapping_layers,
                          mapping_lr=mapping_lr)
        return cls(gan=gan, phase_steps=phase_steps or max(1, steps // 10), gan_loss=gan_loss, data=data,
                   train=_train_config(steps, batch_size, lr or 1e-3, seed, out, device, betas=(0.0, 0.99),
                                       cosine=False))

    @classmethod
    def from_blocks(cls, model: dict, train: dict, **options) -> PGGANRecipe:
        recipe = cls.from_options(phase_steps=train["phase_steps"], gan_loss=train["loss"], **options)
        return replace(recipe, gan=PGGANConfig(**model))

    @property
    def image_size(self) -> int:
        return self.gan.resolution

    def weights_name(self) -> str:
        size = self.gan.resolution
        return shipped_name(f"pggan_synth{size}.safetensors", self.data.name, "pggan", size)

    def build(self) -> ProgressiveGAN:
        return ProgressiveGAN(self.gan, phase_steps=self.phase_steps, loss=self.gan_loss)

    def loss(self, weights_dir: Path | None) -> LossFn:
        return progressive_gan_loss

    def shipped_module(self, model: nn.Module) -> nn.Module:
        return model.average

    def before_training(self, model: nn.Module, held_out: SynthFaces | CelebA,
                        weights_dir: Path | None) -> dict[str, float]:
        classifier = reading_classifier(self.data, weights_dir)    # missing: the run stops before training
        return {"frechet_at_start": sample_quality(model.average, classifier, held_out)["frechet"]}

    def evaluate(self, model: nn.Module, held_out: SynthFaces | CelebA, weights_dir: Path | None) -> dict[str, float]:
        return sample_quality(model, reading_classifier(self.data, weights_dir), held_out)

    def model_block(self) -> dict:
        mapping = ({"mapping_layers": self.gan.mapping_layers, "mapping_lr": self.gan.mapping_lr}
                   if self.gan.mapping_layers else {})
        return {"latent_dim": self.gan.latent_dim, "resolution": self.gan.resolution,
                "channels": list(self.gan.channels)} | mapping

    def options(self) -> dict[str, Any]:
        return {"image_size": self.gan.resolution, "phase_steps": self.phase_steps, "gan_loss": self.gan_loss,
                "channels": tuple(self.gan.channels), "mapping_layers": self.gan.mapping_layers} | (
                    {"mapping_lr": self.gan.mapping_lr} if self.gan.mapping_layers else {})

    def loss_block(self) -> dict:
        return {"loss": self.gan_loss, "phase_steps": self.phase_steps, "betas": list(self.train.betas)}

    def quick(self, steps: int | None = None) -> PGGANRecipe:
        shorter = super().quick(steps)
        return replace(shorter, phase_steps=min(self.phase_steps, max(1, shorter.train.steps // 10)))


RECIPES: dict[str, type[Recipe]] = {recipe.model_name: recipe for recipe in
                                    (ClassifierRecipe, VAERecipe, DFCRecipe, GlowRecipe, PGGANRecipe)}
