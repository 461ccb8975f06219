"""The files a slider panel reads and writes: uploaded pictures in, PNG and GIF out."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from .files import atomic_path


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
