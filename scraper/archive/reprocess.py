"""Rebuilding the archive from its raw payloads (``reactions reprocess``).

Every capture's raw item (its own payload, or its place in a stored page)
is read again with today's parsers and stored again through the same path
as a new item, in capture order, into emptied posts, versions and
relevance; the captures stay and point at the rebuilt posts. With unchanged
parsing the result is what was there. Then the items that once failed to
parse are tried again: those that parse now become posts with a capture,
and their error is marked resolved.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from .. import classify_store
from ..errors import ParseFailure
from ..http import utc_now
from ..model import FetchedPage, RawItem, ReadItem
from ..normalise import items_of_page
from ..prepare import read_item
from ..reaction_rows import refresh_reaction_rows
from .payloads import Payloads
from .writer import StoreStats, Writer


def reprocess(db, writer: Writer, matchers, write) -> StoreStats:
    with write():
        db.execute("PRAGMA defer_foreign_keys = ON")
        for table in ("election_posts", "post_versions", "posts"):
            db.execute(f"DELETE FROM {table}")
        stats = writer.store(_captured_items(db, writer.payloads, matchers), None, write)
        stats.resolved_errors = _retry_parse_errors(db, writer, matchers, write, stats)
        classify_store.after_reprocess(db)  # hook (issue 13): classes of the rebuilt posts; labels stay
        refresh_reaction_rows(db)  # every row again: posts were rebuilt
    return stats


def _captured_items(db, payloads: Payloads, matchers) -> Iterator[ReadItem]:
    pages = StoredPages(payloads)
    responses: dict[str, FetchedPage] = {}
    rows = db.execute(
        "SELECT c.id, c.raw_sha256, f.page_sha256, c.raw_pointer, f.source_id, c.location, f.fetched_url, "
        "f.retrieved_at, f.response_sha256 FROM captures c JOIN fetches f ON f.id = c.fetch_id ORDER BY c.id"
    ).fetchall()
    for capture_id, raw_sha, page_sha, pointer, source_id, location, fetched_url, retrieved_at, response_sha in rows:
        if pointer is not None:
            item = pages.item(page_sha or raw_sha, pointer, capture_id, source_id, location)
        else:
            item = payloads.item(raw_sha, source_id=source_id, location=location)
        item.source_id, item.location = source_id, location
        item.fetched_url, item.retrieved_at = fetched_url, retrieved_at
        if response_sha:
            if response_sha not in responses:  # captures of one answer share it (and a batch)
                responses.clear()
                responses[response_sha] = FetchedPage(**json.loads(payloads.read(response_sha)[1]))
            item.page = responses[response_sha]
        read = read_item(item, matchers)
        if read.failure is not None:
            raise ParseFailure(f"capture {capture_id} ({location}) no longer parses: {read.failure}")
        yield read._replace(capture_id=capture_id)


def _retry_parse_errors(db, writer: Writer, matchers, write, stats: StoreStats) -> int:
    rows = db.execute(
        "SELECT id, raw_sha256, source_id, location, fetched_url, recorded_at FROM parse_errors "
        "WHERE resolved_at IS NULL AND format IS NOT NULL AND raw_sha256 IS NOT NULL ORDER BY id"
    ).fetchall()
    resolved = 0
    for error_id, raw_sha, source_id, location, fetched_url, recorded_at in rows:
        try:
            item = writer.payloads.item(raw_sha, source_id=source_id, location=location, fetched_url=fetched_url,
                                        retrieved_at=recorded_at)
        except (KeyError, TypeError, ValueError):
            continue
        read = read_item(item, matchers)
        if read.failure is not None:
            continue
        one = writer.store([read], None, write)
        stats.add(one)
        db.execute("UPDATE parse_errors SET resolved_at = ?, resolved_post_id = ? WHERE id = ?",
                   [utc_now(), one.post_ids[-1], error_id])
        resolved += 1
    return resolved


class StoredPages:
    """Items cut from stored pages, for a reprocess: captures of one page
    follow each other, so the last page read is kept cut up."""

    def __init__(self, payloads: Payloads):
        self.payloads = payloads
        self.sha: str | None = None
        self.items: dict[str, RawItem] = {}

    def item(self, sha: str, pointer: str, capture_id: int, source_id: str, location: str) -> RawItem:
        if sha != self.sha:
            format_name, text = self.payloads.read(sha)
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
