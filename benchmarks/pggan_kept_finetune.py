"""Kept labels as a second phase (issue 48): the ``taught`` long run, once its labelled axes
draw the smile, continued with the kept labels' term (``benchmarks/pggan_design.py``'s
``taught-kept`` options, the teacher's fade as in the first phase). Trained from the start,
the keep term stops the labels from being learned (the fakes' label error stays near chance);
here the smile is learned first, and the term then asks the generator to keep the person.

The continuation loads the ``taught`` long run's checkpoint (``pggan_long_run.py``'s run
folder: generator, discriminator and averaged generator; the discriminator's logits of the
kept labels start as built), goes on from its step with a fresh optimizer, checkpoints into
its own folder (resumable), and is scored exactly as the long runs are; its row joins
theirs in ``docs/pggan_long_run/`` (``python benchmarks/pggan_long_run.py --arms taught``
rewrites the table with it).

    python benchmarks/pggan_kept_finetune.py [--extra 1500] [--keep-weight 1]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import torch

from common import face_data, plot
from common.config import cache_dir
from common.judge.scoreboard import EditScorer
from common.load_or_train import classifier_on_data
from common.train.loop import CHECKPOINT, History, train
from common.train.recipes import DataSpec, PGGANRecipe

from pggan_design import FORMATS, arm_options, kept, scored       # a sibling script: benchmarks/ is on the path when run
from pggan_long_run import KEPT_ROWS, long_run_recipe

FIRST_PHASE, FIRST_STEPS, SECOND = "taught", 10_000, "taught-kept"


def continued(first: PGGANRecipe, extra: int, keep_weight: float) -> tuple[PGGANRecipe, torch.nn.Module, tuple[int, History]]:
    """The second phase's recipe, its model holding the first phase's finished run, and
    ``(step, history)`` to go on from."""
    options = arm_options(SECOND, first.train.steps) | {"keep_weight": keep_weight, "teacher_steps": first.teacher_steps}
    out = cache_dir() / f"pggan-{FIRST_PHASE}-then-kept-{keep_weight:g}"
    recipe = PGGANRecipe.from_options(steps=first.train.steps + extra, phase_steps=first.phase_steps,
                                      batch_size=first.train.batch_size, out=str(out), data=DataSpec(), **options)
    path = Path(first.train.out) / CHECKPOINT
    state = torch.load(path, weights_only=False, map_location="cpu")
    if state["step"] != first.train.steps:
        raise SystemExit(f"{path} is at step {state['step']} of {first.train.steps}: finish the first phase "
                         f"(python benchmarks/pggan_long_run.py --arms {FIRST_PHASE})")
    model = recipe.initial_model()
    weights = dict(state["model"])
    grown = model.state_dict()["discriminator.label_vectors"].clone()      # [labelled + kept, F]
    labelled = weights["discriminator.label_vectors"]
    grown[:len(labelled)] = labelled
    model.load_state_dict(weights | {"discriminator.label_vectors": grown})
    return recipe, model, (state["step"], History(**state["history"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extra", type=int, default=1500, help="steps of the second phase")
    parser.add_argument("--keep-weight", type=float, default=1.0, help="the keep term's weight")
    parser.add_argument("--samples", type=int, default=20_000, help="samples scored")
    args = parser.parse_args()
    held_out = face_data("test", n=2000, size=64, seed=0)
    judge = EditScorer(classifier_on_data(64), held_out.images(slice(None)))

    def make() -> dict:
        recipe, model, start = continued(long_run_recipe(FIRST_PHASE, FIRST_STEPS), args.extra, args.keep_weight)
        training = recipe.data.training(recipe.image_size)
        recipe.prepare(model, training)
        train(model, recipe.loss(None), training, replace(recipe.train, made_by=recipe.loss_block()), start=start)
        return {"generator": f"`{FIRST_PHASE}`, then {args.extra} steps with kept labels (weight {args.keep_weight:g})",
                "command": f"python benchmarks/pggan_kept_finetune.py --extra {args.extra} --keep-weight {args.keep_weight:g}",
                **scored(recipe.shipped_module(model).eval(), judge, args.samples)}

    settings = {"steps": FIRST_STEPS + args.extra, "samples": args.samples}
    row = kept(KEPT_ROWS / f"{FIRST_PHASE}-then-kept-{args.keep_weight:g}.json", settings, "row", make)
    print(plot.text_table([row], FORMATS))


if __name__ == "__main__":
    main()
