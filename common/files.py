"""Writing files so that nothing half-written is ever left behind, not even by a killed run."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_leftovers(destination: Path) -> list[Path]:
    """Delete the temporary files that writers of ``destination`` killed mid-write left
    beside it (``.NAME.PID.*``, see ``atomic_path``), skipping those of live processes.

    Returns:
        the paths removed.
    """
    removed = []
    for leftover in destination.parent.glob(f".{destination.name}.*"):
        pid = leftover.name[len(destination.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


@contextmanager
def atomic_path(destination: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``destination``, renamed onto it when the block succeeds
    and deleted when it fails: nothing half-written is ever left at ``destination``.

    The temporary name carries this process's id (``.NAME.PID.XXXX.tmp``), so the next
    writer of ``destination`` removes what a killed one left behind. A block that renames
    the temporary file itself (``replace_together``) is left to do so."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(destination)
    handle, name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.{os.getpid()}.",
                                    suffix=suffix)
    os.close(handle)
    tmp = Path(name)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; shipped files must be readable
    try:
        yield tmp
        if tmp.exists():  # not already moved by the block (``replace_together``)
            os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)


def replace_together(moves: list[tuple[Path, Path]]) -> None:
    """Rename each ``(temporary, destination)`` in turn; if one fails, the destinations
    already replaced get their old content back, so either all change or none does."""
    backups: dict[Path, Path] = {}
    done: list[Path] = []
    try:
        for tmp, destination in moves:
            if destination.exists():
                backup = destination.with_name(f".{destination.name}.{os.getpid()}.backup")
                backup.unlink(missing_ok=True)
                os.link(destination, backup)  # the old content stays reachable under a second name
                backups[destination] = backup
            os.replace(tmp, destination)
            done.append(destination)
    except BaseException:
        for destination in reversed(done):
            if destination in backups:
                os.replace(backups.pop(destination), destination)
            else:
                destination.unlink(missing_ok=True)
        raise
    finally:
        for backup in backups.values():
            backup.unlink(missing_ok=True)
