"""SynthFaces from the command line.

    python -m common.data grid --out docs/synthfaces_grid.png     # the README picture
    python -m common.data export --out /data/synth_celeba --n 2000  # CelebA's file layout
"""

from __future__ import annotations

import argparse

from PIL import Image

from ..images import to_uint8
from .export import export_celeba_layout
from .synthfaces import SynthFaces


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m common.data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("grid", "export"))
    parser.add_argument("--out", required=True, help="PNG file (grid) or new folder (export)")
    parser.add_argument("--n", type=int, default=1000, help="faces (export: train split; valid and test get n/10)")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--columns", type=int, default=12, help="grid: faces per row")
    parser.add_argument("--rows", type=int, default=4, help="grid: rows")
    args = parser.parse_args(argv)
    if args.command == "grid":
        faces = SynthFaces(n=args.columns * args.rows, size=args.size, seed=args.seed, cache=False)
        pixels = to_uint8(faces.images(range(len(faces))))
        sheet = pixels.reshape(args.rows, args.columns, args.size, args.size, 3)
        sheet = sheet.transpose(0, 2, 1, 3, 4).reshape(args.rows * args.size, args.columns * args.size, 3)
        Image.fromarray(sheet).resize((sheet.shape[1] * 2, sheet.shape[0] * 2), Image.NEAREST).save(args.out)
    else:
        counts = {"train": args.n, "valid": max(1, args.n // 10), "test": max(1, args.n // 10)}
        splits = {split: SynthFaces(n=n, size=args.size, seed=args.seed, split=split)
                  for split, n in counts.items()}
        export_celeba_layout({s: (d.pixels, d.attributes.numpy()) for s, d in splits.items()}, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
