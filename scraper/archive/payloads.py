"""Raw payloads: every item, page and HTTP answer exactly as it arrived,
compressed, once (``raw_payloads``, keyed by the SHA-256 of the bytes), so
that the archive can be rebuilt when parsing improves
(:mod:`scraper.archive.reprocess`)."""

from __future__ import annotations

import json

from .. import compression
from ..model import RawItem, StoredRaw

# A payload kept earlier as unparsed (an older parser failed on it) takes
# its reader's format when it is stored again, so that reprocess can read it.
_RAW_INSERT = (
    "INSERT INTO raw_payloads (sha256, format, size, compression, content, stored_at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (sha256) DO UPDATE SET format = excluded.format WHERE raw_payloads.format = 'unparsed'"
)


class Payloads:
    def __init__(self, db, queue):
        self.db = db
        self.queue = queue  # the writer's queue of inserts
        self._last: str | None = None  # items of one page follow each other: the page is queued once

    def keep(self, raw: StoredRaw, stored_at: str) -> str:
        """Queue the payload for storing (if it is not the one just queued); its hash."""
        if raw.sha256 != self._last:
            self._last = raw.sha256
            self.queue(_RAW_INSERT, [raw.sha256, raw.format, raw.size, compression.CODEC, raw.content, stored_at])
        return raw.sha256

    def keep_text(self, text: str, format_name: str, stored_at: str) -> str:
        return self.keep(compression.stored(text, format_name), stored_at)

    def forget(self) -> None:
        self._last = None

    def read(self, sha256: str) -> tuple[str, str]:
        """(format, text) of a stored payload; KeyError if there is none."""
        row = self.db.execute(
            "SELECT format, content, compression FROM raw_payloads WHERE sha256 = ?", [sha256]
        ).fetchone()
        if row is None:
            raise KeyError(sha256)
        return row[0], compression.decompress(row[2], row[1]).decode("utf-8")

    def item(self, sha256: str, **where) -> RawItem:
        """An item stored on its own (payload and context), ready to normalise again."""
        stored = json.loads(self.read(sha256)[1])
        return RawItem(stored["format"], stored["payload"], context=stored.get("context") or {}, **where)
