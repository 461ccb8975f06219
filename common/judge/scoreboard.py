"""One scoreboard for every method: the same edits, judged the same way.

On SynthFaces an edit is a factor crossing a threshold, read by the attribute classifier's
factor estimates (held-out R^2: smile 0.99, yaw 0.99, eye opening 0.96): *smile* (smile >
0.25, SynthFaces' Smiling rule), *narrow eyes* (eye opening < 0.3, Narrow_Eyes) and *pose*
(yaw > 0.2, a head turned to the image's right). CelebA has labels, not factors: there an
edit is its label read by the CelebA classifier (probability of Smiling or Narrow_Eyes >
0.5), and pose, which CelebA does not label, is left out (``edits_for``).

Every method gets a ``Direction`` per edit (``common.direction``): strength 1 moves a face
one *gap*, the distance between the mean coordinates (along the unit direction) of faces
where the edit holds and faces where it does not, so methods with latent spaces of
different scales are compared at the same "typical attribute change". Faces to edit are
those where the edit does not hold yet.

Judged (``EditScorer.score``) for the edited faces:
- before: share where the classifier reads the edit as holding already (a model's own
  reconstruction can differ from the face: blurred eyes read as narrower);
- success: share where the edit now holds;
- target change: mean change of the target factor's estimate, or on CelebA of the
  attribute's probability (per unit strength);
- attribute leakage: mean |change| of the other attributes' probabilities;
- factor leakage (SynthFaces only): mean |change| of the other expression and pose
  factors, in data std;
- identity change (SynthFaces only): mean |change| of the identity factors (face width,
  jaw, brow thickness, skin tone), in data std;
- realism: Frechet distance in classifier features between the edited faces and real ones
  (and, to compare with, between the unedited decodes and real ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ..arithmetic import decode_faces
from ..data import attribute_index
from ..direction import Direction, along, mean_difference
from ..latent import condition, lookalike_vectors, svm_boundary
from .metrics import attribute_leakage, frechet_distance, success
from .classifier import Reading

IDENTITY_FACTORS = ("face_width", "jaw", "brow_thickness", "skin_tone")
MOTION_FACTORS = ("smile", "mouth_open", "eye_open", "brow_raise", "yaw", "roll")


@dataclass(frozen=True)
class EditSpec:
    """An edit: the value read, a SynthFaces factor (``reads="factor"``) or the probability
    of a CelebA attribute (``reads="attribute"``), named ``factor``, above (or below)
    ``threshold``; ``related`` attributes are that value under another name and do not
    count as leakage."""

    name: str
    factor: str
    threshold: float
    above: bool
    related: tuple[str, ...]
    reads: str = "factor"

    def present(self, values: Tensor) -> Tensor:
        """``[N]`` values -> ``[N]`` bool."""
        return values > self.threshold if self.above else values < self.threshold


EDITS = (EditSpec("smile", "smile", 0.25, True, ("Smiling", "High_Cheekbones")),
         EditSpec("narrow eyes", "eye_open", 0.3, False, ("Narrow_Eyes",)),
         EditSpec("pose", "yaw", 0.2, True, ()))
CELEBA_EDITS = (EditSpec("smile", "Smiling", 0.5, True, ("Smiling", "High_Cheekbones"), reads="attribute"),
                EditSpec("narrow eyes", "Narrow_Eyes", 0.5, True, ("Narrow_Eyes",), reads="attribute"))


def edits_for(data) -> tuple[EditSpec, ...]:
    """The edits measurable on ``data``: ``EDITS`` where faces have factors (SynthFaces),
    ``CELEBA_EDITS`` where they have labels only."""
    return EDITS if hasattr(data, "factors") else CELEBA_EDITS


def attribute_margins(classifier, reading: Reading, names: Sequence[str]) -> dict[str, Tensor]:
    """``[N]`` per attribute of ``names``: how far each face of ``reading`` (the classifier's
    reading) is past the attribute's threshold, positive where it holds. Where the classifier
    reads factors (SynthFaces), an attribute that names one of ``EDITS`` (Smiling, Narrow_Eyes,
    and ``"Pose"``) takes that edit's factor reading minus its threshold (signed as the
    edit); any other its logit. Unlike probabilities these never saturate at 0 and 1, so the
    2% most and least extreme faces InterFaceGAN separates are not drawn from ties."""
    named = {spec.related[0] if spec.related else spec.name.capitalize(): spec for spec in EDITS}
    margins = {}
    for name in names:
        spec = named.get(name) if classifier.factors else None
        if spec is None:
            margins[name] = reading.logits[:, classifier.attribute(name)]
        else:
            value = reading.factors[:, classifier.factor(spec.factor)] - spec.threshold
            margins[name] = value if spec.above else -value
    return margins


def true_values(data, spec: EditSpec) -> Tensor:
    """``[N]`` the data's own value of what ``spec`` reads: the factor, or the 0/1 label."""
    if spec.reads == "factor":
        return torch.from_numpy(data.factor(spec.factor))
    return data.attributes[:, attribute_index(spec.factor)].float()


def lookalike_direction(codes: Tensor, faces, spec: EditSpec, start: Tensor, k: int) -> Direction:
    """Per-face directions for the codes ``start [M,D]`` to edit: the attribute vector of each
    one's ``k`` look-alikes among ``codes [N,D]`` (one per face of ``faces``), split by where
    ``spec`` holds (``latent.lookalike_vectors``); each gap is its own vector's length."""
    vectors = lookalike_vectors(codes, spec.present(true_values(faces, spec)), start, k)
    gaps = vectors.norm(dim=1, keepdim=True)
    return Direction(spec.name, vectors / gaps, gaps)


def sample_groups(values: Tensor, spec: EditSpec) -> Tensor:
    """``[N]`` bool: the samples where the edit holds, by their readings ``values [N]``. When
    no sample (or every one) crosses the threshold, as with a barely trained generator, the
    half of the samples nearest to it stands in, so that the gap stays defined."""
    holds = spec.present(values)
    if holds.all() or not holds.any():
        return values > values.median() if spec.above else values < values.median()
    return holds


def svm_direction(codes: Tensor, values: Tensor, spec: EditSpec, held: Sequence[Tensor] = ()) -> Direction:
    """InterFaceGAN's boundary normal from the readings ``values [N]`` of ``codes``' faces.
    ``held``: readings ``[N]`` of the same faces to keep, each by its own boundary; the normal
    is projected off theirs (InterFaceGAN's conditional edit, ``common.latent.condition``)."""
    normal = svm_boundary(codes, values if spec.above else -values).normal
    if held:
        normal = condition(normal, *(svm_boundary(codes, kept).normal for kept in held))
    return along(spec.name, normal, codes, sample_groups(values, spec))


def identity_readings(classifier, reading: Reading) -> list[Tensor]:
    """The identity factors' readings ``[N]`` in ``reading``: what an edit should hold
    (``svm_direction``'s ``held``); none where the classifier reads no factors (CelebA)."""
    return [reading.factors[:, classifier.factor(name)] for name in IDENTITY_FACTORS] if classifier.factors else []


def group_directions(codes: Tensor, faces, specs: Sequence[EditSpec]) -> dict[str, Direction]:
    """The direction for each edit of ``specs``, by name: the mean of ``codes [N,D]`` (one
    per face of ``faces``, a ``FaceData``) where the edit holds minus that of the others."""
    return {spec.name: mean_difference(spec.name, codes, spec.present(true_values(faces, spec))) for spec in specs}


def reading_gaps(judge: EditScorer, faces, face_reading: Reading, reconstruction_reading: Reading,
                 spec: EditSpec) -> dict[str, float]:
    """How much of an edit's change a model keeps: the judge's mean reading where ``spec``
    holds minus where it does not, on the faces of ``faces`` (``face_reading``, the judge's
    ``read`` of their images) and on a model's reconstructions of them
    (``reconstruction_reading``). Beside the ``target change`` of one gap they say where the
    change is lost: in reconstruction (the two gaps differ) or on the way along the latent
    direction (the reconstructions keep it, the edit does not)."""
    holds = spec.present(true_values(faces, spec))
    values = {"faces' gap": judge.value(face_reading, spec),
              "reconstructions' gap": judge.value(reconstruction_reading, spec)}
    return {label: float(value[holds].mean() - value[~holds].mean()) for label, value in values.items()}


def faces_to_edit(faces, spec: EditSpec, n: int) -> Tensor:
    """``[<=n]`` indices of the first ``n`` faces of ``faces`` where ``spec`` does not hold yet."""
    return torch.nonzero(~spec.present(true_values(faces, spec)))[:n, 0]


def codes_to_edit(codes: Tensor, values: Tensor, spec: EditSpec, n: int) -> Tensor:
    """``[<=n, D]`` the first ``n`` of ``codes [N,D]`` whose faces' readings ``values [N]``
    say ``spec`` does not hold yet; when it holds for every face (a generator trained for a
    few steps may draw nothing else), the ``n`` least edited, so that a score still reads
    (its ``before`` column then says they were edited already)."""
    ready = codes[~spec.present(values)][:n]
    if len(ready):
        return ready
    least = values.argsort(descending=not spec.above)[:n]
    return codes[least]


def generator_direction(generator, samples: Tensor, judge: EditScorer, spec: EditSpec) -> Direction:
    """A generator's InterFaceGAN direction for ``spec``, from its ``samples [N,D]`` as ``judge`` reads them."""
    return svm_direction(samples, judge.values(decode_faces(generator, samples), spec), spec)


def best_component(directions: Tensor, codes: Tensor, values: Tensor, spec: EditSpec) -> tuple[int, Direction]:
    """Of unsupervised directions ``[K,D]``, the one whose coordinate correlates most with
    the factor, signed so that it moves toward the edit; returns (index, direction)."""
    coordinates = codes @ directions.T                                   # [N, K]
    x = (coordinates - coordinates.mean(0)) / coordinates.std(0)
    y = (values - values.mean()) / values.std()
    correlation = (x * y[:, None]).mean(0)
    k = int(correlation.abs().argmax())
    sign = 1.0 if (correlation[k] > 0) == spec.above else -1.0
    return k, along(spec.name, sign * directions[k], codes, sample_groups(values, spec))


class EditScorer:
    """Reads faces with one classifier, against one set of real faces ``[M,3,H,W]``."""

    def __init__(self, classifier, real: Tensor) -> None:
        self.classifier = classifier
        self.real_reading = classifier.read(real)
        self.scale = self.real_reading.factors.std(0) if classifier.factors else None   # CelebA: no factors
        self.real_features = self.real_reading.features.numpy()

    def read(self, images: Tensor) -> Reading:
        """The classifier's reading of ``images [N,3,H,W]``; ``value`` picks what an edit reads."""
        return self.classifier.read(images)

    def value(self, reading: Reading, spec: EditSpec) -> Tensor:
        """``[N]`` what ``spec`` reads (its factor estimate or attribute probability) in ``reading``."""
        if spec.reads == "factor":
            return reading.factors[:, self.classifier.factor(spec.factor)]
        return reading.probabilities[:, self.classifier.attribute(spec.factor)]

    def values(self, images: Tensor, spec: EditSpec) -> Tensor:
        """``[N]`` the classifier's reading of what ``spec`` reads in ``images [N,3,H,W]``."""
        return self.value(self.read(images), spec)

    def realism(self, images: Tensor) -> float:
        """Frechet distance between ``images [N,3,H,W]`` and the real faces, in classifier features."""
        return self.realism_of(self.read(images))

    def realism_of(self, reading: Reading) -> float:
        """``realism`` of faces already read."""
        return frechet_distance(reading.features.numpy(), self.real_features)

    def identity_change(self, before: Reading, after: Reading) -> float:
        """Mean change of the identity factors' readings between two readings of the same
        faces, in the real faces' standard deviations (SynthFaces; NaN without factors)."""
        if self.scale is None:
            return float("nan")
        return sum(mean_size for _, mean_size in self.identity_shifts(before, after).values()) / len(IDENTITY_FACTORS)

    def identity_shifts(self, before: Reading, after: Reading) -> dict[str, tuple[float, float]]:
        """Per identity factor (SynthFaces), ``(mean change, mean |change|)`` of its reading
        between two readings of the same faces, in the real faces' standard deviations. Where
        the two are alike the edit carries that factor (every face shifts the same way); a
        mean near 0 beside a large mean size is the face redrawn at random."""
        if self.scale is None:
            raise ValueError("identity shifts need a classifier that reads SynthFaces' factors")
        change = (after.factors - before.factors) / self.scale
        return {name: (float(change[:, self.classifier.factor(name)].mean()),
                       float(change[:, self.classifier.factor(name)].abs().mean())) for name in IDENTITY_FACTORS}

    def decoded(self, model, codes: Tensor) -> Reading:
        """The reading of ``codes [N,D]`` decoded by ``model``: the *before* of ``score``, which
        the scores of one set of codes at several strengths or along several directions share."""
        return self.read(decode_faces(model, codes))

    def score(self, model, codes: Tensor, direction: Direction, spec: EditSpec, strength: float = 1.0,
              before: Reading | None = None) -> dict[str, float]:
        """The metrics above for ``codes [N,D]`` moved by ``strength * gap`` along the direction
        (or, for per-face directions, each code by its own). ``before``: ``decoded(model,
        codes)`` when already at hand."""
        read_before = before if before is not None else self.decoded(model, codes)
        read_after = self.read(decode_faces(model, direction.moved(codes, strength)))
        value_before, value_after = self.value(read_before, spec), self.value(read_after, spec)
        classifier = self.classifier
        others = [k for k, name in enumerate(classifier.attributes) if name not in spec.related]
        metrics = {"before": success(spec.present(value_before)), "success": success(spec.present(value_after)),
                   "target change": float((value_after - value_before).mean() / strength),
                   "attribute leakage": attribute_leakage(read_before.probabilities, read_after.probabilities,
                                                          others)}
        if spec.reads == "factor":
            moved = (read_after.factors - read_before.factors).abs() / self.scale
            motion = [classifier.factor(name) for name in MOTION_FACTORS if name != spec.factor]
            metrics |= {"factor leakage": float(moved[:, motion].mean()),
                        "identity change": self.identity_change(read_before, read_after)}
        return metrics | {"realism (FD)": self.realism_of(read_after),
                          "realism before (FD)": self.realism_of(read_before)}
