"""The ``reactions`` table: one row per post and election, resolved at write
time, so that Datasette's reactions page, its facets, full-text search and
the ready-made queries read indexes instead of computing every row.

Until migration m008 ``reactions`` was a view that found, for every row it
returned, the author's leader, country and the role held on the post's day
(a correlated subquery with a sort): a page, a count or a facet computed the
whole view first, and at a million posts they ran into the SQL time limit.
Now the same columns, in the same order, are a table kept current here:

- after every stored batch, for the posts that batch stored or saw again
  (the archive's writer calls :func:`refresh_reaction_rows` with their ids);
- after a config is loaded, for every row when the roster changed, or for
  an election whose result time or milestones changed
  (:func:`refresh_if_config_changed`;
  it keeps fingerprints of what the rows were computed from in
  ``reactions_sources``, so a nightly run that loads the same config writes
  nothing);
- after ``reactions reprocess``, for every row (:func:`refresh_reaction_rows`);
- after a reaction's type changes (a classification, a label), for its
  posts (scraper/classify_store.py).

Rows follow their ``election_posts`` row by a foreign key with cascades: a
post merged into another (a quote without an id that turned out to be a
platform post) or re-keyed takes its rows along, with no extra call. A
refresh writes only the rows whose values changed.

Adding a column: an entry in :data:`COLUMNS` with the SQL that computes
it from the sources in :data:`SOURCES` (a new table goes in :data:`JOINS`,
keyed by ``ep.election_id`` and ``ep.post_id``: it is joined only when a
column the table has reads it, so a refresh by an older migration, before
that table exists, still works), its description in metadata.yml, and a
migration. The migration rebuilds the table, so that the column takes its
place in the reading order: ``rebuild_table(db, columns, facets)`` with the
columns and facets of that migration written out (as :data:`M008_COLUMNS`
and :data:`M009_COLUMNS` are: a later migration must not change what an
earlier one built). When the new column depends on something other than
the post, the election and the roster (a classification, say), the code
that changes it calls ``refresh_reaction_rows(db, post_ids=...)`` for the
posts it changed, or adds what it reads to the fingerprints
(:func:`_fingerprints`) when it comes with a config.

Migration m009 (issue 13) added what each reaction says and when: its type
(a person's label in ``reaction_labels`` over the classifier's in
``reaction_classes``, the evidence beside it) and its time against the
election's milestones (``election_milestones``). Classes change through
scraper/classify_store.py, which refreshes the rows of the posts it
classified or labelled; milestones come with a config and are part of the
election's fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Iterable

TABLE = "reactions"
STATE_TABLE = "reactions_sources"

# The role a leader held on the post's day; several on one day: the highest
# precedence (schema.ROLE_PRECEDENCE), then the latest begun.
ROLE_ON_POST_DAY = """(
  SELECT r2.id FROM roles r2
  WHERE r2.leader_id = l.id
    AND r2.start_date <= substr(p.created_at, 1, 10)
    AND (r2.end_date IS NULL OR r2.end_date >= substr(p.created_at, 1, 10))
  ORDER BY r2.precedence, r2.start_date DESC
  LIMIT 1
)"""

# What a row is computed from: ep (election_posts) drives, one row each.
SOURCES = f"""
FROM election_posts ep
JOIN elections e ON e.id = ep.election_id
JOIN posts p ON p.id = ep.post_id
LEFT JOIN accounts a ON a.id = p.account_id
LEFT JOIN leaders l ON l.id = a.leader_id
LEFT JOIN countries c ON c.code = l.country
LEFT JOIN roles r ON r.id = {ROLE_ON_POST_DAY}
"""

# Sources of later columns: (alias, join), each joined only when a column the
# table has reads its alias. Migration m009 (issue 13): the classifier's type
# (rc), a person's label (lb), when polls closed (pc), the latest milestone at
# or before the post (m) and the next one after it (nm; read through the
# index on election_milestones (election_id, at, position)).
JOINS: tuple[tuple[str, str], ...] = (
    ("rc", "LEFT JOIN reaction_classes rc ON rc.election_id = ep.election_id AND rc.post_id = ep.post_id"),
    ("lb", "LEFT JOIN reaction_labels lb ON lb.election_id = ep.election_id AND lb.post_id = ep.post_id"),
    ("pc", "LEFT JOIN election_milestones pc ON pc.election_id = ep.election_id AND pc.kind = 'polls_closed'"),
    ("m", """LEFT JOIN election_milestones m ON m.rowid = (
  SELECT m2.rowid FROM election_milestones m2
  WHERE m2.election_id = ep.election_id AND m2.at <= p.created_at
  ORDER BY m2.at DESC, m2.position DESC
  LIMIT 1
)"""),
    ("nm", """LEFT JOIN election_milestones nm ON nm.rowid = (
  SELECT m3.rowid FROM election_milestones m3
  WHERE m3.election_id = ep.election_id AND m3.at > p.created_at
  ORDER BY m3.at, m3.position
  LIMIT 1
)"""),
)

# "2.1 days after polls closed; after the first preliminary results, before
# the official result": the distance to polls closing (hours under two days),
# then the milestones around the post other than polls closing.
TIMING = """nullif(
    CASE
      WHEN pc.at IS NULL THEN ''
      WHEN abs(julianday(p.created_at) - julianday(pc.at)) < 2
        THEN printf('%.1f hours', abs(julianday(p.created_at) - julianday(pc.at)) * 24)
      ELSE printf('%.1f days', abs(julianday(p.created_at) - julianday(pc.at)))
    END
    || CASE WHEN pc.at IS NULL THEN '' WHEN p.created_at >= pc.at THEN ' after polls closed' ELSE ' before polls closed' END
    || CASE WHEN pc.at IS NOT NULL AND coalesce(m.kind, 'polls_closed') || coalesce(nm.kind, 'polls_closed')
                                       != 'polls_closedpolls_closed' THEN '; ' ELSE '' END
    || coalesce(CASE WHEN m.kind != 'polls_closed' THEN 'after the ' || m.name END, '')
    || CASE WHEN m.kind != 'polls_closed' AND nm.kind != 'polls_closed' THEN ', ' ELSE '' END
    || coalesce(CASE WHEN nm.kind != 'polls_closed' THEN 'before the ' || nm.name END, ''),
    ''
  )"""

# (column, declared type, SQL over SOURCES and JOINS), in the table's column
# order: the columns people read first come first (Datasette shows them in
# order). The declared types are those the former view reported, so exports
# keep theirs; hours have none, as in the view: -0.0 (a minute before) stays -0.0.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("created_at", "TEXT", "p.created_at"),
    ("author", "TEXT", "p.author_name"),
    ("country", "TEXT", "c.name"),
    ("role", "TEXT", "r.title"),
    ("platform", "TEXT", "p.platform"),
    ("handle", "TEXT", "p.handle"),
    ("text", "TEXT", "p.text"),
    ("reaction_type", "TEXT", "coalesce(lb.reaction_type, rc.reaction_type)"),
    ("timing", "TEXT", TIMING),
    ("milestone", "TEXT", "m.kind"),
    ("hours_after_polls_closed", "", "round((julianday(p.created_at) - julianday(pc.at)) * 24, 1)"),
    ("hours_after_milestone", "", "round((julianday(p.created_at) - julianday(m.at)) * 24, 1)"),
    ("next_milestone", "TEXT", "nm.kind"),
    ("hours_after_result", "", "round((julianday(p.created_at) - julianday(e.result_announced_at)) * 24, 1)"),
    ("language", "TEXT", "p.language"),
    ("url", "TEXT", "p.url"),
    ("election", "TEXT", "ep.election_id"),
    ("role_kind", "TEXT", "r.kind"),
    ("country_code", "TEXT", "l.country"),
    ("leader_id", "TEXT", "l.id"),
    ("type_source", "TEXT",
     "CASE WHEN lb.reaction_type IS NOT NULL THEN 'label' WHEN rc.reaction_type IS NOT NULL THEN 'classifier' END"),
    ("classified_type", "TEXT", "rc.reaction_type"),
    ("type_confidence", "REAL", "rc.confidence"),
    ("type_evidence", "TEXT", "rc.evidence"),
    ("addressed_candidates", "TEXT", "rc.addressed_candidates"),
    ("display_name", "TEXT", "p.display_name"),
    ("matched_terms", "TEXT", "ep.matched_terms"),
    ("score", "REAL", "ep.score"),
    ("hashtags", "TEXT", "p.hashtags"),
    ("mentions", "TEXT", "p.mentions"),
    ("links", "TEXT", "p.links"),
    ("reply_count", "INTEGER", "p.reply_count"),
    ("repost_count", "INTEGER", "p.repost_count"),
    ("like_count", "INTEGER", "p.like_count"),
    ("is_edited", "INTEGER", "p.is_edited"),
    ("deleted_at", "TEXT", "p.deleted_at"),
    ("created_at_precision", "TEXT", "p.created_at_precision"),
    ("first_captured_at", "TEXT", "p.first_captured_at"),
    ("latitude", "REAL", "c.latitude"),
    ("longitude", "REAL", "c.longitude"),
    ("post_id", "TEXT", "p.id"),
    ("post_rowid", "INTEGER", "p.rowid"),
)
KEY = ("election", "post_id")

# The default facets (metadata.yml): their counts are kept in
# COUNTS_TABLE by triggers, per election, so that the unfiltered page (or one
# election's) reads a few rows instead of grouping every reaction.
FACETS = ("reaction_type", "milestone", "country", "role_kind", "platform", "language", "election")
COUNTS_TABLE = "reactions_facet_counts"

# The table as each migration built it (a later migration must not change
# what an earlier one built: its refresh could not read the later sources).
M008_COLUMNS = (
    "created_at", "author", "country", "role", "platform", "handle", "text", "hours_after_result", "language",
    "url", "election", "role_kind", "country_code", "leader_id", "display_name", "matched_terms", "score",
    "hashtags", "mentions", "links", "reply_count", "repost_count", "like_count", "is_edited", "deleted_at",
    "created_at_precision", "first_captured_at", "latitude", "longitude", "post_id", "post_rowid",
)
M008_FACETS = ("country", "role_kind", "platform", "language", "election")
M009_COLUMNS = (
    "created_at", "author", "country", "role", "platform", "handle", "text", "reaction_type", "timing",
    "milestone", "hours_after_polls_closed", "hours_after_milestone", "next_milestone", "hours_after_result",
    "language", "url", "election", "role_kind", "country_code", "leader_id", "type_source", "classified_type",
    "type_confidence", "type_evidence", "addressed_candidates", "display_name", "matched_terms", "score",
    "hashtags", "mentions", "links", "reply_count", "repost_count", "like_count", "is_edited", "deleted_at",
    "created_at_precision", "first_captured_at", "latitude", "longitude", "post_id", "post_rowid",
)
M009_FACETS = FACETS


def _facet_index(column: str, facets: tuple[str, ...] = FACETS) -> str:
    """A facet column, then the posting time (a page filtered on it is
    already in order), then the other facet columns and the post's rowid:
    counting the other facets of a filtered page, or of a broad search,
    reads this index alone."""
    others = [c for c in facets if c != column]
    middle = ["created_at", "post_id"] if column == "election" else ["created_at"]  # and the export order
    return f"({', '.join([column, *middle, *others, 'post_rowid'])})"


def indexes(facets: tuple[str, ...] = FACETS) -> dict[str, str]:
    """Indexes: the default order (newest first), each facet (above),
    full-text search (posts_fts rowids are post rowids; with the facet
    columns, so that a search page's facets are counted from the matches
    through this index alone, see scraper/web/plugin.py), each post's rows (a
    batch's refresh, the post page), each leader's posts (first reactions),
    the hours after the result (charts) and the newest captured (the Atom
    feed)."""
    return {
        "idx_reactions_created_at": "(created_at, post_rowid)",
        **{f"idx_reactions_{column}_facet": _facet_index(column, facets) for column in facets},
        "idx_reactions_post_rowid": f"({', '.join(['post_rowid', *facets])})",
        "idx_reactions_post_id": "(post_id)",
        "idx_reactions_leader_election_created_at": "(leader_id, election, created_at)",
        "idx_reactions_election_hours": "(election, hours_after_result)",
        "idx_reactions_first_captured_at": "(first_captured_at)",
    }


INDEXES = indexes()


def create_table(db, columns: tuple[str, ...] = M009_COLUMNS, facets: tuple[str, ...] = M009_FACETS) -> None:
    """The table with these columns (in COLUMNS' order) and facets, its
    indexes, its fingerprints and its facet counts kept by triggers."""
    declared = {name: kind for name, kind, _ in COLUMNS}
    listed = ",\n  ".join(f"[{name}] {declared[name]}".rstrip() for name in columns)
    db.execute(
        f"CREATE TABLE [{TABLE}] (\n  {listed},\n  PRIMARY KEY (election, post_id),\n"
        "  FOREIGN KEY (election, post_id) REFERENCES election_posts (election_id, post_id)\n"
        "    ON DELETE CASCADE ON UPDATE CASCADE\n)"
    )
    for name, indexed in indexes(facets).items():
        db.execute(f"CREATE INDEX [{name}] ON [{TABLE}] {indexed}")
    db.execute(f"CREATE TABLE [{STATE_TABLE}] (name TEXT PRIMARY KEY, fingerprint TEXT, refreshed_at TEXT)")
    db.execute(f"CREATE TABLE [{COUNTS_TABLE}] (election TEXT, facet TEXT, value, n INTEGER, "
               "PRIMARY KEY (election, facet, value))")
    for statement in _count_triggers(facets):
        db.execute(statement)


def rebuild_table(db, columns: tuple[str, ...], facets: tuple[str, ...]) -> None:
    """A migration's new shape of the table: dropped (its indexes and
    triggers with it) and built again with these columns and facets, then
    filled. The rows are derived: nothing is lost."""
    for name in (TABLE, COUNTS_TABLE, STATE_TABLE):
        db.execute(f"DROP TABLE IF EXISTS [{name}]")
    create_table(db, columns, facets)
    refresh_reaction_rows(db)


def _count_triggers(facets: tuple[str, ...] = FACETS) -> list[str]:
    """Triggers that keep COUNTS_TABLE exact whoever writes the reactions
    (a refresh, a cascade from election_posts, a hand-written statement)."""
    def add(row: str, step: str) -> str:
        values = " UNION ALL ".join(f"SELECT {row}.election AS election, '{c}' AS facet, {row}.[{c}] AS value"
                                    for c in facets)
        return (f"INSERT INTO [{COUNTS_TABLE}] (election, facet, value, n) SELECT election, facet, value, {step} "
                f"FROM ({values}) WHERE value IS NOT NULL AND election IS NOT NULL "
                f"ON CONFLICT (election, facet, value) DO UPDATE SET n = n + ({step});")

    watched = ", ".join(facets)
    return [
        f"CREATE TRIGGER [{TABLE}_counts_insert] AFTER INSERT ON [{TABLE}] BEGIN {add('new', '1')} END",
        f"CREATE TRIGGER [{TABLE}_counts_delete] AFTER DELETE ON [{TABLE}] BEGIN {add('old', '-1')} END",
        f"CREATE TRIGGER [{TABLE}_counts_update] AFTER UPDATE OF {watched} ON [{TABLE}] "
        f"BEGIN {add('old', '-1')} {add('new', '1')} END",
    ]


def refresh_reaction_rows(db, post_ids: Iterable[str] | None = None, election_ids: Iterable[str] | None = None) -> int:
    """Recompute the rows of these posts, or of these elections; every row
    when neither is given. Return how many rows were written (changed or new).

    Only rows whose values differ are written, and rows whose post is no
    longer relevant to the election are removed. An archive not yet migrated
    (``reactions`` still a view) is left alone: its migration fills the table."""
    if not _is_table(db):
        return 0
    if post_ids is None and election_ids is None:
        written = _refresh(db, "true", [])
        db.execute(
            f"DELETE FROM [{TABLE}] WHERE NOT EXISTS (SELECT 1 FROM election_posts ep "
            f"WHERE ep.election_id = [{TABLE}].election AND ep.post_id = [{TABLE}].post_id)"
        )
        _save_fingerprints(db, _fingerprints(db))
        return written
    written = 0
    for column, values in (("post_id", post_ids), ("election_id", election_ids)):
        if values is None:
            continue
        chosen = json.dumps(sorted(set(values)))
        if chosen == "[]":
            continue
        written += _refresh(db, f"ep.{column} IN (SELECT value FROM json_each(?))", [chosen])
        mine = "post_id" if column == "post_id" else "election"
        db.execute(
            f"DELETE FROM [{TABLE}] WHERE {mine} IN (SELECT value FROM json_each(?)) AND NOT EXISTS ("
            f"SELECT 1 FROM election_posts ep WHERE ep.election_id = [{TABLE}].election "
            f"AND ep.post_id = [{TABLE}].post_id)",
            [chosen],
        )
    return written


def refresh_if_config_changed(db) -> int:
    """After a config is loaded: every row when the roster (leaders, roles,
    accounts' leaders, countries) changed, the rows of each election whose
    result time or milestones changed, nothing when neither did."""
    if not _is_table(db):
        return 0
    now = _fingerprints(db)
    before = dict(db.execute(f"SELECT name, fingerprint FROM [{STATE_TABLE}]").fetchall())
    if now["roster"] != before.get("roster"):
        return refresh_reaction_rows(db)
    changed = [name.split(":", 1)[1] for name, value in now.items()
               if name.startswith("election:") and before.get(name) != value]
    written = refresh_reaction_rows(db, election_ids=changed) if changed else 0
    _save_fingerprints(db, now)
    return written


def _is_table(db) -> bool:
    return db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [TABLE]
    ).fetchone() is not None


def _existing_columns(db) -> list[tuple[str, str]]:
    """(column, SQL) of COLUMNS that the table has (an older archive's
    migration may run before a later one adds a column)."""
    present = {row[1] for row in db.execute(f"PRAGMA table_info([{TABLE}])")}
    return [(name, sql) for name, _, sql in COLUMNS if name in present]


def _sources(columns: list[tuple[str, str]]) -> str:
    """SOURCES and the JOINS that these columns read."""
    read = " ".join(sql for _, sql in columns)
    joined = [join for alias, join in JOINS if re.search(rf"\b{alias}\.", read)]
    return SOURCES + "".join(f"{join}\n" for join in joined)


def _refresh(db, where: str, params: list) -> int:
    columns = _existing_columns(db)
    names = ", ".join(f"[{name}]" for name, _ in columns)
    values = [name for name, _ in columns if name not in KEY]
    cursor = db.execute(
        f"INSERT INTO [{TABLE}] ({names}) SELECT {', '.join(sql for _, sql in columns)} {_sources(columns)} "
        f"WHERE {where} ON CONFLICT (election, post_id) DO UPDATE SET "
        + ", ".join(f"[{name}] = excluded.[{name}]" for name in values)
        + f" WHERE ({', '.join(f'[{TABLE}].[{n}]' for n in values)}) IS NOT "
        f"({', '.join(f'excluded.[{n}]' for n in values)})",
        params,
    )
    return cursor.rowcount


# What each part of the rows depends on besides the post: the roster for
# every row, the election's result time and milestones for its own rows.
_ROSTER_QUERIES = (
    "SELECT id, name, country FROM leaders ORDER BY id",
    "SELECT leader_id, title, kind, start_date, end_date, precedence FROM roles "
    "ORDER BY leader_id, start_date, precedence, id",
    "SELECT id, leader_id FROM accounts WHERE leader_id IS NOT NULL ORDER BY id",
    "SELECT code, name, latitude, longitude FROM countries ORDER BY code",
)


def _fingerprints(db) -> dict[str, str]:
    roster = hashlib.sha256()
    for query in _ROSTER_QUERIES:
        roster.update(json.dumps(db.execute(query).fetchall(), ensure_ascii=False).encode("utf-8"))
    found = {"roster": roster.hexdigest()}
    milestones: dict[str, list] = {}
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'election_milestones'").fetchone():
        for election_id, *values in db.execute(
            "SELECT election_id, kind, position, at, name FROM election_milestones ORDER BY election_id, kind"
        ):
            milestones.setdefault(election_id, []).append(values)
    for election_id, result_at in db.execute("SELECT id, result_announced_at FROM elections"):
        basis = [result_at, *milestones.get(election_id, [])] if election_id in milestones else [result_at]
        found[f"election:{election_id}"] = hashlib.sha256(
            json.dumps(basis, ensure_ascii=False).encode("utf-8")).hexdigest()
    return found


def _save_fingerprints(db, fingerprints: dict[str, str]) -> None:
    db.execute(f"DELETE FROM [{STATE_TABLE}]")
    getattr(db, "conn", db).executemany(
        f"INSERT INTO [{STATE_TABLE}] (name, fingerprint, refreshed_at) "
        "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
        list(fingerprints.items()),
    )
