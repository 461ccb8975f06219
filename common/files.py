"""Writing files so that nothing half-written is ever left behind, not even by a killed run;
checking a folder before a run writes there; one run per output folder."""

from __future__ import annotations

import errno
import os
import shutil
import sys
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


class FolderError(RuntimeError):
    """A folder a run needs cannot be used; the message is one line naming the path, where it
    came from (an option or a variable) and what to do."""


class WriteError(RuntimeError):
    """Writing a file failed during a run (disk full, read-only, no permission); the message
    names the file and the cause."""


def usable_folder(path: Path, origin: str, needed_bytes: int = 0, margin: float = 1.5,
                  writable: bool = True) -> Path:
    """``path`` as a folder this process can write ``needed_bytes`` into (times ``margin``),
    created (with its parents) when missing; ``origin`` says where the path came from
    (``--out``, ``FES_CACHE``...) for the message. ``writable=False``: a folder only read.

    Raises:
        FolderError: it is a file, cannot be created, is not writable, or its disk lacks room."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise FolderError(f"{origin} {path} is a file, not a folder; point {origin} at a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FolderError(f"{origin} {path} cannot be created ({error.strerror or error}); "
                          f"point {origin} at a folder you can write") from None
    if not os.access(path, os.R_OK | os.X_OK):
        raise FolderError(f"{origin} {path} cannot be read by this user; point {origin} at a folder you can read")
    if writable and not os.access(path, os.W_OK):
        raise FolderError(f"{origin} {path} is not writable by this user; point {origin} at a folder you can write")
    free = shutil.disk_usage(path).free
    if needed_bytes and free < needed_bytes * margin:
        raise FolderError(f"{origin} {path} has {free / 2**20:.0f} MiB free and this run writes about "
                          f"{needed_bytes / 2**20:.0f} MiB there; free some space or point {origin} elsewhere")
    return path


def write_failure(path: Path, error: BaseException) -> WriteError:
    """The ``WriteError`` for ``error`` raised while writing ``path``: the cause in words
    (``No space left on device``, ``Read-only file system``...). Writers that give no errno
    (torch's zip writer, safetensors) are read by their text, or by the disk's free space."""
    number = getattr(error, "errno", None)
    text = str(error)
    if number is None:
        for candidate in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT):
            if f"os error {candidate})" in text or os.strerror(candidate) in text:
                number = candidate
                break
    if number is None:
        try:
            full = shutil.disk_usage(path.parent).free < 1 << 20
        except OSError:
            full = False
        number = errno.ENOSPC if full else None
    cause = os.strerror(number) if number is not None else f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"
    return WriteError(f"{cause} while writing {path}")


class RunLock:
    """One run per folder: ``folder/run.lock`` holds the process id of the run writing there
    while it runs. A lock left by a process that has ended is taken over (with a note on
    standard error); one held by a live process is refused.

    Use as ``with RunLock(folder, "--out"):``; ``origin`` names the option for the message."""

    NAME = "run.lock"

    def __init__(self, folder: Path, origin: str = "--out") -> None:
        self.path, self.origin = Path(folder) / self.NAME, origin

    def _holder(self) -> int | None:
        try:
            text = self.path.read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def __enter__(self) -> RunLock:
        for _ in range(2):
            try:
                handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and holder != os.getpid() and _process_alive(holder):
                    raise FolderError(f"another run (process {holder}) is training into {self.path.parent}; "
                                      f"wait for it to finish or choose another {self.origin}") from None
                print(f"note: {self.path} was left by a run that has ended (process {holder}); taking it over",
                      file=sys.stderr)
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(handle, "w") as lock:
                lock.write(str(os.getpid()))
            return self
        raise FolderError(f"{self.path} could not be taken; remove it if no run is training into {self.path.parent}")

    def __exit__(self, *exc: object) -> None:
        if self._holder() == os.getpid():
            self.path.unlink(missing_ok=True)
