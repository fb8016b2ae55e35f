"""Identity and merge: which archived post a sighting is, and what happens
when two rows turn out to be one post.

A post with a platform id is found by its key. A quote without an id (read
from an article) has a derived key, and is the same post as another one by
the same account, a day either side, with the same folded text (the match
hashes :mod:`scraper.prepare` computes). When the post with the id arrives
after its quote, the quote's row takes the id (:func:`rekey`); when a post's
text changes so that a quote now matches it, the quote is merged into it
(:func:`merge_into`). Both move every row that names the post: versions,
captures, relevance, resolved parse errors.

Lookups here are SQL; the batch of prepared posts is resolved against the
rows the writer holds (:class:`scraper.archive.writer.Writer`).
"""

from __future__ import annotations

from datetime import date, timedelta

from ..identity import stored_match_hash
from ..model import PreparedPost

_CHUNK = 500


def chunks(values: list, size: int = _CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def marks(values) -> str:
    return ", ".join("?" for _ in values)


def has_posts_without_id(db) -> bool:
    """Does the archive hold quotes without a platform id?"""
    return db.execute("SELECT 1 FROM posts WHERE id_is_derived = 1 LIMIT 1").fetchone() is not None


def derived_matching(db, hashes: list[str]) -> dict[str, str]:
    """match hash -> id of an archived quote without an id that has it."""
    found: dict[str, str] = {}
    for chunk in chunks(hashes):
        for post_id, match_hash in db.execute(
            f"SELECT id, match_hash FROM posts WHERE id_is_derived = 1 AND match_hash IN ({marks(chunk)}) ORDER BY id",
            chunk,
        ):
            found.setdefault(match_hash, post_id)
    return found


def post_for_quote(db, prepared: PreparedPost, account_ids: list[int]) -> str | None:
    """The archived post a quote without an id is a rendering of: a post with
    an id by the same account a day either side with the same folded text,
    else an earlier quote of it; the same day's first.

    Posts with an id are stored without their match hash: those of the
    candidates are computed here from their stored columns."""
    hashes = prepared.nearby_hashes or (prepared.match_hash,)
    if account_ids:
        day = (prepared.row[8] or "")[:10]  # created_at
        start, end = _days_around(day)
        candidates = []
        for post_id, platform, handle, created_at, text in db.execute(
            f"SELECT id, platform, handle, created_at, text FROM posts WHERE account_id IN "
            f"({marks(account_ids)}) AND created_at >= ? AND created_at < ? AND id_is_derived = 0",
            [*account_ids, start, end],
        ).fetchall():
            match_hash = stored_match_hash(platform, handle, created_at, text)
            if match_hash in hashes:
                candidates.append((match_hash != prepared.match_hash, post_id))
        if candidates:
            return min(candidates)[1]
    row = db.execute(
        f"SELECT id FROM posts WHERE id_is_derived = 1 AND match_hash IN ({marks(hashes)}) "
        "ORDER BY match_hash = ? DESC, id LIMIT 1",
        [*hashes, prepared.match_hash],
    ).fetchone()
    return row[0] if row else None


def _days_around(day: str) -> tuple[str, str]:
    """The created_at range from the day before to the end of the day after."""
    try:
        moment = date.fromisoformat(day)
    except ValueError:
        return "", "\uffff"
    return (moment - timedelta(days=1)).isoformat(), (moment + timedelta(days=2)).isoformat()


def quotes_matching(db, post_id: str, hashes: tuple[str, ...]) -> list[str]:
    """Quotes without an id whose text now matches this post's."""
    return [row[0] for row in db.execute(
        f"SELECT id FROM posts WHERE id_is_derived = 1 AND id != ? AND match_hash IN ({marks(hashes)})",
        [post_id, *hashes],
    ).fetchall()]


_REFERENCES = ("post_versions", "captures", "election_posts")


def rekey(db, old_id: str, prepared: PreparedPost) -> None:
    """A quote without an id turned out to be this post: its row takes the id."""
    values = prepared.row
    db.execute("PRAGMA defer_foreign_keys = ON")
    db.execute(
        "UPDATE posts SET id = ?, native_id = ?, id_is_derived = 0, url = coalesce(?, url) WHERE id = ?",
        [prepared.key, values[2], values[5], old_id],
    )
    for table in _REFERENCES:
        db.execute(f"UPDATE {table} SET post_id = ? WHERE post_id = ?", [prepared.key, old_id])
    db.execute("UPDATE parse_errors SET resolved_post_id = ? WHERE resolved_post_id = ?", [prepared.key, old_id])


def merge_into(db, derived_id: str, into_id: str) -> None:
    """A quote without an id turned out to be this post: its sightings and
    relevance move over; its rendering of the text is not a version."""
    db.execute("PRAGMA defer_foreign_keys = ON")
    db.execute("UPDATE captures SET post_id = ? WHERE post_id = ?", [into_id, derived_id])
    db.execute(
        "INSERT OR IGNORE INTO election_posts (election_id, post_id, matched_terms, score) "
        "SELECT election_id, ?, matched_terms, score FROM election_posts WHERE post_id = ?",
        [into_id, derived_id],
    )
    for table in ("election_posts", "post_versions"):
        db.execute(f"DELETE FROM {table} WHERE post_id = ?", [derived_id])
    db.execute(
        "UPDATE posts SET first_captured_at = min(first_captured_at, (SELECT first_captured_at FROM posts WHERE id = ?)), "
        "last_captured_at = max(last_captured_at, (SELECT last_captured_at FROM posts WHERE id = ?)) WHERE id = ?",
        [derived_id, derived_id, into_id],
    )
    db.execute("UPDATE parse_errors SET resolved_post_id = ? WHERE resolved_post_id = ?", [into_id, derived_id])
    db.execute("DELETE FROM posts WHERE id = ?", [derived_id])
