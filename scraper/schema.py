"""The one place that owns the archive's schema: tables, indexes, full-text
search, the ``reactions`` view, and the migrations that got them there.

Migrations are sqlite-utils ``Migrations`` recorded in ``_sqlite_migrations``;
a new schema change is a new function at the bottom, never an edit of an old
one. docs/schema.md and metadata.yml describe the same tables (a test keeps
them in step).
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("reaction-archive")

# Which role counts when a leader held several on the same day.
ROLE_PRECEDENCE = {
    "head_of_state": 1,
    "head_of_government": 2,
    "head_of_state_elect": 3,
    "vice_head_of_state": 4,
    "foreign_minister": 5,
    "minister": 6,
    "international_official": 7,
    "candidate": 8,
    "party_leader": 9,
    "legislator": 10,
    "former_head_of_state": 11,
    "former_head_of_government": 12,
    "former_legislator": 13,
    "other": 20,
}

POST_COUNT_COLUMNS = ("reply_count", "repost_count", "like_count", "quote_count", "view_count")

# The columns people read first come first (Datasette shows them in order).
REACTIONS_VIEW = """
CREATE VIEW reactions AS
SELECT
  p.created_at,
  p.author_name AS author,
  c.name AS country,
  r.title AS role,
  p.platform,
  p.handle,
  p.text,
  round((julianday(p.created_at) - julianday(e.result_announced_at)) * 24, 1) AS hours_after_result,
  p.language,
  p.url,
  ep.election_id AS election,
  r.kind AS role_kind,
  l.country AS country_code,
  l.id AS leader_id,
  p.display_name,
  ep.matched_terms,
  ep.score,
  p.hashtags,
  p.mentions,
  p.links,
  p.reply_count,
  p.repost_count,
  p.like_count,
  p.is_edited,
  p.deleted_at,
  p.created_at_precision,
  p.first_captured_at,
  c.latitude,
  c.longitude,
  p.id AS post_id,
  p.rowid AS post_rowid
FROM election_posts ep
JOIN elections e ON e.id = ep.election_id
JOIN posts p ON p.id = ep.post_id
LEFT JOIN accounts a ON a.id = p.account_id
LEFT JOIN leaders l ON l.id = a.leader_id
LEFT JOIN countries c ON c.code = l.country
LEFT JOIN roles r ON r.id = (
  SELECT r2.id FROM roles r2
  WHERE r2.leader_id = l.id
    AND r2.start_date <= substr(p.created_at, 1, 10)
    AND (r2.end_date IS NULL OR r2.end_date >= substr(p.created_at, 1, 10))
  ORDER BY r2.precedence, r2.start_date DESC
  LIMIT 1
)
"""


def ensure_schema(db: Database) -> list[str]:
    """Create or migrate the archive; return the names of migrations applied."""
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending


def schema_is_current(db: Database) -> bool:
    return not migrations.pending(db)


@migrations()
def m001_initial(db: Database) -> None:
    db["countries"].create(
        {"code": str, "alpha_3": str, "name": str, "official_name": str, "latitude": float, "longitude": float},
        pk="code",
    )
    db["elections"].create(
        {
            "id": str,
            "name": str,
            "country": str,
            "timezone": str,
            "polling_dates": str,
            "result_announced_at": str,
            "result_label": str,
            "window_start": str,
            "window_end": str,
            "candidates": str,
            "terms": str,
            "config_path": str,
            "loaded_at": str,
        },
        pk="id",
        foreign_keys=[("country", "countries", "code")],
    )
    db["leaders"].create(
        {"id": str, "name": str, "aliases": str, "country": str, "notes": str},
        pk="id",
        foreign_keys=[("country", "countries", "code")],
    )
    db["roles"].create(
        {
            "id": int,
            "leader_id": str,
            "title": str,
            "kind": str,
            "country": str,
            "organisation": str,
            "start_date": str,
            "end_date": str,
            "precedence": int,
        },
        pk="id",
        foreign_keys=[("leader_id", "leaders", "id"), ("country", "countries", "code")],
    )
    db["roles"].create_index(["leader_id", "start_date"])
    db["accounts"].create(
        {
            "id": int,
            "platform": str,
            "handle": str,
            "platform_user_id": str,
            "url": str,
            "display_name": str,
            "leader_id": str,
            "in_roster": int,
            "first_seen_at": str,
            "last_seen_at": str,
        },
        pk="id",
        foreign_keys=[("leader_id", "leaders", "id")],
    )
    db.execute("CREATE UNIQUE INDEX idx_accounts_platform_user ON accounts(platform, platform_user_id)")
    db.execute("CREATE INDEX idx_accounts_platform_handle ON accounts(platform, handle COLLATE NOCASE)")
    db["sources"].create(
        {
            "id": str,
            "kind": str,
            "location": str,
            "title": str,
            "outlet": str,
            "published_at": str,
            "first_seen_at": str,
        },
        pk="id",
    )
    db["scrape_runs"].create(
        {
            "id": int,
            "command": str,
            "config_path": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "tool_version": str,
            "summary": str,
        },
        pk="id",
    )
    db["run_sources"].create(
        {
            "id": int,
            "run_id": int,
            "source_id": str,
            "kind": str,
            "status": str,
            "started_at": str,
            "finished_at": str,
            "items": int,
            "new_posts": int,
            "new_versions": int,
            "unchanged": int,
            "parse_errors": int,
            "relevant": int,
            "requests": int,
            "error": str,
        },
        pk="id",
        foreign_keys=[("run_id", "scrape_runs", "id"), ("source_id", "sources", "id")],
    )
    db["raw_payloads"].create(
        {"sha256": str, "format": str, "size": int, "compression": str, "content": bytes, "stored_at": str},
        pk="sha256",
    )
    db["posts"].create(
        {
            "id": str,
            "platform": str,
            "native_id": str,
            "id_is_derived": int,
            "match_hash": str,
            "url": str,
            "account_id": int,
            "handle": str,
            "display_name": str,
            "author_name": str,
            "mentioned_names": str,
            "created_at": str,
            "created_at_precision": str,
            "text": str,
            "language": str,
            "language_detected": int,
            "reply_to": str,
            "quote_of": str,
            "repost_of": str,
            "hashtags": str,
            "mentions": str,
            "links": str,
            "media": str,
            **{name: int for name in POST_COUNT_COLUMNS},
            "edited_at": str,
            "is_edited": int,
            "version_count": int,
            "deleted_at": str,
            "unavailable_reason": str,
            "first_captured_at": str,
            "last_captured_at": str,
            "extra": str,
        },
        pk="id",
        foreign_keys=[("account_id", "accounts", "id")],
    )
    db["posts"].create_index(["match_hash"])
    db["posts"].create_index(["account_id", "created_at"])
    db["posts"].create_index(["created_at"])
    db["post_versions"].create(
        {
            "id": int,
            "post_id": str,
            "version": int,
            "text": str,
            **{name: int for name in POST_COUNT_COLUMNS},
            "edited_at": str,
            "content_hash": str,
            "first_seen_at": str,
            "last_seen_at": str,
        },
        pk="id",
        foreign_keys=[("post_id", "posts", "id")],
    )
    db["post_versions"].create_index(["post_id", "version"], unique=True)
    db["captures"].create(
        {
            "id": int,
            "run_id": int,
            "post_id": str,
            "source_id": str,
            "format": str,
            "location": str,
            "fetched_url": str,
            "retrieved_at": str,
            "tool_version": str,
            "raw_sha256": str,
            "response_sha256": str,
        },
        pk="id",
        foreign_keys=[
            ("run_id", "scrape_runs", "id"),
            ("post_id", "posts", "id"),
            ("source_id", "sources", "id"),
            ("raw_sha256", "raw_payloads", "sha256"),
            ("response_sha256", "raw_payloads", "sha256"),
        ],
    )
    db["captures"].create_index(["post_id"])
    db["captures"].create_index(["run_id"])
    db["election_posts"].create(
        {"election_id": str, "post_id": str, "matched_terms": str, "score": float},
        pk=("election_id", "post_id"),
        foreign_keys=[("election_id", "elections", "id"), ("post_id", "posts", "id")],
    )
    db["election_posts"].create_index(["post_id"])
    db["parse_errors"].create(
        {
            "id": int,
            "run_id": int,
            "source_id": str,
            "format": str,
            "location": str,
            "fetched_url": str,
            "reason": str,
            "raw_sha256": str,
            "recorded_at": str,
        },
        pk="id",
        foreign_keys=[
            ("run_id", "scrape_runs", "id"),
            ("source_id", "sources", "id"),
            ("raw_sha256", "raw_payloads", "sha256"),
        ],
    )
    db["reported_reactions"].create(
        {
            "id": int,
            "election_id": str,
            "leader_id": str,
            "source_id": str,
            "evidence": str,
            "reported_on": str,
            "run_id": int,
            "recorded_at": str,
        },
        pk="id",
        foreign_keys=[
            ("election_id", "elections", "id"),
            ("leader_id", "leaders", "id"),
            ("source_id", "sources", "id"),
            ("run_id", "scrape_runs", "id"),
        ],
    )
    db["reported_reactions"].create_index(["election_id", "leader_id", "source_id", "evidence"], unique=True)
    db["posts"].enable_fts(
        ["text", "author_name", "display_name", "handle", "mentioned_names"],
        create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )
    db.execute(REACTIONS_VIEW)


@migrations()
def m002_nightly_runs(db: Database) -> None:
    """Incremental state per source and account; per-account run results with
    deletions and anomalies; how a run ended."""
    db["source_state"].create(
        {
            "source_id": str,
            "account": str,
            "platform": str,
            "last_id": str,
            "last_created_at": str,
            "last_run_id": int,
            "last_success_at": str,
            "last_items": int,
            "updated_at": str,
        },
        pk=("source_id", "account"),
        foreign_keys=[("source_id", "sources", "id"), ("last_run_id", "scrape_runs", "id")],
    )
    db["run_sources"].add_column("account", str)
    db["run_sources"].add_column("deleted", int)
    db["run_sources"].add_column("anomaly", str)
    db["scrape_runs"].add_column("exit_code", int)
    db["scrape_runs"].add_column("options", str)


@migrations()
def m003_parse_error_resolution(db: Database) -> None:
    """A parse error that a later parser reads (reactions reprocess) is marked
    resolved and points to the post it became; the error row stays."""
    db["parse_errors"].add_column("resolved_at", str)
    db["parse_errors"].add_column("resolved_post_id", str)


@migrations()
def m004_reactions_columns_in_reading_order(db: Database) -> None:
    """The reactions view with the columns people read first (when, who,
    where, in which role, what) at the front. (Migration 001 creates the
    current view on a new archive; this brings older archives in line.)"""
    db.execute("DROP VIEW IF EXISTS reactions")
    db.execute(REACTIONS_VIEW)


# Full-text columns of posts (posts_fts is an external-content FTS5 index),
# and the trigger that indexes a post when it is inserted (sqlite-utils' name).
FTS_COLUMNS = ("text", "author_name", "display_name", "handle", "mentioned_names")
FTS_INSERT_TRIGGER = "posts_ai"


def index_new_posts_sql() -> str:
    """SQL that adds posts with a rowid above ``?`` to the full-text index.

    The archive indexes the posts it inserts in one statement per batch, not
    through the per-row insert trigger: FTS5 flushes its pending terms at
    every statement, so the trigger wrote one tiny index segment per post
    (and merged them), about six times the cost of indexing the batch at
    once; even a trigger that does nothing costs 40% more to insert through.
    So the archive takes the trigger out for the length of its own insert,
    inside its write transaction, and puts it back before it commits: every
    other writer (an older version of this tool, sqlite-utils, a hand-written
    INSERT) always finds it, and no post is left out of search. Updates and
    deletes stay with their triggers."""
    columns = ", ".join(FTS_COLUMNS)
    return f"INSERT INTO posts_fts (rowid, {columns}) SELECT rowid, {columns} FROM posts WHERE rowid > ? ORDER BY rowid"


@migrations()
def m005_bulk_text_index_and_raw_pointers(db: Database) -> None:
    """Changes for fast imports.

    - The archive adds the posts it inserts to posts_fts a batch at a time
      (see :func:`index_new_posts_sql`); the insert trigger stays for any
      other writer.
    - A capture may point into a stored page rather than at a payload of its
      own: ``raw_pointer`` is a JSON Pointer (RFC 6901, e.g. ``/data/3``)
      into the raw payload ``raw_sha256`` names, when that payload is a whole
      response page or file line holding many posts (a twarc2 line holds
      100). The page is stored once instead of once per post.
    - Posts without a platform id (quotes read from articles) get a partial
      index: every batch asks whether any exist, and which match a hash,
      and without it each question scanned the whole table."""
    db["captures"].add_column("raw_pointer", str)
    db.execute("CREATE INDEX idx_posts_derived_match_hash ON posts (match_hash) WHERE id_is_derived = 1")


CAPTURE_DETAILS_VIEW = """
CREATE VIEW capture_details AS
SELECT
  c.id,
  f.run_id,
  c.post_id,
  f.source_id,
  c.format,
  c.location,
  f.fetched_url,
  f.retrieved_at,
  f.tool_version,
  coalesce(c.raw_sha256, f.page_sha256) AS raw_sha256,
  f.response_sha256,
  c.raw_pointer,
  c.fetch_id
FROM captures c
JOIN fetches f ON f.id = c.fetch_id
"""


POST_STATES_VIEW = """
CREATE VIEW post_states AS
SELECT post_id, version, text, reply_count, repost_count, like_count, quote_count, view_count, edited_at,
  first_seen_at, last_seen_at
FROM post_versions
UNION ALL
SELECT id, 1, text, reply_count, repost_count, like_count, quote_count, view_count, edited_at,
  first_captured_at, last_captured_at
FROM posts
WHERE version_count = 1
"""


@migrations()
def m006_fetches_and_single_state_posts(db: Database) -> None:
    """A smaller archive, with the same content.

    - A capture's provenance shared by every post of one answer, file line
      or page (run, source, URL, time, tool version, the HTTP answer, the
      stored page) moves to ``fetches``, one row per fetch; a capture keeps
      the post, its fetch, its format, where in the fetch it was found, and
      its own raw payload when it has one. ``capture_details`` shows
      captures as they were, one row with everything.
    - A post seen in one state keeps it in ``posts`` only: ``post_versions``
      holds the states of posts that showed more than one, the first
      included. ``post_states`` shows every state of every post.
    - Only quotes without an id keep a match hash (they are looked up by
      it; their partial index stays): a quote finds the post with its id
      among the same account's posts of the days around it.
    - Parse errors are looked up by payload: an item that fails again
      (the same file imported twice) is not recorded twice."""
    db["fetches"].create(
        {
            "id": int,
            "run_id": int,
            "source_id": str,
            "fetched_url": str,
            "retrieved_at": str,
            "tool_version": str,
            "response_sha256": str,
            "page_sha256": str,
        },
        pk="id",
        foreign_keys=[
            ("run_id", "scrape_runs", "id"),
            ("source_id", "sources", "id"),
            ("response_sha256", "raw_payloads", "sha256"),
            ("page_sha256", "raw_payloads", "sha256"),
        ],
    )
    db.execute(
        "INSERT INTO fetches (run_id, source_id, fetched_url, retrieved_at, tool_version, response_sha256, page_sha256) "
        "SELECT run_id, source_id, fetched_url, retrieved_at, tool_version, response_sha256, "
        "CASE WHEN raw_pointer IS NOT NULL THEN raw_sha256 END FROM captures "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY min(id)"
    )
    db["captures_compact"].create(
        {"id": int, "post_id": str, "fetch_id": int, "format": str, "location": str, "raw_sha256": str,
         "raw_pointer": str},
        pk="id",
        foreign_keys=[
            ("post_id", "posts", "id"),
            ("fetch_id", "fetches", "id"),
            ("raw_sha256", "raw_payloads", "sha256"),
        ],
    )
    db.execute(
        "CREATE TEMP TABLE fetch_keys AS SELECT id, run_id, source_id, fetched_url, retrieved_at, tool_version, "
        "response_sha256, page_sha256 FROM fetches"
    )
    db.execute("CREATE INDEX temp.fetch_keys_all ON fetch_keys (source_id, retrieved_at, run_id)")
    db.execute(
        "INSERT INTO captures_compact (id, post_id, fetch_id, format, location, raw_sha256, raw_pointer) "
        "SELECT c.id, c.post_id, f.id, c.format, c.location, CASE WHEN c.raw_pointer IS NULL THEN c.raw_sha256 END, "
        "c.raw_pointer FROM captures c JOIN fetch_keys f ON f.source_id IS c.source_id "
        "AND f.retrieved_at IS c.retrieved_at AND f.run_id IS c.run_id AND f.fetched_url IS c.fetched_url "
        "AND f.tool_version IS c.tool_version AND f.response_sha256 IS c.response_sha256 "
        "AND f.page_sha256 IS (CASE WHEN c.raw_pointer IS NOT NULL THEN c.raw_sha256 END) ORDER BY c.id"
    )
    db.execute("DROP TABLE temp.fetch_keys")
    db.execute("DROP TABLE captures")
    db.execute("ALTER TABLE captures_compact RENAME TO captures")
    db["captures"].create_index(["post_id"])
    db.execute("CREATE INDEX idx_fetches_run_id ON fetches (run_id)")
    db.execute(CAPTURE_DETAILS_VIEW)
    db.execute(POST_STATES_VIEW)
    db.execute("DELETE FROM post_versions WHERE post_id IN (SELECT id FROM posts WHERE version_count = 1)")
    db.execute("DROP INDEX IF EXISTS idx_posts_match_hash")
    db.execute("UPDATE posts SET match_hash = NULL WHERE id_is_derived = 0")
    # A parse error is recorded once per payload while unresolved (a file imported twice).
    db["parse_errors"].create_index(["raw_sha256"])


@migrations()
def m007_leaders_wikidata(db: Database) -> None:
    """A leader's Wikidata item (QID), from the roster: the stable id that
    ``reactions roster wikidata`` matches on, and a key to join the archive
    with other data."""
    db["leaders"].add_column("wikidata", str)


@migrations()
def m008_reactions_table(db: Database) -> None:
    """``reactions`` becomes a table kept current at write time (see
    scraper/reaction_rows.py), with the view's columns in the view's order:
    its pages, facets and searches read indexes instead of computing every
    row, which at a million posts ran past the SQL time limit."""
    from .reaction_rows import M008_COLUMNS, M008_FACETS, create_table, refresh_reaction_rows

    db.execute("DROP VIEW IF EXISTS reactions")
    create_table(db, M008_COLUMNS, M008_FACETS)
    refresh_reaction_rows(db)


# Roster leaders in a government role on an election's last polling day
# (heads of state and of government, foreign ministers), other than the
# election's candidates, with no post relevant to the election and no
# reported reaction yet (migration 009). A view: it reads the roster (a few
# thousand leaders at most) and, per leader, one entry of an index of the
# reactions table (leader, election) and one of reported_reactions; it never
# reads the posts.
NOT_REACTED_SELECT = """
SELECT
  e.id AS election,
  c.name AS country,
  l.name AS leader,
  r.title AS role,
  r.kind AS role_kind,
  coalesce(r.country, l.country) AS country_code,
  l.id AS leader_id,
  {day} AS on_day,
  r.start_date AS role_start,
  r.end_date AS role_end
FROM elections e
JOIN leaders l
JOIN roles r ON r.id = (
  SELECT r2.id FROM roles r2
  WHERE r2.leader_id = l.id
    AND r2.kind IN ('head_of_state', 'head_of_government', 'foreign_minister')
    AND r2.start_date <= {day}
    AND (r2.end_date IS NULL OR r2.end_date >= {day})
  ORDER BY r2.precedence, r2.start_date DESC
  LIMIT 1
)
LEFT JOIN countries c ON c.code = coalesce(r.country, l.country)
WHERE l.id NOT IN (SELECT value FROM json_each(e.candidates))
  AND NOT EXISTS (SELECT 1 FROM reactions rx WHERE rx.leader_id = l.id AND rx.election = e.id)
  AND NOT EXISTS (SELECT 1 FROM reported_reactions rr WHERE rr.election_id = e.id AND rr.leader_id = l.id)
"""
LAST_POLLING_DAY = "json_extract(e.polling_dates, '$[#-1]')"
NOT_REACTED_VIEW = "CREATE VIEW not_reacted AS" + NOT_REACTED_SELECT.format(day=LAST_POLLING_DAY)


def not_reacted_sql(day: str = ":on") -> str:
    """The not_reacted view's query for one election (``:election``), with
    roles read on ``day`` (an SQL expression: a parameter by default)."""
    return NOT_REACTED_SELECT.format(day=day) + "  AND e.id = :election\nORDER BY country, r.precedence, leader\n"


@migrations()
def m009_reaction_types_and_milestones(db: Database) -> None:
    """What each reaction says and when (issue 13).

    - ``election_milestones``: the dated steps of each election (polls
      closed, first results, final count, official result, inauguration).
    - ``reaction_classes`` and ``reported_reaction_classes``: the reaction
      type the classifier (scraper/reaction_types.py) gives each relevant
      post and each reported reaction, with its evidence and confidence;
      ``reaction_labels``: types set by a person, which always win and are
      never touched by a reprocess.
    - ``reported_reaction_sightings``: a reported reaction seen through
      several sources (the same report as text and as HTML) is one row of
      ``reported_reactions`` with a sighting per source.
    - The ``reactions`` table gains the type and the timing (rebuilt with
      them in reading order, their facets counted; see
      scraper/reaction_rows.py); ``not_reacted`` lists the leaders in
      government who have not reacted.

    The posts already archived get their types at the next config load
    (scraper/classify_store.py: after_load_config).
    """
    db["election_milestones"].create(
        {"election_id": str, "kind": str, "position": int, "at": str, "precision": str, "name": str,
         "label": str, "source": str},
        pk=("election_id", "kind"),
        foreign_keys=[("election_id", "elections", "id")],
    )
    db["election_milestones"].create_index(["election_id", "at", "position"])
    # Classes follow their post when its key changes (a quote without an id
    # merged into the post with its id) and go with it when it is removed.
    db.execute(
        """CREATE TABLE reaction_classes (
          election_id TEXT NOT NULL REFERENCES elections(id),
          post_id TEXT NOT NULL REFERENCES posts(id) ON UPDATE CASCADE ON DELETE CASCADE,
          reaction_type TEXT,
          confidence FLOAT,
          evidence TEXT,
          addressed_candidates TEXT,
          classifier TEXT,
          post_version INTEGER,
          classified_at TEXT,
          PRIMARY KEY (election_id, post_id)
        )"""
    )
    db.execute("CREATE INDEX idx_reaction_classes_post_id ON reaction_classes (post_id)")
    db.execute(
        """CREATE TABLE reported_reaction_classes (
          reported_reaction_id INTEGER PRIMARY KEY REFERENCES reported_reactions(id) ON DELETE CASCADE,
          election_id TEXT REFERENCES elections(id),
          leader_id TEXT REFERENCES leaders(id),
          reaction_type TEXT,
          confidence FLOAT,
          evidence TEXT,
          addressed_candidates TEXT,
          classifier TEXT,
          classified_at TEXT
        )"""
    )
    # No foreign key to posts: a label must outlive a reprocess, which
    # deletes and rebuilds every post.
    db["reaction_labels"].create(
        {"id": int, "election_id": str, "post_id": str, "reported_reaction_id": int, "reaction_type": str,
         "note": str, "labelled_by": str, "labelled_at": str},
        pk="id",
        foreign_keys=[("election_id", "elections", "id")],
    )
    db.execute("CREATE UNIQUE INDEX idx_reaction_labels_post ON reaction_labels (election_id, post_id) WHERE post_id IS NOT NULL")
    db.execute(
        "CREATE UNIQUE INDEX idx_reaction_labels_reported ON reaction_labels (reported_reaction_id) "
        "WHERE reported_reaction_id IS NOT NULL"
    )
    # A label follows its post when the post's key changes.
    db.execute(
        "CREATE TRIGGER reaction_labels_follow_post AFTER UPDATE OF id ON posts BEGIN "
        "UPDATE reaction_labels SET post_id = new.id WHERE post_id = old.id; END"
    )
    db["classifier_state"].create({"name": str, "value": str}, pk="name")
    _deduplicate_reported_reactions(db)
    from .reaction_rows import M009_COLUMNS, M009_FACETS, rebuild_table

    rebuild_table(db, M009_COLUMNS, M009_FACETS)
    db.execute(NOT_REACTED_VIEW)  # (it reads the reactions table)


def evidence_key(evidence: str) -> str:
    """The evidence sentence reduced for recognising the same report seen
    twice: case, accents, punctuation and spacing folded."""
    import re
    import unicodedata

    text = unicodedata.normalize("NFKD", evidence or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.findall(r"\w+", text))


def _deduplicate_reported_reactions(db: Database) -> None:
    """Reported reactions become one row per report: rows of the same
    election, leader and evidence (or the same source) merge into the first,
    and every row becomes a sighting."""
    db["reported_reaction_sightings"].create(
        {"id": int, "reported_reaction_id": int, "source_id": str, "evidence": str, "reported_on": str,
         "run_id": int, "recorded_at": str},
        pk="id",
        foreign_keys=[
            ("reported_reaction_id", "reported_reactions", "id"),
            ("source_id", "sources", "id"),
            ("run_id", "scrape_runs", "id"),
        ],
    )
    db["reported_reaction_sightings"].create_index(["reported_reaction_id", "source_id", "evidence"], unique=True)
    db["reported_reaction_sightings"].create_index(["source_id"])
    db["reported_reactions"].add_column("evidence_key", str)
    db["reported_reactions"].add_column("sightings", int)
    rows = list(db.query("SELECT * FROM reported_reactions ORDER BY id"))
    kept: dict[tuple, int] = {}  # (election, leader, evidence key or source) -> reaction id
    for row in rows:
        key = evidence_key(row["evidence"])
        target = kept.get((row["election_id"], row["leader_id"], "evidence", key)) or kept.get(
            (row["election_id"], row["leader_id"], "source", row["source_id"])
        )
        if target is None:
            target = row["id"]
            db.execute("UPDATE reported_reactions SET evidence_key = ? WHERE id = ?", [key, target])
        kept[(row["election_id"], row["leader_id"], "evidence", key)] = target
        kept[(row["election_id"], row["leader_id"], "source", row["source_id"])] = target
        db.execute(
            "INSERT OR IGNORE INTO reported_reaction_sightings "
            "(reported_reaction_id, source_id, evidence, reported_on, run_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
            [target, row["source_id"], row["evidence"], row["reported_on"], row["run_id"], row["recorded_at"]],
        )
        if target != row["id"]:
            db.execute("DELETE FROM reported_reactions WHERE id = ?", [row["id"]])
    db.execute(
        "UPDATE reported_reactions SET sightings = "
        "(SELECT count(*) FROM reported_reaction_sightings s WHERE s.reported_reaction_id = reported_reactions.id)"
    )
    db.execute("CREATE INDEX idx_reported_reactions_leader ON reported_reactions (election_id, leader_id)")


@migrations()
def m010_shards_and_merges(db: Database) -> None:
    """Archives written by several machines and merged (issue 16).

    - ``archive_info``: facts about this archive file: its ``archive_id``
      (made once, here: how a merge tells archives apart, whatever their
      file is called) and the ``shard`` it holds (``reactions scrape
      --shard K/N``).
    - ``scrape_runs.origin`` and ``origin_run_id``: a run merged in from
      another archive keeps that archive's id and its own number there
      (a second merge of the same archive finds it, and adds nothing).
    - ``merged_archives``: every archive merged into this one.
    - ``merge_conflicts``: what two merged archives said differently about
      the roster, the elections or the sources; this archive kept its own
      value, the other is recorded here."""
    import uuid

    db["archive_info"].create({"key": str, "value": str}, pk="key")
    db["archive_info"].insert({"key": "archive_id", "value": uuid.uuid4().hex})
    db["scrape_runs"].add_column("origin", str)
    db["scrape_runs"].add_column("origin_run_id", int)
    db.execute("CREATE INDEX idx_scrape_runs_origin ON scrape_runs (origin, origin_run_id) WHERE origin IS NOT NULL")
    db["merged_archives"].create(
        {
            "archive_id": str,
            "path": str,
            "shard": str,
            "first_merged_at": str,
            "last_merged_at": str,
            "runs": int,
            "posts": int,
            "tool_version": str,
        },
        pk="archive_id",
    )
    db.execute(
        "CREATE TABLE merge_conflicts (id INTEGER PRIMARY KEY, origin TEXT, table_name TEXT, row_key TEXT, "
        "column_name TEXT, kept TEXT, other TEXT, recorded_at TEXT, "
        "UNIQUE (origin, table_name, row_key, column_name, kept, other))"
    )


@migrations()
def m011_search_facets_index(db: Database) -> None:
    """The index of the reactions by their post's rowid (how a full-text
    search finds them) holds the facet columns too, so that a search page
    counts its facets from that index alone instead of reading every
    matching row (issue 11: a search page at a million posts)."""
    from .reaction_rows import INDEXES, TABLE

    wanted = INDEXES["idx_reactions_post_rowid"]
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'idx_reactions_post_rowid'").fetchone()
    if row is not None and row[0].endswith(wanted):
        return
    db.execute("DROP INDEX IF EXISTS idx_reactions_post_rowid")
    db.execute(f"CREATE INDEX [idx_reactions_post_rowid] ON [{TABLE}] {wanted}")


# Reported reactions with the type in force (migration 012, issue 13): as the
# reactions table carries it for posts, a person's label (reaction_labels)
# wins over the classifier's type (reported_reaction_classes), type_source
# says which, and classified_type keeps the classifier's beside it. With the
# role the leader held on the report's date and the report's date against the
# election's milestones (the reactions table's timing, read from the report's
# date: the reaction came on that day or before). One row per reported
# reaction that has a type, the classifier's or a person's.
def reported_reaction_types_view() -> str:
    from .reaction_rows import JOINS, ROLE_ON_POST_DAY, TIMING

    def on_report(sql: str) -> str:  # the reactions table's SQL, read from the report instead of the post
        return (sql.replace("p.created_at", "rr.reported_on").replace("ep.election_id", "rr.election_id")
                .replace("l.id", "rr.leader_id"))

    milestones = "\n".join(on_report(join) for alias, join in JOINS if alias in ("pc", "m", "nm"))
    return f"""CREATE VIEW reported_reaction_types AS
SELECT
  rr.id AS reported_reaction_id,
  rr.election_id AS election_id,
  rr.leader_id AS leader_id,
  coalesce(lb.reaction_type, rc.reaction_type) AS reaction_type,
  CASE WHEN lb.reaction_type IS NOT NULL THEN 'label' WHEN rc.reaction_type IS NOT NULL THEN 'classifier' END
    AS type_source,
  rc.reaction_type AS classified_type,
  rc.confidence AS confidence,
  rc.evidence AS evidence,
  rc.addressed_candidates AS addressed_candidates,
  rc.classifier AS classifier,
  rc.classified_at AS classified_at,
  rr.reported_on AS reported_on,
  r.title AS role,
  r.kind AS role_kind,
  {on_report(TIMING)} AS timing,
  m.kind AS milestone
FROM reported_reactions rr
LEFT JOIN reported_reaction_classes rc ON rc.reported_reaction_id = rr.id
LEFT JOIN reaction_labels lb ON lb.reported_reaction_id = rr.id
LEFT JOIN roles r ON r.id = {on_report(ROLE_ON_POST_DAY)}
{milestones}
WHERE rc.reported_reaction_id IS NOT NULL OR lb.id IS NOT NULL
"""


@migrations()
def m012_reported_reaction_types(db: Database) -> None:
    """``reported_reaction_types``: each reported reaction's type in force (a
    person's label over the classifier's), where it came from, the
    classifier's own, and the leader's role and the timing on the report's
    date; what exports (``--include reported_reaction_classes``) and the
    canned queries read (issue 13)."""
    db.execute(reported_reaction_types_view())
