"""The project's own files agree with each other: environments, README, notebooks."""

import os
import re
import subprocess
import sys
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


def _script(name: str):
    """A module of ``scripts/`` or ``benchmarks/`` (folders, not packages)."""
    import importlib.util

    path = next(ROOT.glob(f"*/{name}.py"))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # dataclasses look their module up there
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_has_a_badge_and_the_colab_first_cell_made_from_pyproject(path):
    colab = _script("colab_cell")
    url = colab.repository()
    assert url.startswith("https://github.com/")
    readme = (ROOT / "README.md").read_text()
    assert colab.badge_url(url, path.name) in readme and colab.binder_url(url) in readme
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "code" and first.source == colab.first_cell(url), "run python scripts/colab_cell.py"


def test_the_colab_cell_sets_up_only_on_colab_and_says_how_to_recover_from_a_failed_clone():
    source = _script("colab_cell").first_cell("https://github.com/someone/fork")
    namespace = {}
    exec(compile(source, "first cell", "exec"), namespace)          # outside Colab: nothing happens
    assert namespace["REPOSITORY"] == "https://github.com/someone/fork" and "fes" not in os.getcwd()
    assert 'CELEBA_ROOT = ""  # @param {type:"string"}' in source      # Colab's form fields
    assert 'QUICK = True  # @param {type:"boolean"}' in source and 'FES_CACHE = ""  # @param' in source
    assert 'CELEBA_LIMIT = ""  # @param' in source
    assert '"clone", "-q", "--depth", "1"' in source                     # a shallow clone
    assert "your fork's URL, or upload the project folder" in source
    assert "enable_custom_widget_manager" in source


def test_a_kernel_started_in_notebooks_with_no_pythonpath_imports_this_clone(tmp_path):
    """The first cell finds the clone's root above the working folder (Binder, a Jupyter
    started in notebooks/), and notebook 00's first cells then run."""
    notebook = nbformat.read(ROOT / "notebooks" / "00_synthfaces_data.ipynb", as_version=4)
    cells = [c.source for c in notebook.cells if c.cell_type == "code"][:2]
    script = tmp_path / "first_cells.py"
    script.write_text("\n".join(line for cell in cells for line in cell.splitlines() if not line.startswith("%"))
                      + "\nimport common; print('common from', common.__file__)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"FES_QUICK": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, str(script)], cwd=ROOT / "notebooks", env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"common from {ROOT / 'common' / '__init__.py'}" in result.stdout


def test_outside_the_clone_the_first_cell_says_where_to_open_the_notebook(tmp_path):
    source = _script("colab_cell").first_cell("https://github.com/someone/fork")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", source], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 1 and f"no common/ folder in {tmp_path} or above it" in result.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stored_executed_without_errors(path):
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code[1:]), "run `make execute-notebooks`"
    assert any(o.get("output_type") == "display_data" for c in code for o in c.outputs)
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)


def test_the_guide_gives_the_celeba_commands_the_training_plan_times():
    """``benchmarks/celeba_training_plan.py`` prints the expected time of exactly the guide's commands."""
    plan = _script("celeba_training_plan").PLAN
    readme = (ROOT / "docs" / "GUIDE.md").read_text()
    assert {recipe.command.split()[3] for recipe in plan} == {"classifier", "vae", "dfc", "glow", "pggan"}
    for recipe in plan:
        assert recipe.command in readme
        assert f"--steps {recipe.steps}" in recipe.command
        assert ("--batch-size" not in recipe.command and recipe.batch == 64) or f"--batch-size {recipe.batch}" in recipe.command


def test_nothing_in_the_repository_points_outside_it():
    """A public clone stands alone: no tracked file reads or cites ``../shared`` (the
    fixtures the tests compare against live in ``tests/fixtures``)."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = [name for name in tracked if name.endswith((".py", ".md", ".ipynb", ".toml", ".yml", ".cfg", "Makefile"))
               and "../shared" in (ROOT / name).read_text(errors="ignore")
               and name != "tests/test_project_files.py"]
    assert outside == []
    assert (ROOT / "tests" / "fixtures" / "interfacegan_pggan" / "pggan_tiny16_state_dict.pth").is_file()
