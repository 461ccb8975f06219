"""Our own weights: safetensors files and a manifest in ``weights/``.

The manifest (``weights/manifest.json``) records, for every file we ship: its sha256, the
command that trained it, and the metrics it reached (a test reloads each and checks them).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..config import SettingError
from ..files import FolderError, atomic_path, replace_together, usable_folder, write_failure

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"
MANIFEST = "manifest.json"


def weights_dir() -> Path:
    """Where ``--save`` writes and the loaders read: ``FES_WEIGHTS_DIR`` when set (to keep
    one's own models, or a test's, apart from the shipped ones), else the clone's ``weights/``."""
    folder = os.environ.get("FES_WEIGHTS_DIR", "").strip()
    if not folder:
        return WEIGHTS_DIR
    try:
        return usable_folder(Path(folder), "FES_WEIGHTS_DIR", writable=False)
    except FolderError as error:
        raise SettingError(str(error)) from None


DATASETS = ("synth", "celeba")


def shipped_name(synth_name: str, data: str = "synth", celeba_stem: str | None = None, size: int = 64) -> str:
    """The weights file of a model trained on ``data``: SynthFaces models keep the names
    they ship under (``synth_name``); CelebA ones get their own, ``<stem>_celeba<size>``
    (the stem defaults to ``synth_name`` without its extension), so training on CelebA
    never writes over a shipped SynthFaces file."""
    if data not in DATASETS:
        raise ValueError(f"data must be one of {DATASETS}, got {data!r}")
    if data == "synth":
        return synth_name
    return f"{celeba_stem or synth_name.removesuffix('.safetensors')}_celeba{size}.safetensors"


class WeightsError(RuntimeError):
    """A weights file is missing, damaged or does not fit; the message says what to do."""


def history_path(name: str, folder: Path | None = None) -> Path:
    """Where the training curves of weights file ``name`` live: ``NAME.history.json`` beside it."""
    return (folder or weights_dir()) / name.replace(".safetensors", ".history.json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def restore_manifest(folder: Path) -> str:
    """What to do about a missing or damaged manifest in ``folder``: ``git checkout`` where
    it is the clone's own ``weights/``; elsewhere, where its manifest comes from."""
    if Path(folder).resolve() == WEIGHTS_DIR.resolve():
        return "restore the shipped one with `git checkout -- weights/manifest.json`"
    return (f"{folder} is not the clone's weights/ folder: copy the manifest and weights there from the "
            "clone's weights/, or unset FES_WEIGHTS_DIR / --weights-dir to use the shipped ones")


def read_manifest(folder: Path | None = None) -> dict[str, dict]:
    """The manifest's entries by file name; ``{}`` when the folder has no manifest yet.

    Raises:
        WeightsError: the manifest is not a JSON object (the message names the file)."""
    folder = folder or weights_dir()
    path = folder / MANIFEST
    if not path.exists():
        return {}
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise WeightsError(f"{path} is not valid JSON ({error}); {restore_manifest(folder)}") from None
    except OSError as error:
        raise WeightsError(f"{path} cannot be read ({error.strerror or error})") from None
    if not isinstance(manifest, dict):
        raise WeightsError(f"{path} holds a JSON {type(manifest).__name__}, not an object of entries; "
                           f"{restore_manifest(folder)}")
    return manifest


@dataclass(frozen=True)
class Headline:
    """The one metric that says whether new weights beat the shipped ones."""

    metric: str
    higher_is_better: bool

    def better(self, new: float, old: float) -> bool:
        return new >= old if self.higher_is_better else new <= old


def check_replacement(name: str, metrics: dict[str, float], headline: Headline, force: bool = False,
                      folder: Path | None = None) -> str:
    """Refuse to ship ``metrics`` that are not finite, or worse on ``headline`` than the
    weights they would replace (unless ``force``). Call it before ``save_weights``.

    Returns:
        one line saying what would be replaced, for the user.
    Raises:
        WeightsError: the message names the file, both metrics and ``--force``."""
    folder = folder or weights_dir()
    bad = {k: v for k, v in metrics.items() if not math.isfinite(v)}
    if bad:
        raise WeightsError(f"not saving {folder / name}: these metrics are not finite: {bad}")
    new = metrics[headline.metric]
    entry = read_manifest(folder).get(name)
    if entry is None:
        return f"{folder / name} is new ({headline.metric} {new:.4g})"
    old = entry.get("metrics", {}).get(headline.metric)
    change = f"{headline.metric} {old:.4g} -> {new:.4g}" if old is not None else f"{headline.metric} {new:.4g}"
    if old is not None and not headline.better(new, old) and not force:
        raise WeightsError(
            f"not saving {folder / name}: the shipped weights are better ({change}; "
            f"{'higher' if headline.higher_is_better else 'lower'} is better). Train longer, "
            "or pass --force to replace them anyway.")
    return f"replaces {folder / name} (trained by `{entry.get('command')}`; {change})"


@dataclass(frozen=True)
class Record:
    """What the manifest says about a weights file besides its hash, in separate blocks:
    ``model`` (exactly what rebuilds the architecture: the loaders read it back as the
    model's config), ``train`` (steps, batch, optimiser and loss settings), ``data`` (which
    data, where the metrics were measured) and ``metrics``."""

    command: str
    metrics: dict[str, float]
    model: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)


def save_weights(module: nn.Module, name: str, record: Record, *, half: bool = True,
                 folder: Path | None = None) -> Path:
    """Save ``module``'s state dict as ``folder/name`` (safetensors, fp16 floats when
    ``half``) and record it in the manifest (``Record``'s blocks, the size and sha256).

    The weights and the manifest are written to temporary files and then renamed
    together: if any step fails (an unreadable manifest included), neither changes.

    Raises:
        WriteError: the disk is full, the folder read-only...; names the file, changes nothing."""
    folder = folder or weights_dir()
    manifest = read_manifest(folder)
    state = {k: (v.half() if half and v.is_floating_point() else v).contiguous()
             for k, v in module.state_dict().items()}
    path = writing = folder / name
    try:
        with atomic_path(path) as weights_tmp, atomic_path(folder / MANIFEST) as manifest_tmp:
            save_file(state, str(weights_tmp))
            manifest[name] = {"sha256": sha256_of(weights_tmp), "bytes": weights_tmp.stat().st_size,
                              "command": record.command, "metrics": record.metrics, "model": record.model,
                              "train": record.train, "data": record.data}
            writing = folder / MANIFEST
            manifest_tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            replace_together([(weights_tmp, path), (manifest_tmp, folder / MANIFEST)])
    except (OSError, SafetensorError) as error:     # disk full, read-only folder: nothing changed
        raise write_failure(writing, error) from error
    return path


def record_metrics(name: str, metrics: dict[str, float], folder: Path | None = None) -> None:
    """Replace the figures the manifest records for ``folder/name`` (the weights and the
    other blocks unchanged), written to a temporary file and renamed.

    Raises:
        WeightsError: the manifest has no entry for ``name``."""
    folder = folder or weights_dir()
    manifest = read_manifest(folder)
    if name not in manifest:
        raise WeightsError(f"{name} is not in {folder / MANIFEST}: train it with python -m common.train ... --save")
    manifest[name]["metrics"] = metrics
    try:
        with atomic_path(folder / MANIFEST) as manifest_tmp:
            manifest_tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    except OSError as error:
        raise write_failure(folder / MANIFEST, error) from error


def load_weights(module: nn.Module, name: str, folder: Path | None = None, added: tuple[str, ...] = ()) -> dict:
    """Load ``folder/name`` into ``module`` (strict), after checking its sha256 against the
    manifest. Returns the manifest entry (command, metrics, model, train, data).
    ``added``: prefixes of ``module``'s parameters the file may lack (parts a model adds to
    the one it starts from, such as a conditional prior); they keep their initial values."""
    folder = folder or weights_dir()
    path = folder / name
    if not (folder / MANIFEST).exists():
        raise WeightsError(f"{folder / MANIFEST} is missing, so {path} cannot be checked; {restore_manifest(folder)}")
    entry = read_manifest(folder).get(name)
    if entry is None:
        raise WeightsError(f"{path} is not in {folder / MANIFEST}; {restore_manifest(folder)}, or train it "
                           "with the project's command (see docs/GUIDE.md) so that the manifest records it")
    restore = (f"restore it with `git checkout -- weights/{name}` or retrain"
               if folder.resolve() == WEIGHTS_DIR.resolve() else "retrain it")
    retrain = f"{restore}: {entry['command']}"
    if not path.exists():
        raise WeightsError(f"weights file {path} is missing; {retrain}")
    if sha256_of(path) != entry["sha256"]:
        raise WeightsError(f"weights file {path} is truncated or modified (sha256 differs from the "
                           f"manifest); {retrain}")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise WeightsError(f"{path} is not a readable safetensors file ({error}); {retrain}") from error
    own = module.state_dict()
    try:
        missing, unexpected = module.load_state_dict({k: v.to(own[k].dtype) if k in own else v
                                                      for k, v in state.items()}, strict=not added)
    except RuntimeError as error:
        raise WeightsError(f"{path} does not fit {type(module).__name__} (different architecture or "
                           f"model {entry.get('model')}): {error}") from error
    foreign = list(unexpected) + [key for key in missing if not key.startswith(added)]
    if foreign:
        raise WeightsError(f"{path} does not fit {type(module).__name__} (different architecture or "
                           f"model {entry.get('model')}): {', '.join(foreign[:5])} differ")
    return entry


def model_record(name: str, folder: Path | None = None) -> dict:
    """The ``model`` block of ``name``'s manifest entry (``{}`` when it is not listed: the
    weights check then names what is missing)."""
    return read_manifest(folder).get(name, {}).get("model", {})


def manifest_config(name: str, config_type: type, folder: Path | None = None):
    """The model config ``name`` was trained with: ``config_type(**model block)``, exactly
    (defaults when the file is not listed)."""
    try:
        return config_type(**model_record(name, folder))
    except TypeError as error:
        raise WeightsError(f"the manifest's model block for {name} does not fit {config_type.__name__} "
                           f"({error}); {restore_manifest(folder or weights_dir())}") from None


