"""How well a generator's latent space serves InterFaceGAN, by the scoreboard's rules.

For a generator and a ``scoreboard.EditScorer``: the linear SVM's validation accuracy on the 2%
most and least extreme samples of each edit (InterFaceGAN's separability, scored by the
judge's continuous factor readings or by its attribute probabilities), the success of the
SVM direction at strengths 1 and 2 on samples where the edit does not hold yet, the identity
change, and the samples' Frechet distance to real faces. ``benchmarks/pggan_design.py``
ranks generator designs by these numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ..arithmetic import decode_faces
from ..latent import svm_boundary
from .classifier import Reading
from .scoreboard import EditSpec, EditScorer, codes_to_edit, svm_direction

SEPARABILITY_RATIO = 0.02     # InterFaceGAN's share of samples taken from each end
READ_CHUNK = 5_000            # samples drawn and read at a time (5,000 64x64 faces: 250 MB)


@torch.no_grad()
def read_samples(generator, judge: EditScorer, n: int, seed: int = 0) -> tuple[Tensor, Reading]:
    """``n`` seeded codes ``[n, D]`` of the generator's edit space and the judge's reading of
    their faces, drawn ``READ_CHUNK`` at a time so that ``n`` may be in the hundreds of
    thousands without holding the images."""
    codes = generator.sample_latent(n, seed=seed)
    parts = [judge.read(decode_faces(generator, codes[i:i + READ_CHUNK])) for i in range(0, n, READ_CHUNK)]
    return codes, Reading(*(torch.cat(column) for column in zip(*parts)))


def separability(codes: Tensor, scores: Tensor, spec: EditSpec, ratio: float = SEPARABILITY_RATIO) -> float:
    """Validation accuracy of the linear SVM between the ``ratio`` of ``codes [N,D]`` with the
    highest and lowest ``scores [N]`` (signed so that high means the edit holds)."""
    return svm_boundary(codes, scores if spec.above else -scores, ratio=ratio).val_accuracy


def probability_scores(judge: EditScorer, reading: Reading, spec: EditSpec) -> Tensor:
    """``[N]`` the probability of the CelebA attribute named like the edit's rule (Smiling,
    Narrow_Eyes; pose has none, so its factor reading), as notebook 03 once scored samples:
    saturated at 0 and 1, so that the 2% ends are drawn from ties."""
    names = {"smile": "Smiling", "narrow eyes": "Narrow_Eyes"}
    if spec.name not in names:
        return judge.value(reading, spec)
    probability = reading.probabilities[:, judge.classifier.attribute(names[spec.name])]
    return probability if spec.above else 1.0 - probability


def edit_scores(generator, judge: EditScorer, codes: Tensor, reading: Reading, specs: Sequence[EditSpec],
                n_edit: int = 128, strengths: Sequence[float] = (1.0, 2.0)) -> dict[str, float]:
    """For each edit of ``specs``: ``NAME separability`` (factor readings), ``NAME success at S``
    for the SVM direction at each strength on the first ``n_edit`` codes where the edit does
    not hold, and, for the first edit, its identity change and the Frechet ratio of its edited
    faces at strength 1 to the unedited ones. Also ``frechet``: the first 2,000 samples
    against the judge's real faces."""
    scores = {"frechet": judge.realism_of(Reading(*(column[:2000] for column in reading)))}
    for k, spec in enumerate(specs):
        values = judge.value(reading, spec)
        scores[f"{spec.name} separability"] = separability(codes, values, spec)
        direction = svm_direction(codes, values, spec)
        start = codes_to_edit(codes, values, spec, n_edit)
        before = judge.decoded(generator, start)
        for strength in strengths:
            figures = judge.score(generator, start, direction, spec, strength, before=before)
            scores[f"{spec.name} success at {strength:g}"] = figures["success"]
            if k == 0 and strength == 1.0:
                scores["identity change"] = figures.get("identity change", float("nan"))
                scores["edited FD ratio"] = figures["realism (FD)"] / figures["realism before (FD)"]
    return scores
