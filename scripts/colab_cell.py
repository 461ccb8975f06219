"""Every notebook's first cell (the Colab set-up) and the README's Colab and Binder badges, made from
the one repository URL in ``pyproject.toml`` (``[project.urls] Repository``).

    python scripts/colab_cell.py           # rewrite the notebooks' first cells and the badges
    python scripts/colab_cell.py --check   # exit 1, naming the files, if any differs
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s]+?/blob/main/notebooks/(\w+\.ipynb)")
BINDER = re.compile(r"https://mybinder\.org/v2/gh/[^)\s]+?/main\?urlpath=lab/tree/notebooks")

FIRST_CELL = '''\
# On Colab only: fetch the project, install what Colab lacks, turn on its widget manager
# (skipped elsewhere and under nbval). REPOSITORY: where to clone from (your fork's URL, or
# upload the project folder to /content/fes). CELEBA_ROOT: a folder holding CelebA
# (img_align_celeba/ and the two lists, for example on your mounted Drive) runs every
# notebook on real faces; empty: SynthFaces.
import os
import sys
REPOSITORY = "{repository}"  # @param {{type:"string"}}
CELEBA_ROOT = ""  # @param {{type:"string"}}
if "google.colab" in sys.modules:
    import subprocess
    if CELEBA_ROOT:
        os.environ["CELEBA_ROOT"] = CELEBA_ROOT
    if not os.path.isdir("/content/fes/common"):
        cloned = subprocess.run(["git", "clone", "-q", REPOSITORY, "/content/fes"], capture_output=True, text=True)
        if cloned.returncode != 0:
            raise SystemExit(f"could not clone {{REPOSITORY}} ({{cloned.stderr.strip()}}). Set REPOSITORY above to "
                             "your fork's URL, or upload the project folder to /content/fes (with common/ "
                             "inside), then run this cell again.")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "safetensors", "gdown"], check=True)
    sys.path.insert(0, "/content/fes")
    os.chdir("/content/fes/notebooks")
    from google.colab import output
    output.enable_custom_widget_manager()
    import torch
    print("GPU:", torch.cuda.get_device_name() if torch.cuda.is_available()
          else "none (Runtime > Change runtime type > GPU makes training and large models faster)")'''


def repository() -> str:
    """The project's public URL, from ``pyproject.toml``."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]


def first_cell(url: str) -> str:
    return FIRST_CELL.format(repository=url)


def badge_url(url: str, notebook: str) -> str:
    return f"{url.replace('https://github.com/', 'https://colab.research.google.com/github/')}/blob/main/notebooks/{notebook}"


def binder_url(url: str) -> str:
    return f"{url.replace('https://github.com/', 'https://mybinder.org/v2/gh/')}/main?urlpath=lab/tree/notebooks"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="only report what differs")
    args = parser.parse_args()
    url, stale = repository(), []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        if notebook.cells[0].source != first_cell(url):
            stale.append(path.name)
            notebook.cells[0].source = first_cell(url)
            if not args.check:
                nbformat.write(notebook, path)
    readme = (ROOT / "README.md").read_text()
    fixed = BINDER.sub(binder_url(url), BADGE.sub(lambda m: badge_url(url, m.group(1)), readme))
    if fixed != readme:
        stale.append("README.md")
        if not args.check:
            (ROOT / "README.md").write_text(fixed)
    if args.check and stale:
        sys.exit(f"not made from pyproject.toml's Repository ({url}): {', '.join(stale)}; "
                 "run python scripts/colab_cell.py")
    print(("differs: " if args.check else "rewrote: ") + (", ".join(stale) or "nothing"))


if __name__ == "__main__":
    main()
