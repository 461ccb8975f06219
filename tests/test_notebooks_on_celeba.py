"""Every notebook runs on CelebA's files (issue 13): SynthFaces
exported in CelebA's real layout and geometry (178x218 JPEGs, ``list_attr_celeba.txt``,
``list_eval_partition.txt``) is set as ``CELEBA_ROOT`` and the notebook is executed in
quick mode; it must finish without an error and its first output must name that folder.

Part of ``make test`` (``make tests``), on one worker, in order: each notebook trains its
CelebA models for a few steps first, and notebook 05 loads those 01-04 trained.
``make notebooks-celeba`` runs only these.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(path.stem for path in (ROOT / "notebooks").glob("*.ipynb"))

# Under `make tests` (pytest-xdist, a file a worker) one worker runs them in order, first
# (tests/conftest.py), so notebook 05 finds the models 01-04 trained in its cache.
pytestmark = pytest.mark.celeba_notebooks


@pytest.fixture(scope="module")
def celeba_layout(tmp_path_factory) -> Path:
    """The README's recipe: ``python -m common.data export --out DIR --n 5000``."""
    folder = tmp_path_factory.mktemp("celeba") / "synth_celeba"
    subprocess.run([sys.executable, "-m", "common.data", "export", "--out", str(folder), "--n", "5000"],
                   check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True)
    return folder


def _first_text_output(notebook) -> str:
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "stream":
                return output["text"]
    return ""


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_celeba_and_says_so(name, celeba_layout, monkeypatch, tmp_path):
    monkeypatch.setenv("CELEBA_ROOT", str(celeba_layout))
    monkeypatch.setenv("FES_QUICK", "1")
    # These runs are the session's longest path: their kernel may use every core (the other
    # workers finish their share first), waiting passively while another process has it.
    cores = str(os.cpu_count() or 1)
    monkeypatch.setenv("OMP_NUM_THREADS", cores)
    monkeypatch.setenv("MKL_NUM_THREADS", cores)
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    nbformat.write(notebook, tmp_path / f"{name}.ipynb")
    first = _first_text_output(notebook)
    assert f"data: CelebA (CELEBA_ROOT={celeba_layout})" in first, first
    assert "split, " in first and " px" in first
