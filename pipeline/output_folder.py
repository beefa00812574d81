"""A command's `--output` folder: usable (a folder we can write to), and for `deepline run`
ours alone while the run lasts.

`check_writable_folder` turns what the operating system would say late and raw
(`FileExistsError`, `OSError: Read-only file system`) into one paragraph before anything
starts. `run_lock` holds the output folder's run lock (`pipeline.run_lock`, the same lock the
scheduler uses) for the length of a run. Imports nothing heavy: both happen before
TensorFlow is imported, so a second run on a busy folder is refused at once.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator

from pipeline import contracts
from pipeline.run_lock import RunLock


class OutputFolderError(ValueError):
    """The output folder cannot be used; the message says what, where and what to do."""


def _nearest_existing(path: str) -> str:
    """`path` itself if it exists, else its closest existing ancestor."""
    path = os.path.abspath(path)
    while not os.path.lexists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def check_writable_folder(path: str, option: str = "--output") -> None:
    """Checks that `path` is, or can be made, a folder this process can write into.

    Args:
      path: The folder (it need not exist yet).
      option: The command-line option that named it, for the message. Defaults to
        "--output".

    Raises:
      OutputFolderError: `path` (or one of its parents) is a file, or the folder that
        would hold it is not writable (permissions, a read-only file system).
    """
    existing = _nearest_existing(path)
    if not os.path.isdir(existing):
        is_path = existing == os.path.abspath(path)
        where = "is a file" if is_path else f"is under the file {existing}"
        raise OutputFolderError(
            f"{option} {path} {where}, not a folder: the command writes several files into "
            f"a folder. Pass a folder path with {option} (it is created if missing), or move "
            "the file away."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputFolderError(_not_writable(path, option, existing, "it is read-only for you"))


def _not_writable(path: str, option: str, folder: str, why: str) -> str:
    return (
        f"{option} {path} cannot be written: {why} ({folder}). Pass an {option} folder "
        "you can write to, or change the folder's permissions."
    )


@contextlib.contextmanager
def run_lock(output_dir: str) -> Iterator[RunLock]:
    """Holds `output_dir`'s run lock (`contracts.RUN_LOCK_FILE`) inside the `with` block.

    If this call created `output_dir` and the block leaves nothing in it but the lock file
    (a run refused for its input), the folder is removed again, as if never made; the file is
    removed while still locked, so nobody can hold a lock on a file that is gone.

    Raises:
      LockHeldError: another process holds the lock: a run on `output_dir` is in progress.
      OutputFolderError: the lock file cannot be written (a read-only file system, a file
        where a folder should be).
    """
    created = not os.path.exists(output_dir)
    lock = RunLock(os.path.join(output_dir, contracts.RUN_LOCK_FILE))
    try:
        lock.acquire()
    except OSError as error:  # LockHeldError is not an OSError
        why = os.strerror(error.errno) if error.errno else str(error)
        if error.errno == errno.EROFS:
            why = "the file system is read-only"
        raise OutputFolderError(
            _not_writable(output_dir, "--output", error.filename or output_dir, why)
        ) from None
    try:
        yield lock
    finally:
        if created and os.listdir(output_dir) == [contracts.RUN_LOCK_FILE]:
            with contextlib.suppress(OSError):
                os.remove(lock.path)
                os.rmdir(output_dir)
        lock.release()
