"""What "each face's own vector" costs: building ``latent.Lookalikes`` (once per panel), the
time it takes to find a new face's look-alikes and their vectors (the panel does it once per
face and when the box is ticked, not on each slider move), and the per-face vectors of a
scoreboard batch (``latent.lookalike_vectors``, index included).

    python benchmarks/lookalike_speed.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.latent import Lookalikes, lookalike_vectors  # noqa: E402
from common.plot import text_table  # noqa: E402

REPEATS = 10


def median_ms(action) -> float:
    """Median wall time of ``action()`` over ``REPEATS`` runs, in milliseconds."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    generator = torch.Generator().manual_seed(0)
    rows = []
    # (what, pool of codes, code size, attributes, look-alikes per group): notebook 02's panel,
    # notebook 05's encoders, and Glow's 32x32 codes
    for what, pool, dim, attributes, k in (("notebook 02 panel (DFC-VAE)", 4000, 128, 5, 133),
                                          ("notebook 05 pool, VAE-sized", 10_000, 128, 1, 333),
                                          ("notebook 05 pool, Glow 32x32", 10_000, 3072, 1, 333)):
        codes = torch.randn(pool, dim, generator=generator)
        labels = {f"attribute {a}": torch.rand(pool, generator=generator) < 0.3 for a in range(attributes)}
        face = torch.randn(dim, generator=generator)
        build = median_ms(lambda: Lookalikes(codes, labels, k))
        lookalikes = Lookalikes(codes, labels, k)
        per_face = median_ms(lambda: lookalikes(face))
        batch = torch.randn(128, dim, generator=generator)
        scoreboard = median_ms(lambda: lookalike_vectors(codes, labels["attribute 0"], batch, k))
        rows.append({"setting": what, "codes": f"{pool} x {dim}", "attributes": attributes, "k": k,
                     "index (ms)": build, "one face, all attributes (ms)": per_face, "128 faces, one attribute (ms)": scoreboard})
    print(f"torch threads: {torch.get_num_threads()}")
    print(text_table(rows, {"index": ".1f", "one face": ".1f", "128 faces": ".1f"}))


if __name__ == "__main__":
    main()
