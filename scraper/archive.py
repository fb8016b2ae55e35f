"""The archive: one SQLite file, written through sqlite-utils.

:class:`Archive` loads the election and roster, records runs and sources,
and stores raw items: each one is normalised into a post (or recorded as a
parse error with its raw payload), its raw payload is kept compressed, every
sighting becomes a capture, and a changed state becomes a new version rather
than an overwrite. Writes are committed in batches.
"""

from __future__ import annotations

import gc
import hashlib
import json
import sqlite3
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from . import __version__, classify_store
from .config import Config
from .countries import country_rows
from .errors import ArchiveLockedError, ArchiveUnwritableError, ParseFailure
from .http import utc_now
from .model import FetchedPage, Post, RawItem, RawPage
from .normalise import items_of_page, normalise
from .prepare import (
    POST_CONTENT_COLUMNS, POST_SIGHTING_COLUMNS, VERSION_CONTENT_COLUMNS, PreparedPost, ReadItem, precision,
    prepare_post, read_item, relevance, to_json as _json, version_state,
)
from .relevance import ElectionMatcher
from .schema import FTS_INSERT_TRIGGER, POST_COUNT_COLUMNS, ROLE_PRECEDENCE, ensure_schema, index_new_posts_sql
from .sources import Unparsed

# Items per transaction. Larger batches rewrite the indexes' pages fewer
# times (a 100k import: 1000 gave 8.7 s of storing, 5000 gave 6.1 s).
BATCH_SIZE = 5000
NEW_ARCHIVE_PAGE_SIZE = 16384
WAL_CHECKPOINT_BYTES = 40 << 20
# SQLite's page cache for the writing connection, in KiB (default 2 MiB).
# The posts indexes take keys in random order; a larger cache keeps their
# pages between statements. (Measured on 100k posts: 32 MiB cost 100 MiB
# of peak memory for no gain over 8 MiB with 16 KiB pages.)
WRITE_CACHE_KIB = 8192

# SQL that recomputes the roster-derived name columns of a post row.
ROSTER_NAME_EXPRESSIONS = {
    "author_name": "coalesce((SELECT l.name FROM accounts a JOIN leaders l ON l.id = a.leader_id "
    "WHERE a.id = posts.account_id), posts.display_name)",
    "mentioned_names": "(SELECT group_concat(name, '; ') FROM (SELECT DISTINCT l.name AS name "
    "FROM json_each(posts.mentions) m JOIN accounts a ON a.platform = posts.platform "
    "AND a.handle = m.value COLLATE NOCASE JOIN leaders l ON l.id = a.leader_id))",
}


@dataclass
class StoreStats:
    """What storing a stream of items did."""

    items: int = 0
    new_posts: int = 0
    new_versions: int = 0
    unchanged: int = 0
    parse_errors: int = 0
    relevant: int = 0
    deleted: int = 0  # posts the platform newly reported gone
    resolved_errors: int = 0  # parse errors a reprocess could read at last
    post_ids: list[str] = field(default_factory=list)  # filled only when asked (keep_ids)
    keep_ids: bool = True

    COUNTERS = ("items", "new_posts", "new_versions", "unchanged", "parse_errors", "relevant", "deleted")

    def add(self, other: "StoreStats") -> None:
        for name in self.COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.post_ids.extend(other.post_ids)

    def as_dict(self) -> dict:
        return {
            "items": self.items,
            "new_posts": self.new_posts,
            "new_versions": self.new_versions,
            "unchanged": self.unchanged,
            "parse_errors": self.parse_errors,
            "relevant": self.relevant,
            "deleted": self.deleted,
        }


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
        raise _database_error(path, exc) from None
    return db


def _database_error(path: Path, exc: sqlite3.Error) -> Exception:
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


class Archive:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = open_database(self.path)
        self.db.execute(f"PRAGMA cache_size = -{WRITE_CACHE_KIB}")
        # With write-ahead logging, NORMAL syncs at checkpoints, not at every
        # commit (SQLite's advice for WAL): a power cut may undo the last
        # commits, never corrupt the file; the next run fetches them again.
        self.db.execute("PRAGMA synchronous = NORMAL")
        self._set_checkpoint_interval()
        self._matchers: list[ElectionMatcher] | None = None
        self._roster_names: dict[tuple[str, str], str] | None = None
        self._pending: dict[str, list] = {}  # queued inserts, see _flush
        self._accounts: dict[tuple, int] = {}  # account lookups of this session
        self._accounts_seen: dict[int, str] = {}  # latest sighting of cached accounts, written at the flush
        self._last_raw_page: RawPage | None = None
        self._cut_page: tuple[RawPage, dict[str, RawItem]] | None = None  # see _post_of
        self._fts_insert_trigger: str | None = None  # see _insert_trigger

    # --- set-up -------------------------------------------------------------

    def _set_checkpoint_interval(self) -> None:
        """Copy the log back into the file every 40 MB rather than 4 MB: a
        batch of posts rewrites many of the same index pages. (The setting
        counts pages, whose size a new archive sets at its first migration.)"""
        page_size = self.db.execute("PRAGMA page_size").fetchone()[0]
        self.db.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_BYTES // page_size}")

    def migrate(self) -> list[str]:
        try:
            if not self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                # A new archive: 16 KiB pages (SQLite's default is 4 KiB) hold a
                # post row or a compressed page of posts with less overflow,
                # and make imports about a tenth faster (docs/performance.md).
                self.db.execute(f"PRAGMA page_size = {NEW_ARCHIVE_PAGE_SIZE}")
            applied = ensure_schema(self.db)
            # Write-ahead logging: readers (Datasette, an export) never block a
            # nightly commit, nor it them. Kept in the file once set.
            if self.db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self.db.execute("PRAGMA journal_mode = WAL")
            self._set_checkpoint_interval()
            return applied
        except sqlite3.DatabaseError as exc:
            raise _database_error(self.path, exc) from None

    def write(self):
        """A transaction that turns SQLite's lock and permission errors into ours."""
        return _Transaction(self)

    def load_config(self, config: Config) -> None:
        """Store the election, the roster and its accounts; link accounts seen
        before the roster named them."""
        now = utc_now()
        with self.write():
            if not self.db["countries"].count:
                self.db["countries"].insert_all(country_rows(), pk="code")
            election = config.election
            self.db["elections"].upsert(
                {
                    "id": election.id,
                    "name": election.name,
                    "country": election.country,
                    "timezone": election.timezone,
                    "polling_dates": json.dumps([d.isoformat() for d in election.polling_dates]),
                    "result_announced_at": election.result_announced_at,
                    "result_label": election.result_label,
                    "window_start": election.window_start,
                    "window_end": election.window_end,
                    "candidates": json.dumps(election.candidates),
                    "terms": json.dumps(election.terms, ensure_ascii=False),  # config order: first spelling wins
                    "config_path": str(config.path),
                    "loaded_at": now,
                },
                pk="id",
            )
            for leader in config.leaders:
                self.db["leaders"].upsert(
                    {
                        "id": leader.id,
                        "name": leader.name,
                        "aliases": json.dumps(leader.aliases, ensure_ascii=False),
                        "country": leader.country,
                        "notes": leader.notes,
                    },
                    pk="id",
                )
                self.db.execute("DELETE FROM roles WHERE leader_id = ?", [leader.id])
                self.db["roles"].insert_all(
                    {
                        "leader_id": leader.id,
                        "title": role.title,
                        "kind": role.kind,
                        "country": role.country or leader.country,
                        "organisation": role.organisation,
                        "start_date": role.start.isoformat(),
                        "end_date": role.end.isoformat() if role.end else None,
                        "precedence": ROLE_PRECEDENCE.get(role.kind, 20),
                    }
                    for role in leader.roles
                )
                for account in leader.accounts:
                    # Posts name Mastodon accounts user@server; the roster may write @user@server.
                    handle = account.handle.lstrip("@") if account.handle else None
                    # A Mastodon account's stable id is its profile URL (what statuses carry).
                    platform_id = account.platform_id or (account.url if account.platform == "mastodon" else None)
                    account_id = self._account_id(account.platform, handle, platform_id, None, now)
                    self.db.execute(
                        "UPDATE accounts SET leader_id = ?, in_roster = 1, url = coalesce(url, ?) WHERE id = ?",
                        [leader.id, account.url, account_id],
                    )
            self._refresh_roster_names()
            classify_store.after_load_config(self.db, config)  # hook (issue 13): milestones, classes
        self._matchers = None
        self._roster_names = None
        self._accounts = {}

    def _refresh_roster_names(self) -> None:
        """Posts carry the roster names of their author and of the accounts they
        mention (for search); a roster change updates the rows that differ."""
        for column, expression in ROSTER_NAME_EXPRESSIONS.items():
            self.db.execute(
                f"UPDATE posts SET {column} = {expression} WHERE {column} IS NOT {expression}"
            )

    def roster_names(self) -> dict[tuple[str, str], str]:
        """(platform, lower-cased handle or account id) -> leader name."""
        if self._roster_names is None:
            names = {}
            for platform, handle, account_id, name in self.db.execute(
                "SELECT a.platform, a.handle, a.id, l.name FROM accounts a JOIN leaders l ON l.id = a.leader_id"
            ):
                names[(platform, str(account_id))] = name
                if handle:
                    names[(platform, handle.lower())] = name
            self._roster_names = names
        return self._roster_names

    # --- runs and sources ---------------------------------------------------

    def start_run(self, command: str, config_path: str | None = None, options: dict | None = None) -> int:
        with self.write():
            return self.db["scrape_runs"].insert(
                {
                    "command": command,
                    "config_path": config_path,
                    "started_at": utc_now(),
                    "status": "running",
                    "tool_version": __version__,
                    "options": json.dumps(options, sort_keys=True) if options else None,
                }
            ).last_pk

    def finish_run(self, run_id: int, status: str, summary: dict, exit_code: int | None = None) -> None:
        with self.write():
            self.db["scrape_runs"].update(
                run_id,
                {
                    "finished_at": utc_now(),
                    "status": status,
                    "summary": json.dumps(summary, ensure_ascii=False),
                    "exit_code": exit_code,
                },
            )

    def mark_interrupted_runs(self) -> int:
        """Runs still 'running' when the lock is free were killed; say so."""
        with self.write():
            return self.db.execute(
                "UPDATE scrape_runs SET status = 'interrupted' WHERE status = 'running'"
            ).rowcount

    # --- incremental state ----------------------------------------------------

    def source_state(self, source_id: str, account: str) -> dict | None:
        rows = list(self.db.query(
            "SELECT * FROM source_state WHERE source_id = ? AND account = ?", [source_id, account]
        ))
        return rows[0] if rows else None

    def save_source_state(
        self, source_id: str, account: str, platform: str, last_id: str | None, last_created_at: str | None,
        run_id: int, items: int,
    ) -> None:
        """Written only after an account completed, so a killed run leaves the
        previous state and the next run fetches the gap again."""
        now = utc_now()
        previous = self.source_state(source_id, account) or {}
        with self.write():
            self.db["source_state"].upsert(
                {
                    "source_id": source_id,
                    "account": account,
                    "platform": platform,
                    "last_id": last_id or previous.get("last_id"),
                    "last_created_at": last_created_at or previous.get("last_created_at"),
                    "last_run_id": run_id,
                    "last_success_at": now,
                    "last_items": items,
                    "updated_at": now,
                },
                pk=("source_id", "account"),
            )

    def recent_items_history(self, source_id: str, account: str, runs: int = 3) -> list[int]:
        """Items returned for an account by its last completed runs, newest first."""
        return [
            row[0]
            for row in self.db.execute(
                "SELECT items FROM run_sources WHERE source_id = ? AND account = ? AND status = 'ok' "
                "ORDER BY id DESC LIMIT ?",
                [source_id, account, runs],
            )
        ]

    def posts_in_window(self, source_id: str, platform: str, handle: str | None, platform_id: str | None,
                        window_start: str | None, window_end: str | None) -> int:
        """Posts of an account inside a window that this source has captured."""
        handle = handle.lstrip("@") if handle else None
        return self.db.execute(
            "SELECT count(*) FROM posts p JOIN accounts a ON a.id = p.account_id "
            "WHERE p.platform = ? AND ((? IS NOT NULL AND a.platform_user_id = ?) OR (? IS NOT NULL AND a.handle = ? COLLATE NOCASE)) "
            "AND p.created_at >= coalesce(?, '') AND p.created_at <= coalesce(?, '9999') AND p.deleted_at IS NULL "
            "AND EXISTS (SELECT 1 FROM captures c WHERE c.post_id = p.id AND c.source_id = ?)",
            [platform, platform_id, platform_id, handle, handle, window_start, window_end, source_id],
        ).fetchone()[0]

    def placeholder_posts(self, platform: str) -> list[dict]:
        """Posts known only by id or URL (pending URLs, link-only embeds)."""
        return list(self.db.query(
            "SELECT native_id, url, extra FROM posts WHERE platform = ? AND id_is_derived = 0 AND text = '' "
            "AND deleted_at IS NULL AND (json_extract(extra, '$.pending') OR json_extract(extra, '$.link_only')) "
            "ORDER BY created_at, id",
            [platform],
        ))

    def recheck_targets(self, source_id: str, since: str) -> list[dict]:
        """Posts this source captured, created since ``since``, not yet gone."""
        return list(self.db.query(
            "SELECT p.native_id, p.url, p.extra FROM posts p WHERE p.id_is_derived = 0 AND p.deleted_at IS NULL "
            "AND p.created_at >= ? AND EXISTS (SELECT 1 FROM captures c WHERE c.post_id = p.id AND c.source_id = ?) "
            "ORDER BY p.created_at",
            [since, source_id],
        ))

    def register_source(
        self,
        source_id: str,
        kind: str,
        location: str | None,
        title: str | None = None,
        outlet: str | None = None,
        published_at: str | None = None,
    ) -> None:
        with self.write():
            existing = self.db["sources"].count_where("id = ?", [source_id])
            row = {"id": source_id, "kind": kind, "location": location}
            for name, value in (("title", title), ("outlet", outlet), ("published_at", published_at)):
                if value is not None:
                    row[name] = value
            if not existing:
                row["first_seen_at"] = utc_now()
            self.db["sources"].upsert(row, pk="id")

    def record_source_result(self, run_id: int, result, started_at: str, account: str | None = None,
                             anomaly: str | None = None) -> None:
        with self.write():
            self.db["run_sources"].insert(
                {
                    "run_id": run_id,
                    "source_id": result.source_id,
                    "kind": result.kind,
                    "account": account,
                    "status": result.status,
                    "started_at": started_at,
                    "finished_at": utc_now(),
                    **result.stats.as_dict(),
                    "requests": result.requests,
                    "error": result.error,
                    "anomaly": anomaly,
                }
            )

    def handles_of_posts(self, post_ids: list[str]) -> set[str]:
        """Lower-cased author handles of the given posts."""
        handles = set()
        for post_id in set(post_ids):
            row = self.db.execute("SELECT handle FROM posts WHERE id = ?", [post_id]).fetchone()
            if row and row[0]:
                handles.add(row[0].lower())
        return handles

    def newest_native_id(
        self, platform: str, handle: str | None, platform_id: str | None, source_id: str | None = None
    ) -> str | None:
        """The platform id of the newest archived post of an account, for
        incremental scrapes."""
        newest = self.newest_post(platform, handle, platform_id, source_id)
        return newest["native_id"] if newest else None

    def newest_post(
        self, platform: str, handle: str | None, platform_id: str | None, source_id: str | None = None
    ) -> dict | None:
        """``{native_id, extra}`` of the account's newest post with a platform
        id; with ``source_id``, only among the posts that source captured (a
        post imported from elsewhere must not make a scrape skip a gap)."""
        handle = handle.lstrip("@") if handle else None
        row = self.db.execute(
            "SELECT p.native_id, p.extra FROM posts p JOIN accounts a ON a.id = p.account_id "
            "WHERE p.platform = ? AND p.id_is_derived = 0 AND "
            "((? IS NOT NULL AND a.platform_user_id = ?) OR (? IS NOT NULL AND a.handle = ? COLLATE NOCASE)) "
            "AND (? IS NULL OR EXISTS (SELECT 1 FROM captures c WHERE c.post_id = p.id AND c.source_id = ?)) "
            "ORDER BY p.created_at DESC LIMIT 1",
            [platform, platform_id, platform_id, handle, handle, source_id, source_id],
        ).fetchone()
        if row is None:
            return None
        return {"native_id": row[0], "extra": json.loads(row[1]) if row[1] else {}}

    def account_platform_id(self, platform: str, handle: str | None) -> str | None:
        """The platform's stable id (X user id, Bluesky DID) recorded for a
        handle, so that a later scrape need not look it up again."""
        if not handle:
            return None
        row = self.db.execute(
            "SELECT platform_user_id FROM accounts WHERE platform = ? AND handle = ? COLLATE NOCASE "
            "AND platform_user_id IS NOT NULL ORDER BY in_roster DESC LIMIT 1",
            [platform, handle.lstrip("@")],
        ).fetchone()
        return row[0] if row else None

    def add_reported_reactions(self, run_id: int, election_id: str, source_id: str, reactions) -> int:
        """Store (leader_id, evidence sentence, reported_on) rows, one reported
        reaction per report seen through any number of sources; return how many are new."""
        with self.write():
            return classify_store.add_reported(self.db, run_id, election_id, source_id, reactions)  # hook (issue 13)

    # --- storing items ------------------------------------------------------

    def store(self, items: Iterable[RawItem | Unparsed | ReadItem], run_id: int, keep_ids: bool = True,
              on_batch: Callable[[StoreStats], None] | None = None) -> StoreStats:
        """Normalise and store a stream of raw items, committing in batches
        (and at each page boundary of a live source). ``keep_ids=False`` for
        streams of any size: memory then stays flat. ``on_batch`` is told the
        running totals after each commit (a progress display)."""
        stats = StoreStats(keep_ids=keep_ids)
        with _fewer_collections():
            for batch in _batches(items, BATCH_SIZE):
                with self.write():
                    self._store_batch(batch, run_id, stats)
                    classify_store.classify_pending(self.db)  # hook (issue 13): reaction types
                if on_batch is not None:
                    on_batch(stats)
        return stats

    def _store_batch(self, batch: list, run_id: int | None, stats: StoreStats) -> None:
        """Store one batch with the result of storing its items one by one.

        The batch holds raw items (read here), items read and prepared by
        worker processes (:class:`ReadItem`), and items that could not be
        read (:class:`Unparsed`). Posts new to the archive (most of a first
        import) only need inserts, which are queued and written with
        executemany; anything that must read the archive (a post seen
        before, a merge) flushes the queue first, so every read sees every
        earlier write, in order."""
        read: list[ReadItem] = []
        matchers = self.matchers()
        for entry in batch:
            stats.items += 1
            if isinstance(entry, RawItem):
                entry = read_item(entry, matchers)
            if isinstance(entry, Unparsed):
                self._record_parse_error(run_id, entry)
                stats.parse_errors += 1
            elif entry.failure is not None:
                item = entry.item
                failure = Unparsed(entry.failure, item.location, item.stored_payload(), item.source_id,
                                   item.fetched_url, item.page)
                self._record_parse_error(run_id, failure, item.format)
                stats.parse_errors += 1
            else:
                read.append(entry)
        known = self._known_posts(read)
        # Quotes without an id in the archive or this batch: only then can a
        # post with an id be a merge (which needs the slow path).
        quotes = bool(known.derived_hashes) or any(not entry.prepared.has_native_id for entry in read)
        for entry in read:
            item, prepared = entry.item, entry.prepared
            capture = self._store_capture_payloads(item)
            seen_at = capture["retrieved_at"]
            if prepared.has_native_id and prepared.key not in known and not (
                quotes and known.derived_hashes.intersection(self._nearby_hashes(entry))
            ):
                account_id = self._account_id(prepared.platform, *prepared.author, seen_at)
                self._insert_prepared(prepared, account_id, seen_at)
                outcome, post_id = "new_posts", prepared.key
            else:
                self._flush()
                outcome, post_id = self._store_post(self._post_of(entry), seen_at, live=is_live(item.format, item.page))
            known.update((post_id, prepared.key))
            if not prepared.has_native_id:
                known.derived_hashes.add(prepared.match_hash)
            self._insert_capture(run_id, post_id, item, capture)
            setattr(stats, outcome, getattr(stats, outcome) + 1)
            if stats.keep_ids:
                stats.post_ids.append(post_id)
            if self._store_relevance(post_id, prepared.relevance):
                stats.relevant += 1
        self._flush()

    def _post_of(self, entry: ReadItem) -> Post:
        """The whole post of a read item: kept when read in this process, else
        normalised again (a worker process read it and sent its page's
        compressed bytes, not the item's own payload)."""
        if entry.prepared.post is not None:
            return entry.prepared.post
        item = entry.item
        if item.payload is None and item.raw_page is not None:
            page = item.raw_page
            if self._cut_page is None or self._cut_page[0] is not page:  # a page's items follow each other
                self._cut_page = (page, items_of_page(page.format, page.text_again(), item.source_id, item.location))
            cut = self._cut_page[1][item.pointer]
            item.payload, item.context, item.decoded = cut.payload, cut.context, cut.decoded
        return normalise(item)

    def _nearby_hashes(self, entry: ReadItem) -> list[str]:
        return entry.prepared.nearby_hashes or self._post_of(entry).nearby_match_hashes()

    def has_posts_without_id(self) -> bool:
        """Does the archive hold quotes without a platform id (which a post
        with an id may turn out to be)?"""
        return self.db.execute("SELECT 1 FROM posts WHERE id_is_derived = 1 LIMIT 1").fetchone() is not None

    def _known_posts(self, read: list[ReadItem]) -> "_KnownPosts":
        """Which of these posts' keys are archived, and which of their match
        hashes belong to archived posts without a platform id (to merge)."""
        known = _KnownPosts()
        keys = [entry.prepared.key for entry in read if entry.prepared.has_native_id]
        for chunk in _chunks(keys, 500):
            marks = ", ".join("?" for _ in chunk)
            known.update(row[0] for row in self.db.execute(f"SELECT id FROM posts WHERE id IN ({marks})", chunk))
        if self.has_posts_without_id():
            hashes = [h for entry in read if entry.prepared.has_native_id for h in self._nearby_hashes(entry)]
            for chunk in _chunks(hashes, 500):
                marks = ", ".join("?" for _ in chunk)
                known.derived_hashes.update(row[0] for row in self.db.execute(
                    f"SELECT match_hash FROM posts WHERE id_is_derived = 1 AND match_hash IN ({marks})", chunk
                ))
        return known

    def _insert_trigger(self) -> str | None:
        """The SQL of the full-text index's insert trigger, if the archive has
        one (see schema.index_new_posts_sql)."""
        if self._fts_insert_trigger is None:
            row = self.db.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [FTS_INSERT_TRIGGER]
            ).fetchone()
            self._fts_insert_trigger = row[0] if row else ""
        return self._fts_insert_trigger

    def _queue(self, sql: str, params: list) -> None:
        self._pending.setdefault(sql, []).append(params)

    def _queue_many(self, sql: str, rows: list) -> None:
        self._pending.setdefault(sql, []).extend(rows)

    def _flush(self) -> None:
        """Write the queued inserts, statement by statement in first-queued
        order (foreign keys are deferred to the commit). New posts go to the
        full-text index in one statement (see schema.index_new_posts_sql)."""
        if self._accounts_seen:
            # Repeated sightings of known accounts: one update each per batch.
            self._queue_many(_ACCOUNT_SEEN, [[seen, account] for account, seen in self._accounts_seen.items()])
            self._accounts_seen = {}
        if not self._pending:
            return
        self.db.execute("PRAGMA defer_foreign_keys = ON")
        for sql, rows in self._pending.items():
            if sql == _POST_INSERT:
                indexed_up_to = self.db.execute("SELECT coalesce(max(rowid), 0) FROM posts").fetchone()[0]
                trigger = self._insert_trigger()
                if trigger:  # out for this insert only, back before the commit
                    self.db.execute(f"DROP TRIGGER {FTS_INSERT_TRIGGER}")
                try:
                    self.db.conn.executemany(sql, rows)
                finally:
                    if trigger:
                        self.db.execute(trigger)
                self.db.execute(_INDEX_NEW_POSTS, [indexed_up_to])
            else:
                self.db.conn.executemany(sql, rows)
        self._pending = {}

    def _store_capture_payloads(self, item: RawItem) -> dict:
        if item.raw_page is not None:
            raw_sha = self._store_raw_page(item.raw_page)
        else:
            raw_sha = self._store_raw(item.stored_payload(), item.format)
        response_sha = self._store_raw(item.page.to_payload(), "response") if item.page else None
        retrieved_at = item.retrieved_at or (item.page.retrieved_at if item.page else None) or utc_now()
        return {
            "raw_sha256": raw_sha,
            "response_sha256": response_sha,
            "retrieved_at": retrieved_at,
            "raw_pointer": item.pointer if item.raw_page is not None else None,
        }

    def _store_raw_page(self, page: RawPage) -> str:
        """A page many items were cut from, stored once (its items follow
        each other, so remembering the last one is enough)."""
        sha, size, compressed = page.stored()
        if page is not self._last_raw_page:
            self._last_raw_page = page
            self._queue(_PAGE_INSERT, [sha, page.format, size, compressed, utc_now()])
        return sha

    def _insert_capture(self, run_id: int | None, post_id: str, item: RawItem, capture: dict) -> None:
        self._queue(
            "INSERT INTO captures (run_id, post_id, source_id, format, location, fetched_url, retrieved_at, "
            "tool_version, raw_sha256, response_sha256, raw_pointer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                post_id,
                item.source_id,
                item.format,
                item.location,
                item.fetched_url,
                capture["retrieved_at"],
                __version__,
                capture["raw_sha256"],
                capture["response_sha256"],
                capture.get("raw_pointer"),
            ],
        )

    def _store_raw(self, payload: str, format_name: str) -> str:
        data = payload.encode("utf-8")
        sha = hashlib.sha256(data).hexdigest()
        self._queue(_RAW_INSERT, [sha, format_name, len(data), zlib.compress(data, 6), utc_now()])
        return sha


    def _record_parse_error(self, run_id: int | None, failure: Unparsed, format_name: str | None = None) -> None:
        raw_sha = self._store_raw(failure.payload, format_name or "unparsed")
        self._queue(
            "INSERT INTO parse_errors (run_id, source_id, format, location, fetched_url, reason, raw_sha256, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, failure.source_id, format_name, failure.location, failure.fetched_url, failure.reason, raw_sha, utc_now()],
        )

    def _store_post(self, post: Post, seen_at: str, live: bool = False) -> tuple[str, str]:
        """Insert or update one post; return (outcome, post id) where outcome is
        new_posts, new_versions, unchanged or deleted.

        ``live`` says the sighting is the platform's own answer, fetched now
        (not a file, an article or a list): only such an answer can show that
        a post reported gone is back."""
        self._flush()  # reads below must see every queued write
        post_id, merged_derived = self._existing_post_id(post)
        account_id = self._account_id(
            post.platform, post.author_handle, post.author_platform_id, post.author_display_name, seen_at
        )
        if post_id is None:
            self._insert_post(post, account_id, seen_at)
            return "new_posts", post.key
        row = self._post_row(post_id)
        updates = _fill_gaps(row, post, account_id)
        updates["last_captured_at"] = max(row["last_captured_at"] or "", seen_at)
        updates["first_captured_at"] = min(row["first_captured_at"] or seen_at, seen_at)
        if post.unavailable:
            updates["unavailable_reason"] = post.unavailable
            newly_deleted = post.unavailable == "deleted" and not row["deleted_at"]
            if newly_deleted:
                updates["deleted_at"] = seen_at
            self._update_post(post_id, updates)
            return ("deleted" if newly_deleted else "unchanged"), post_id
        if is_placeholder(post):
            # A link or a pending URL says nothing about the post's content.
            self._update_post(post_id, updates)
            return "unchanged", post_id
        if row["unavailable_reason"] and live and seen_at > (row["deleted_at"] or ""):
            # The platform shows it again (a restored account); tombstone captures keep the history.
            updates.update(unavailable_reason=None, deleted_at=None)
        latest = self._latest_version(post_id)
        state = version_state(post, latest)
        if merged_derived or _row_is_placeholder(row):
            # The first full sighting replaces a placeholder or a quote without
            # an id (renderings of the post, not earlier states of it).
            self._replace_version(latest["id"], state, seen_at)
            self.db.execute("DELETE FROM post_versions WHERE post_id = ? AND id != ?", [post_id, latest["id"]])
            self.db.execute("UPDATE post_versions SET version = 1 WHERE id = ?", [latest["id"]])
            updates.update(version_count=1, is_edited=int(bool(post.edited_at)))
            updates.update({name: state[name] for name in POST_COUNT_COLUMNS})
            updates.update(text=state["text"], extra=_json(post.extra) if post.extra else row["extra"])
            updates.update(_content_fields(post))
            self._update_post(post_id, updates)
            self._rehash(post_id, post)
            return "new_versions", post_id
        same = self._version_with_hash(post_id, state["content_hash"])
        if same is not None and (same == latest["id"] or state["text"] == row["text"] or not _is_newer(row, post, seen_at)):
            # A state seen before. (An edit back to an earlier text, seen
            # later, is a new state: it falls through to a new version.)
            self.db.execute(
                "UPDATE post_versions SET last_seen_at = max(last_seen_at, ?), first_seen_at = min(first_seen_at, ?) "
                "WHERE id = ?",
                [seen_at, seen_at, same],
            )
            self._update_post(post_id, updates)
            return "unchanged", post_id
        version = latest["version"] + 1
        self._insert_version(post_id, version, state, seen_at)
        updates["version_count"] = version
        if state["text"] != row["text"]:
            updates["is_edited"] = 1  # the history holds two texts, whichever is newer
        if _is_newer(row, post, seen_at):
            updates.update({name: state[name] for name in POST_COUNT_COLUMNS})
            if state["text"] != row["text"]:
                updates["text"] = state["text"]
                if post.edited_at:
                    updates["edited_at"] = post.edited_at
        self._update_post(post_id, updates)
        if updates.get("text") is not None and not row["id_is_derived"]:
            # (a quote without an id keeps the key its first wording gave it)
            self._rehash(post_id, post)
        return "new_versions", post_id

    def _post_row(self, post_id: str) -> dict:
        cursor = self.db.execute("SELECT * FROM posts WHERE id = ?", [post_id])
        return dict(zip([d[0] for d in cursor.description], cursor.fetchone()))

    def _version_with_hash(self, post_id: str, content_hash: str) -> int | None:
        row = self.db.execute(
            "SELECT id FROM post_versions WHERE post_id = ? AND content_hash = ? ORDER BY version LIMIT 1",
            [post_id, content_hash],
        ).fetchone()
        return row[0] if row else None

    def _rehash(self, post_id: str, post: Post) -> None:
        """The post's text changed: its match hash follows, and quotes without
        an id that match the new text are merged into it."""
        self.db.execute("UPDATE posts SET match_hash = ? WHERE id = ?", [post.match_hash, post_id])
        hashes = post.nearby_match_hashes()
        marks = ", ".join("?" for _ in hashes)
        for (derived_id,) in self.db.execute(
            f"SELECT id FROM posts WHERE id_is_derived = 1 AND id != ? AND match_hash IN ({marks})", [post_id, *hashes]
        ).fetchall():
            self._merge_derived(derived_id, post_id)

    def _merge_derived(self, derived_id: str, into_id: str) -> None:
        """A quote without an id turned out to be this post: its sightings and
        relevance move over; its rendering of the text is not a version."""
        self.db.execute("PRAGMA defer_foreign_keys = ON")
        self.db.execute("UPDATE captures SET post_id = ? WHERE post_id = ?", [into_id, derived_id])
        self.db.execute(
            "INSERT OR IGNORE INTO election_posts (election_id, post_id, matched_terms, score) "
            "SELECT election_id, ?, matched_terms, score FROM election_posts WHERE post_id = ?",
            [into_id, derived_id],
        )
        for table in ("election_posts", "post_versions"):
            self.db.execute(f"DELETE FROM {table} WHERE post_id = ?", [derived_id])
        self.db.execute(
            "UPDATE posts SET first_captured_at = min(first_captured_at, (SELECT first_captured_at FROM posts WHERE id = ?)), "
            "last_captured_at = max(last_captured_at, (SELECT last_captured_at FROM posts WHERE id = ?)) WHERE id = ?",
            [derived_id, derived_id, into_id],
        )
        self.db.execute("UPDATE parse_errors SET resolved_post_id = ? WHERE resolved_post_id = ?", [into_id, derived_id])
        self.db.execute("DELETE FROM posts WHERE id = ?", [derived_id])

    def _replace_version(self, version_id: int, state: dict, seen_at: str) -> None:
        self.db.execute(
            "UPDATE post_versions SET text = ?, reply_count = ?, repost_count = ?, like_count = ?, quote_count = ?, "
            "view_count = ?, edited_at = ?, content_hash = ?, first_seen_at = min(first_seen_at, ?), "
            "last_seen_at = max(last_seen_at, ?) WHERE id = ?",
            [state["text"], *[state[n] for n in POST_COUNT_COLUMNS], state["edited_at"], state["content_hash"],
             seen_at, seen_at, version_id],
        )

    def _existing_post_id(self, post: Post) -> tuple[str | None, bool]:
        """The archived post this one is a sighting of, and whether it was a
        quote without an id (derived key) now merged into the post with the id.
        Dates read from embeds are local days, platform times UTC: a quote
        matches the same account and text a day either side."""
        hashes = post.nearby_match_hashes()
        marks = ", ".join("?" for _ in hashes)
        if post.has_native_id:
            if self.db.execute("SELECT 1 FROM posts WHERE id = ?", [post.key]).fetchone():
                return post.key, False
            derived = self.db.execute(
                f"SELECT id FROM posts WHERE id_is_derived = 1 AND match_hash IN ({marks}) "
                "ORDER BY match_hash = ? DESC, id LIMIT 1",
                [*hashes, post.match_hash],
            ).fetchone()
            if derived:
                self._rekey_post(derived[0], post)
                return post.key, True
            return None, False
        same = self.db.execute(
            f"SELECT id FROM posts WHERE match_hash IN ({marks}) ORDER BY id_is_derived, match_hash = ? DESC, id LIMIT 1",
            [*hashes, post.match_hash],
        ).fetchone()
        return (same[0] if same else None), False

    def _rekey_post(self, old_id: str, post: Post) -> None:
        new_id = post.key
        self.db.execute("PRAGMA defer_foreign_keys = ON")
        self.db.execute(
            "UPDATE posts SET id = ?, native_id = ?, id_is_derived = 0, url = coalesce(?, url) WHERE id = ?",
            [new_id, post.native_id, post.url, old_id],
        )
        for table in ("post_versions", "captures", "election_posts"):
            self.db.execute(f"UPDATE {table} SET post_id = ? WHERE post_id = ?", [new_id, old_id])
        self.db.execute("UPDATE parse_errors SET resolved_post_id = ? WHERE resolved_post_id = ?", [new_id, old_id])

    def _insert_post(self, post: Post, account_id: int | None, seen_at: str) -> None:
        self._insert_prepared(prepare_post(post, []), account_id, seen_at)

    def _insert_prepared(self, prepared: PreparedPost, account_id: int | None, seen_at: str) -> None:
        """Queue the rows of a new post: its content, what this sighting and
        the roster add, and its first version."""
        row = prepared.row
        names = self.roster_names()
        mentioned = [names[(prepared.platform, m.lower())] for m in prepared.mentions
                     if (prepared.platform, m.lower()) in names]
        self._queue(_POST_INSERT, [
            *row,
            account_id,
            names.get((prepared.platform, str(account_id)), prepared.author[2]),
            "; ".join(dict.fromkeys(mentioned)) or None,
            seen_at if row[_UNAVAILABLE] == "deleted" else None,
            seen_at,
            seen_at,
        ])
        self._queue(_VERSION_INSERT, [prepared.key, 1, *prepared.first_version, seen_at, seen_at])

    def _insert_version(self, post_id: str, version: int, state: dict, seen_at: str) -> None:
        self._queue(
            _VERSION_INSERT,
            [post_id, version, *[state[name] for name in VERSION_CONTENT_COLUMNS], seen_at, seen_at],
        )

    def _latest_version(self, post_id: str) -> dict:
        cursor = self.db.execute(
            "SELECT * FROM post_versions WHERE post_id = ? ORDER BY version DESC LIMIT 1", [post_id]
        )
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone()))

    def _update_post(self, post_id: str, updates: dict) -> None:
        if not updates:
            return
        assignments = ", ".join(f"{name} = ?" for name in updates)
        self.db.execute(f"UPDATE posts SET {assignments} WHERE id = ?", [*updates.values(), post_id])

    def _account_id(
        self, platform: str, handle: str | None, platform_id: str | None, display_name: str | None, seen_at: str
    ) -> int | None:
        """Find or create the account: by the platform's stable id first
        (handles change), then by handle, case-insensitively. Repeated
        sightings of the same account in a run only move last_seen_at."""
        if not (handle or platform_id):
            return None
        cache_key = (platform, handle, platform_id, display_name)
        account_id = self._accounts.get(cache_key)
        if account_id is not None:
            if seen_at > self._accounts_seen.get(account_id, ""):
                self._accounts_seen[account_id] = seen_at
            return account_id
        account_id = self._find_or_create_account(platform, handle, platform_id, display_name, seen_at)
        self._accounts[cache_key] = account_id
        return account_id

    def _find_or_create_account(self, platform, handle, platform_id, display_name, seen_at) -> int:
        row = None
        if platform_id:
            row = self.db.execute(
                "SELECT id, platform_user_id FROM accounts WHERE platform = ? AND platform_user_id = ?",
                [platform, platform_id],
            ).fetchone()
        if row is None and handle:
            row = self.db.execute(
                "SELECT id, platform_user_id FROM accounts WHERE platform = ? AND handle = ? COLLATE NOCASE "
                "AND (platform_user_id IS NULL OR ? IS NULL OR platform_user_id = ?) ORDER BY in_roster DESC LIMIT 1",
                [platform, handle, platform_id, platform_id],
            ).fetchone()
        if row is None:
            return self.db.execute(
                "INSERT INTO accounts (platform, handle, platform_user_id, display_name, in_roster, first_seen_at, last_seen_at) "
                "VALUES (?, ?, ?, ?, 0, ?, ?)",
                [platform, handle, platform_id, display_name, seen_at, seen_at],
            ).lastrowid
        self.db.execute(
            "UPDATE accounts SET platform_user_id = coalesce(platform_user_id, ?), handle = coalesce(?, handle), "
            "display_name = coalesce(?, display_name), last_seen_at = max(coalesce(last_seen_at, ''), ?) WHERE id = ?",
            [platform_id, handle, display_name, seen_at, row[0]],
        )
        return row[0]

    # --- relevance ----------------------------------------------------------

    def matchers(self) -> list[ElectionMatcher]:
        if self._matchers is None:
            self._matchers = [self._matcher(row) for row in self.db["elections"].rows]
        return self._matchers

    def _matcher(self, election: dict) -> ElectionMatcher:
        terms = json.loads(election["terms"] or "{}")
        candidates = json.loads(election["candidates"] or "[]")
        names, handles = [], []
        for leader_id in candidates:
            leader = self.db.execute("SELECT name, aliases FROM leaders WHERE id = ?", [leader_id]).fetchone()
            if leader:
                names.append(leader[0])
                names.extend(json.loads(leader[1] or "[]"))
            handles.extend(
                r[0] for r in self.db.execute(
                    "SELECT handle FROM accounts WHERE leader_id = ? AND handle IS NOT NULL", [leader_id]
                )
            )
        return ElectionMatcher(
            election_id=election["id"],
            window_start=election["window_start"],
            window_end=election["window_end"],
            keywords=[k for per_language in terms.values() for k in per_language.get("keywords", [])],
            hashtags=[h for per_language in terms.values() for h in per_language.get("hashtags", [])],
            candidate_names=names,
            candidate_handles=handles,
        )

    def _store_relevance(self, post_id: str, found: list[tuple[str, str, float]]) -> bool:
        """Record the elections a post is relevant to (see prepare.relevance)."""
        for election_id, terms, score in found:
            self._queue(
                "INSERT INTO election_posts (election_id, post_id, matched_terms, score) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (election_id, post_id) DO UPDATE SET matched_terms = excluded.matched_terms, "
                "score = max(score, excluded.score)",
                [election_id, post_id, terms, score],
            )
        return bool(found)

    # --- rebuilding from raw --------------------------------------------------

    def raw_payload(self, sha256: str) -> str:
        return self.raw_payload_with_format(sha256)[1]

    def raw_payload_with_format(self, sha256: str) -> tuple[str, str]:
        row = self.db.execute(
            "SELECT format, content, compression FROM raw_payloads WHERE sha256 = ?", [sha256]
        ).fetchone()
        if row is None:
            raise KeyError(sha256)
        data = zlib.decompress(row[1]) if row[2] == "zlib" else row[1]
        return row[0], data.decode("utf-8")

    def reprocess(self) -> StoreStats:
        """Rebuild posts, versions and relevance from the raw payloads of every
        capture, in capture order. With unchanged parsing the result is
        identical to what was there."""
        stats = StoreStats()
        captures = list(
            self.db.execute(
                "SELECT id, raw_sha256, source_id, location, fetched_url, retrieved_at, response_sha256, raw_pointer "
                "FROM captures ORDER BY id"
            )
        )
        pages = _StoredPages(self)
        self._matchers = None
        with self.write():
            self.db.execute("PRAGMA defer_foreign_keys = ON")
            for table in ("election_posts", "post_versions", "posts"):
                self.db.execute(f"DELETE FROM {table}")
            for capture_id, raw_sha, source_id, location, fetched_url, retrieved_at, response_sha, pointer in captures:
                if pointer is not None:
                    item = pages.item(raw_sha, pointer, capture_id, source_id, location)
                else:
                    stored = json.loads(self.raw_payload(raw_sha))
                    item = RawItem(stored["format"], stored["payload"], source_id, location, context=stored["context"])
                item.source_id, item.location = source_id, location
                item.fetched_url, item.retrieved_at = fetched_url, retrieved_at
                stats.items += 1
                try:
                    post = normalise(item)
                except ParseFailure as exc:
                    raise ParseFailure(f"capture {capture_id} ({location}) no longer parses: {exc}") from exc
                page = FetchedPage(**json.loads(self.raw_payload(response_sha))) if response_sha else None
                outcome, post_id = self._store_post(post, retrieved_at, live=is_live(item.format, page))
                setattr(stats, outcome, getattr(stats, outcome) + 1)
                self.db.execute("UPDATE captures SET post_id = ? WHERE id = ?", [post_id, capture_id])
                if self._store_relevance(post_id, relevance(post, self.matchers())):
                    stats.relevant += 1
            self._retry_parse_errors(stats)
        with self.write(): classify_store.after_reprocess(self.db)  # noqa: E701 - hook (issue 13): labels stay
        return stats

    def _retry_parse_errors(self, stats: StoreStats) -> None:
        """Items a transform once failed on are tried again; those that now
        parse become posts with a capture, and their error is marked resolved."""
        rows = self.db.execute(
            "SELECT id, raw_sha256, format, source_id, location, fetched_url, recorded_at FROM parse_errors "
            "WHERE resolved_at IS NULL AND format IS NOT NULL AND raw_sha256 IS NOT NULL ORDER BY id"
        ).fetchall()
        for error_id, raw_sha, format_name, source_id, location, fetched_url, recorded_at in rows:
            try:
                stored = json.loads(self.raw_payload(raw_sha))
                item = RawItem(
                    format=stored["format"], payload=stored["payload"], context=stored.get("context") or {},
                    source_id=source_id, location=location, fetched_url=fetched_url, retrieved_at=recorded_at,
                )
                post = normalise(item)
            except (ParseFailure, KeyError, TypeError, ValueError):
                continue
            outcome, post_id = self._store_post(post, recorded_at)
            setattr(stats, outcome, getattr(stats, outcome) + 1)
            self._insert_capture(None, post_id, item, {"raw_sha256": raw_sha, "response_sha256": None, "retrieved_at": recorded_at})
            self._store_relevance(post_id, relevance(post, self.matchers()))
            self._flush()
            self.db.execute(
                "UPDATE parse_errors SET resolved_at = ?, resolved_post_id = ? WHERE id = ?", [utc_now(), post_id, error_id]
            )
            stats.resolved_errors += 1

    # --- reading ----------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        names = (
            "posts", "post_versions", "captures", "accounts", "leaders", "elections",
            "election_posts", "reported_reactions", "parse_errors", "raw_payloads", "scrape_runs",
        )
        return {name: self.db[name].count for name in names if self.db[name].exists()}


class _Transaction:
    def __init__(self, archive: Archive):
        self.archive = archive
        self.conn = archive.db.conn

    def __enter__(self):
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "within a transaction" in str(exc):
                self.nested = True
                return self
            raise _database_error(self.archive.path, exc) from None
        self.nested = False
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.nested:
            return False
        try:
            if exc_type is None:
                self.archive._flush()
                self.conn.execute("COMMIT")
            else:
                self.archive._pending = {}
                self.archive._accounts = {}  # ids of rolled-back accounts may be reused
                self.archive._accounts_seen = {}
                self.archive._last_raw_page = None
                self.conn.execute("ROLLBACK")
        except sqlite3.DatabaseError as error:
            if exc_type is None:
                self.archive._pending = {}
                self.archive._accounts_seen = {}
                self.archive._last_raw_page = None
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise _database_error(self.archive.path, error) from None
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.IntegrityError):
            raise _database_error(self.archive.path, exc) from None
        return False




class _StoredPages:
    """Items cut from stored pages, for a reprocess: captures of one page
    follow each other, so the last page read is kept cut up."""

    def __init__(self, archive: Archive):
        self.archive = archive
        self.sha: str | None = None
        self.items: dict[str, RawItem] = {}

    def item(self, sha: str, pointer: str, capture_id: int, source_id: str, location: str) -> RawItem:
        if sha != self.sha:
            format_name, text = self.archive.raw_payload_with_format(sha)
            try:
                self.items = items_of_page(format_name, text, source_id, location)
            except ParseFailure as exc:
                raise ParseFailure(f"capture {capture_id} ({location}): its stored page no longer parses: {exc}") from exc
            self.sha = sha
        try:
            return self.items[pointer]
        except KeyError:
            raise ParseFailure(
                f"capture {capture_id} ({location}): no post at {pointer!r} in its stored page any more"
            ) from None


class _KnownPosts(set):
    """Post keys already archived (the set), and match hashes of archived
    quotes without an id (``derived_hashes``)."""

    def __init__(self):
        super().__init__()
        self.derived_hashes: set[str] = set()


def _chunks(values: list, size: int) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


_ACCOUNT_SEEN = "UPDATE accounts SET last_seen_at = max(coalesce(last_seen_at, ''), ?) WHERE id = ?"

_POST_COLUMNS = (*POST_CONTENT_COLUMNS, *POST_SIGHTING_COLUMNS)
_UNAVAILABLE = POST_CONTENT_COLUMNS.index("unavailable_reason")
_VERSION_COLUMNS = ("post_id", "version", *VERSION_CONTENT_COLUMNS, "first_seen_at", "last_seen_at")
_VERSION_INSERT = (
    f"INSERT INTO post_versions ({', '.join(_VERSION_COLUMNS)}) VALUES ({', '.join('?' for _ in _VERSION_COLUMNS)})"
)
_INDEX_NEW_POSTS = index_new_posts_sql()
_RAW_INSERT = (
    "INSERT OR IGNORE INTO raw_payloads (sha256, format, size, compression, content, stored_at) "
    "VALUES (?, ?, ?, 'zlib', ?, ?)"
)
# A page kept earlier as an unparsed line (an older parser failed on it)
# takes its reader's format, so that reprocess can cut it up.
_PAGE_INSERT = (
    "INSERT INTO raw_payloads (sha256, format, size, compression, content, stored_at) "
    "VALUES (?, ?, ?, 'zlib', ?, ?) "
    "ON CONFLICT (sha256) DO UPDATE SET format = excluded.format WHERE raw_payloads.format = 'unparsed'"
)
_POST_INSERT = f"INSERT INTO posts ({', '.join(_POST_COLUMNS)}) VALUES ({', '.join('?' for _ in _POST_COLUMNS)})"


@contextmanager
def _fewer_collections():
    """Run the cyclic garbage collector less often while storing.

    Reading a file allocates millions of short-lived containers (parsed JSON,
    posts, rows), none of them in reference cycles; with the default
    threshold a young collection ran every 700 allocations and each one
    walked the whole batch. Measured on a 100k-post twarc2 import: 18.4 s
    with the default, 12.8 s with this (reference counting frees everything
    as before; cycles are still collected, less often)."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _batches(items: Iterable, size: int) -> Iterator[list]:
    """Batches of at most ``size`` items, also cut where a new page begins:
    a page is committed as soon as the next one has arrived, whatever its size.
    (A run killed before that loses the page; the account's saved state has
    not moved, so the next run fetches it again: no gap.)"""
    batch: list = []
    page = None
    for item in items:
        item_page = getattr(item, "page", None)
        if batch and item_page is not None and item_page is not page:
            yield batch
            batch = []
        page = item_page
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


PLACEHOLDER_FLAGS = ("pending", "link_only")


def is_live(format_name: str, page: FetchedPage | None) -> bool:
    """A platform's own answer over HTTP (not a file, not an article)."""
    return page is not None and page.status is not None and not format_name.startswith("article-")


def is_placeholder(post: Post) -> bool:
    """A sighting that names a post without its content: a link-only embed,
    a URL from a list waiting for hydration."""
    return not post.text and any(post.extra.get(flag) for flag in PLACEHOLDER_FLAGS)


def _row_is_placeholder(row: dict) -> bool:
    extra = json.loads(row["extra"]) if row["extra"] else {}
    return not row["text"] and any(extra.get(flag) for flag in PLACEHOLDER_FLAGS)


def _content_fields(post: Post) -> dict:
    """Fields a full sighting sets over a placeholder's guesses."""
    fields = {
        "hashtags": _json(post.hashtags),
        "mentions": _json(post.mentions),
        "links": _json(post.links),
        "media": _json(post.media),
        "language": post.language,
        "language_detected": int(post.language_detected),
        "edited_at": post.edited_at,
    }
    return {name: value for name, value in fields.items() if value not in (None, "[]")}


def _is_newer(row: dict, post: Post, seen_at: str) -> bool:
    """Does this sighting show a later state than the post's current one?
    By edit times where the platform gives them, else by capture time, so an
    old saved file imported after a scrape does not turn the text back."""
    if post.edited_at and row["edited_at"]:
        return post.edited_at >= row["edited_at"]
    if row["edited_at"]:
        return False  # the post was edited; a copy without an edit time predates it
    if post.edited_at:
        return True
    return seen_at >= (row["last_captured_at"] or "")


def _fill_gaps(row: dict, post: Post, account_id: int | None) -> dict:
    """Richer sightings fill what earlier ones lacked; nothing is overwritten."""
    candidates = {
        "url": post.url,
        "account_id": account_id,
        "handle": post.author_handle,
        "display_name": post.author_display_name,
        "language": post.language,
        "reply_to": post.reply_to,
        "quote_of": post.quote_of,
        "repost_of": post.repost_of,
        "hashtags": _json(post.hashtags) if post.hashtags else None,
        "mentions": _json(post.mentions) if post.mentions else None,
        "links": _json(post.links) if post.links else None,
        "media": _json(post.media) if post.media else None,
    }
    updates = {name: value for name, value in candidates.items() if value is not None and row[name] in (None, "[]")}
    if post.language and not post.language_detected and row["language_detected"]:
        updates["language"] = post.language
        updates["language_detected"] = 0
    if post.created_at and (row["created_at"] is None or (len(row["created_at"]) == 10 and len(post.created_at) > 10)):
        updates["created_at"] = post.created_at
        updates["created_at_precision"] = precision(post.created_at)
    return updates
