"""An exclusive lock on a file, across processes: one `deepline run` per output folder, one
`deepline schedule` per folder.

The lock is the kernel's (`flock`): it is dropped when its holder exits, even by a crash or
`kill -9`, so a lock can never be left held by a dead run. The file itself says who holds
it, one line each: the pid, the host and the start time (ISO 8601, UTC). A holder that
releases empties the file; a holder that was killed leaves its lines behind, so a newcomer
that takes the lock over a non-empty file knows the previous run died, and says so
(`RunLock.taken_over`). Imports nothing heavy: `deepline run` takes the lock before it
imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import datetime
import fcntl
import os
import socket

__all__ = ["LockHeldError", "LockHolder", "RunLock"]


@dataclasses.dataclass(frozen=True)
class LockHolder:
    """Who holds (or held) a lock: what its lock file says.

    Attributes:
      pid: The holder's process id; None if the file did not say.
      host: The machine it runs on. Defaults to "" (unknown).
      started: When it took the lock, ISO 8601 in UTC. Defaults to "" (unknown).
    """

    pid: int | None
    host: str = ""
    started: str = ""

    @classmethod
    def of_this_process(cls) -> LockHolder:
        """This process, now."""
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        return cls(pid=os.getpid(), host=socket.gethostname(), started=now)

    @classmethod
    def parse(cls, text: str) -> LockHolder | None:
        """The holder a lock file's text names, or None for an empty file."""
        lines = [line.strip() for line in text.splitlines()]
        if not lines or not lines[0]:
            return None
        pid = int(lines[0]) if lines[0].isdigit() else None
        return cls(
            pid=pid,
            host=lines[1] if len(lines) > 1 else "",
            started=lines[2] if len(lines) > 2 else "",
        )

    def text(self) -> str:
        """The lock file's content for this holder."""
        return f"{self.pid}\n{self.host}\n{self.started}\n"

    def describe(self) -> str:
        """E.g. "process 4242 on host build-1, started 2026-05-01T02:00:00+00:00"."""
        words = f"process {self.pid}" if self.pid is not None else "another process"
        if self.host:
            words += f" on host {self.host}"
        if self.started:
            words += f", started {self.started}"
        return words


class LockHeldError(RuntimeError):
    """Another process holds the lock; the message names the lock file and the holder.

    Attributes:
      path: The lock file.
      holder: Who holds it, as its file says; None while a new holder has not written it yet.
      pid: The holder's pid, or None.
    """

    def __init__(self, path: str, holder: LockHolder | None):
        self.path = path
        self.holder = holder
        self.pid = holder.pid if holder is not None else None
        who = holder.describe() if holder is not None else "another process"
        super().__init__(
            f"the run lock {path} is held by {who}, so a run is in progress; wait for it "
            "to finish, or stop that process if it is stuck"
        )


class RunLock:
    """An exclusive lock on a file, for every process that uses the same path.

    The file is kept after release: deleting it would let a newcomer lock a new file while
    someone still holds the old one. As a context manager (`with RunLock(path):`) it does
    not wait.

    Attributes:
      path: The lock file.
      taken_over: After `acquire`, the previous holder if it died holding the lock (its
        lines were still in the file), else None.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self.taken_over: LockHolder | None = None
        self._fd: int | None = None

    def acquire(self, wait: bool = False) -> None:
        """Takes the lock and writes this process's pid, host and start time into the file.

        Args:
          wait: block until the holder releases the lock instead of failing. Defaults to
            False.

        Raises:
          LockHeldError: the lock is held, by another process or another `RunLock` in this
            one, and `wait` is False.
          RuntimeError: this `RunLock` holds it already.
          OSError: the lock file cannot be created (e.g. a read-only folder).
        """
        if self._fd is not None:
            raise RuntimeError(f"this RunLock holds {self.path} already")
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LockHeldError(self.path, _read_holder(fd)) from None
            # Only a holder that never released (killed) leaves its lines behind.
            self.taken_over = _read_holder(fd)
            os.ftruncate(fd, 0)
            os.pwrite(fd, LockHolder.of_this_process().text().encode(), 0)
        except BaseException:
            os.close(fd)  # closing drops the lock too, if it was taken
            raise
        self._fd = fd

    def release(self) -> None:
        """Releases the lock; does nothing if this `RunLock` does not hold it."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # so that nobody reads our pid after we are gone
        finally:
            os.close(fd)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _read_holder(fd: int) -> LockHolder | None:
    # Empty while a new holder is between taking the lock and writing its lines.
    return LockHolder.parse(os.pread(fd, 4096, 0).decode(errors="replace"))
