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
# Set-up: makes the project's `common` importable wherever this notebook runs (`make lab`,
# a Jupyter started in notebooks/, Binder, Colab). On Colab only, it also fetches the project
# (a shallow clone of REPOSITORY: your fork's URL, or upload the project folder to
# /content/fes) and installs what Colab lacks. The form: QUICK, a first run with few faces
# and short demonstrations; CELEBA_ROOT, a folder holding CelebA (img_align_celeba/ and the
# two lists, for example on your mounted Drive) runs the notebook on real faces (empty:
# SynthFaces); CELEBA_LIMIT, how many CelebA faces a model trained in the notebook sees
# (empty: 20,000, or 2,000 with QUICK); FES_CACHE, where decoded faces and models trained
# here are kept (on Drive they survive the runtime).
import os
import sys
from pathlib import Path
REPOSITORY = "{repository}"  # @param {{type:"string"}}
QUICK = True  # @param {{type:"boolean"}}
CELEBA_ROOT = ""  # @param {{type:"string"}}
CELEBA_LIMIT = ""  # @param {{type:"string"}}
FES_CACHE = ""  # @param {{type:"string"}}
if "google.colab" in sys.modules:
    import subprocess
    os.environ["FES_QUICK"] = "1" if QUICK else "0"
    for variable, value in (("CELEBA_ROOT", CELEBA_ROOT), ("CELEBA_LIMIT", CELEBA_LIMIT), ("FES_CACHE", FES_CACHE)):
        if value:
            os.environ[variable] = value
    if not os.path.isdir("/content/fes/common"):
        cloned = subprocess.run(["git", "clone", "-q", "--depth", "1", REPOSITORY, "/content/fes"],
                                capture_output=True, text=True)
        if cloned.returncode != 0:
            raise SystemExit(f"could not clone {{REPOSITORY}} ({{cloned.stderr.strip()}}). Set REPOSITORY above to "
                             "your fork's URL, or upload the project folder to /content/fes (with common/ "
                             "inside), then run this cell again.")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "safetensors", "gdown"], check=True)
    os.chdir("/content/fes/notebooks")
    from google.colab import output
    output.enable_custom_widget_manager()
try:
    import common
except ModuleNotFoundError:     # Jupyter started outside `make lab`: the clone's root is above this folder
    ROOT = next((folder for folder in (Path.cwd(), *Path.cwd().parents) if (folder / "common" / "__init__.py").is_file()),
                None)
    if ROOT is None:
        raise SystemExit(f"no common/ folder in {{Path.cwd()}} or above it: open this notebook from inside the "
                         "project's clone (make lab starts JupyterLab there)") from None
    sys.path.insert(0, str(ROOT))
    import common'''


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
