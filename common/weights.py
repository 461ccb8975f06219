"""Weights: our own (safetensors + a manifest in ``weights/``) and foreign downloads.

The manifest (``weights/manifest.json``) records, for every file we ship: its sha256, the
command that trained it, and the metrics it reached (a test reloads each and checks them).
Foreign files come from a registry of (urls, sha256, destination); a download goes to a
temporary file beside the destination, is checked, and only then renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm

from .config import SettingError
from .files import FolderError, atomic_path, replace_together, usable_folder, write_failure

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
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


def load_foreign_pth(path: Path) -> dict[str, torch.Tensor]:
    """A foreign ``.pth`` state dict, loaded safely (``weights_only``, on the CPU)."""
    path = Path(path)
    if not path.exists():
        raise WeightsError(f"{path} does not exist")
    try:
        return torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:  # torch raises many kinds for damaged or unsafe files
        raise WeightsError(f"{path} could not be loaded as a PyTorch weights file "
                           f"(truncated, not a .pth, or it needs unsafe pickling): {error}") from error


@dataclass(frozen=True)
class Download:
    """A file we can fetch: where from, what it must hash to, where it goes.

    ``sha256`` may be None only for a file whose hash could not be recorded (we build
    offline); then ``validate`` must check the content (for weights: a strict load)."""

    name: str
    urls: tuple[str, ...]
    sha256: str | None
    destination: Path
    manual: str  # how to get it by hand
    validate: Callable[[Path], None] | None = None

    def check(self, path: Path) -> None:
        """Raise ``ValueError`` unless ``path`` holds this file."""
        if self.sha256 is not None:
            digest = sha256_of(path)
            if digest != self.sha256:
                raise ValueError(f"sha256 {digest[:12]}... is not the expected {self.sha256[:12]}...")
        if self.validate is not None:
            self.validate(path)


class DownloadError(RuntimeError):
    """Every URL failed; the message names the file and where to put it by hand.
    ``unreachable``: no server could be reached at all (offline), not a refusal or a bad file."""

    def __init__(self, message: str, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


TIMEOUT_S = 10.0     # per connection and read: offline, a fetch fails in seconds


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` means the server was never reached (no network, no DNS, refused,
    timed out) rather than an HTTP answer or a wrong file."""
    if isinstance(error, urllib.error.HTTPError):
        return False
    return isinstance(error, (urllib.error.URLError, ConnectionError, TimeoutError, socket.gaierror))


def _http_get(url: str, target: Path, timeout: float = TIMEOUT_S) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as f, \
            tqdm(total=int(response.headers.get("Content-Length") or 0) or None, unit="B", unit_scale=True,
                 desc=target.name.removesuffix(".part"), leave=False) as bar:
        while block := response.read(1 << 20):
            f.write(block)
            bar.update(len(block))


def _gdown_get(url: str, target: Path) -> None:
    import gdown

    if gdown.download(url, str(target), quiet=False, fuzzy=True) is None:
        raise OSError("Google Drive refused the download (often its daily quota)")


def fetch(item: Download, getter: Callable[[str, Path], None] | None = None, offline: bool = False) -> Path:
    """Make sure ``item.destination`` holds the right file, downloading it if needed.

    Each URL is tried in turn (gdown for Google Drive, plain HTTP otherwise) into a
    temporary file; only a file that passes ``item.check`` is renamed into place.
    ``offline``: a file not in place is not tried (a ``DownloadError`` says where to put it).
    """
    if item.sha256 is None and item.validate is None:
        raise ValueError(f"registry entry {item.name} has neither a sha256 nor a validate check")
    if item.destination.exists():
        try:
            item.check(item.destination)
            return item.destination
        except ValueError:
            pass  # a wrong or damaged file: download again (it is replaced only if the new one checks)
    expected = f" (sha256 {item.sha256})" if item.sha256 else ""
    by_hand = f"Get it by hand: {item.manual}\nand put it at {item.destination}{expected}."
    if offline:
        raise DownloadError(f"{item.name} was not tried (no server could be reached).\n{by_hand}", unreachable=True)
    reasons, errors = [], []
    for url in item.urls:
        get = getter or (_gdown_get if "drive.google.com" in url else _http_get)
        try:
            with atomic_path(item.destination, suffix=".part") as tmp:
                get(url, tmp)
                item.check(tmp)
            return item.destination
        except Exception as error:  # every failure is reported together below
            reasons.append(f"{url}: {type(error).__name__}: {error}")
            errors.append(error)
    raise DownloadError(f"could not download {item.name}:\n  " + "\n  ".join(reasons) + f"\n{by_hand}",
                        unreachable=all(unreachable(error) for error in errors))


def fetch_all(items: Sequence[Download], getter: Callable[[str, Path], None] | None = None) -> list[Path]:
    """``fetch`` each of ``items`` under one progress bar (files already in place and
    correct are kept); every failure is reported together at the end. Once a file's
    servers cannot be reached at all, the rest are not tried (offline, the call fails in
    seconds, naming every missing file).

    Raises:
        DownloadError: one or more items could not be fetched (each one named, with how
            to get it by hand); the others are in place."""
    paths, failures, offline = [], [], False
    for item in tqdm(items, desc="downloads", unit="file"):
        try:
            paths.append(fetch(item, getter, offline))
        except DownloadError as error:
            failures.append(str(error))
            offline = offline or error.unreachable
    if failures:
        raise DownloadError(f"{len(failures)} of {len(items)} files could not be fetched:\n\n" + "\n\n".join(failures),
                            unreachable=offline)
    return paths
