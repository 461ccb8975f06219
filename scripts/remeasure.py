"""Measure shipped weights again and record the new figures in ``weights/manifest.json``
(the weights themselves unchanged): run it after retraining what measures them. The
PGGAN's Frechet distance and attribute frequencies are read by the attribute classifier,
so a retrained classifier is followed by

    python scripts/remeasure.py pggan_synth64.safetensors

Prints each figure, old and new.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.train.recipes import shipped_recipe  # noqa: E402
from common.weights import WeightsError, read_manifest  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="+", help="weights files in weights/, e.g. pggan_synth64.safetensors")
    args = parser.parse_args(argv)
    for name in args.names:
        try:
            old = read_manifest().get(name, {}).get("metrics", {})
            new = shipped_recipe(name).remeasure()
        except WeightsError as error:
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        print(f"{name}:")
        for key, value in new.items():
            before = old.get(key)
            print(f"  {key:<28}{'-' if before is None else f'{before:.4f}':>10} -> {value:.4f}")


if __name__ == "__main__":
    main()
