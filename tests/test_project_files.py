"""The project's own files agree with each other: environments, README, notebooks."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _requirement_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_environment_yml_installs_exactly_requirements_txt():
    requirements = _requirement_lines((ROOT / "requirements.txt").read_text())
    env = (ROOT / "environment.yml").read_text()
    pip_block = env.split("- pip:", 1)[1]
    pip_lines = [line.strip()[2:] for line in pip_block.splitlines() if line.strip().startswith("- ")]
    assert pip_lines == requirements


def test_requirements_are_ranges_not_a_lock():
    for line in _requirement_lines((ROOT / "requirements.txt").read_text()):
        assert "==" not in line, f"{line}: pin a range so Colab's preloaded torch/numpy are kept"


def test_readme_gives_the_two_commands_and_they_exist():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab", "test"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_has_a_badge_and_a_colab_only_first_cell(path):
    readme = (ROOT / "README.md").read_text()
    assert f"blob/main/notebooks/{path.name}" in readme
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "code"
    assert 'if "google.colab" in sys.modules:' in first.source
    assert 'CELEBA_ROOT = ""  # @param {type:"string"}' in first.source       # Colab's form field
    assert 'os.environ["CELEBA_ROOT"] = CELEBA_ROOT' in first.source          # ... read by common's switch
    repo = re.search(r"git clone -q (\S+)", first.source).group(1)
    assert repo.replace("https://github.com/", "colab.research.google.com/github/") in readme


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stored_executed_without_errors(path):
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code[1:]), "run `make execute-notebooks`"
    assert any(o.get("output_type") == "display_data" for c in code for o in c.outputs)
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)


def test_readme_gives_the_celeba_commands_the_training_plan_times():
    """``benchmarks/celeba_training_plan.py`` prints the expected time of exactly the README's commands."""
    import importlib
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        plan = importlib.import_module("celeba_training_plan").PLAN
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    readme = (ROOT / "README.md").read_text()
    assert {recipe.command.split()[3] for recipe in plan} == {"classifier", "vae", "dfc", "glow", "pggan"}
    for recipe in plan:
        assert recipe.command in readme
        assert f"--steps {recipe.steps}" in recipe.command
        assert ("--batch-size" not in recipe.command and recipe.batch == 64) or f"--batch-size {recipe.batch}" in recipe.command
