"""The recipe behind a weights file, read back from its manifest entry: ``shipped_recipe``.

The ``model`` block rebuilds the model's config exactly; the ``train`` block the
optimisation and the loss settings; the ``data`` block the data. Settings an older entry
did not record take the recipe's defaults for the recorded steps."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

from ...weights import WeightsError, read_manifest
from ..loop import TrainConfig
from .base import Recipe
from .data_spec import DataSpec
from .registry import RECIPES

_SCHEDULE = {field.name for field in fields(TrainConfig)} - {"out", "device", "progress"}


def _model_name(entry: dict) -> str:
    """The command line's MODEL of the entry (its ``command``'s first word after ``common.train``)."""
    words = entry.get("command", "").split()
    if "common.train" in words and words.index("common.train") + 1 < len(words):
        model = words[words.index("common.train") + 1]
        if model in RECIPES:
            return model
    raise WeightsError(f"cannot tell which recipe trained it (command {entry.get('command')!r})")


def shipped_recipe(name: str, folder: Path | None = None, celeba_root: str | None = None) -> Recipe:
    """The recipe that trained ``folder/name`` (default the clone's ``weights/``), as the
    manifest records it. ``celeba_root``: where CelebA is, for weights trained on it.

    Raises:
        WeightsError: the manifest has no such entry, or the entry has no ``model`` and
            ``train`` blocks."""
    entry = read_manifest(folder).get(name)
    if entry is None or "model" not in entry or "train" not in entry:
        raise WeightsError(f"{name}: the manifest in {folder or 'weights/'} records no recipe for it")
    model, trained = entry["model"], entry["train"]
    data = DataSpec.from_record(entry.get("data", {}), celeba_root=celeba_root)
    options = {"steps": trained["steps"], "batch_size": trained["batch_size"], "lr": trained["lr"],
               "seed": trained["seed"], "data": data}
    recipe = RECIPES[_model_name(entry)].from_blocks(model, trained, **options)
    schedule = {key: tuple(value) if isinstance(value, list) else value
                for key, value in trained.items() if key in _SCHEDULE}
    return replace(recipe, train=replace(recipe.train, **schedule))
