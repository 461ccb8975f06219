"""``make results``: write ``docs/RESULTS.md`` and the README's verdict table from
``weights/manifest.json`` and ``docs/results.json`` (notebook 05's last full run).

    python scripts/results.py            # writes both
    python scripts/results.py --check    # exits 1, naming the file, when either is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.files import atomic_path  # noqa: E402
from common.results import generated  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only say whether the files are up to date")
    args = parser.parse_args(argv)
    try:
        files = generated(ROOT)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} differs from what `make results` writes: run make results")
        return 1 if stale else 0
    for path in stale:
        with atomic_path(path, suffix=path.suffix) as tmp:
            tmp.write_text(files[path])
        print(f"wrote {path.relative_to(ROOT)}")
    if not stale:
        print("docs/RESULTS.md and the README's verdict are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
