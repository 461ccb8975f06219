"""Which PGGAN design lets InterFaceGAN make faces smile (issue 48): short runs of equal CPU
budget, each trained by the one training loop on the same SynthFaces with the same seed,
each scored the same way (``common.judge.gan_scores``) on the same number of samples:

- SVM separability: validation accuracy of the linear SVM on the 2% most and least
  smiling (narrow-eyed, turned) samples, by the classifier's continuous factor readings;
- smile success at strengths 1 and 2 along the SVM direction (scoreboard rules), narrow
  eyes and pose at 1; identity change and the edited faces' Frechet ratio;
- Frechet distance of the samples to held-out faces (classifier features).

The arms' step counts make their CPU time equal: full-resolution steps of the wider
generator cost 2.3x the others' and its schedule 1.75x (measured with
``benchmarks/pggan_speed.py``'s step timer). Each run keeps its checkpoint under ``--runs``
and its row of scores in ``docs/pggan_design/ARM.json``, in the repository: running the
script again resumes unfinished runs and reuses the rows of finished ones (scored on as many
samples), even once their run folders are gone. Then the boundary's own inputs are compared
on the best arm: probabilities against factor readings, 10,000 samples against ``--many``
(kept there too). The tables are printed and written to ``docs/pggan_design.md``.

    python benchmarks/pggan_design.py [--arms z,w,labelled-ac] [--budget 2500] [--samples 20000]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from common import face_data, plot
from common.config import cache_dir
from common.files import atomic_path
from common.judge.gan_scores import edit_scores, probability_scores, read_samples, separability
from common.train.loop import CHECKPOINT
from common.train.recipes import DataSpec, PGGANRecipe
from common.judge.scoreboard import EDITS, EditScorer
from common.load_or_train import classifier_on_data

# name: (what it is, recipe options, share of the budget's steps that costs the same CPU time); an
# option given as a function is one of the run's steps (``arm_options``)
ARMS = {
    "z": ("today's design: z straight into the generator, widths 128-128-64-32-16", {}, 1.0),
    "w": ("4-layer mapping network z -> w, boundaries in w", {"mapping_layers": 4}, 1.0),
    "wide": ("wider 32x32 and 64x64 stages (64, 32 channels), same z",
             {"channels": (128, 128, 64, 64, 32)}, 0.57),
    "w-fast": ("the same mapping network learning at a tenth of the generator's rate (StyleGAN: a hundredth)",
               {"mapping_layers": 4, "mapping_lr": 0.1}, 1.0),
    "r1-1": ("today's design with a tenth of the R1 penalty on real images (weight 1, not 10)", {"r1_weight": 1.0}, 1.0),
    "r1-0.1": ("today's design with a hundredth of the R1 penalty (weight 0.1; StyleGAN2's rule of thumb "
               "0.0002 x 64^2 / batch 32 gives 0.03)", {"r1_weight": 0.1}, 1.0),
    "labelled": ("today's design with z's first two axes labelled Smiling and Narrow_Eyes: a projection "
                 "discriminator sees each fake's labels (z_k above its threshold) and each real face's own",
                 {"latent_labels": ("Smiling", "Narrow_Eyes")}, 1.0),
    "labelled-ac": ("the same labelled axes taught by an auxiliary classifier in the discriminator (AC-GAN): "
                    "it learns the real faces' attributes, the generator lowers its cross-entropy on the fakes' labels",
                    {"latent_labels": ("Smiling", "Narrow_Eyes"), "label_loss": "classifier"}, 1.0),
    "labelled-4": ("labelled-ac with Male and Young on z's next two axes, each at its data frequency (the "
                   "attributes the labelled-ac long run drew furthest from the data's)",
                   {"latent_labels": ("Smiling", "Narrow_Eyes", "Male", "Young"), "label_loss": "classifier"}, 1.0),
    "taught": ("labelled-ac whose generator first redraws the shipped VAE's faces, the VAE's latent turned so that "
               "its smile and narrow-eyes directions lie along z's first two axes (an L1 anchor of weight 10 "
               "fading to 0 over the first half of the run)",
               {"latent_labels": ("Smiling", "Narrow_Eyes"), "label_loss": "classifier", "teacher": "vae"}, 1.0),
    "taught-held": ("taught, its anchor fading over the whole run instead of its first half (the generator stays "
                    "nearer the VAE's layout, whose smile keeps the person, for longer)",
                    {"latent_labels": ("Smiling", "Narrow_Eyes"), "label_loss": "classifier", "teacher": "vae",
                     "teacher_steps": lambda steps: steps}, 1.0),
    "taught-kept": ("taught whose auxiliary classifier also reads Male, Young, Pale_Skin and Bushy_Eyebrows (the "
                    "identity factors' attributes) and whose generator keeps those readings when the labelled axes "
                    "are drawn again (weight 1; a second generator pass, so 0.8 of the steps)",
                    {"latent_labels": ("Smiling", "Narrow_Eyes"), "label_loss": "classifier", "teacher": "vae",
                     "keep_labels": ("Male", "Young", "Pale_Skin", "Bushy_Eyebrows")}, 0.8),
    "taught-kept-0.3": ("taught-kept with the keep term weighing 0.3",
                        {"latent_labels": ("Smiling", "Narrow_Eyes"), "label_loss": "classifier", "teacher": "vae",
                         "keep_labels": ("Male", "Young", "Pale_Skin", "Bushy_Eyebrows"), "keep_weight": 0.3}, 0.8),
}
BATCH = 32
DOC = Path(__file__).resolve().parent.parent / "docs" / "pggan_design.md"
KEPT_ROWS = DOC.with_suffix("")             # docs/pggan_design/ARM.json, boundary-inputs-ARM.json


def arm_options(name: str, steps: int) -> dict[str, Any]:
    """The arm's recipe options for a run of ``steps`` steps (those given as functions of the
    run's steps evaluated)."""
    return {key: value(steps) if callable(value) else value for key, value in ARMS[name][1].items()}


def arm_recipe(name: str, budget: int, runs: Path) -> PGGANRecipe:
    """The arm's recipe: its share of ``budget`` steps, phases a tenth of them."""
    steps = round(budget * ARMS[name][2])
    return PGGANRecipe.from_options(steps=steps, batch_size=BATCH, phase_steps=max(1, steps // 10),
                                    out=str(runs / name), data=DataSpec(), **arm_options(name, steps))


def finished_generator(recipe: PGGANRecipe) -> torch.nn.Module:
    """The averaged generator of ``recipe``'s finished run, read from its checkpoint without
    measuring it again (``recipe.run()`` would); a run short of its steps is refused."""
    model = recipe.build()
    path = Path(recipe.train.out) / CHECKPOINT
    state = torch.load(path, weights_only=True, map_location="cpu")
    if state["step"] != recipe.train.steps:
        raise SystemExit(f"{path} is at step {state['step']} of {recipe.train.steps}: finish the run first "
                         f"({recipe.command()} --out {recipe.train.out})")
    model.load_state_dict(state["model"])
    return recipe.shipped_module(model).eval()


def trained_arm(name: str, budget: int, runs: Path) -> tuple[torch.nn.Module, float]:
    """The arm's averaged generator, trained (or resumed) to its steps, and the CPU seconds
    its training used in all (kept in the run folder across resumptions)."""
    recipe = arm_recipe(name, budget, runs)
    spent_file = runs / name / "cpu_seconds.json"
    so_far = json.loads(spent_file.read_text()) if spent_file.exists() else {"cpu_seconds": 0.0, "steps": 0}
    if so_far["steps"] == recipe.train.steps:         # finished before: only reloaded, nothing to add
        return finished_generator(recipe), so_far["cpu_seconds"]
    start = time.process_time()
    generator = recipe.run().model
    spent = so_far["cpu_seconds"] + time.process_time() - start
    with atomic_path(spent_file) as tmp:
        tmp.write_text(json.dumps({"cpu_seconds": spent, "steps": recipe.train.steps}))
    return generator, spent


SCORED = ("smile separability", "narrow eyes separability", "pose separability", "smile success at 1",
          "smile success at 2", "narrow eyes success at 1", "pose success at 1", "identity change",
          "edited FD ratio", "frechet")


def kept(path: Path, settings: dict, field: str, make: Callable[[], Any]) -> Any:
    """``make()``, kept in the JSON file ``path`` as ``field`` beside ``settings``: read back
    instead of made again when the file was written with the same settings."""
    if path.exists():
        stored = json.loads(path.read_text())
        if all(stored.get(key) == value for key, value in settings.items()):
            return stored[field]
    value = make()
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({**settings, field: value}))
    return value


def all_kept(folder: Path, field: str) -> list[Any]:
    """The ``field`` of every JSON file ``kept`` wrote in ``folder``, in the order of their names."""
    return [json.loads(path.read_text())[field] for path in sorted(folder.glob("*.json"))]


def scored(generator: torch.nn.Module, judge: EditScorer, samples: int) -> dict[str, float]:
    """The design table's scores (``SCORED``) of ``generator`` on ``samples`` seeded samples."""
    codes, reading = read_samples(generator, judge, samples, seed=1)
    scores = edit_scores(generator, judge, codes, reading, EDITS)
    return {key: scores[key] for key in SCORED}


def arm_row(name: str, budget: int, runs: Path, judge: EditScorer, samples: int) -> dict:
    """The arm's row of scores: trained (or resumed) and scored on ``samples`` samples, or
    read back from ``KEPT_ROWS`` when that run was already scored so."""
    steps = arm_recipe(name, budget, runs).train.steps

    def make() -> dict:
        generator, spent = trained_arm(name, budget, runs)
        return {"arm": name, "steps": steps, "CPU min": spent / 60, **scored(generator, judge, samples)}

    return kept(KEPT_ROWS / f"{name}.json", {"steps": steps, "samples": samples}, "row", make)


def design_table(arms: list[str], budget: int, runs: Path, judge: EditScorer, samples: int) -> list[dict]:
    """One row of scores per arm, printed as each arm finishes."""
    rows = []
    for name in arms:
        rows.append(arm_row(name, budget, runs, judge, samples))
        print(plot.text_table(rows[-1:], FORMATS), flush=True)
    return rows


def boundary_inputs_table(name: str, budget: int, runs: Path, judge: EditScorer, many: int) -> list[dict]:
    """The SVM's separability on the arm ``name``'s generator with probabilities or factor
    readings, on 10,000 samples or ``many``; read back from ``KEPT_ROWS`` when that table
    was already made on as many samples."""
    def make() -> list[dict]:
        codes, reading = read_samples(trained_arm(name, budget, runs)[0], judge, many, seed=1)
        rows = []
        for n in sorted({min(10_000, many), many}):
            for kind in ("probabilities", "factor readings"):
                row = {"arm": name, "samples": n, "scores": kind}
                for spec in EDITS:
                    values = (probability_scores(judge, reading, spec) if kind == "probabilities"
                              else judge.value(reading, spec))
                    row[f"{spec.name} separability"] = separability(codes[:n], values[:n], spec)
                rows.append(row)
        return rows

    return kept(KEPT_ROWS / f"boundary-inputs-{name}.json", {"many": many}, "rows", make)


FORMATS = {"CPU": ".0f", "smile": ".0%", "narrow": ".0%", "pose": ".0%", "identity": ".3f", "edited": ".2f",
           "frechet": ".1f"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated, of {', '.join(ARMS)}")
    parser.add_argument("--budget", type=int, default=2500, help="steps of the cheapest arm")
    parser.add_argument("--samples", type=int, default=20_000, help="samples scored per arm")
    parser.add_argument("--many", type=int, default=100_000, help="samples of the boundary-inputs comparison")
    parser.add_argument("--runs", type=Path, default=cache_dir() / "pggan-design")
    args = parser.parse_args()
    arms = args.arms.split(",")
    held_out = face_data("test", n=2000, size=64, seed=0)
    judge = EditScorer(classifier_on_data(64), held_out.images(slice(None)))
    rows = design_table(arms, args.budget, args.runs, judge, args.samples)
    best = max(rows, key=lambda row: row["smile separability"] + row["smile success at 1"])["arm"]
    inputs = boundary_inputs_table(best, args.budget, args.runs, judge, args.many)
    print(plot.text_table(rows, FORMATS))
    print(plot.text_table(inputs, FORMATS))
    command = f"python benchmarks/pggan_design.py --arms {args.arms} --budget {args.budget} --samples {args.samples}"
    with atomic_path(DOC) as tmp:
        tmp.write_text(f"# PGGAN designs at equal CPU budget (issue 48)\n\nGenerated by `{command}`; "
                       f"{held_out.describe()} as the judge's real faces; finished arms' rows as kept in "
                       "`docs/pggan_design/`.\n\n"
                       + "\n".join(f"- `{name}`: {ARMS[name][0]}" for name in arms)
                       + "\n\n" + plot.markdown_table(rows, FORMATS)
                       + f"\n\nThe SVM's inputs on the best arm (`{best}`):\n\n" + plot.markdown_table(inputs, FORMATS)
                       + "\n")
    print(f"wrote {DOC}")


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
