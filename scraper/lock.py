"""One run at a time per archive.

The lock is an OS file lock (``flock``) on ``<archive>.lock``: the kernel
drops it when the process ends, however it ends, so a run killed with -9
never leaves a lock that blocks the next night. The file also records who
holds it (pid, host, start) for the message a second run prints; a clean
release empties it, so a file that still names a holder when the lock is
free was left by a killed run: it is reported as stale and taken over.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path

from .errors import ArchiveLockedError, ArchiveUnwritableError
from .http import utc_now


class ArchiveLock:
    """Re-entrant within a process: the CLI can hold the lock around a whole
    command while the library functions it calls take it again."""

    _held: dict[Path, int] = {}  # lock path -> how many holders in this process

    def __init__(self, archive_path: str | Path):
        self.path = Path(f"{archive_path}.lock").resolve()
        self._handle = None
        self._nested = False
        self.stale_holder: dict | None = None  # what a killed run left behind

    def acquire(self) -> "ArchiveLock":
        if self._held.get(self.path):
            self._held[self.path] += 1
            self._nested = True
            return self
        try:
            handle = open(self.path, "a+", encoding="utf-8")
        except OSError as exc:
            raise ArchiveUnwritableError(
                f"{self.path}: cannot create the archive's lock file ({exc.strerror or exc}); "
                "check the folder's permissions"
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(handle)
            handle.close()
            raise ArchiveLockedError(
                f"{self.path.with_suffix('')}: another run holds the archive "
                f"(pid {holder.get('pid', '?')} on {holder.get('host', '?')}, since {holder.get('started_at', '?')}); "
                "nothing was changed"
            ) from None
        previous = _read_holder(handle)
        if previous:
            self.stale_holder = previous
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started_at": utc_now()}))
        handle.flush()
        self._handle = handle
        self._held[self.path] = 1
        return self

    def release(self) -> None:
        if self._nested:
            self._held[self.path] -= 1
            self._nested = False
            return
        if self._handle is None:
            return
        self._held.pop(self.path, None)
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.flush()
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
        self._handle = None
        # The file stays (empty): unlinking it would let two runs lock two files.

    def __enter__(self) -> "ArchiveLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read_holder(handle) -> dict:
    handle.seek(0)
    text = handle.read().strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {"raw": text[:200]}
    return value if isinstance(value, dict) else {}
