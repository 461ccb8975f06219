"""Why InterFaceGAN barely moves the smile of our PGGAN (issue 48): does the generator draw
the data's smiles at all, and is the smile any more linear in its feature maps than in z?

Three tables, written to ``docs/pggan_smile_reach.md`` (notebook 03 shows it):

1. **What the samples draw.** For each scoreboard edit, the judge's reading of ``--samples``
   samples against the held-out faces: the share where the edit holds, the 2%, 50% and 98%
   quantiles, and the R^2 of the best linear function of z (least squares with an
   intercept): 1 means the reading is a linear function of the latent, where one
   hyperplane's normal is all an edit needs.
2. **Where the boundary lives.** InterFaceGAN's boundary fitted, and the edit scored by
   ``common.judge.gan_scores.edit_scores`` (the design table's columns), in z and in the
   generator's feature maps after its 4x4, 8x8 and 16x16 stages (``FeatureMapView``: the
   map is the code, the stages after it decode it; GAN Dissection, Bau et al. 2019, edits
   PGGAN's units there), and the mean difference of the groups in each space (strength 1
   moves a code from the mean of samples without the edit to the mean of those with it).
3. **What the design table's arms draw** (``benchmarks/pggan_design.py``'s short runs, from
   their run folders): the share of samples where each edit holds, against the data's, and
   the smile's R^2 in the arm's edit space, so that an arm's edit scores can be read against
   what its samples cover.

    python benchmarks/pggan_smile_reach.py [--samples 10000] [--arms z,w,wide,w-fast,r1-1,r1-0.1]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import Tensor, nn

from common import face_data, plot
from common.config import cache_dir
from common.direction import mean_difference
from common.files import atomic_path
from common.judge.gan_scores import edit_scores, read_samples
from common.judge.classifier import Reading
from common.judge.metrics import success
from common.judge.scoreboard import EDITS, EditScorer, codes_to_edit, sample_groups
from common.load_or_train import classifier_on_data
from common.weights.shipped import load_pggan

from pggan_design import FORMATS, arm_recipe, trained_arm     # a sibling script: benchmarks/ is on the path when run

DOC = Path(__file__).resolve().parent.parent / "docs" / "pggan_smile_reach.md"
STAGES = {"z": None, "4x4 map": 1, "8x8 map": 3, "16x16 map": 5}   # name: the block whose output is the code
QUANTILES = (0.02, 0.5, 0.98)
SPACE_FORMATS = FORMATS | {"SVM success": ".0%", "SVM identity": ".3f", "mean diff. success": ".0%",
                           "mean diff. identity": ".3f", "dim": "d"}


class FeatureMapView(nn.Module):
    """A generator seen from the output of its block ``layer{layer}``: codes are that block's
    feature maps flattened (``[N, C*S*S]``), ``decode`` runs the blocks after it."""

    def __init__(self, generator: nn.Module, layer: int) -> None:
        super().__init__()
        self.generator, self.layer = generator, layer
        level = layer // 2
        self.shape = (generator.config.channels[level], 4 * 2 ** level, 4 * 2 ** level)

    @torch.no_grad()
    def sample_latent(self, n: int, seed: int | None = None) -> Tensor:
        """``[n, C*S*S]``: the feature maps of the generator's seeded samples."""
        z = self.generator.sample_latent(n, seed=seed)
        return torch.cat([self.generator.activations(z[i:i + 1000], self.layer) for i in range(0, n, 1000)])

    @torch.no_grad()
    def decode(self, codes: Tensor) -> Tensor:
        """Feature maps ``[N, C*S*S]`` -> faces ``[N,3,R,R]`` in [-1, 1]."""
        g = self.generator
        x = codes.view(len(codes), *self.shape)
        for k in range(self.layer + 1, 2 * g.levels):
            x = g.block(f"layer{k}")(x)
        return g.block(f"output{g.levels - 1}")(x).clamp(-1.0, 1.0)


def linear_r2(codes: Tensor, values: Tensor) -> float:
    """R^2 of the least-squares fit ``values [N] ~ codes [N,D] @ b + c``."""
    design = torch.cat([codes, torch.ones(len(codes), 1)], dim=1).double()
    fit = design @ torch.linalg.lstsq(design, values.double()[:, None]).solution
    return float(1 - (fit[:, 0] - values).var() / values.var())


def share_holding(judge: EditScorer, reading, spec) -> float:
    """The share of the faces read in ``reading`` where the edit ``spec`` holds."""
    return success(spec.present(judge.value(reading, spec)))


def drawn_rows(judge: EditScorer, codes: Tensor, reading) -> list[dict]:
    """Table 1: per edit, the samples' readings against the real faces'."""
    rows = []
    for spec in EDITS:
        sampled, real = judge.value(reading, spec), judge.value(judge.real_reading, spec)
        row = {"edit": spec.name, "reads": spec.factor, "holds in samples": share_holding(judge, reading, spec),
               "holds in data": share_holding(judge, judge.real_reading, spec)}
        for q in QUANTILES:
            row[f"{q:.0%} samples / data"] = (f"{float(sampled.quantile(q)):+.2f} / "
                                              f"{float(real.quantile(q)):+.2f}")
        rows.append(row | {"R2 linear in z": linear_r2(codes, sampled)})
    return rows


def arm_rows(judge: EditScorer, arms: list[str], budget: int, samples: int) -> list[dict]:
    """Table 3: per design arm, the share of its samples where each edit holds and the
    smile's R^2 in its edit space; the data's shares first."""
    runs = cache_dir() / "pggan-design"
    rows = [{"generator": "data (held-out faces)",
             **{f"{spec.name} holds": share_holding(judge, judge.real_reading, spec) for spec in EDITS},
             "R2 of the smile, linear": None}]
    for name in arms:
        generator = trained_arm(name, budget, runs)[0].eval()
        codes, reading = read_samples(generator, judge, samples, seed=1)
        rows.append({"generator": f"`{name}`, {arm_recipe(name, budget, runs).train.steps} steps",
                     **{f"{spec.name} holds": share_holding(judge, reading, spec) for spec in EDITS},
                     "R2 of the smile, linear": linear_r2(codes, judge.value(reading, EDITS[0]))})
    return rows


def mean_difference_success(view: nn.Module, judge: EditScorer, codes: Tensor, reading, spec) -> dict[str, float]:
    """Success at strengths 1 and 2 and identity change at 1 of the groups' mean difference."""
    values = judge.value(reading, spec)
    direction = mean_difference(spec.name, codes, sample_groups(values, spec))
    start = codes_to_edit(codes, values, spec, 128)
    before = judge.decoded(view, start)
    one, two = (judge.score(view, start, direction, spec, s, before=before) for s in (1.0, 2.0))
    return {"mean diff. success at 1": one["success"], "mean diff. success at 2": two["success"],
            "mean diff. identity change": one["identity change"]}


def space_rows(generator: nn.Module, judge: EditScorer, z_samples: tuple[Tensor, Reading]) -> list[dict]:
    """Table 2: InterFaceGAN's boundary and the mean difference in z and in each feature map,
    on the same seeded samples as ``z_samples`` (their codes ``[N,D]`` and reading)."""
    rows = []
    for name, layer in STAGES.items():
        view = generator if layer is None else FeatureMapView(generator, layer)
        codes, reading = z_samples if layer is None else read_samples(view, judge, len(z_samples[0]), seed=1)
        scores = edit_scores(view, judge, codes, reading, EDITS[:1])
        rows.append({"space": name, "dimensions": codes.shape[1], "smile separability": scores["smile separability"],
                     "SVM success at 1": scores["smile success at 1"],
                     "SVM success at 2": scores["smile success at 2"], "SVM identity change": scores["identity change"],
                     **mean_difference_success(view, judge, codes, reading, EDITS[0])})
        print(plot.text_table(rows[-1:], SPACE_FORMATS), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=10_000, help="samples read per space")
    parser.add_argument("--arms", default="z,w,wide,w-fast,r1-1,r1-0.1",
                        help="the pggan_design.py arms whose samples table 3 reads (trained by it first)")
    parser.add_argument("--budget", type=int, default=2500, help="the design table's budget")
    args = parser.parse_args()
    held_out = face_data("test", n=2000, size=64, seed=0)
    judge = EditScorer(classifier_on_data(64), held_out.images(slice(None)))
    generator = load_pggan()
    codes, reading = read_samples(generator, judge, args.samples, seed=1)
    formats = SPACE_FORMATS | {"holds": ".0%", "R2": ".2f"}
    drawn = drawn_rows(judge, codes, reading)
    print(plot.text_table(drawn, formats))
    spaces = space_rows(generator, judge, (codes, reading))
    print(plot.text_table(spaces, formats))
    arms = arm_rows(judge, args.arms.split(","), args.budget, args.samples)
    print(plot.text_table(arms, formats))
    command = f"python benchmarks/pggan_smile_reach.py --samples {args.samples} --arms {args.arms}"
    text = (f"# Where the PGGAN's smile is (issue 48)\n\nGenerated by `{command}` (the shipped generator, "
            f"{args.samples} samples; {held_out.describe()} as the judge's real faces).\n\n"
            "## What the samples draw\n\n" + plot.markdown_table(drawn, formats)
            + "\n\n## Where the boundary lives: z or a feature map\n\n" + plot.markdown_table(spaces, formats)
            + "\n\n## What the design table's arms draw\n\n" + plot.markdown_table(arms, formats) + "\n")
    with atomic_path(DOC) as tmp:
        tmp.write_text(text)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
