"""The write path: the only step of reading -> normalising -> preparing ->
writing that touches SQLite.

The writer takes items already read and prepared
(:class:`~scraper.model.ReadItem`, or :class:`~scraper.sources.Unparsed`
for what could not be read) and stores them a batch at a time, in one
transaction per batch:

1. what it needs from the archive it looks up for the whole batch: the
   rows of the batch's posts already archived, the quotes without an id
   they may be, the captures a re-import would repeat;
2. each item is then decided in memory, in order: a new post, a sighting
   of a post seen before (:func:`scraper.archive.versions.apply_sighting`),
   a merge (:mod:`scraper.archive.merge`); its capture, its raw payload and
   its relevance are queued;
3. the batch is written in a fixed order with ``executemany``: accounts
   seen, raw payloads, new posts (and their search entries, in one
   statement), changed posts, versions, captures, relevance, parse errors.

There is one path whatever the batch holds; the only decision per batch is
whether it can stay in memory to the end (almost always) or must write what
it has before a merge rewrites keys. The writer never calls back into the
preparing step: a prepared post carries every value storing it needs, its
reaction types included (stored by the batch's callback,
scraper/classify_store.py).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .. import __version__
from ..http import utc_now
from ..model import POST_COLUMNS, POST_CONTENT_COLUMNS, PreparedPost, ReadItem, StoredRaw
from ..schema import FTS_INSERT_TRIGGER, index_new_posts_sql
from ..sources import Unparsed
from . import merge
from .accounts import Accounts
from .elections import Elections
from .payloads import Payloads
from .versions import VERSION_COLUMNS, History, apply_sighting

# Items per transaction. Larger batches rewrite the indexes' pages fewer
# times (a 100k import: 1000 gave 8.7 s of storing, 5000 gave 6.1 s).
BATCH_SIZE = 5000

_POST_INSERT = f"INSERT INTO posts ({', '.join(POST_COLUMNS)}) VALUES ({', '.join('?' for _ in POST_COLUMNS)})"
_VERSION_INSERT = (
    f"INSERT INTO post_versions ({', '.join(VERSION_COLUMNS)}) VALUES ({', '.join('?' for _ in VERSION_COLUMNS)})"
)
_VERSION_SEEN = "UPDATE post_versions SET first_seen_at = ?, last_seen_at = ? WHERE post_id = ? AND version = ?"
_CAPTURE_INSERT = (
    "INSERT INTO captures (post_id, fetch_id, format, location, raw_sha256, raw_pointer) VALUES (?, ?, ?, ?, ?, ?)"
)
_FETCH_INSERT = (
    "INSERT INTO fetches (id, run_id, source_id, fetched_url, retrieved_at, tool_version, response_sha256, "
    "page_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_RELEVANCE_UPSERT = (
    "INSERT INTO election_posts (election_id, post_id, matched_terms, score) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (election_id, post_id) DO UPDATE SET matched_terms = excluded.matched_terms, "
    "score = max(score, excluded.score)"
)
_PARSE_ERROR_INSERT = (
    "INSERT INTO parse_errors (run_id, source_id, format, location, fetched_url, reason, raw_sha256, recorded_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INDEX_NEW_POSTS = index_new_posts_sql()
_COLUMN = {name: index for index, name in enumerate(POST_COLUMNS)}
_UNAVAILABLE = _COLUMN["unavailable_reason"]


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
    # Why the stream's first bad item failed, whether or not its parse error
    # was written now: one already recorded (the same file imported again) is
    # not written twice, and the summary line still has to say why.
    first_error: str | None = None

    COUNTERS = ("items", "new_posts", "new_versions", "unchanged", "parse_errors", "relevant", "deleted")

    def add(self, other: "StoreStats") -> None:
        for name in self.COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.post_ids.extend(other.post_ids)
        if self.first_error is None:
            self.first_error = other.first_error

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.COUNTERS}


def is_live(format_name: str, page) -> bool:
    """A platform's own answer over HTTP (not a file, not an article)."""
    return page is not None and page.status is not None and not format_name.startswith("article-")


class Writer:
    def __init__(self, db, accounts: Accounts, elections: Elections):
        self.db = db
        self.accounts = accounts
        self.elections = elections
        self.payloads = Payloads(db, self._queue)
        # Told, before each batch's commit, the ids of the posts it stored that
        # are relevant to an election or were archived before (a post new and
        # relevant to none has no derived rows), and the batch's prepared
        # posts (what the preparing step made for them: their reaction types):
        # tables derived from posts follow them (scraper.classify_store,
        # scraper.reaction_rows).
        self.after_batch: list[Callable[[object, list[str], list[PreparedPost]], object]] = []
        self._fts_insert_trigger: str | None = None
        self._derived_exist: bool | None = None
        self._reset()

    # --- the batch's state ----------------------------------------------------

    def _reset(self) -> None:
        self._pending: dict[str, list] = {}  # SQL -> parameter rows, written in first-queued order
        self._new: dict[str, list] = {}  # key -> row of a post first seen in this batch (POST_COLUMNS)
        self._rows: dict[str, dict] = {}  # key -> row of an archived post this batch saw
        self._stored: set[str] = set()  # keys of posts this batch inserted and wrote already
        self._updates: dict[str, dict] = {}  # key -> changed columns of archived posts
        self._histories: dict[str, History] = {}
        self._captured: set[tuple] = set()  # captures of archived posts, to skip a re-import's
        self._quotes: dict[str, str] = {}  # match hash -> quote without an id this batch's posts may be
        self._errors: set[tuple] = set()  # parse errors recorded in this batch
        self._fetch: tuple[tuple, int] | None = None  # the last fetch row: its key and id
        self._now = utc_now()
        self._next_fetch_id: int | None = None
        self.payloads.forget()

    def discard(self) -> None:
        """After a rollback: nothing queued, nothing cached of rows that are gone."""
        self._reset()
        self._derived_exist = None
        self.accounts.forget()

    def _queue(self, sql: str, params) -> None:
        self._pending.setdefault(sql, []).append(params)

    # --- storing -----------------------------------------------------------------

    def store(self, entries: Iterable[ReadItem | Unparsed], run_id: int | None, write: Callable,
              keep_ids: bool = True, on_batch: Callable[[StoreStats], None] | None = None) -> StoreStats:
        """Store a stream of prepared items, a transaction per batch (and per
        page of a live source). ``keep_ids=False`` for streams of any size:
        memory then stays flat. ``on_batch`` is told the running totals
        after each commit (a progress display)."""
        stats = StoreStats(keep_ids=keep_ids)
        with fewer_collections():
            for batch in batches(entries, BATCH_SIZE):
                try:
                    with write():
                        self.write_batch(batch, run_id, stats)
                finally:
                    self._reset()  # the next batch looks up what it needs again
                if on_batch is not None:
                    on_batch(stats)
        return stats

    def write_batch(self, batch: list, run_id: int | None, stats: StoreStats) -> None:
        """Decide every item of the batch in memory, then write (see the module's docstring)."""
        self.db.execute("PRAGMA defer_foreign_keys = ON")  # rows go in by table, not by reference
        self._now = utc_now()  # when this batch stored what it stored
        read: list[ReadItem] = []
        for entry in batch:
            stats.items += 1
            if isinstance(entry, Unparsed):
                self._record_parse_error(run_id, entry.reason, entry.location, entry.source_id, entry.fetched_url,
                                         self.payloads.keep_text(entry.payload, "unparsed", self._now), None)
                stats.parse_errors += 1
                stats.first_error = stats.first_error or entry.reason
            elif entry.failure is not None:
                item = entry.item
                self._record_parse_error(run_id, entry.failure, item.location, item.source_id, item.fetched_url,
                                         self.payloads.keep(entry.raw, self._now), item.format)
                stats.parse_errors += 1
                stats.first_error = stats.first_error or entry.failure
            else:
                read.append(entry)
        self._look_up(read)
        touched = []  # posts whose derived rows may change: relevant now, or archived before
        for entry in read:
            post_id = self._store_one(entry, run_id, stats)
            if entry.prepared.relevance or post_id in self._rows:
                touched.append(post_id)
        self.flush()
        if touched:
            prepared = [entry.prepared for entry in read]
            for follow in self.after_batch:
                follow(self.db, touched, prepared)

    def _look_up(self, read: list[ReadItem]) -> None:
        """What the batch needs from the archive, in a few queries: the rows of
        its posts already there, and the captures a re-import would repeat."""
        keys = list({entry.prepared.key for entry in read if not entry.prepared.derived} - self._new.keys()
                    - self._rows.keys())
        for chunk in merge.chunks(keys):
            cursor = self.db.execute(f"SELECT * FROM posts WHERE id IN ({merge.marks(chunk)})", chunk)
            names = [d[0] for d in cursor.description]
            for values in cursor:
                row = dict(zip(names, values))
                self._rows[row["id"]] = row
        if self._derived_posts_exist() or any(entry.prepared.derived for entry in read):
            hashes = {h for entry in read if not entry.prepared.derived for h in entry.prepared.nearby_hashes or ()}
            self._quotes.update(merge.derived_matching(self.db, list(hashes)))
        if not self._rows:
            return
        archived = list(self._rows)
        if all(is_live(entry.item.format, entry.item.page) for entry in read):
            archived_sightings = []  # live answers are always new sightings
        else:
            archived_sightings = archived
        for chunk in merge.chunks(archived_sightings):
            self._captured.update(_capture_key(*row) for row in self.db.execute(
                "SELECT c.post_id, f.source_id, coalesce(c.raw_sha256, f.page_sha256), c.raw_pointer, c.location "
                f"FROM captures c JOIN fetches f ON f.id = c.fetch_id WHERE c.post_id IN ({merge.marks(chunk)})",
                chunk,
            ))
        with_history = [key for key in archived if self._rows[key]["version_count"] > 1 and key not in self._histories]
        for chunk in merge.chunks(with_history):
            cursor = self.db.execute(
                f"SELECT * FROM post_versions WHERE post_id IN ({merge.marks(chunk)}) ORDER BY post_id, version", chunk
            )
            names = [d[0] for d in cursor.description]
            for values in cursor:
                version = dict(zip(names, values))
                self._histories.setdefault(version["post_id"], History()).versions.append(version)

    def _store_one(self, entry: ReadItem, run_id: int | None, stats: StoreStats) -> str:
        """Store one item; the id of the post it is."""
        item, prepared = entry.item, entry.prepared
        page = item.page
        seen_at = item.retrieved_at or (page.retrieved_at if page else None) or self._now
        live = is_live(item.format, page)
        account_id = self.accounts.id_for(prepared.platform, *prepared.author, seen_at)
        post_id, merged = self._resolve(prepared, account_id)
        if post_id is None:
            self._insert(prepared, account_id, seen_at)
            post_id, outcome = prepared.key, "new_posts"
        else:
            outcome = self._sighting(post_id, prepared, account_id, seen_at, live, merged)
        setattr(stats, outcome, getattr(stats, outcome) + 1)
        if stats.keep_ids:
            stats.post_ids.append(post_id)
        self._capture(entry, post_id, run_id, seen_at, live)
        for election_id, terms, score in prepared.relevance:
            self._queue(_RELEVANCE_UPSERT, [election_id, post_id, terms, score])
        if prepared.relevance:
            stats.relevant += 1
        return post_id

    # --- identity ----------------------------------------------------------------

    def _derived_posts_exist(self) -> bool:
        if self._derived_exist is None:
            self._derived_exist = merge.has_posts_without_id(self.db)
        return self._derived_exist

    def _resolve(self, prepared: PreparedPost, account_id: int | None) -> tuple[str | None, bool]:
        """The archived post this sighting is (None: a new post), and whether
        it was a quote without an id that now takes this post's id."""
        key = prepared.key
        if not prepared.derived:
            if key in self._new or key in self._rows or key in self._stored:
                return key, False
            found = {h: self._quotes[h] for h in prepared.nearby_hashes or () if h in self._quotes}
            if found:
                quote = found.get(prepared.match_hash) or min(found.values())
                self.flush()
                merge.rekey(self.db, quote, prepared)
                self._quotes = {h: q for h, q in self._quotes.items() if q != quote}
                self._forget_rows()
                self._load_row(key)
                return key, True
            return None, False
        if key in self._new or key in self._rows or key in self._stored:
            return key, False
        self.flush()
        accounts = self.accounts.ids_with_handle(prepared.platform, prepared.author[0])
        if account_id is not None and account_id not in accounts:
            accounts.append(account_id)
        found = merge.post_for_quote(self.db, prepared, accounts)
        if found is None:
            return None, False
        self._load_row(found)
        return found, False

    def _load_row(self, key: str) -> dict:
        row = self._rows.get(key)
        if row is None:
            cursor = self.db.execute("SELECT * FROM posts WHERE id = ?", [key])
            row = self._rows[key] = dict(zip([d[0] for d in cursor.description], cursor.fetchone()))
            if row["version_count"] > 1 and key not in self._histories:
                cursor = self.db.execute("SELECT * FROM post_versions WHERE post_id = ? ORDER BY version", [key])
                names = [d[0] for d in cursor.description]
                self._histories[key] = History([dict(zip(names, values)) for values in cursor])
        return row

    def _forget_rows(self) -> None:
        """Keys moved (a merge, written already): the rows this batch holds
        are read again, those that are still there."""
        loaded, stored = list(self._rows), list(self._stored)
        self._rows, self._histories, self._updates = {}, {}, {}
        self._stored = {key for key in stored if self._exists(key)}
        for key in loaded:
            if self._exists(key):
                self._load_row(key)

    def _exists(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM posts WHERE id = ?", [key]).fetchone() is not None

    # --- new posts and sightings ---------------------------------------------------

    def _insert(self, prepared: PreparedPost, account_id: int | None, seen_at: str) -> None:
        row = prepared.row
        self._new[prepared.key] = [
            *row,
            account_id,
            self.elections.author_name(prepared.platform, account_id, prepared.author[2]),
            self.elections.mentioned_names(prepared.platform, prepared.mentions) if prepared.mentions else None,
            seen_at if row[_UNAVAILABLE] == "deleted" else None,
            seen_at,
            seen_at,
        ]
        if prepared.derived:
            self._derived_exist = True
            self._quotes.setdefault(prepared.match_hash, prepared.key)

    def _sighting(self, post_id: str, prepared: PreparedPost, account_id: int | None, seen_at: str, live: bool,
                  merged: bool) -> str:
        new_row = self._new.get(post_id)
        row = dict(zip(POST_COLUMNS, new_row)) if new_row is not None else self._load_row(post_id)
        values = dict(zip(POST_CONTENT_COLUMNS, prepared.row))
        history = self._histories.setdefault(post_id, History())
        outcome = apply_sighting(row, prepared, values, account_id, seen_at, live, merged, history)
        updates = outcome.updates
        if outcome.rehash:
            updates["match_hash"] = prepared.row[_COLUMN["match_hash"]]  # (None for a post with an id)
        row.update(updates)
        if new_row is not None:
            new_row[:] = [row[name] for name in POST_COLUMNS]
        elif updates:
            self._updates.setdefault(post_id, {}).update(updates)
        if outcome.rehash and prepared.nearby_hashes and self._derived_posts_exist():
            self.flush()
            for quote in merge.quotes_matching(self.db, post_id, prepared.nearby_hashes):
                merge.merge_into(self.db, quote, post_id)
            self._forget_rows()
        return outcome.kind

    # --- provenance --------------------------------------------------------------

    def _capture(self, entry: ReadItem, post_id: str, run_id: int | None, seen_at: str, live: bool) -> None:
        item = entry.item
        if entry.capture_id is not None:  # a reprocess: the capture and its payloads are there
            self._queue("UPDATE captures SET post_id = ? WHERE id = ?", [post_id, entry.capture_id])
            return
        raw_sha = self.payloads.keep(entry.raw, self._now)
        response_sha = self.payloads.keep(entry.response, self._now) if entry.response is not None else None
        pointer = item.pointer  # (set when the raw payload is the page the item was cut from)
        if not live:
            # Seen before (a file imported twice): no second capture.
            capture_key = _capture_key(post_id, item.source_id, raw_sha, pointer, item.location)
            if capture_key in self._captured:
                return
            if post_id in self._rows or post_id in self._new or post_id in self._stored:
                self._captured.add(capture_key)
        fetch_id = self._fetch_id(run_id, item, seen_at, response_sha, raw_sha if pointer is not None else None)
        self._queue(_CAPTURE_INSERT, [post_id, fetch_id, item.format, item.location,
                                      None if pointer is not None else raw_sha, pointer])

    def _fetch_id(self, run_id, item, seen_at: str, response_sha: str | None, page_sha: str | None) -> int:
        """The fetch (one answer, file line or page read in one go) a capture
        came in: written once, then shared by every capture of it. (Queued
        like every row, with its id chosen here: a row written before the
        payloads it names would make SQLite check each payload against every
        capture, the deferred foreign keys being unresolved meanwhile.)"""
        key = (run_id, item.source_id, item.fetched_url, seen_at, response_sha, page_sha)
        if self._fetch is not None and self._fetch[0] == key:
            return self._fetch[1]
        if self._next_fetch_id is None:
            self._next_fetch_id = self.db.execute("SELECT coalesce(max(id), 0) + 1 FROM fetches").fetchone()[0]
        fetch_id = self._next_fetch_id
        self._next_fetch_id += 1
        self._queue(_FETCH_INSERT, [fetch_id, run_id, item.source_id, item.fetched_url, seen_at, __version__,
                                    response_sha, page_sha])
        self._fetch = (key, fetch_id)
        return fetch_id

    def _record_parse_error(self, run_id, reason, location, source_id, fetched_url, raw_sha, format_name) -> None:
        """An item that could not be read, with its raw payload; once per
        source, place and payload while it stays unresolved (a file imported
        twice has the same bad line twice). Where it was found is part of
        the error: the same bad bytes on two lines, or in two files, are
        two rows, and a file imported under another spelling of its path
        records its bad lines again under that spelling."""
        seen = (source_id, location, raw_sha)
        if seen in self._errors or self.db.execute(
            "SELECT 1 FROM parse_errors WHERE raw_sha256 = ? AND source_id IS ? AND location IS ? "
            "AND resolved_at IS NULL", [raw_sha, source_id, location]
        ).fetchone():
            return
        self._errors.add(seen)
        self._queue(_PARSE_ERROR_INSERT,
                    [run_id, source_id, format_name, location, fetched_url, reason, raw_sha, self._now])

    # --- writing -------------------------------------------------------------------

    def flush(self) -> None:
        """Write what the batch decided, in an order that needs no reads:
        accounts seen, raw payloads, new posts and their search entries,
        changed posts, versions, captures, relevance, parse errors (foreign
        keys are checked at the commit)."""
        db = self.db
        self.accounts.flush()
        db.execute("PRAGMA defer_foreign_keys = ON")
        pending, self._pending = self._pending, {}
        for sql in list(pending):
            if sql.startswith("INSERT INTO raw_payloads"):
                db.conn.executemany(sql, pending.pop(sql))
        if self._new:
            self._insert_posts(list(self._new.values()))
            self._stored.update(self._new)  # (their rows are read back if a later item is a sighting of one)
            self._new = {}
        for post_id, updates in self._updates.items():
            assignments = ", ".join(f"{name} = ?" for name in updates)
            db.execute(f"UPDATE posts SET {assignments} WHERE id = ?", [*updates.values(), post_id])
        self._updates = {}
        self._write_histories()
        for sql, rows in pending.items():
            db.conn.executemany(sql, rows)

    def _insert_posts(self, rows: list[list]) -> None:
        """New posts in one statement, then their search entries in one more:
        FTS5 flushes its pending terms at every statement, so the per-row
        insert trigger wrote one tiny index segment per post. The trigger is
        taken out for the length of this insert only, inside the write
        transaction, so every other writer finds it (see
        scraper.schema.index_new_posts_sql)."""
        db = self.db
        indexed_up_to = db.execute("SELECT coalesce(max(rowid), 0) FROM posts").fetchone()[0]
        trigger = self._insert_trigger()
        if trigger:
            db.execute(f"DROP TRIGGER {FTS_INSERT_TRIGGER}")
        try:
            db.conn.executemany(_POST_INSERT, rows)
        finally:
            if trigger:
                db.execute(trigger)
        db.execute(_INDEX_NEW_POSTS, [indexed_up_to])

    def _write_histories(self) -> None:
        db = self.db
        for post_id, history in self._histories.items():
            if history.replaced:
                db.execute("DELETE FROM post_versions WHERE post_id = ?", [post_id])
                history.new = {version["version"] for version in history.versions}
                history.replaced = False
            for version in history.versions:
                number = version["version"]
                if number in history.new:
                    db.execute(_VERSION_INSERT, [post_id, *[version[name] for name in VERSION_COLUMNS[1:]]])
                elif number in history.dirty:
                    db.execute(_VERSION_SEEN, [version["first_seen_at"], version["last_seen_at"], post_id, number])
            history.new, history.dirty = set(), set()

    def _insert_trigger(self) -> str:
        """The SQL of the full-text index's insert trigger, if the archive has one."""
        if self._fts_insert_trigger is None:
            row = self.db.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [FTS_INSERT_TRIGGER]
            ).fetchone()
            self._fts_insert_trigger = row[0] if row else ""
        return self._fts_insert_trigger


def _capture_key(post_id: str, source_id: str, raw_sha: str, pointer: str | None, location: str) -> tuple:
    """What makes a capture of an archived file the same as one the archive
    has. An item cut from a stored page (``pointer`` set): the page's bytes
    and the place in them, whatever file or spelling of its path they came
    from (a nightly job run from another folder than the first import, or a
    copy of the file, repeats the same evidence). An item stored as its own
    payload (an embed in an article): also where it was found, since the
    same embed in two articles is two pieces of evidence."""
    if pointer is not None:
        return (post_id, raw_sha, pointer)
    return (post_id, raw_sha, source_id, location)


def batches(entries: Iterable, size: int) -> Iterator[list]:
    """Batches of at most ``size`` items, also cut where a new page begins:
    a page is committed as soon as the next one has arrived, whatever its
    size. (A run killed before that loses the page; the account's saved
    state has not moved, so the next run fetches it again: no gap.)"""
    batch: list = []
    page = None
    for entry in entries:
        entry_page = entry.item.page if isinstance(entry, ReadItem) else getattr(entry, "page", None)
        if batch and entry_page is not None and entry_page is not page:
            yield batch
            batch = []
        page = entry_page
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def fewer_collections():
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
