"""The package's shape: ``common``'s imports point only down its layers, and none of them
hides inside a function (DESIGN's "packages by role")."""

from __future__ import annotations

import ast
from pathlib import Path

COMMON = Path(__file__).resolve().parents[1] / "common"
# Lowest first: a module may import its own layer or any layer below it.
LAYERS = (
    ("common.config", "common.files", "common.images", "common.cli", "common.direction"),
    ("common.data",),
    ("common.models",),
    ("common.weights",),
    ("common.latent", "common.arithmetic", "common.edit_state"),
    ("common.judge",),
    ("common.train",),
    ("common.load_or_train", "common.plot", "common.edit_figures", "common.face_view", "common.panel_files",
     "common.widgets", "common.compare_panel", "common.results"),
)
# Imported where used: packages one path needs (a download, a display, a Unix call), and the
# heavy scientific ones two functions need, which every `import common` would otherwise pay for.
LAZY = {"IPython.display", "gdown", "torchvision", "torchvision.models", "resource", "sklearn.svm",
        "sklearn.decomposition", "scipy.linalg", "threadpoolctl"}


def _layer(module: str) -> int:
    matches = [(len(prefix), rank) for rank, group in enumerate(LAYERS) for prefix in group
               if module == prefix or module.startswith(prefix + ".")]
    assert matches, f"{module} belongs to no layer of tests/test_architecture.py: add it"
    return max(matches)[1]


def _module(path: Path) -> tuple[str, list[str]]:
    """(dotted name of ``path``, its package's parts)."""
    parts = list(path.relative_to(COMMON.parent).with_suffix("").parts)
    package = parts[:-1]
    return ".".join(package if parts[-1] == "__init__" else parts), package


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported ``common`` module, whether the import sits inside a function) of ``path``."""
    name, package = _module(path)
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[:len(package) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else [child.names[0].name]))
                else:
                    target = child.module or ""
                found.append((target, in_function))
            elif isinstance(child, ast.Import):
                found.extend((alias.name, in_function) for alias in child.names)
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(ast.parse(path.read_text()), False)
    return found


def _modules() -> list[Path]:
    return sorted(path for path in COMMON.rglob("*.py") if path != COMMON / "__init__.py")


def test_every_import_points_down_the_layers():
    upward = [f"{_module(path)[0]} -> {target}" for path in _modules() for target, _ in _imports(path)
              if target.startswith("common") and _layer(target) > _layer(_module(path)[0])]
    assert upward == []


def test_no_import_hides_inside_a_function_but_a_lazy_package():
    hidden = [f"{_module(path)[0]}: {target}" for path in _modules() for target, inside in _imports(path)
              if inside and target not in LAZY]
    assert hidden == []


def test_the_checks_see_an_upward_arrow():
    """The layer rule itself: a model importing the judge would be caught."""
    assert _layer("common.judge.scoreboard") > _layer("common.models.vae")
    assert _layer("common.train.recipes.vae") > _layer("common.weights.shipped")
