"""The progressive GAN's recipe: the phases, the loss and the sample quality its run reports
(``common.train.progressive_gan`` holds the trainer)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from ...arithmetic import encode_faces
from ...data.celeba import CelebA
from ...data.celeba_names import CELEBA_ATTRIBUTES
from ...data.synthfaces import SynthFaces
from ...models.pggan import MAPPING_LR_MULTIPLIER, SYNTH_PGGAN, PGGANConfig
from ...weights import Headline
from ...weights.shipped import load_vae, pggan_name
from ..loop import LossFn
from ..progressive_gan import KEEP_WEIGHT, R1_WEIGHT, ProgressiveGAN, Teacher, progressive_gan_loss, sample_quality, teacher_rotation
from .base import Recipe, train_config
from .classifier import reading_classifier
from .data_spec import DataSpec, RecipeError


TEACHERS = ("vae",)
TEACHER_WEIGHT = 10.0
TEACHER_FACES = 10_000     # training faces whose teacher codes give its attribute directions


@dataclass(frozen=True, kw_only=True)
class PGGANRecipe(Recipe):
    """Progressive growing 4x4 -> ``gan.resolution``, ``phase_steps`` per fade-in or stable
    phase; ships the averaged generator with its Frechet distance and attribute frequencies
    (``pggan_training.sample_quality``)."""

    gan: PGGANConfig
    phase_steps: int
    gan_loss: str = "logistic"
    r1_weight: float = R1_WEIGHT
    latent_labels: tuple[str, ...] = ()      # attributes z's first axes carry (progressive_gan's docstring)
    label_loss: str = "projection"           # how the discriminator teaches them
    teacher: str = ""                        # "vae": the shipped VAE's decoder anchors the start (progressive_gan)
    teacher_weight: float = TEACHER_WEIGHT   # lambda_t, fading to 0 at teacher_steps
    teacher_steps: int = 0                   # steps of its fade (from_options: half the run)
    keep_labels: tuple[str, ...] = ()        # attributes the labelled axes must not change (progressive_gan)
    keep_weight: float = KEEP_WEIGHT         # lambda_k

    model_name: ClassVar[str] = "pggan"
    default_steps: ClassVar[int] = 9000
    notebook_steps: ClassVar[tuple[int, int]] = (9000, 90)
    notebook_batch: ClassVar[int] = 16
    headline: ClassVar[Headline] = Headline("frechet", higher_is_better=False)
    sizes: ClassVar[tuple[int, ...]] = (64, 32)

    @classmethod
    def from_options(cls, *, image_size: int | None = None, phase_steps: int | None = None,
                     gan_loss: str = "logistic", r1_weight: float = R1_WEIGHT,
                     channels: tuple[int, ...] | None = None, mapping_layers: int = 0,
                     mapping_lr: float = MAPPING_LR_MULTIPLIER, latent_labels: tuple[str, ...] = (),
                     label_loss: str = "projection", teacher: str = "", teacher_weight: float = TEACHER_WEIGHT,
                     teacher_steps: int | None = None, keep_labels: tuple[str, ...] = (),
                     keep_weight: float = KEEP_WEIGHT, steps: int | None = None, batch_size: int | None = None, lr: float | None = None,
                     seed: int = 0, out: str | None = None, device: str | None = None,
                     data: DataSpec = DataSpec()) -> PGGANRecipe:
        steps, batch_size = cls.defaults(steps, batch_size)
        size = image_size or 64
        levels = size.bit_length() - 2                      # resolutions 4 .. size
        if channels is not None and len(channels) != levels:
            raise RecipeError(f"--channels {','.join(map(str, channels))}: a {size}x{size} generator has {levels} "
                              f"levels (4x4 .. {size}x{size}), so give {levels} widths")
        for option, names in (("--latent-labels", latent_labels), ("--keep-labels", keep_labels)):
            unknown = [name for name in names if name not in CELEBA_ATTRIBUTES]
            if unknown:
                raise RecipeError(f"{option} {','.join(unknown)}: not an attribute of the data; "
                                  f"choose among {', '.join(CELEBA_ATTRIBUTES)}")
        if keep_labels and (label_loss != "classifier" or not latent_labels):
            raise RecipeError(f"--keep-labels {','.join(keep_labels)}: needs --latent-labels with --label-loss classifier "
                              "(the auxiliary classifier reads the kept attributes)")
        both = [name for name in keep_labels if name in latent_labels]
        if both:
            raise RecipeError(f"--keep-labels {','.join(both)}: already in --latent-labels; an attribute is carried "
                              "by an axis or kept, not both")
        if teacher not in ("", *TEACHERS):
            raise RecipeError(f"--teacher {teacher}: choose among {', '.join(TEACHERS)}")
        if teacher and size != 64:
            raise RecipeError(f"--teacher {teacher}: the shipped VAE draws 64x64 faces, not {size}x{size}")
        gan = PGGANConfig(latent_dim=SYNTH_PGGAN.latent_dim, resolution=size,
                          channels=channels or SYNTH_PGGAN.channels[:levels], mapping_layers=mapping_layers,
                          mapping_lr=mapping_lr)
        return cls(gan=gan, phase_steps=phase_steps or max(1, steps // 10), gan_loss=gan_loss, r1_weight=r1_weight,
                   latent_labels=tuple(latent_labels), label_loss=label_loss, teacher=teacher,
                   teacher_weight=teacher_weight, teacher_steps=teacher_steps or (max(1, steps // 2) if teacher else 0),
                   keep_labels=tuple(keep_labels), keep_weight=keep_weight, data=data,
                   train=train_config(steps, batch_size, lr or 1e-3, seed, out, device, betas=(0.0, 0.99),
                                       cosine=False))

    @classmethod
    def from_blocks(cls, model: dict, train: dict, **options) -> PGGANRecipe:
        recipe = cls.from_options(phase_steps=train["phase_steps"], gan_loss=train["loss"],
                                  r1_weight=train.get("r1_weight", R1_WEIGHT),
                                  latent_labels=tuple(train.get("latent_labels", ())),
                                  label_loss=train.get("label_loss", "projection"),
                                  teacher=train.get("teacher", ""), teacher_weight=train.get("teacher_weight", TEACHER_WEIGHT),
                                  teacher_steps=train.get("teacher_steps", 0),
                                  keep_labels=tuple(train.get("keep_labels", ())),
                                  keep_weight=train.get("keep_weight", KEEP_WEIGHT), **options)
        return replace(recipe, gan=PGGANConfig(**model))

    @property
    def image_size(self) -> int:
        return self.gan.resolution

    def weights_name(self) -> str:
        return pggan_name(self.data.name, self.gan.resolution)

    def build(self) -> ProgressiveGAN:
        return ProgressiveGAN(self.gan, phase_steps=self.phase_steps, loss=self.gan_loss, r1_weight=self.r1_weight,
                              latent_labels=tuple(CELEBA_ATTRIBUTES.index(name) for name in self.latent_labels),
                              label_loss=self.label_loss,
                              kept_labels=tuple(CELEBA_ATTRIBUTES.index(name) for name in self.keep_labels),
                              keep_weight=self.keep_weight)

    def prepare(self, model: nn.Module, training: SynthFaces | CelebA) -> None:
        """Labelled axes: each threshold from its attribute's share of the training faces."""
        if self.latent_labels:
            shares = torch.as_tensor(training.attributes[:, list(model.latent_labels)], dtype=torch.float32).mean(0)
            model.set_label_frequencies(shares)

    def loss(self, weights_dir: Path | None) -> LossFn:
        if not self.teacher:
            return progressive_gan_loss
        return partial(progressive_gan_loss, teacher=self._teacher(weights_dir))

    def _teacher(self, weights_dir: Path | None) -> Teacher:
        """The shipped VAE of the data, its latent turned so that its directions of the
        labelled attributes (measured on ``TEACHER_FACES`` training faces) lie along z's
        first axes."""
        vae = load_vae("vanilla", data=self.data.name, folder=weights_dir)
        faces = self.data.training(self.image_size)
        rows = slice(0, min(len(faces), TEACHER_FACES))
        codes = encode_faces(vae, faces.images(rows))
        columns = [CELEBA_ATTRIBUTES.index(name) for name in self.latent_labels]
        rotation = teacher_rotation(codes, torch.as_tensor(faces.attributes[rows][:, columns]).float(), self.train.seed)
        return Teacher(vae, rotation, self.teacher_weight, self.teacher_steps)

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
                "r1_weight": self.r1_weight, "channels": tuple(self.gan.channels), "mapping_layers": self.gan.mapping_layers} | (
                    {"mapping_lr": self.gan.mapping_lr} if self.gan.mapping_layers else {}) | (
                    {"latent_labels": self.latent_labels, "label_loss": self.label_loss} if self.latent_labels else {}) | (
                    self._teacher_block() | self._keep_block())

    def _teacher_block(self) -> dict:
        return ({"teacher": self.teacher, "teacher_weight": self.teacher_weight, "teacher_steps": self.teacher_steps}
                if self.teacher else {})

    def _keep_block(self) -> dict:
        return {"keep_labels": list(self.keep_labels), "keep_weight": self.keep_weight} if self.keep_labels else {}

    def loss_block(self) -> dict:
        r1 = {"r1_weight": self.r1_weight} if self.r1_weight != R1_WEIGHT else {}
        labels = ({"latent_labels": list(self.latent_labels), "label_loss": self.label_loss}
                  if self.latent_labels else {})
        return ({"loss": self.gan_loss, "phase_steps": self.phase_steps, "betas": list(self.train.betas)} | r1 | labels
                | self._teacher_block() | self._keep_block())

    def quick(self, steps: int | None = None) -> PGGANRecipe:
        shorter = super().quick(steps)
        return replace(shorter, phase_steps=min(self.phase_steps, max(1, shorter.train.steps // 10)),
                       teacher_steps=min(self.teacher_steps, max(1, shorter.train.steps // 2)) if self.teacher else 0)
