"""Does the design table's winner, trained long, beat the shipped generator (issue 48)? Both
scored exactly as ``benchmarks/pggan_design.py`` scores its arms (``common.judge.gan_scores``,
the same judge, samples and seed): the shipped generator (z into the generator, 10,000
steps) and the ``w-fast`` design (a 4-layer mapping network at learning-rate multiplier 0.1)
trained by the long run's command, resumed from its checkpoint folder until it has all its
steps. Prints one row each; the better one is for ``--save``.

    python benchmarks/pggan_long_run.py [--run ~/.cache/fes/pggan-wfast] [--steps 10000] [--samples 20000]
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

from pggan_design import FORMATS, SCORED     # a sibling script: benchmarks/ is on the path when run


def long_run_recipe(run: Path, steps: int) -> PGGANRecipe:
    """The long run's command as a recipe: ``python -m common.train pggan --mapping-layers 4
    --mapping-lr 0.1 --steps STEPS --phase-steps 700 --batch-size 32 --out RUN``."""
    return PGGANRecipe.from_options(mapping_layers=4, mapping_lr=0.1, steps=steps, phase_steps=700, batch_size=32,
                                    out=str(run), data=DataSpec())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=cache_dir() / "pggan-wfast", help="the long run's folder")
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=20_000, help="samples scored per generator")
    args = parser.parse_args()
    judge = EditScorer(classifier_on_data(64), face_data("test", n=2000, size=64, seed=0).images(slice(None)))
    generators = {"shipped (z), 10000 steps": load_pggan(),
                  f"w-fast, {args.steps} steps": long_run_recipe(args.run, args.steps).run().model}
    rows = []
    for name, generator in generators.items():
        codes, reading = read_samples(generator, judge, args.samples, seed=1)
        scores = edit_scores(generator, judge, codes, reading, EDITS)
        rows.append({"generator": name, **{key: scores[key] for key in SCORED}})
        print(plot.text_table(rows[-1:], FORMATS), flush=True)
    print(plot.text_table(rows, FORMATS))


if __name__ == "__main__":
    main()
