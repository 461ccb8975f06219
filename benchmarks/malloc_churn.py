"""Time spent in the kernel by glibc's memory churn, with and without the Makefile's
``MALLOC_*`` settings: one workload the tests repeat (the shipped 64x64 Glow encoding and
decoding held-out faces, batches of 64), run in a fresh process on one thread each way.

    python benchmarks/malloc_churn.py [--faces 512] [--rounds 3]

Without the settings glibc returns every large freed tensor to the kernel and gets it back,
zeroed, at the next allocation; the "system" column is that cost.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEEP_FREED_MEMORY = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "4294967296",
                     "MALLOC_TOP_PAD_": "536870912"}      # the Makefile's settings
WORKLOAD = """
import sys, torch
from common.arithmetic import decode_faces, encode_faces
from common.data import SynthFaces
from common.weights.shipped import load_glow
faces, rounds = int(sys.argv[1]), int(sys.argv[2])
glow = load_glow(64)
images = SynthFaces(n=faces, size=64, seed=0, split="test", progress=False).images(slice(None))
for _ in range(rounds):
    decode_faces(glow, encode_faces(glow, images))
"""


def timed_run(settings: dict[str, str], faces: int, rounds: int) -> tuple[float, float, float]:
    """(wall, user, system) seconds of the workload in a fresh one-thread process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env |= {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)} | settings
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run([sys.executable, "-c", WORKLOAD, str(faces), str(rounds)], env=env, check=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    timed_run({}, 16, 1)                       # renders and caches the faces, warms the disk
    print(f"Glow 64x64: encode + decode {args.faces} held-out faces x {args.rounds}, one thread")
    print(f"{'allocator':<34}{'wall s':>8}{'user s':>8}{'system s':>10}")
    for label, settings in (("glibc defaults", {}), ("Makefile's MALLOC_* settings", KEEP_FREED_MEMORY)):
        wall, user, system = timed_run(settings, args.faces, args.rounds)
        print(f"{label:<34}{wall:>8.1f}{user:>8.1f}{system:>10.1f}")


if __name__ == "__main__":
    main()
