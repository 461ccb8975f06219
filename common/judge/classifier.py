"""Attribute classifier: a small CNN that reads CelebA attributes and SynthFaces factors.

It labels GAN samples for InterFaceGAN, scores every edit, gives the feature space for
Frechet distances, and is DFC-VAE's feature network when VGG weights are not available.
Input ``[N,3,H,W]`` in [-1,1]; trained at 64x64, other sizes are resized to it first (so
32x32 Glow faces are read as the classifier was trained to read faces).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import model_device
from ..data.celeba_names import attribute_index
from ..data.synth_factors import FACTOR_INDEX, SYNTH_ATTRIBUTES, attributes_from_factors
from ..data.synthfaces import SynthFaces, blend_expressions
from .augment import DEGRADATIONS, blend_expressions_randomly, blend_with_batch, degrade, degrade_randomly
from ..weights import load_weights, model_record, shipped_name

CLASSIFIER_FACTORS = ("smile", "mouth_open", "eye_open", "brow_raise", "yaw", "roll", "face_width",
                      "jaw", "brow_thickness", "skin_tone", "age", "light")
WEIGHTS_NAME = "classifier.safetensors"
TRAINED_SIZE = 64


def _block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class Reading(NamedTuple):
    """What ``AttributeClassifier.read`` returns for ``N`` faces."""

    probabilities: Tensor   # [N, A] probability of each attribute
    factors: Tensor         # [N, F] estimate of each SynthFaces factor (F = 0 on CelebA)
    features: Tensor        # [N, 8w] pooled features the head reads (the Frechet-distance space)
    logits: Tensor          # [N, A] the attributes' logits (probabilities = sigmoid(logits), never saturated)


class AttributeClassifier(nn.Module):
    """Five conv stages (64 -> 32 -> 16 -> 8 -> 4 pixels), global average pooling, and one
    linear head for attribute logits and factor regressions.

    Attributes:
        attributes: names of the logits (CelebA names): ``SYNTH_ATTRIBUTES`` on SynthFaces,
            all 40 on CelebA.
        factors: names of the regressed factors: ``CLASSIFIER_FACTORS`` on SynthFaces,
            none on CelebA (it has no ground truth for them).
    """

    def __init__(self, width: int = 24, attributes: tuple[str, ...] = SYNTH_ATTRIBUTES,
                 factors: tuple[str, ...] = CLASSIFIER_FACTORS) -> None:
        super().__init__()
        self.width, self.attributes, self.factors = width, tuple(attributes), tuple(factors)
        w = width
        self.stages = nn.ModuleList([
            nn.Sequential(_block(3, w, 1), _block(w, w, 1)),
            nn.Sequential(_block(w, 2 * w, 2), _block(2 * w, 2 * w, 1)),
            nn.Sequential(_block(2 * w, 4 * w, 2), _block(4 * w, 4 * w, 1)),
            nn.Sequential(_block(4 * w, 8 * w, 2), _block(8 * w, 8 * w, 1)),
            _block(8 * w, 8 * w, 2),
        ])
        self.embedding_dim = 8 * w
        self.head = nn.Linear(8 * w, len(self.attributes) + len(self.factors))

    def feature_maps(self, x: Tensor, upto: int | None = None) -> list[Tensor]:
        """Activations after each stage for ``x`` ``[N,3,H,W]`` (resized to 64x64 first):
        ``[N,w,64,64], [N,2w,32,32], ...``; stops after stage ``upto`` (0-based) when given."""
        if x.shape[-1] != TRAINED_SIZE or x.shape[-2] != TRAINED_SIZE:
            x = F.interpolate(x, size=(TRAINED_SIZE, TRAINED_SIZE), mode="bilinear", align_corners=False,
                              antialias=x.shape[-1] > TRAINED_SIZE)
        maps = []
        for k, stage in enumerate(self.stages):
            x = stage(x)
            maps.append(x)
            if upto is not None and k >= upto:
                break
        return maps

    def _pooled(self, x: Tensor) -> Tensor:
        """``[N,3,H,W]`` -> ``[N, 8w]`` pooled features (the Frechet-distance space)."""
        return self.feature_maps(x)[-1].mean(dim=(2, 3))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``[N,3,H,W]`` -> (attribute logits ``[N,A]``, factor estimates ``[N,F]``)."""
        out = self.head(self._pooled(x))
        return out[:, :len(self.attributes)], out[:, len(self.attributes):]

    @torch.no_grad()
    def _in_batches(self, function, x: Tensor, batch: int) -> list:
        """``function`` of each ``batch`` images of ``x``, on the classifier's device, in eval
        mode, without gradients."""
        was_training = self.training
        self.eval()
        device = model_device(self)
        outputs = [function(x[i:i + batch].to(device)) for i in range(0, len(x), batch)]
        self.train(was_training)
        return outputs

    def read(self, x: Tensor, batch: int = 256) -> Reading:
        """What the classifier reads in faces ``x [N,3,H,W]``: ``Reading(probabilities [N,A],
        factors [N,F], features [N,8w], logits [N,A])`` from one pass, in eval mode, ``batch`` images at a
        time. The one way to get probabilities and the pooled features of the last stage (the
        Frechet-distance space); ``feature_maps`` gives each stage's spatial activations (the
        DFC-VAE's perceptual loss compares those)."""
        def pooled_and_head(images: Tensor) -> tuple[Tensor, Tensor]:
            pooled = self._pooled(images)
            return pooled, self.head(pooled)

        outputs = self._in_batches(pooled_and_head, x, batch)
        pooled = torch.cat([features for features, _ in outputs]).to(x.device)
        out = torch.cat([head for _, head in outputs]).to(x.device)
        count = len(self.attributes)
        return Reading(torch.sigmoid(out[:, :count]), out[:, count:], pooled, out[:, :count])

    def factor(self, name: str) -> int:
        """Column of factor ``name`` in ``read``'s ``factors``."""
        if name not in self.factors:
            raise KeyError(f"the classifier does not estimate {name!r}; it estimates {', '.join(self.factors)}")
        return self.factors.index(name)

    def scorer(self, names: tuple[str, ...] | list[str]):
        """A function ``images [N,3,H,W] -> {name: probability of the first image}`` for
        ``EditPanel``'s readout."""
        columns = [self.attribute(n) for n in names]

        def score(images: Tensor) -> dict[str, float]:
            probs = self.read(images).probabilities[0]
            return {n: float(probs[c]) for n, c in zip(names, columns)}

        return score

    def attribute(self, name: str) -> int:
        """Column of ``name`` in this classifier's outputs."""
        if name not in self.attributes:
            raise KeyError(f"the classifier does not read {name!r}; it reads {', '.join(self.attributes)}")
        return self.attributes.index(name)


def _columns(model: AttributeClassifier) -> tuple[list[int], list[int]]:
    """Where the model's attributes sit among CelebA's 40, and its factors among SynthFaces'
    (``model`` may be wrapped by DDP)."""
    model = getattr(model, "module", model)
    return [attribute_index(n) for n in model.attributes], [FACTOR_INDEX[n] for n in model.factors]


def classifier_loss(model: AttributeClassifier, batch: tuple[Tensor, ...],
                    step: int) -> tuple[Tensor, dict[str, float]]:
    """Binary cross-entropy on the attributes plus, when the batch has SynthFaces factors
    (``(images, attributes, factors)``), mean squared error on them. With factors, a quarter
    of the batch becomes expression blends (``blend_expressions_randomly``); then half of
    it is degraded (``degrade_randomly``). The draws are seeded by ``step``."""
    generator = torch.Generator().manual_seed(step)
    images, attributes = batch[0], batch[1]
    attribute_columns, factor_columns = _columns(model)
    if factor_columns:
        images, attributes, factors = blend_expressions_randomly(images, attributes, batch[2], generator)
    logits, estimates = model(degrade_randomly(images, generator))
    bce = F.binary_cross_entropy_with_logits(logits, attributes[:, attribute_columns])
    if not factor_columns:
        return bce, {"bce": bce.item()}
    mse = F.mse_loss(estimates, factors[:, factor_columns])
    return bce + mse, {"bce": bce.item(), "factor_mse": mse.item()}


@torch.no_grad()
def evaluate_classifier(model: AttributeClassifier, faces) -> dict[str, float]:
    """Per-attribute accuracy on held-out ``faces`` (SynthFaces or CelebA), per-factor R^2
    where the faces have factors, and the accuracy on the same faces degraded as decoders
    degrade them (``DEGRADATIONS``): ``acc_blur1.5/...`` and ``acc_down4/...``; with factors,
    also on expression blends of them, against the mean expression's labels: ``acc_blend/...``."""
    attribute_columns, factor_columns = _columns(model)
    truth = faces.attributes[:, attribute_columns].bool()
    images = faces.images(slice(None))
    reading = model.read(images)
    probs, estimates = reading.probabilities, reading.factors
    metrics = {f"acc/{name}": float(((probs[:, k] > 0.5) == truth[:, k]).float().mean())
               for k, name in enumerate(model.attributes)}
    if factor_columns:
        target = torch.from_numpy(faces.factors[:, factor_columns])
        residual = ((estimates - target) ** 2).mean(0)
        for k, name in enumerate(model.factors):
            metrics[f"r2/{name}"] = float(1 - residual[k] / target[:, k].var())
    for kind, amount in DEGRADATIONS:
        degraded = model.read(degrade(images, kind, amount)).probabilities
        for k, name in enumerate(model.attributes):
            metrics[f"acc_{kind}{amount:g}/{name}"] = float(((degraded[:, k] > 0.5) == truth[:, k]).float().mean())
    if factor_columns:
        blended, blended_truth = held_out_blends(faces)
        probs = model.read(blended).probabilities
        for k, name in enumerate(model.attributes):
            column = blended_truth[:, attribute_columns[k]]
            metrics[f"acc_blend/{name}"] = float(((probs[:, k] > 0.5) == column).float().mean())
    return metrics


def held_out_blends(faces: SynthFaces, chunk: int = 250) -> tuple[Tensor, Tensor]:
    """Every face of ``faces`` as an expression blend (``blend_with_batch``, seed 0):
    images ``[N,3,S,S]`` and the blends' attributes ``[N,40]`` bool."""
    factors = torch.from_numpy(faces.factors)
    donors, weights = blend_with_batch(factors, torch.Generator().manual_seed(0))
    images, attributes = [], []
    for start in range(0, len(factors), chunk):
        part = slice(start, start + chunk)
        blended, mean = blend_expressions(factors[part], donors[part], weights[part], faces.size)
        images.append(blended)
        attributes.append(torch.from_numpy(attributes_from_factors(mean.numpy())))
    return torch.cat(images), torch.cat(attributes)


def held_out_faces(n: int = 2000, size: int = 64) -> SynthFaces:
    """The held-out set every classifier figure is measured on (the test split)."""
    return SynthFaces(n=n, size=size, seed=0, split="test", progress=False)


def weights_name(image_size: int = 64, data: str = "synth") -> str:
    """``classifier.safetensors`` reads 64x64 SynthFaces; ``classifier_32.safetensors`` was
    trained on 32x32 faces (resized to 64 inside) and reads the 32x32 Glow's faces;
    ``classifier_celeba<size>.safetensors`` reads CelebA's 40 attributes."""
    synth = WEIGHTS_NAME if image_size == TRAINED_SIZE else f"classifier_{image_size}.safetensors"
    return shipped_name(synth, data, "classifier", image_size)


def load_classifier(image_size: int = 64, data: str = "synth", folder: Path | None = None) -> AttributeClassifier:
    """The shipped classifier for faces of ``image_size`` pixels from ``data``, in eval mode
    (from ``folder``, default ``weights_dir()``)."""
    name = weights_name(image_size, data)
    recorded = model_record(name, folder)
    model = AttributeClassifier(width=recorded.get("width", 24),
                                attributes=tuple(recorded.get("attributes", SYNTH_ATTRIBUTES)),
                                factors=tuple(recorded.get("factors", CLASSIFIER_FACTORS)))
    load_weights(model, name, folder)
    return model.eval()
