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

Each model edits its raw latents ``z``; "cond., top view" is the conditional Glow through
``GlowTopView``: codes that hold the top level's ``z`` and the finer levels' ``eps``, so that
decoding redraws each finer level under its learned prior given the edited levels above
(``z_k = mu_k(h_k) + eps_k * sigma_k(h_k)``) and the finer levels follow the top. It turns
more faces at the same strength, but where an edit moves much fine detail (bangs,
glasses) the finer priors' scale grows with it and the far end of a slider saturates, so
the notebooks edit the raw ``z``.

Pose has no attribute to condition on, so it is edited by the whole-set vector in every
model. Success and identity change as notebook 05 measures them; realism is the Frechet
distance of the edited faces over that of the unedited decodes. A complete run (every
model, no checkpoint) writes the table to ``docs/glow_conditional.md`` (notebook 04 shows it).

    python benchmarks/glow_conditional.py [--size 64] [--fit 3000] [--faces 100]
    python benchmarks/glow_conditional.py --checkpoint ~/.cache/fes-runs/RUN/checkpoint.pt   # a run in progress
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import Tensor, nn

from common import face_data, plot
from common.files import atomic_path
from common.arithmetic import encode_faces
from common.models.glow import Glow
from common.models.base import on_model_device
from common.weights.shipped import load_glow
from common.train.recipes import GlowRecipe
from common.direction import Direction, from_step
from common.judge.scoreboard import EditScorer, edits_for, faces_to_edit, group_directions
from common.load_or_train import classifier_on_data

DOC = Path(__file__).resolve().parent.parent / "docs" / "glow_conditional.md"
FORMATS = {"success": ".0%", "identity": ".3f", "FD": ".2f"}
MODELS = ("unconditional", "conditional", "cond., top view")
PRIOR_EDITS = {"smile": "Smiling", "narrow eyes": "Narrow_Eyes"}   # the attribute each edit conditions on


class GlowTopView(nn.Module):
    """``LatentModel`` over a ``Glow``: codes ``[N, latent_dim]`` laid out as the Glow's
    (finest split first, the top last), with the top level's raw ``z`` and every finer
    level's ``eps``. The Glow itself is ``glow``; an edit direction that is zero below the
    top (``Glow.prior_shift``) moves the same coordinates in either layout."""

    def __init__(self, glow: Glow) -> None:
        super().__init__()
        self.glow, self.latent_dim, self.image_size = glow, glow.latent_dim, glow.image_size
        self.top = glow.level_slices()[-1]

    @on_model_device
    def encode(self, x: Tensor) -> Tensor:
        """``[N,3,H,W]`` in [-1,1] -> ``[N, latent_dim]`` (exact)."""
        with torch.no_grad():
            z, eps, _ = self.glow.latents(x / 2.0)
        codes = torch.cat([level.flatten(1) for level in eps], dim=1)
        codes[:, self.top] = z[-1].flatten(1)
        return codes

    def _noise(self, codes: Tensor) -> Tensor:
        """``codes [N, latent_dim]`` -> every level's ``eps`` (the top's under its prior given
        the training share of attributes, which ``latents_from_noise`` undoes)."""
        top_level, noise = self.glow.levels[-1], codes.clone()
        share = self.glow._attributes_or_share(None, len(codes))
        mean, logs = top_level._prior(codes.new_zeros(len(codes), *self.glow.shapes[-1]), share)
        noise[:, self.top] = ((codes[:, self.top].view_as(mean) - mean) * torch.exp(-logs)).flatten(1)
        return noise

    def raw_latents(self, codes: Tensor) -> Tensor:
        """``[N, latent_dim]`` codes -> the Glow's raw latents ``z`` they stand for: the top's
        as given, each finer level's redrawn under its prior given the levels above."""
        with torch.no_grad():
            return self.glow.latents_from_noise(self._noise(codes))

    @on_model_device
    def decode(self, codes: Tensor) -> Tensor:
        """``[N, latent_dim]`` -> ``[N,3,H,W]`` in [-1,1] (``Glow.decode`` of ``raw_latents``)."""
        return self.glow.decode(self.raw_latents(codes))

    def sample_latent(self, n: int, seed: int | None = None, temperature: float = 1.0) -> Tensor:
        """``[n, latent_dim]`` codes of samples: standard normal ``eps`` times ``temperature``,
        the top's turned into its ``z`` (``Glow.sample_latent`` draws the same faces)."""
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        codes = temperature * torch.randn(n, self.latent_dim, generator=generator)
        with torch.no_grad():
            codes[:, self.top] = self.glow.latents_from_noise(codes)[:, self.top].cpu()
        return codes


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
    parser.add_argument("--strengths", type=float, nargs="+", default=[1.0, 2.0, 3.0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS, help="which rows to measure")
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--refit", action="store_true", help="with --checkpoint: refit the prior's map first, "
                        "as the recipe does after training")
    args = parser.parse_args()
    torch.manual_seed(0)
    train, test = face_data("train", n=args.fit, size=args.size), face_data("test", n=1000, size=args.size)
    judge = EditScorer(classifier_on_data(args.size), test.images(slice(None)))
    conditional = conditional_glow(args.size, args.checkpoint)
    if args.refit:
        GlowRecipe.from_options(image_size=args.size, conditional=True).finish(conditional, face_data("train", n=2000,
                                                                                                     size=args.size))
    models = {"unconditional": load_glow(args.size), "conditional": conditional,
              "cond., top view": GlowTopView(conditional)}
    models = {label: models[label] for label in args.models}
    print(f"Glow {args.size}x{args.size}: {args.faces} held-out faces per edit, whole-set vectors from "
          f"{args.fit} training faces")
    rows = []
    for label, glow in models.items():
        rows += model_rows(label, glow, train, test, judge, args)
    print(plot.text_table(rows, FORMATS))
    if args.checkpoint is None and args.models == list(MODELS):
        command = " ".join(["python benchmarks/glow_conditional.py", *sys.argv[1:]])
        with atomic_path(DOC) as tmp:
            tmp.write_text(f"# Editing the conditional Glow (issue 47)\n\nGenerated by `{command}`: {args.faces} "
                           f"held-out faces per edit, whole-set vectors from {args.fit} training faces, Glow "
                           f"{args.size}x{args.size}. `FD ratio`: the edited faces' Frechet distance to real ones "
                           f"over the unedited decodes'.\n\n" + plot.markdown_table(rows, FORMATS) + "\n")
        print(f"wrote {DOC}")


def model_rows(label: str, glow, train, test, judge: EditScorer, args: argparse.Namespace) -> list[dict]:
    """One row per edit and way of editing of one model (a Glow, or a Glow under a view)."""
    codes = encode_faces(glow, test.images(slice(None)))
    whole = group_directions(encode_faces(glow, train.images(slice(None))), train, edits_for(test))
    flow = getattr(glow, "glow", glow)              # the Glow under a view
    rows = []
    for spec in edits_for(test):
        start = codes[faces_to_edit(test, spec, args.faces)]
        before = judge.decoded(glow, start)
        ways = {"whole-set vector": whole[spec.name]}
        if flow.conditional is not None and spec.name in PRIOR_EDITS:
            ways["prior shift"] = prior_direction(flow, PRIOR_EDITS[spec.name])
            ways["prior shift, groups"] = prior_direction(flow, PRIOR_EDITS[spec.name], train)
        for way, direction in ways.items():
            row = {"model": label, "edit way": way, "edit": spec.name}
            for strength in args.strengths:
                scores = judge.score(glow, start, direction, spec, strength, before=before)
                row |= {f"success at {strength:g}": scores["success"],
                        f"identity at {strength:g}": scores["identity change"],
                        f"FD ratio at {strength:g}": scores["realism (FD)"] / scores["realism before (FD)"]}
            rows.append(row)
            print(plot.text_table([row], FORMATS), flush=True)
    return rows


if __name__ == "__main__":
    main()
