"""The archive file itself: opening it, the pragmas a writer uses, its
migrations, and write transactions that turn SQLite's lock, permission and
corruption errors into ours (exit codes 3 and 4)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from ..errors import ArchiveLockedError, ArchiveUnwritableError
from ..schema import ensure_schema

NEW_ARCHIVE_PAGE_SIZE = 8192
WAL_CHECKPOINT_BYTES = 40 << 20
# SQLite's page cache for the writing connection, in KiB (default 2 MiB).
# The posts indexes take keys in random order; a larger cache keeps their
# pages between statements. (Measured on 100k posts: 32 MiB cost 100 MiB
# of peak memory for no gain over 8 MiB.)
WRITE_CACHE_KIB = 8192


def require_archive(path: str | Path) -> None:
    """For commands that read an archive: a clear error when there is none."""
    if not Path(path).exists():
        raise ArchiveUnwritableError(f"{path}: no archive here yet; run 'reactions scrape' first")


def open_database(path: str | Path) -> Database:
    """Open (creating if needed) an archive file, with clear errors for a file
    that is not a database, is read-only, or is locked."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise ArchiveUnwritableError(f"{path}: is a directory, not an archive file")
    try:
        conn = sqlite3.connect(str(path), timeout=5.0)
        db = Database(conn)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("SELECT count(*) FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError as exc:
        raise database_error(path, exc) from None
    return db


def tune_for_writing(db: Database) -> None:
    db.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
    # With write-ahead logging, NORMAL syncs at checkpoints, not at every
    # commit (SQLite's advice for WAL): a power cut may undo the last
    # commits, never corrupt the file; the next run fetches them again.
    db.execute("PRAGMA synchronous = NORMAL")
    _set_checkpoint_interval(db)


def _set_checkpoint_interval(db: Database) -> None:
    """Copy the log back into the file every 40 MB rather than 4 MB: a
    batch of posts rewrites many of the same index pages. (The setting
    counts pages, whose size a new archive sets at its first migration.)"""
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_BYTES // page_size}")


def migrate(db: Database, path: Path) -> list[str]:
    """Create or migrate the schema (scraper.schema owns it); return the
    names of the migrations applied."""
    try:
        if not db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            # A new archive: 8 KiB pages (SQLite's default is 4 KiB). A stored
            # page of 100 posts (about 10 KB compressed) fills one 16 KiB page
            # and wastes the rest; in 8 KiB pages it spills into an overflow
            # page instead: 100k posts took 106.5 MiB with 16 KiB pages, 101.9
            # with 8 KiB, 105.3 with 4 KiB, for the same CPU (docs/performance.md).
            db.execute(f"PRAGMA page_size = {NEW_ARCHIVE_PAGE_SIZE}")
        applied = ensure_schema(db)
        # Write-ahead logging: readers (Datasette, an export) never block a
        # nightly commit, nor it them. Kept in the file once set.
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode = WAL")
        _set_checkpoint_interval(db)
        return applied
    except sqlite3.DatabaseError as exc:
        raise database_error(path, exc) from None


def database_error(path: Path, exc: sqlite3.Error) -> Exception:
    message = str(exc)
    if "locked" in message or "busy" in message:
        return ArchiveLockedError(f"{path}: the archive is locked by another process ({message})")
    if "readonly" in message or "read-only" in message or "unable to open" in message:
        return ArchiveUnwritableError(
            f"{path}: the archive cannot be written ({message}); check the file's and folder's permissions"
        )
    if "not a database" in message or "malformed" in message:
        return ArchiveUnwritableError(f"{path}: not a SQLite archive or damaged ({message})")
    return ArchiveUnwritableError(f"{path}: {message}")


class Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; nested uses join the outer one.

    ``before_commit`` writes what was queued (the writer's batch);
    ``on_rollback`` forgets it, and whatever was cached of rows that are
    no longer there."""

    def __init__(self, db: Database, path: Path, before_commit: Callable[[], None],
                 on_rollback: Callable[[], None]):
        self.conn = db.conn
        self.path = path
        self.before_commit = before_commit
        self.on_rollback = on_rollback
        self.nested = False

    def __enter__(self):
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "within a transaction" in str(exc):
                self.nested = True
                return self
            raise database_error(self.path, exc) from None
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.nested:
            return False
        try:
            if exc_type is None:
                self.before_commit()
                self.conn.execute("COMMIT")
            else:
                self.on_rollback()
                self.conn.execute("ROLLBACK")
        except sqlite3.DatabaseError as error:
            if exc_type is None:
                self.on_rollback()
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise database_error(self.path, error) from None
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.IntegrityError):
            raise database_error(self.path, exc) from None
        return False
