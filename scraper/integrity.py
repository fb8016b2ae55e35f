"""Before a command writes: is the archive whole, and did a run die in it?

Every command that writes (``init``, ``scrape``, ``import``, ``hydrate``,
``reprocess``, ``label``) opens a :class:`WritingSession` around its work, and so does
``status`` when the lock is free:

* **Integrity.** ``PRAGMA quick_check`` (every page and record readable,
  without the slower cross-check of each index) runs when the file changed
  since the last check that passed. What was checked is remembered in
  ``<archive>.checked`` beside the archive (size and modification time of
  the file and of its write-ahead log, when, the result); a session that
  started from a checked archive records the state it leaves as checked,
  since SQLite's own transactions do not damage a file. So the check costs
  nothing night after night, and runs again after anything else touched
  the file (a copy, a restore, another program, a run killed mid-write).
  A damaged archive is refused with exit code 4 and the way to recover.
* **Dead runs.** With the lock held, no run can still be going, so runs the
  log shows as ``running`` were killed: the run log marks them
  ``interrupted`` (:meth:`WritingSession.attach`).

Kept out of the write path: the check reads the file with its own
connection; the marking is the run log's.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from .errors import ArchiveUnwritableError
from .http import utc_now
from .lock import ArchiveLock


class ArchiveDamagedError(ArchiveUnwritableError):
    """The archive fails its integrity check; nothing was written (exit 4)."""


def recovery_advice(path: str | Path) -> str:
    return (
        f"nothing was written. To recover: copy the file aside, then "
        f"'sqlite3 {path} .recover | sqlite3 recovered.db' and check the copy with "
        f"'reactions status --db recovered.db'; or start again from your last export "
        f"(reactions export) and the saved files it lists; see docs/reliability.md"
    )


def record_path(path: str | Path) -> Path:
    return Path(f"{path}.checked")


def fingerprint(path: str | Path) -> list:
    """What changes when anything writes to the archive: size and time of
    the file and of its write-ahead log."""
    parts = []
    for name in (str(path), f"{path}-wal"):
        try:
            stat = os.stat(name)
        except FileNotFoundError:
            parts.append(None)
            continue
        parts.append([stat.st_size, stat.st_mtime_ns])
    return parts


def last_check(path: str | Path) -> dict | None:
    try:
        value = json.loads(record_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def remember(path: str | Path, result: str = "ok", checked_at: str | None = None) -> None:
    """Record the archive's present state as checked (quietly skipped where
    the folder cannot be written: the check then simply runs each time)."""
    record = {"fingerprint": fingerprint(path), "result": result, "checked_at": checked_at or utc_now()}
    try:
        record_path(path).write_text(json.dumps(record), encoding="utf-8")
    except OSError:
        pass


# Errors that say the file could not be opened or read here (permissions, a
# read-only folder that a WAL archive needs for its -shm file), not that it
# is damaged.
_CANNOT_OPEN = {3: "SQLITE_PERM", 8: "SQLITE_READONLY", 14: "SQLITE_CANTOPEN", 23: "SQLITE_AUTH"}


def quick_check(path: str | Path) -> list[str]:
    """``PRAGMA quick_check``'s answer: ["ok"], or the problems found.
    Raises ArchiveUnwritableError when the file cannot be opened at all."""
    conn = None
    try:
        conn = sqlite3.connect(str(path), timeout=5.0)
        conn.execute("PRAGMA query_only = ON")
        # (A row may hold several problems, one a line: one a string here.)
        return [problem.strip() for row in conn.execute("PRAGMA quick_check(20)")
                for problem in str(row[0]).splitlines() if problem.strip()]
    except sqlite3.Error as exc:
        if (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF in _CANNOT_OPEN:
            raise ArchiveUnwritableError(
                f"{path}: cannot open the archive ({exc}); check the file's and its folder's permissions: "
                "an archive in WAL mode needs its folder writable even to be read (copy it to a writable "
                "folder to read it)"
            ) from None
        return [str(exc)]
    finally:
        if conn is not None:
            conn.close()


def check(path: str | Path) -> dict:
    """Check the archive if it changed since the last check; raise
    ArchiveDamagedError if it is damaged. Returns the check's record
    (``checked_at``, ``result``, ``ran``: whether the check ran now)."""
    path = Path(path)
    if not path.is_file():
        return {"result": "absent", "ran": False}
    previous = last_check(path)
    if previous and previous.get("result") == "ok" and previous.get("fingerprint") == fingerprint(path):
        return {**previous, "ran": False}
    problems = quick_check(path)
    if len(problems) == 1 and "not a database" in problems[0]:
        raise ArchiveUnwritableError(f"{path}: not a SQLite archive or damaged ({problems[0]})")
    if len(problems) == 1 and ("locked" in problems[0] or "busy" in problems[0]):
        return {"result": "not checked (locked)", "ran": False}
    if problems != ["ok"]:
        remember(path, "damaged")
        shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        raise ArchiveDamagedError(
            f"{path}: the archive is damaged (PRAGMA quick_check: {shown}); {recovery_advice(path)}"
        )
    record = {"fingerprint": fingerprint(path), "result": "ok", "checked_at": utc_now()}
    remember(path, "ok", record["checked_at"])
    return {**record, "ran": True}


class WritingSession:
    """``with WritingSession(db_path) as session:`` around a writing command:
    takes the lock (library functions called inside take it again, which is
    free) and refuses a damaged archive; ``attach`` is told the archive
    opened inside, marks the runs a dead process left running (the run
    log's own ``mark_interrupted_runs``: with the lock held no run can still
    be going; ``session.interrupted`` counts them), and closes its
    connection at the end, so that its write-ahead log is folded into the
    file before the state left is recorded as checked (on a clean exit)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.lock = ArchiveLock(path)
        self.interrupted = 0
        self.checked: dict = {}
        self._archives: list = []

    def __enter__(self) -> "WritingSession":
        self.lock.acquire()
        try:
            self.checked = check(self.path)
        except BaseException:
            self.lock.release()
            raise
        return self

    def attach(self, archive, close: bool = True) -> None:
        self.interrupted += archive.mark_interrupted_runs()
        if close:
            self._archives.append(archive)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            for archive in self._archives:
                try:
                    archive.db.conn.close()
                except sqlite3.Error:
                    pass
            if exc_type is None and self.path.is_file():
                remember(self.path)
        finally:
            self.lock.release()
