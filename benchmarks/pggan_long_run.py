"""Does a design of the design table, trained long, beat the shipped generator (issue 48)?
Both scored exactly as ``benchmarks/pggan_design.py`` scores its arms
(``common.judge.gan_scores``, the same judge, samples and seed): the shipped generator (z
into the generator, 10,000 steps) and the arm ``--arm`` (its options from
``pggan_design.ARMS``; ``w-fast``: a 4-layer mapping network at learning-rate multiplier 0.1,
``wide``: 64 and 32 channels at 32x32 and 64x64) trained by the long run's command, resumed
from its checkpoint folder until it has all its steps. Prints one row each; the better one
is for ``--save``.

    python benchmarks/pggan_long_run.py [--arm w-fast] [--run ~/.cache/fes/pggan-wfast] [--steps 10000] [--samples 20000]
    python benchmarks/pggan_long_run.py --arm wide --run ~/.cache/fes/pggan-wide
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import face_data, plot
from common.config import cache_dir
from common.judge.gan_scores import edit_scores, read_samples
from common.judge.scoreboard import EDITS, EditScorer
from common.load_or_train import classifier_on_data
from common.train.recipes import DataSpec, PGGANRecipe
from common.weights.shipped import load_pggan

from pggan_design import ARMS, FORMATS, SCORED     # a sibling script: benchmarks/ is on the path when run


def long_run_recipe(arm: str, run: Path, steps: int) -> PGGANRecipe:
    """The long run's command as a recipe: the arm's options with ``--steps STEPS
    --phase-steps 700 --batch-size 32 --out RUN`` (the shipped generator's schedule)."""
    return PGGANRecipe.from_options(steps=steps, phase_steps=700, batch_size=32, out=str(run), data=DataSpec(),
                                    **ARMS[arm][1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arm", choices=list(ARMS), default="w-fast", help="the design trained long")
    parser.add_argument("--run", type=Path, default=None, help="the long run's folder (default for w-fast: "
                        "~/.cache/fes/pggan-wfast; else ~/.cache/fes/pggan-ARM)")
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=20_000, help="samples scored per generator")
    args = parser.parse_args()
    run = args.run or cache_dir() / ("pggan-wfast" if args.arm == "w-fast" else f"pggan-{args.arm}")
    judge = EditScorer(classifier_on_data(64), face_data("test", n=2000, size=64, seed=0).images(slice(None)))
    generators = {"shipped (z), 10000 steps": load_pggan(),
                  f"{args.arm}, {args.steps} steps": long_run_recipe(args.arm, run, args.steps).run().model}
    rows = []
    for name, generator in generators.items():
        codes, reading = read_samples(generator, judge, args.samples, seed=1)
        scores = edit_scores(generator, judge, codes, reading, EDITS)
        rows.append({"generator": name, **{key: scores[key] for key in SCORED}})
        print(plot.text_table(rows[-1:], FORMATS), flush=True)
    print(plot.text_table(rows, FORMATS))


if __name__ == "__main__":
    main()
