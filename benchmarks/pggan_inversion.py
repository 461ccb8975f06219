"""Inversion that keeps the person (issue 48): does tuning the generator on the face help?

The shipped inversion finds a code: the encoder's answer, refined on pixels and the
classifier's features (``PGGANGenerator.encode``). **Pivotal tuning** (Roich et al. 2021,
arXiv 2106.05744) then also fine-tunes a copy of the generator so that it draws the face at
that code (the *pivot*), on the same loss, while a locality term keeps the copy drawing
what the generator drew away from it. Two such terms are measured:

- *far*: PTI's own, at codes ``radius`` from the pivot toward random samples,
  ``|G'(r) - G(r)|^2``;
- *edit path*: along the smile direction, the copy's change from the pivot should be the
  generator's, ``|(G'(p + s n) - G'(p)) - (G(p + s n) - G(p))|^2`` for random ``s`` in
  [-3, 3]: the tuned details are carried along the slider.

Each way is scored on ``--faces`` held-out faces that do not smile and look ahead: pixel
error and identity change (the scoreboard's) of the reconstruction against the real face,
then the smile edit's success at strengths 1 and 2 and its identity change at 1 (the
scoreboard's ``EditScorer.score``, with the tuned copy as the model). Writes the table to
``docs/pggan_inversion.md`` and the faces to ``docs/pggan_inversion.png``.

    python benchmarks/pggan_inversion.py [--faces 8] [--steps 300]
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from common import face_data, plot
from common.direction import Direction
from common.edit_figures import showcase_faces
from common.files import atomic_path
from common.judge.classifier import Reading
from common.judge.scoreboard import EditScorer, edits_for, generator_direction
from common.load_or_train import classifier_on_data, pggan_on_data
from common.models.inversion import Features, feature_distance
from common.train.recipes.encoder import classifier_features

DOCS = Path(__file__).resolve().parent.parent / "docs"
STRENGTHS = (-2.0, 0.0, 1.0, 2.0)
FORMATS = {"pixel MSE": ".4f", "reconstruction identity": ".3f", "success": ".0%", "edit identity": ".3f"}


def far_points(generator: nn.Module, pivots: Tensor, radius: float) -> Tensor:
    """``[N, D]``: for each pivot, the code ``radius`` away from it toward a fresh sample."""
    toward = generator.sample_latent(len(pivots)) - pivots
    return pivots + radius * toward / toward.norm(dim=1, keepdim=True)


def pivotal_tuning(generator: nn.Module, faces: Tensor, pivots: Tensor, features: Features, steps: int,
                   lr: float, locality: str, direction: Direction, radius: float) -> nn.Module:
    """A copy of ``generator`` fine-tuned so that ``copy(pivots [N,D]) ~ faces [N,3,R,R]``
    (pixel error plus the feature distance), held by the ``locality`` term (``far`` or
    ``edit path``, the module's docstring)."""
    tuned = copy.deepcopy(generator).eval().requires_grad_(True)
    generator = generator.eval().requires_grad_(False)
    optimizer = torch.optim.Adam(tuned.parameters(), lr=lr)
    with torch.no_grad():
        target_maps = features(faces)
        at_pivots = generator(pivots)         # the edit path's reference: what the generator draws there
    for _ in tqdm(range(steps), desc=f"pivotal tuning ({locality})", leave=False):
        drawn = tuned(pivots)
        loss = (drawn - faces).pow(2).mean() + feature_distance(features, drawn, target_maps)
        if locality == "far":
            away = far_points(generator, pivots, radius)
            with torch.no_grad():
                kept = generator(away)
            loss = loss + (tuned(away) - kept).pow(2).mean()
        else:
            moved = direction.moved(pivots, torch.rand(len(pivots), 1) * 6 - 3)
            with torch.no_grad():
                change = generator(moved) - at_pivots
            loss = loss + ((tuned(moved) - drawn) - change).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    generator.requires_grad_(True)
    return tuned.requires_grad_(False)


def scored(model: nn.Module, codes: Tensor, faces: Tensor, face_reading: Reading, judge: EditScorer,
           direction: Direction, spec) -> dict:
    """One table row: the reconstruction against ``faces`` (read by ``judge`` as
    ``face_reading``) and the smile edit from it."""
    drawn = model.decode(codes)
    before = judge.read(drawn)
    one, two = (judge.score(model, codes, direction, spec, s, before=before) for s in (1.0, 2.0))
    return {"pixel MSE": float((drawn - faces).pow(2).mean()),
            "reconstruction identity change": judge.identity_change(face_reading, before),
            "smile success at 1": one["success"], "smile success at 2": two["success"],
            "edit identity change at 1": one["identity change"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=8, help="held-out faces inverted and edited")
    parser.add_argument("--steps", type=int, default=300, help="pivotal tuning steps")
    parser.add_argument("--lr", type=float, default=1e-3, help="pivotal tuning learning rate")
    parser.add_argument("--radius", type=float, default=3.0, help="distance of the far locality points")
    parser.add_argument("--fit", type=int, default=10_000, help="samples that define the smile direction")
    args = parser.parse_args()
    held_out = face_data("test", n=2000, size=64, seed=0)
    classifier = classifier_on_data(64)
    judge = EditScorer(classifier, held_out.images(slice(None)))
    smile = edits_for(held_out)[0]
    generator = pggan_on_data()
    direction = generator_direction(generator, generator.sample_latent(args.fit, seed=0), judge, smile)
    faces = held_out.images(showcase_faces(held_out, [smile], count=args.faces))
    pivots = generator.encode(faces)
    features = classifier_features(classifier.requires_grad_(False))
    models = {"encoder, refined (shipped)": generator}
    for locality in ("far", "edit path"):
        models[f"pivotal tuning, {locality}"] = pivotal_tuning(generator, faces, pivots, features, args.steps,
                                                               args.lr, locality, direction, args.radius)
    face_reading = judge.read(faces)
    rows = [{"inversion": name, **scored(model, pivots, faces, face_reading, judge, direction, smile)}
            for name, model in models.items()]
    print(plot.text_table(rows, FORMATS))
    rows_shown, labels = [], []
    for k in range(2):
        for name, model in models.items():
            moved = direction.moved(pivots[k:k + 1], torch.tensor(STRENGTHS)[:, None])
            rows_shown.append(torch.cat([faces[k:k + 1], model.decode(moved)]))
            labels.append(name)
    figure = plot.labelled_rows(rows_shown, labels, ["real face", *(f"smile {s:+g}" for s in STRENGTHS)])
    command = f"python benchmarks/pggan_inversion.py --faces {args.faces} --steps {args.steps}"
    with atomic_path(DOCS / "pggan_inversion.png", suffix=".png") as tmp:
        figure.savefig(tmp, dpi=80)
    text = (f"# Inversion that keeps the person: pivotal tuning (issue 48)\n\nGenerated by `{command}` "
            f"(the shipped generator and encoder; {args.faces} held-out faces of {held_out.describe()} that do "
            f"not smile and look ahead; smile direction from {args.fit} samples; tuning lr {args.lr}, far radius "
            f"{args.radius}).\n\n" + plot.markdown_table(rows, FORMATS)
            + "\n\n![two faces, each way, smile at -2, 0, +1, +2](pggan_inversion.png)\n")
    with atomic_path(DOCS / "pggan_inversion.md") as tmp:
        tmp.write_text(text)
    print(f"wrote {DOCS / 'pggan_inversion.md'}")


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
