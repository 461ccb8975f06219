"""The files a slider panel reads and writes: uploaded pictures in, PNG and GIF out."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from .files import atomic_path
from .images import FaceImageError


def uploaded_files(value) -> list[tuple[str, bytes]]:
    """``(name, content)`` of each file in a ``FileUpload`` value, in either format:
    ipywidgets 8 (a tuple of ``{"name", "content": memoryview, ...}``) or ipywidgets 7, as
    on Colab (a dict ``{file name: {"metadata": {"name", ...}, "content": bytes}}``)."""
    if isinstance(value, dict):
        return [(item.get("metadata", {}).get("name", key), bytes(item["content"])) for key, item in value.items()]
    return [(item.get("name", "the file"), bytes(item["content"])) for item in value]


def empty_upload(value):
    """The empty value of the ``FileUpload`` that holds ``value``: ``()`` in ipywidgets 8, ``{}`` in 7."""
    return type(value)()


def save_file(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``folder/name`` (created if needed) through a temporary file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def download_link(path: Path, data: bytes, mime: str) -> str:
    """HTML for the status line: where the file was saved, and a link that downloads it."""
    encoded = base64.b64encode(data).decode()
    return (f'saved <code>{html.escape(str(path))}</code> · '
            f'<a download="{html.escape(path.name)}" href="data:{mime};base64,{encoded}">download</a>')


def upload_failure(name: str, error: Exception) -> str:
    """What the status line says when the uploaded file ``name`` could not be used: a
    ``FaceImageError``'s own message, otherwise the error's kind and text."""
    if isinstance(error, FaceImageError):
        return str(error)
    return f"could not use {name}: {type(error).__name__}: {error}"


class SavedFiles:
    """A panel's numbered files ``face_<seed>_<n>.png`` / ``.gif`` in ``folder``."""

    MIME = {"png": "image/png", "gif": "image/gif"}

    def __init__(self, folder: str | Path) -> None:
        self.folder, self.count = Path(folder), 0

    def save(self, seed: int, suffix: str, data: bytes) -> tuple[Path, str]:
        """Write ``data`` as the next file; returns its path and the status line's download link."""
        self.count += 1
        path = save_file(self.folder, f"face_{seed}_{self.count:03d}.{suffix}", data)
        return path, download_link(path, data, self.MIME[suffix])
