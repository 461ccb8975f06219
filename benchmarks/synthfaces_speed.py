"""SynthFaces speed on one CPU core (render throughput per size, and a cached reload) and
how visible its expressions are (pixels that change from one extreme to the other).

    python benchmarks/synthfaces_speed.py            # prints a table
Targets: at least 2,000 faces/s at 64x64 on one core (issue 2); frown to broad smile
changes at least 250 pixels of the average 64x64 face (issue 12).
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
import torch

from common.data import SynthFaces, average_factors, changed_region, render_faces, sample_factors


def faces_per_second(size: int, batch: int, total: int) -> float:
    factors = torch.from_numpy(sample_factors(0, np.arange(total)))
    render_faces(factors[:batch], size)  # warm-up
    start = time.perf_counter()
    for i in range(0, total, batch):
        render_faces(factors[i:i + batch], size)
    return total / (time.perf_counter() - start)


def main() -> None:
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"{'what':<34}{'size':>6}{'batch':>7}{'faces/s':>10}")
    for size, batch, total in ((64, 64, 4096), (64, 256, 4096), (32, 64, 4096), (128, 32, 1024), (256, 8, 256)):
        print(f"{'render (factors -> pixels)':<34}{size:>6}{batch:>7}{faces_per_second(size, batch, total):>10,.0f}")
    start = time.perf_counter()
    sample_factors(0, np.arange(100_000))
    print(f"{'sample factors + attributes':<34}{'-':>6}{'100k':>7}{100_000 / (time.perf_counter() - start):>10,.0f}")
    with tempfile.TemporaryDirectory() as folder:
        import os
        os.environ["FES_CACHE"] = folder
        start = time.perf_counter()
        SynthFaces(n=10_000, size=64, progress=False)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        SynthFaces(n=10_000, size=64, progress=False)
        warm = time.perf_counter() - start
    print(f"{'SynthFaces(10k) first use':<34}{64:>6}{64:>7}{10_000 / cold:>10,.0f}")
    print(f"{'SynthFaces(10k) from disk cache':<34}{64:>6}{'-':>7}{10_000 / warm:>10,.0f}")
    print()
    print(f"{'expression on the average face':<34}{'from':>6}{'to':>7}{'pixels changed (of 4,096)':>28}")
    average = average_factors()
    for name, low, high in (("smile", -1.0, 1.0), ("smile", 0.0, 1.0), ("eye_open", 0.0, 1.0),
                            ("mouth_open", 0.0, 1.0), ("yaw", 0.0, 1.0)):
        print(f"{name:<34}{low:>6}{high:>7}{int(changed_region(average, name, low, high).sum()):>28,}")


if __name__ == "__main__":
    main()
