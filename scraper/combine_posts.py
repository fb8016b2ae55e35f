"""Posts in a merge of archives (``reactions merge``, :mod:`scraper.combine`):
new posts copied with their versions and search entries, posts both archives
hold merged row by row and state by state (:func:`merge_post_rows`: the
latest edit or capture wins, gaps filled from the other, every state kept
once), and after the last input, quotes without an id joined to the post
they render, by the write path's own rule (:func:`join_quotes`).

Each function takes the merge in progress (``scraper.combine._Merger``) as
``merger``; this module does not import it.
"""

from __future__ import annotations

from types import SimpleNamespace

from . import combine_types
from .schema import FTS_INSERT_TRIGGER, index_new_posts_sql


def columns_of(db, table: str, schema: str = "main") -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA {schema}.table_info({table})")]


def merge_posts(merger, src: str) -> tuple[int, int]:
    """New posts copied (with their versions and search entries); posts
    both archives hold merged row by row. Returns (added, merged)."""
    db = merger.db
    db.execute(f"INSERT INTO temp.merge_existing (id) SELECT s.id FROM {src}.posts s "
               "WHERE EXISTS (SELECT 1 FROM main.posts m WHERE m.id = s.id)")
    columns = columns_of(db, "posts")
    # (an account id the input does not hold, a dangling reference, becomes NULL: never another account)
    chosen = ", ".join("a.out_id" if c == "account_id" else f"s.{c}" for c in columns)
    indexed_up_to = db.execute("SELECT coalesce(max(rowid), 0) FROM main.posts").fetchone()[0]
    trigger = db.execute("SELECT sql FROM main.sqlite_master WHERE type = 'trigger' AND name = ?",
                         [FTS_INSERT_TRIGGER]).fetchone()
    if trigger:
        db.execute(f"DROP TRIGGER main.{FTS_INSERT_TRIGGER}")
    try:
        added = db.execute(
            f"INSERT INTO main.posts ({', '.join(columns)}) SELECT {chosen} FROM {src}.posts s "
            "LEFT JOIN temp.merge_accounts a ON a.src_id = s.account_id "
            "WHERE NOT EXISTS (SELECT 1 FROM temp.merge_existing e WHERE e.id = s.id) ORDER BY s.rowid").rowcount
    finally:
        if trigger:
            db.execute(trigger[0])
    db.execute(index_new_posts_sql(), [indexed_up_to])
    merger.new_in_input = added
    versions = columns_of(db, "post_versions")[1:]  # (not the row id)
    db.execute(
        f"INSERT INTO main.post_versions ({', '.join(versions)}) SELECT {', '.join('v.' + c for c in versions)} "
        f"FROM {src}.post_versions v WHERE NOT EXISTS (SELECT 1 FROM temp.merge_existing e WHERE e.id = v.post_id) "
        "ORDER BY v.id")
    merged = 0
    for (post_id,) in db.execute(_differing_sql(src, columns)).fetchall():
        merged += _merge_post(merger, src, post_id, columns)
    return added, merged


def _differing_sql(src: str, columns: list[str]) -> str:
    """Posts both hold whose rows or states differ (an archive merged
    again finds none: it adds nothing)."""
    compared = [c for c in columns if c not in ("id", "account_id", "author_name", "mentioned_names")]
    return (
        f"SELECT s.id FROM temp.merge_existing e JOIN {src}.posts s ON s.id = e.id JOIN main.posts m ON m.id = e.id "
        "LEFT JOIN temp.merge_accounts a ON a.src_id = s.account_id "
        f"WHERE ({', '.join('s.' + c for c in compared)}, a.out_id) IS NOT "
        f"({', '.join('m.' + c for c in compared)}, m.account_id) "
        f"OR EXISTS (SELECT 1 FROM {src}.post_versions v WHERE v.post_id = s.id AND NOT EXISTS ("
        "SELECT 1 FROM main.post_versions w WHERE w.post_id = v.post_id AND w.content_hash = v.content_hash "
        "AND w.first_seen_at <= v.first_seen_at AND w.last_seen_at >= v.last_seen_at)) ORDER BY s.id"
    )


def _merge_post(merger, src: str, post_id: str, columns: list[str]) -> bool:
    """Merge one post both archives hold; False when the output already
    holds everything the input has of it (its row differs only because an
    earlier merge filled the output's gaps or took a later state): then
    nothing is written, refreshed or classified again, so that merging an
    archive a second time changes nothing."""
    from .archive.versions import VERSION_COLUMNS

    db = merger.db
    listed = ", ".join(columns)
    mine = dict(zip(columns, db.execute(f"SELECT {listed} FROM main.posts WHERE id = ?", [post_id]).fetchone()))
    theirs = dict(zip(columns, db.execute(f"SELECT {listed} FROM {src}.posts WHERE id = ?", [post_id]).fetchone()))
    mapped = db.execute("SELECT out_id FROM temp.merge_accounts WHERE src_id = ?", [theirs["account_id"]]).fetchone()
    theirs["account_id"] = mapped[0] if mapped else None
    my_states = post_states(db, "main", mine)
    row, states = merge_post_rows(mine, theirs, my_states, post_states(db, src, theirs))
    changed = {c: row[c] for c in columns if c != "id" and row[c] != mine[c]}

    def kept(found: list[dict]) -> list[tuple]:
        return [tuple(state[c] for c in VERSION_COLUMNS[1:]) for state in found]

    if not changed and kept(states) == kept(my_states):
        return False
    if changed:
        db.execute(f"UPDATE main.posts SET {', '.join(f'{c} = ?' for c in changed)} WHERE id = ?",
                   [*changed.values(), post_id])
    db.execute("DELETE FROM main.post_versions WHERE post_id = ?", [post_id])
    if len(states) > 1:
        db.conn.executemany(
            f"INSERT INTO main.post_versions ({', '.join(VERSION_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in VERSION_COLUMNS)})",
            [[post_id, *[state[c] for c in VERSION_COLUMNS[1:]]] for state in states])
    merger.mark_for_refresh("SELECT ?", [post_id])
    db.execute("INSERT OR IGNORE INTO temp.merge_reclassify (id) VALUES (?)", [post_id])  # (text, mentions, language)
    return True


def join_quotes(merger) -> int:
    """Quotes without an id that are renderings of a post held with its
    id (or of an earlier quote of it) are merged into it, by the write
    path's own rule."""
    from .archive import merge

    db = merger.db
    joined = 0
    rows = db.execute("SELECT id, platform, handle, text, created_at, match_hash, account_id FROM posts "
                      "WHERE id_is_derived = 1 ORDER BY id").fetchall()
    for post_id, platform, handle, text, created_at, match_hash, account_id in rows:
        if not db.execute("SELECT 1 FROM posts WHERE id = ?", [post_id]).fetchone():
            continue  # joined already
        into = _post_for_quote(db, post_id, platform, handle, text, created_at, match_hash, account_id)
        if into is None:
            continue
        _drop_repeated_captures(db, post_id, into)
        _fill_gaps(db, post_id, into)
        combine_types.move_labels(merger, post_id, into)
        merge.merge_into(db, post_id, into)  # (the quote's classes and reactions rows go with its row)
        db.execute("DELETE FROM temp.merge_refresh WHERE id = ?", [post_id])
        db.execute("DELETE FROM temp.merge_reclassify WHERE id = ?", [post_id])
        merger.mark_for_refresh("SELECT ?", [into])
        db.execute("INSERT OR IGNORE INTO temp.merge_reclassify (id) VALUES (?)", [into])
        joined += 1
    return joined


def post_states(db, schema: str, row: dict) -> list[dict]:
    """Every state of one post (post_states, read for one post)."""
    from .archive.versions import STATE_COLUMNS, content_hash

    if (row["version_count"] or 1) > 1:
        cursor = db.execute(f"SELECT * FROM {schema}.post_versions WHERE post_id = ? ORDER BY version", [row["id"]])
        names = [d[0] for d in cursor.description]
        states = [dict(zip(names, values)) for values in cursor]
        if states:
            return states
    state = {name: row[name] for name in STATE_COLUMNS}
    return [{**state, "version": 1, "content_hash": content_hash(state),
             "first_seen_at": row["first_captured_at"], "last_seen_at": row["last_captured_at"]}]


_GAP_COLUMNS = ("native_id", "url", "account_id", "handle", "display_name", "author_name", "mentioned_names",
                "language", "reply_to", "quote_of", "repost_of", "hashtags", "mentions", "links", "media", "extra")


def merge_post_rows(mine: dict, theirs: dict, my_states: list[dict], their_states: list[dict]) -> tuple[dict, list]:
    """One post held by two archives: its row and its states (pure; see the
    module's docstring for the rules)."""
    from .archive.versions import STATE_COLUMNS, content_hash

    def rank(row: dict) -> tuple:
        return (row["edited_at"] or "", row["last_captured_at"] or "",
                content_hash({name: row[name] for name in STATE_COLUMNS}))

    winner, other = (mine, theirs) if rank(mine) >= rank(theirs) else (theirs, mine)
    row = dict(winner)
    for column in _GAP_COLUMNS:
        if row[column] in (None, "[]") and other[column] not in (None, "[]"):
            row[column] = other[column]
    if row["language_detected"] and other["language"] and not other["language_detected"]:
        row["language"], row["language_detected"] = other["language"], 0
    if other["created_at"] and (not row["created_at"] or (len(row["created_at"]) == 10 < len(other["created_at"]))):
        row["created_at"], row["created_at_precision"] = other["created_at"], other["created_at_precision"]
    row["id_is_derived"] = min(mine["id_is_derived"], theirs["id_is_derived"])
    row["first_captured_at"] = min(filter(None, (mine["first_captured_at"], theirs["first_captured_at"])), default=None)
    row["last_captured_at"] = max(filter(None, (mine["last_captured_at"], theirs["last_captured_at"])), default=None)
    states = merged_states(my_states, their_states)
    row["version_count"] = len(states)
    texts = {state["text"] for state in states}
    row["is_edited"] = max(mine["is_edited"] or 0, theirs["is_edited"] or 0, int(len(texts) > 1))
    return row, states


def merged_states(mine: list[dict], theirs: list[dict]) -> list[dict]:
    """The union of two lists of states by content: each seen from the
    earliest to the latest time either saw it, numbered in the order first
    seen. (An archive that holds one content twice, an edit back to an
    earlier text, keeps its list when the other adds nothing to it.)"""
    from .archive.versions import content_hash

    def covered(state: dict) -> bool:
        return any(content_hash(kept) == content_hash(state) and kept["first_seen_at"] <= state["first_seen_at"]
                   and kept["last_seen_at"] >= state["last_seen_at"] for kept in mine)

    if all(covered(state) for state in theirs):
        return [dict(state, content_hash=content_hash(state)) for state in mine]
    by_content: dict[str, dict] = {}
    for state in [*mine, *theirs]:
        digest = content_hash(state)
        kept = by_content.get(digest)
        if kept is None:
            by_content[digest] = dict(state, content_hash=digest)
            continue
        kept["first_seen_at"] = min(kept["first_seen_at"], state["first_seen_at"])
        kept["last_seen_at"] = max(kept["last_seen_at"], state["last_seen_at"])
        kept["edited_at"] = max(filter(None, (kept["edited_at"], state["edited_at"])), default=None)
    ordered = sorted(by_content.values(), key=lambda state: (state["first_seen_at"] or "", state["content_hash"]))
    return [dict(state, version=number) for number, state in enumerate(ordered, 1)]


def _post_for_quote(db, post_id, platform, handle, text, created_at, match_hash, account_id) -> str | None:
    """The post a quote without an id renders (as scraper.archive.merge.post_for_quote
    finds it): a post with an id by the same account a day either side with
    the same folded text; else a quote of it with a smaller key."""
    from .archive.merge import _days_around, marks
    from .identity import nearby_match_hashes, stored_match_hash

    quote = SimpleNamespace(platform=platform, author_handle=handle, text=text, created_at=created_at)
    hashes = sorted({match_hash, *nearby_match_hashes(quote)})
    order = "ORDER BY match_hash = ? DESC, id LIMIT 1"
    accounts = [row[0] for row in db.execute(
        "SELECT id FROM accounts WHERE platform = ? AND handle = ? COLLATE NOCASE", [platform, (handle or "").lstrip("@")])]
    if account_id is not None and account_id not in accounts:
        accounts.append(account_id)
    if accounts:
        # (posts with an id are stored without a match hash: computed here from their columns)
        start, end = _days_around((created_at or "")[:10])
        candidates = []
        for found_id, found_platform, found_handle, found_created_at, found_text in db.execute(
            f"SELECT id, platform, handle, created_at, text FROM posts WHERE account_id IN ({marks(accounts)}) "
            "AND created_at >= ? AND created_at < ? AND id_is_derived = 0", [*accounts, start, end]
        ).fetchall():
            found_hash = stored_match_hash(found_platform, found_handle, found_created_at, found_text)
            if found_hash in hashes:
                candidates.append((found_hash != match_hash, found_id))
        if candidates:
            return min(candidates)[1]
    found = db.execute(
        f"SELECT id FROM posts WHERE id_is_derived = 1 AND id < ? AND match_hash IN ({marks(hashes)}) {order}",
        [post_id, *hashes, match_hash]).fetchone()
    return found[0] if found else None


def _drop_repeated_captures(db, from_id: str, into_id: str) -> None:
    """Captures of the quote the post already has (a merge repeated): not moved twice."""
    db.execute(
        "DELETE FROM captures WHERE post_id = ? AND EXISTS (SELECT 1 FROM captures k WHERE k.post_id = ? "
        "AND k.fetch_id = captures.fetch_id AND k.format IS captures.format AND k.location IS captures.location "
        "AND k.raw_sha256 IS captures.raw_sha256 AND k.raw_pointer IS captures.raw_pointer)", [from_id, into_id])


def _fill_gaps(db, from_id: str, into_id: str) -> None:
    """The post takes from the quote what it lacks (as a sighting fills gaps)."""
    columns = ("url", "handle", "display_name", "language", "reply_to", "quote_of", "repost_of")
    db.execute(
        f"UPDATE posts SET {', '.join(f'{c} = coalesce({c}, (SELECT q.{c} FROM posts q WHERE q.id = ?))' for c in columns)} "
        "WHERE id = ?", [*([from_id] * len(columns)), into_id])
