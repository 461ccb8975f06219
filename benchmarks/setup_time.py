"""How long the README's commands take to set up a fresh machine: a new virtual environment
made by ``scripts/setup-env.sh`` (what ``make lab`` and ``make test`` run first) in a
temporary folder, timed, and its size on disk. Writes ``docs/setup.json``, which
``make results`` puts into the README. Run it on an otherwise idle machine.

    python benchmarks/setup_time.py
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUP_JSON = ROOT / "docs" / "setup.json"
sys.path.insert(0, str(ROOT))

from common.files import atomic_path  # noqa: E402


def folder_bytes(folder: Path) -> int:
    """Bytes of every regular file under ``folder`` (links not followed)."""
    return sum(path.lstat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="fes-setup-") as scratch:
        venv = Path(scratch) / "venv"
        start = time.perf_counter()
        subprocess.run(["bash", str(ROOT / "scripts" / "setup-env.sh")], check=True,
                       env=os.environ | {"FES_VENV": str(venv)}, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        size = folder_bytes(venv)
    figures = {"seconds": round(seconds), "bytes": size, "cores": os.cpu_count(), "python": platform.python_version()}
    with atomic_path(SETUP_JSON, suffix=".json") as tmp:
        tmp.write_text(json.dumps(figures, indent=1) + "\n")
    print(f"set-up: {seconds / 60:.1f} min on {os.cpu_count()} cores, {size / 1e9:.1f} GB; "
          f"wrote {SETUP_JSON.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
