"""Writing files so that nothing half-written is ever left behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(destination: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``destination``, renamed onto it when the block succeeds
    and deleted when it fails: nothing half-written is ever left at ``destination``."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=suffix)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; shipped files must be readable
        os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)
