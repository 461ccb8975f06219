"""Why the Glow notebooks edit the raw latents z and not the standardised eps (the space
openai/glow's demo edits): the scoreboard's three edits (smile, narrow eyes, pose), each
along its group vector from the training faces, in either space, on held-out faces.

For each space, edit and strength it prints the success (the scoreboard's rule), the mean
change of the target factor's estimate, the edited faces' Frechet distance to real ones
(the scoreboard's realism, edited / unedited), the share of pixels the reverse pass puts outside
[-1, 1] before ``decode`` clamps them, and the largest one. Decoding an eps edit runs the
learned priors p(z_i | levels above) on edited activations, whose scale exp(log sigma)
extrapolates; decoding a z edit never runs them.

A second table keeps each z vector on one level's coordinates only (the rest zero) and
moves by that part's own length: which level of the multi-scale flow carries the edit.

    python benchmarks/glow_edit_space.py [--size 64] [--fit 3000] [--faces 100] [--strengths 1 2 3]
"""

from __future__ import annotations

import argparse

import torch
from torch import Tensor, nn

from common import face_data
from common.arithmetic import encode_faces
from common.direction import Direction
from common.judge.scoreboard import EditScorer, edits_for, faces_to_edit, group_directions
from common.load_or_train import classifier_on_data, glow_on_data


class NoiseSpaceGlow(nn.Module):
    """A ``LatentModel`` view of a Glow whose codes are its eps ``[N, latent_dim]``."""

    def __init__(self, glow: nn.Module) -> None:
        super().__init__()
        self.glow, self.latent_dim = glow, glow.latent_dim

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        eps, _ = self.glow.flow(x / 2.0)
        return torch.cat([level.flatten(1) for level in eps], dim=1)

    @torch.no_grad()
    def reverse(self, codes: Tensor) -> Tensor:
        return self.glow.reverse(self.glow.latents_from_noise(codes))

    def decode(self, codes: Tensor) -> Tensor:
        return self.glow.decode(self.glow.latents_from_noise(codes))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=64, choices=(32, 64))
    parser.add_argument("--fit", type=int, default=3000, help="training faces for the group vectors")
    parser.add_argument("--faces", type=int, default=100, help="held-out faces per edit")
    parser.add_argument("--strengths", type=float, nargs="+", default=[1.0, 2.0, 3.0])
    args = parser.parse_args()
    torch.manual_seed(0)
    train, test = face_data("train", n=args.fit, size=args.size), face_data("test", n=1000, size=args.size)
    judge = EditScorer(classifier_on_data(args.size), test.images(slice(None)))
    glow = glow_on_data(args.size)
    specs = edits_for(test)
    print(f"Glow {args.size}x{args.size}, vectors from {args.fit} training faces, {args.faces} held-out faces per edit")
    print(f"{'space':<6}{'edit':<13}{'strength':>9}{'success':>9}{'change':>8}{'FD':>12}{'outside':>9}{'largest':>9}")
    fitted = {}
    for space, model in (("z", glow), ("eps", NoiseSpaceGlow(glow))):
        directions = group_directions(encode_faces(model, train.images(slice(None))), train, specs)
        codes = encode_faces(model, test.images(slice(None)))
        fitted[space] = directions, codes
        for spec in specs:
            start = codes[faces_to_edit(test, spec, args.faces)]
            direction = directions[spec.name]
            for strength in args.strengths:
                scores = judge.score(model, start, direction, spec, strength)
                realism = f"{scores['realism (FD)']:.1f} / {scores['realism before (FD)']:.1f}"
                with torch.no_grad():
                    moved = direction.moved(start, strength)
                    pixels = torch.nan_to_num(model.reverse(moved) * 2.0, nan=float("inf")).abs()
                print(f"{space:<6}{spec.name:<13}{strength:>9g}{scores['success']:>9.0%}"
                      f"{strength * scores['target change']:>+8.2f}{realism:>12}"
                      f"{(pixels > 1).float().mean():>9.2%}"
                      f"{pixels.max():>9.1f}")
    strength = args.strengths[-1]
    print(f"\nz vectors on one level (0 = finest split, {len(glow.shapes) - 1} = top), strength {strength:g}")
    print(f"{'edit':<13}{'level':>6}{'shape':>12}{'energy':>8}{'success':>9}{'change':>8}")
    directions, codes = fitted["z"]
    for spec in specs:
        start = codes[faces_to_edit(test, spec, args.faces)]
        whole = directions[spec.name]
        for level, (c, h, w) in enumerate(glow.shapes):
            vector = glow.on_level(whole.step, level)
            part = Direction(spec.name, vector / vector.norm(), float(vector.norm()))
            scores = judge.score(glow, start, part, spec, strength)
            energy = (part.gap / whole.gap) ** 2
            print(f"{spec.name:<13}{level:>6}{f'{c}x{h}x{w}':>12}{energy:>8.0%}{scores['success']:>9.0%}"
                  f"{strength * scores['target change']:>+8.2f}")

if __name__ == "__main__":
    main()
