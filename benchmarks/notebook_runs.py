"""Run time and peak memory of every notebook, top to bottom, in quick and full mode.

    python benchmarks/notebook_runs.py [notebooks/00_synthfaces_data.ipynb ...]
Each run starts from an empty data cache (the worst case a new user meets). Targets
(issue 2): quick mode at most 2 minutes, full mode at most 5 minutes, under 4 GB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter: executes one notebook, then prints the kernel's peak RSS.
_RUNNER = """
import resource, sys, time, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
start = time.perf_counter()
NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
seconds = time.perf_counter() - start
print(seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def measure(notebook: Path, quick: bool) -> tuple[float, float]:
    """(seconds, peak kernel memory in MiB) for one cold run."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "FES_CACHE": cache, "FES_QUICK": "1" if quick else "0"}
        out = subprocess.run([sys.executable, "-c", _RUNNER, str(notebook), str(notebook.parent)],
                             env=env, capture_output=True, text=True, check=True)
    seconds, mebibytes = out.stdout.split()[-2:]
    return float(seconds), float(mebibytes)


def main() -> None:
    notebooks = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    print(f"{'notebook':<36}{'mode':>7}{'seconds':>9}{'peak MiB':>10}")
    for notebook in notebooks:
        for quick in (True, False):
            seconds, peak = measure(notebook, quick)
            print(f"{notebook.name:<36}{'quick' if quick else 'full':>7}{seconds:>9.1f}{peak:>10.0f}")


if __name__ == "__main__":
    main()
