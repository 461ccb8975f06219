"""Foreign files: a registry entry (``Download``: urls, sha256, destination, how to get it by
hand) and ``fetch``/``fetch_all``, which download into a temporary file beside the
destination, check it, and only then rename it into place; ``load_foreign_pth`` reads a
foreign PyTorch file safely."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..files import atomic_path
from .store import WeightsError, sha256_of


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
