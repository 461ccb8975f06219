"""SynthFaces from the command line.

    python -m common.data grid --out docs/synthfaces_grid.png     # the SynthFaces picture (docs/GUIDE.md)
    python -m common.data export --out /data/synth_celeba --n 2000  # CelebA's files and geometry
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from ..cli import whole_number
from ..images import to_uint8
from .export import export_synthfaces_as_celeba
from .synthfaces import SynthFaces


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m common.data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("grid", "export"))
    parser.add_argument("--out", required=True, help="PNG file (grid) or new folder (export)")
    parser.add_argument("--n", type=whole_number(1), default=1000,
                        help="export: training faces (valid and test get n/10); written as 178x218 JPEGs "
                             "whose 148-px centre crop is the face, as in CelebA")
    parser.add_argument("--size", type=whole_number(32), default=64, help="grid: face size (32..256)")
    parser.add_argument("--seed", type=whole_number(0), default=0)
    parser.add_argument("--columns", type=whole_number(1), default=12, help="grid: faces per row")
    parser.add_argument("--rows", type=whole_number(1), default=4, help="grid: rows")
    args = parser.parse_args(argv)
    if args.size > 256:
        parser.error(f"argument --size: SynthFaces renders 32..256 pixels, not {args.size}")
    if args.command == "export" and Path(args.out).exists():
        parser.error(f"argument --out: {args.out} already exists; choose a new folder or delete it first")
    if args.command == "grid":
        faces = SynthFaces(n=args.columns * args.rows, size=args.size, seed=args.seed, cache=False)
        pixels = to_uint8(faces.images(range(len(faces))))
        sheet = pixels.reshape(args.rows, args.columns, args.size, args.size, 3)
        sheet = sheet.transpose(0, 2, 1, 3, 4).reshape(args.rows * args.size, args.columns * args.size, 3)
        Image.fromarray(sheet).resize((sheet.shape[1] * 2, sheet.shape[0] * 2), Image.NEAREST).save(args.out)
    else:
        export_synthfaces_as_celeba(args.out, args.n, seed=args.seed)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
