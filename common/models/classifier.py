"""Attribute classifier: a small CNN that reads CelebA attributes and SynthFaces factors.

It labels GAN samples for InterFaceGAN, scores every edit, gives the feature space for
Frechet distances, and is DFC-VAE's feature network when VGG weights are not available.
Input ``[N,3,H,W]`` in [-1,1]; trained at 64x64, other sizes are resized to it first (so
32x32 Glow faces are read as the classifier was trained to read faces).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data.celeba_names import attribute_index
from ..data.synth_factors import FACTOR_INDEX, SYNTH_ATTRIBUTES
from ..data.synthfaces import SynthFaces
from ..weights import load_weights

CLASSIFIER_FACTORS = ("smile", "mouth_open", "eye_open", "brow_raise", "yaw", "roll", "face_width",
                      "jaw", "brow_thickness", "skin_tone", "age", "light")
WEIGHTS_NAME = "classifier.safetensors"
TRAINED_SIZE = 64


def _block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class AttributeClassifier(nn.Module):
    """Five conv stages (64 -> 32 -> 16 -> 8 -> 4 pixels), global average pooling, and one
    linear head for attribute logits and factor regressions.

    Attributes:
        attributes: names of the logits, ``SYNTH_ATTRIBUTES`` (CelebA names).
        factors: names of the regressed factors, ``CLASSIFIER_FACTORS``.
    """

    def __init__(self, width: int = 24) -> None:
        super().__init__()
        self.attributes, self.factors = SYNTH_ATTRIBUTES, CLASSIFIER_FACTORS
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

    def embed(self, x: Tensor) -> Tensor:
        """``[N,3,H,W]`` -> ``[N, 8w]`` pooled features (the Frechet-distance space)."""
        return self.feature_maps(x)[-1].mean(dim=(2, 3))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``[N,3,H,W]`` -> (attribute logits ``[N,A]``, factor estimates ``[N,F]``)."""
        out = self.head(self.embed(x))
        return out[:, :len(self.attributes)], out[:, len(self.attributes):]

    @torch.no_grad()
    def _in_batches(self, function, x: Tensor, batch: int) -> list:
        """``function`` of each ``batch`` images of ``x``, in eval mode, without gradients."""
        was_training = self.training
        self.eval()
        outputs = [function(x[i:i + batch]) for i in range(0, len(x), batch)]
        self.train(was_training)
        return outputs

    def read(self, x: Tensor, batch: int = 256) -> tuple[Tensor, Tensor]:
        """(attribute probabilities ``[N,A]``, factor estimates ``[N,F]``), in eval mode,
        ``batch`` images at a time."""
        outputs = self._in_batches(self, x, batch)
        return (torch.sigmoid(torch.cat([logits for logits, _ in outputs])),
                torch.cat([estimates for _, estimates in outputs]))

    def features(self, x: Tensor, batch: int = 256) -> Tensor:
        """``[N, 8w]`` pooled features (``embed``: the Frechet-distance space), in eval mode,
        ``batch`` images at a time."""
        return torch.cat(self._in_batches(self.embed, x, batch))

    def probabilities(self, x: Tensor, batch: int = 256) -> Tensor:
        """``[N,A]`` attribute probabilities (``read``'s first half)."""
        return self.read(x, batch)[0]

    def factor(self, name: str) -> int:
        """Column of factor ``name`` in ``read``'s factor estimates."""
        if name not in self.factors:
            raise KeyError(f"the classifier does not estimate {name!r}; it estimates {', '.join(self.factors)}")
        return self.factors.index(name)

    def scorer(self, names: tuple[str, ...] | list[str]):
        """A function ``images [N,3,H,W] -> {name: probability of the first image}`` for
        ``EditPanel``'s readout."""
        columns = [self.attribute(n) for n in names]

        def score(images: Tensor) -> dict[str, float]:
            probs = self.probabilities(images)[0]
            return {n: float(probs[c]) for n, c in zip(names, columns)}

        return score

    def attribute(self, name: str) -> int:
        """Column of ``name`` in this classifier's outputs."""
        if name not in self.attributes:
            raise KeyError(f"the classifier does not read {name!r}; it reads {', '.join(self.attributes)}")
        return self.attributes.index(name)


_ATTR_COLUMNS = [attribute_index(n) for n in SYNTH_ATTRIBUTES]
_FACTOR_COLUMNS = [FACTOR_INDEX[n] for n in CLASSIFIER_FACTORS]


def classifier_loss(model: AttributeClassifier, batch: tuple[Tensor, Tensor, Tensor],
                    step: int) -> tuple[Tensor, dict[str, float]]:
    """Binary cross-entropy on the attributes plus mean squared error on the factors."""
    images, attributes, factors = batch
    logits, estimates = model(images)
    bce = F.binary_cross_entropy_with_logits(logits, attributes[:, _ATTR_COLUMNS])
    mse = F.mse_loss(estimates, factors[:, _FACTOR_COLUMNS])
    return bce + mse, {"bce": bce.item(), "factor_mse": mse.item()}


@torch.no_grad()
def evaluate_classifier(model: AttributeClassifier, faces: SynthFaces) -> dict[str, float]:
    """Per-attribute accuracy and per-factor R^2 on held-out faces."""
    images, attributes, factors = faces.batch(np.arange(len(faces)))
    probs, estimates = model.read(images)
    truth = attributes[:, _ATTR_COLUMNS].bool()
    figures = {f"acc/{name}": float(((probs[:, k] > 0.5) == truth[:, k]).float().mean())
               for k, name in enumerate(model.attributes)}
    target = factors[:, _FACTOR_COLUMNS]
    residual = ((estimates - target) ** 2).mean(0)
    for k, name in enumerate(model.factors):
        figures[f"r2/{name}"] = float(1 - residual[k] / target[:, k].var())
    return figures


def held_out_faces(n: int = 2000, size: int = 64) -> SynthFaces:
    """The held-out set every classifier figure is measured on (the test split)."""
    return SynthFaces(n=n, size=size, seed=0, split="test", progress=False)


def weights_name(image_size: int = 64) -> str:
    """``classifier.safetensors`` reads 64x64 faces; ``classifier_32.safetensors`` was
    trained on 32x32 faces (resized to 64 inside) and reads the 32x32 Glow's faces."""
    return WEIGHTS_NAME if image_size == TRAINED_SIZE else f"classifier_{image_size}.safetensors"


def load_classifier(image_size: int = 64) -> AttributeClassifier:
    """The shipped classifier for faces of ``image_size`` pixels, in eval mode."""
    model = AttributeClassifier()
    load_weights(model, weights_name(image_size))
    return model.eval()
