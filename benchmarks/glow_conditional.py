"""Why the Glow paper's class-conditional prior matters (issue 47): the scoreboard's three
edits on the same held-out faces at the same strengths, for

- the unconditional Glow with the whole-set attribute vector (mean of the training faces'
  codes with the attribute minus without; the baseline of notebook 04),
- the conditional Glow with the same kind of vector, and
- the conditional Glow with its own edit, the prior shift ``mu(y_+) - mu(y_-)`` (strength 1:
  the shift itself, the model's estimate of one gap): with ``y_+`` the attribute alone and
  ``y_-`` nothing ("prior shift"), or with ``y_+``, ``y_-`` the mean attributes of the
  training faces with and without it ("prior shift, groups": a smile's cheeks and open mouth
  come with it, as in the data).

Pose has no attribute to condition on, so it is edited by the whole-set vector in every
model. Success, target change and identity change as notebook 05 measures them; realism is
the Frechet distance of the edited faces (and, after the slash, of the unedited decodes).

    python benchmarks/glow_conditional.py [--size 64] [--fit 3000] [--faces 100]
    python benchmarks/glow_conditional.py --checkpoint ~/.cache/fes-runs/RUN/checkpoint.pt   # a run in progress
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from common import face_data
from common.arithmetic import encode_faces
from common.models.glow import Glow
from common.weights.shipped import load_glow
from common.train.recipes import GlowRecipe
from common.direction import Direction, from_step
from common.judge.scoreboard import EditScorer, edits_for, faces_to_edit, group_directions
from common.load_or_train import classifier_on_data

PRIOR_EDITS = {"smile": "Smiling", "narrow eyes": "Narrow_Eyes"}   # the attribute each edit conditions on


def conditional_glow(size: int, checkpoint: Path | None) -> Glow:
    """The shipped conditional Glow, or the model of a training run's checkpoint."""
    if checkpoint is None:
        return load_glow(size, conditional=True)
    model = GlowRecipe.from_options(image_size=size, conditional=True).build()
    state = torch.load(checkpoint, weights_only=True, map_location="cpu")
    model.load_state_dict(state["model"])
    print(f"conditional Glow from {checkpoint}, step {state['step']}")
    return model.eval()


def prior_direction(glow: Glow, attribute: str, train=None) -> Direction:
    """The prior shift of ``attribute``; given ``train`` (``FaceData``), between the mean
    attributes of its faces with and without it."""
    shift = glow.prior_shift(attribute) if train is None else glow.group_prior_shift(attribute, train.attributes)
    return from_step(attribute, shift)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=64, choices=(32, 64))
    parser.add_argument("--fit", type=int, default=3000, help="training faces for the whole-set vectors")
    parser.add_argument("--faces", type=int, default=100, help="held-out faces per edit")
    parser.add_argument("--strengths", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--refit", action="store_true", help="with --checkpoint: refit the prior's map first, "
                        "as the recipe does after training")
    args = parser.parse_args()
    torch.manual_seed(0)
    train, test = face_data("train", n=args.fit, size=args.size), face_data("test", n=1000, size=args.size)
    judge = EditScorer(classifier_on_data(args.size), test.images(slice(None)))
    specs = edits_for(test)
    conditional = conditional_glow(args.size, args.checkpoint)
    if args.refit:
        GlowRecipe.from_options(image_size=args.size, conditional=True).finish(conditional, face_data("train", n=2000,
                                                                                                     size=args.size))
    models = {"unconditional": load_glow(args.size), "conditional": conditional}
    print(f"Glow {args.size}x{args.size}: {args.faces} held-out faces per edit, whole-set vectors from "
          f"{args.fit} training faces")
    header = "".join(f"{f'success@{s:g}':>11}{f'change@{s:g}':>10}{f'identity@{s:g}':>12}{f'FD@{s:g}':>13}"
                     for s in args.strengths)
    print(f"{'model':<15}{'edit way':<16}{'edit':<13}{header}")
    for label, glow in models.items():
        codes = encode_faces(glow, test.images(slice(None)))
        whole = group_directions(encode_faces(glow, train.images(slice(None))), train, specs)
        for spec in specs:
            start = codes[faces_to_edit(test, spec, args.faces)]
            before = judge.decoded(glow, start)
            ways = {"whole-set": whole[spec.name]}
            if glow.conditional is not None and spec.name in PRIOR_EDITS:
                ways["prior shift"] = prior_direction(glow, PRIOR_EDITS[spec.name])
                ways["prior, groups"] = prior_direction(glow, PRIOR_EDITS[spec.name], train)
            for way, direction in ways.items():
                cells = ""
                for strength in args.strengths:
                    scores = judge.score(glow, start, direction, spec, strength, before=before)
                    realism = f"{scores['realism (FD)']:.1f}/{scores['realism before (FD)']:.1f}"
                    cells += (f"{scores['success']:>11.0%}{strength * scores['target change']:>+10.2f}"
                              f"{scores['identity change']:>12.3f}{realism:>13}")
                print(f"{label:<15}{way:<16}{spec.name:<13}{cells}", flush=True)


if __name__ == "__main__":
    main()
