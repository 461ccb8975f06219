"""The PGGAN's in-domain encoder (Zhu et al. 2020, arXiv 2004.00049): a ``LatentEncoder``
trained against the shipped generator, which stays frozen.

Each step feeds it two kinds of faces. The generator's own samples, whose latents ``w`` are
known: the encoder's answer is pulled to them (the latent term, in units of the latents'
variance). Real faces, whose latents nobody knows: the generator redraws the encoder's
answer and the redrawing is compared with the face, pixel by pixel and in the attribute
classifier's feature maps (the perceptual term),

    L = lambda_w |E(G(w)) - w|^2 / var(w) + |G(E(x)) - x|^2 + lambda_f sum_l |phi_l(G(E(x))) - phi_l(x)|^2,

so the encoder learns to answer with latents the generator draws well and that look like
the person. Inverting a face is then the encoder's answer refined by a short optimisation
of the same pixel and perceptual terms (``PGGANGenerator.use_encoder``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...data.celeba import CelebA
from ...data.synthfaces import SynthFaces
from ...judge.scoreboard import EditScorer
from ...models.inversion import EncoderConfig, Features, LatentEncoder, feature_distance, invert
from ...models.pggan import EncoderInversion
from ...weights import Headline, WeightsError, read_manifest
from ...weights.shipped import encoder_name, load_pggan, pggan_name
from ..loop import LossFn
from .base import Recipe, train_config
from .classifier import reading_classifier
from .data_spec import DataSpec

FEATURE_STAGES = 2       # the classifier's stages the perceptual term compares (64, 32 and 16 px)
EVALUATED_FACES = 500    # held-out faces the encoder alone is measured on
REFINED_FACES = 32       # ... and refined, beside the optimisation alone from random samples


def classifier_features(classifier: nn.Module) -> Features:
    """The perceptual term's ``phi``: the classifier's first ``FEATURE_STAGES + 1`` stages."""
    return lambda images: classifier.feature_maps(images, upto=FEATURE_STAGES)


class EncoderLoss:
    """``common.train`` loss of a ``LatentEncoder`` against a frozen ``generator``."""

    def __init__(self, generator: nn.Module, features: Features, latent_weight: float, feature_weight: float) -> None:
        self.generator, self.features = generator.requires_grad_(False).eval(), features
        self.latent_weight, self.feature_weight = latent_weight, feature_weight

    def __call__(self, model: nn.Module, batch: tuple[Tensor, ...], step: int) -> tuple[Tensor, dict[str, float]]:
        faces = batch[0]
        generator = self.generator.to(faces.device)
        with torch.no_grad():
            w = generator.sample_latent(len(faces)).to(faces.device)
            drawn = generator(w).clamp(-1.0, 1.0)
            targets = self.features(faces)
        latent = (model(drawn) - w).pow(2).mean() / w.var()
        redrawn = generator(model(faces))
        pixel = (redrawn - faces).pow(2).mean()
        perceptual = feature_distance(self.features, redrawn, targets)
        loss = self.latent_weight * latent + pixel + self.feature_weight * perceptual
        return loss, {"latent": latent.item(), "pixel": pixel.item(), "perceptual": perceptual.item()}


@dataclass(frozen=True, kw_only=True)
class EncoderRecipe(Recipe):
    """A ``LatentEncoder`` of ``encoder.width`` for the shipped generator of the data; the
    manifest's ``train`` block records which generator file (and its sha256) it was trained
    against, and loading it for another generator is refused."""

    encoder: EncoderConfig
    generator_sha256: str = ""          # of the generator file it was trained against
    latent_weight: float = 1.0
    feature_weight: float = 1.0

    model_name: ClassVar[str] = "encoder"
    default_steps: ClassVar[int] = 2000
    default_batch: ClassVar[int] = 16
    headline: ClassVar[Headline] = Headline("refined_pixel_mse", higher_is_better=False)
    sizes: ClassVar[tuple[int, ...]] = (64,)
    held_out_faces: ClassVar[int] = EVALUATED_FACES

    @classmethod
    def from_options(cls, *, width: int | None = None, steps: int | None = None, batch_size: int | None = None,
                     lr: float | None = None, seed: int = 0, out: str | None = None, device: str | None = None,
                     data: DataSpec = DataSpec()) -> EncoderRecipe:
        steps, batch_size = cls.defaults(steps, batch_size)
        generator = read_manifest().get(pggan_name(data.name), {})
        encoder = EncoderConfig(latent_dim=generator.get("model", {}).get("latent_dim", EncoderConfig.latent_dim),
                                width=width or EncoderConfig.width)
        return cls(encoder=encoder, generator_sha256=generator.get("sha256", ""), data=data,
                   train=train_config(steps, batch_size, lr or 1e-3, seed, out, device))

    @classmethod
    def from_blocks(cls, model: dict, train: dict, **options) -> EncoderRecipe:
        recipe = cls.from_options(**options)
        return replace(recipe, encoder=EncoderConfig(**model), latent_weight=train.get("latent_weight", 1.0),
                       feature_weight=train.get("feature_weight", 1.0),
                       generator_sha256=train.get("generator_sha256", recipe.generator_sha256))

    @property
    def image_size(self) -> int:
        return self.encoder.image_size

    def weights_name(self) -> str:
        return encoder_name(self.data.name)

    def build(self) -> LatentEncoder:
        torch.manual_seed(self.train.seed)
        return LatentEncoder(self.encoder)

    def _generator(self, weights_dir: Path | None) -> nn.Module:
        try:
            return load_pggan(self.data.name, weights_dir)
        except WeightsError as error:
            raise WeightsError(f"{error}. The encoder inverts the shipped generator: train it first "
                               f"(python -m common.train pggan ... --save)") from None

    def loss(self, weights_dir: Path | None) -> LossFn:
        features = classifier_features(reading_classifier(self.data, weights_dir))
        return EncoderLoss(self._generator(weights_dir), features, self.latent_weight, self.feature_weight)

    def evaluate(self, model: nn.Module, held_out: SynthFaces | CelebA, weights_dir: Path | None) -> dict[str, float]:
        """Pixel MSE and identity change of held-out faces redrawn from the encoder's answer
        alone; on ``REFINED_FACES`` of them, the same after the refinement and, for
        comparison, after the optimisation alone (200 steps from the best random sample)."""
        generator, classifier = self._generator(weights_dir), reading_classifier(self.data, weights_dir)
        faces = held_out.images(slice(None))
        judge = EditScorer(classifier, faces)
        inversion = EncoderInversion(model, classifier_features(classifier), feature_weight=self.feature_weight)
        few = faces[:REFINED_FACES]
        with torch.no_grad():
            encoded = generator.decode(model.encode(faces))
        generator.use_encoder(inversion)
        refined_codes, optimised_codes = generator.encode(few), invert(generator, few, steps=200)[0]
        with torch.no_grad():
            refined, optimised = generator.decode(refined_codes), generator.decode(optimised_codes)
        metrics = {}
        for label, redrawn, originals in (("", encoded, faces), ("refined_", refined, few),
                                          ("optimised_", optimised, few)):
            metrics[f"{label}pixel_mse"] = float((redrawn - originals).pow(2).mean())
            metrics[f"{label}identity_change"] = judge.identity_change(judge.read(originals), judge.read(redrawn))
        return metrics

    def model_block(self) -> dict:
        return {"latent_dim": self.encoder.latent_dim, "image_size": self.encoder.image_size,
                "width": self.encoder.width}

    def options(self) -> dict[str, Any]:
        return {"width": self.encoder.width}

    def loss_block(self) -> dict:
        return {"latent_weight": self.latent_weight, "feature_weight": self.feature_weight,
                "generator": pggan_name(self.data.name), "generator_sha256": self.generator_sha256}
