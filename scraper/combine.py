"""Merging archives: ``reactions merge OUT.db IN.db...``.

Shards of one roster, scraped on several machines (``reactions scrape
--shard K/N``, :mod:`scraper.sharding`), each write their own archive; this
module merges them into one, losslessly:

- **checked first, changed never**: every input must be a Reaction Archive
  of exactly this version's schema (a newer or unknown one is refused, an
  older one must be migrated first), pass ``PRAGMA quick_check``, and not be
  the output itself; a refused merge exits with code 5 and changes nothing.
- **one transaction**: the inputs are attached to the output and copied
  with set-based SQL (SQLite streams them: memory stays flat whatever their
  size) inside one write transaction; a merge killed at any moment leaves
  the output as it was, and running it again finishes it.
- **idempotent and order-independent**: every row is matched by its
  natural key (:data:`MERGE_RULES`, the one place that says how each table
  merges); merging an archive twice adds nothing, and merging A then C
  gives the same content as C then A (row ids, which are local to a file,
  aside). Within one call the inputs are taken in the order of their
  archive ids, so one call gives the same file whatever order its
  arguments are in.

Tie rules (docs/scaling.md lists them for users):

- **posts** by key. A post in both with different rows is merged: its
  states (text and counts) are the union of both archives' states by
  content, each seen from the earliest to the latest time either saw it,
  numbered in the order first seen; the current state is the one of the
  row whose state is newest (edit time, then last capture, then content
  hash); the other row fills what that one lacks; capture times are the
  earliest first and latest last (scraper/combine_posts.py). A quote
  without a platform id (read from an article) that is, by the write path's own rule (same account, a day
  either side, same folded text), the rendering of a post held with its id
  is merged into that post as the write path merges it
  (:func:`scraper.archive.merge.merge_into`): its captures and relevance
  move over, its rendering is not a version. Two such quotes of one post on
  neighbouring days become the one with the smaller key.
- **captures and fetches** by their natural keys (a fetch: run, source, URL,
  time, tool version, answer and page; a capture: post, fetch, format,
  place, payload, pointer); **raw payloads** by hash (a parsed format wins
  over 'unparsed'); **relevance** by election and post, the higher score
  and its matched terms; **parse errors** by source, place, payload and
  reason (a resolution wins).
- **reported reactions** one per report, as the write path finds them
  (election, leader, and the same folded evidence or a sighting through the
  same source), with the sightings of both archives; **reaction types**:
  a post's class is copied when the output's classifier for the election
  made it, else the post is classified again after the merge; a person's
  **labels** are never lost (two labels of one reaction: the later
  labelled stays, the other is recorded as a conflict); **milestones** are
  configuration, merged as the roster is. (scraper/combine_types.py.)
- **runs** by their origin archive and their number there
  (``scrape_runs.origin``); their per-source rows follow them.
- **source state** by source and account: the later complete run wins.
- **roster, elections, milestones and sources**: missing rows are added; a value both
  archives hold differently is kept as this archive has it and recorded in
  ``merge_conflicts`` (never silently overwritten): reload the config with
  ``reactions init`` to settle them.
- **accounts** by platform id, else handle (as the write path finds them);
  gaps filled, first and last seen widened; a different leader is a conflict.
- the **reactions** table, the classes of reported reactions and the
  roster names on posts are derived: they are refreshed for what changed.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, combine_posts, combine_types
from .errors import MergeRefused
from .http import utc_now
from .combine_posts import columns_of
from .schema import migrations

# Up to this many new posts, the reactions rows are refreshed by post id;
# beyond it, the whole table at once (faster than a list that long).
REFRESH_BY_ID_LIMIT = 50_000
# sqlite3's limit on attached databases (SQLITE_MAX_ATTACHED, 10 in the builds we use).
MAX_INPUTS = 10


# How each table merges: its natural key, and the rule (see the module's
# docstring). Every table of the schema must be listed here (a test checks):
# a table a later migration adds is refused by the merge until it says how
# it merges, rather than silently left behind.
MERGE_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "countries": (("code",), "add missing"),
    "elections": (("id",), "add missing; differences recorded as conflicts"),
    "leaders": (("id",), "add missing; differences recorded as conflicts"),
    "roles": (("leader_id",), "a new leader's roles are added; a different set is a conflict"),
    "accounts": (("platform", "platform_user_id|handle"), "found as the write path finds them; gaps filled"),
    "sources": (("id",), "add missing; gaps filled; differences recorded as conflicts"),
    "scrape_runs": (("origin", "origin_run_id"), "add missing, marked with their origin archive"),
    "run_sources": (("run_id",), "follow their run"),
    "raw_payloads": (("sha256",), "add missing; a parsed format wins over 'unparsed'"),
    "posts": (("id",), "add missing; merge rows of one post; quotes without an id join their post"),
    "post_versions": (("post_id", "content_hash"), "union of states by content"),
    "election_posts": (("election_id", "post_id"), "higher score and its terms"),
    "fetches": (("run_id", "source_id", "fetched_url", "retrieved_at", "tool_version", "response_sha256",
                 "page_sha256"), "add missing"),
    "captures": (("post_id", "fetch_id", "format", "location", "raw_sha256", "raw_pointer"), "add missing"),
    "parse_errors": (("source_id", "location", "raw_sha256", "reason"), "add missing; a resolution wins"),
    "reported_reactions": (("election_id", "leader_id", "evidence_key|sighting source"),
                           "one row per report, as the write path finds it; the earliest recorded represents it"),
    "reported_reaction_sightings": (("reported_reaction_id", "source_id", "evidence"), "add missing"),
    "election_milestones": (("election_id", "kind"), "an election's milestones added where there are none; "
                            "differences recorded as conflicts"),
    "reaction_classes": (("election_id", "post_id"), "copied when the output's classifier made them; "
                         "else classified again after the merge"),
    "reported_reaction_classes": (("reported_reaction_id",), "derived: classified again for the reports the merge "
                                  "added or gave a sighting"),
    "reaction_labels": (("election_id", "post_id|reported_reaction_id"), "add missing; two labels of one reaction: "
                        "the later labelled stays, the other is recorded as a conflict"),
    "classifier_state": (("name",), "derived: the classifier of every election's classes, set after the merge"),
    "source_state": (("source_id", "account"), "the later complete run wins"),
    "archive_info": (("key",), "this archive's own: not merged"),
    "merged_archives": (("archive_id",), "the input and what was merged into it"),
    "merge_conflicts": (("origin", "table_name", "row_key", "column_name", "kept", "other"), "add missing"),
    "reactions": ((), "derived: refreshed"),
    "reactions_sources": ((), "derived: refreshed"),
    "reactions_facet_counts": ((), "derived: kept by triggers"),
    "_sqlite_migrations": ((), "checked equal before merging"),
}
DERIVED_PREFIXES = ("posts_fts",)  # the full-text index follows posts
# What the reactions rows and the roster names on posts are computed from.
ROSTER_TABLES = ("elections", "leaders", "roles", "accounts", "election_milestones")

# Tables merged by the generic rule: a row is added unless the output has one
# with the same natural key (these columns); an integer ``id`` is renumbered,
# and columns naming a run, an account or a fetch are mapped to the output's.
# A new table whose rows are facts keyed by what they are about (a label of
# a post in an election, a sighting of a reported reaction ...) needs only a
# line here and one in MERGE_RULES.
GENERIC_KEYS: dict[str, tuple[str, ...]] = {
    "reported_reaction_sightings": ("reported_reaction_id", "source_id", "evidence"),
}
# Columns that hold ids local to one archive file, and the map of each.
MAPPED_COLUMNS = {"run_id": "merge_runs", "last_run_id": "merge_runs", "account_id": "merge_accounts",
                  "fetch_id": "merge_fetches", "reported_reaction_id": "merge_reported"}


@dataclass
class InputArchive:
    path: Path
    archive_id: str
    shard: str | None
    posts: int
    runs: int


@dataclass
class InputResult:
    path: str
    archive_id: str
    shard: str | None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class MergeResult:
    output: Path
    inputs: list[InputResult] = field(default_factory=list)
    quotes_joined: int = 0
    conflicts: list[dict] = field(default_factory=list)


# --- checking ----------------------------------------------------------------------


def known_migrations() -> list[str]:
    return [migration.name for migration in migrations._migrations]


def check_input(path: str | Path) -> InputArchive:
    """Refuse (MergeRefused) anything but a sound archive of this schema."""
    path = Path(path)
    if not path.is_file():
        raise MergeRefused(f"{path}: no such archive file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise MergeRefused(f"{path}: cannot be opened ({exc}); nothing was merged") from None
    try:
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            raise MergeRefused(f"{path}: not a SQLite archive or damaged ({exc}); nothing was merged") from None
        if verdict != [("ok",)]:
            problems = "; ".join(row[0] for row in verdict[:3])
            raise MergeRefused(f"{path}: damaged (PRAGMA quick_check: {problems}); nothing was merged")
        applied = _applied_migrations(conn, path)
        known = known_migrations()
        unknown = [name for name in applied if name not in known]
        if unknown:
            raise MergeRefused(
                f"{path}: written by a newer or unknown version of the schema (migrations {', '.join(unknown)} "
                f"are not known to reaction-archive {__version__}); upgrade this tool to merge it; nothing was merged"
            )
        missing = [name for name in known if name not in applied]
        if missing:
            raise MergeRefused(
                f"{path}: an older schema (missing {', '.join(missing)}); migrate it first with "
                f"'reactions status --db {path}', then merge again; nothing was merged"
            )
        archive_id = conn.execute("SELECT value FROM archive_info WHERE key = 'archive_id'").fetchone()[0]
        shard = conn.execute("SELECT value FROM archive_info WHERE key = 'shard'").fetchone()
        posts = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        runs = conn.execute("SELECT count(*) FROM scrape_runs").fetchone()[0]
    finally:
        conn.close()
    return InputArchive(path, archive_id, shard[0] if shard else None, posts, runs)


def _applied_migrations(conn, path: Path) -> list[str]:
    try:
        rows = conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'reaction-archive'").fetchall()
    except sqlite3.DatabaseError:
        raise MergeRefused(f"{path}: not a Reaction Archive (no migrations table); nothing was merged") from None
    if not rows:
        raise MergeRefused(f"{path}: not a Reaction Archive (no migrations recorded); nothing was merged")
    return [row[0] for row in rows]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def check_tables_known(db) -> None:
    """Every table of the output's schema has a merge rule."""
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        if name not in MERGE_RULES and not name.startswith(DERIVED_PREFIXES):
            raise MergeRefused(f"table {name!r} has no merge rule in scraper/combine.py (MERGE_RULES); "
                               "nothing was merged")


# --- merging -------------------------------------------------------------------------


def merge_archives(output: str | Path, inputs: list[str | Path],
                   progress: Callable[[str], None] | None = None) -> MergeResult:
    """Merge the archives ``inputs`` into ``output`` (created if missing), in
    one transaction. Raises MergeRefused before changing anything when an
    input cannot be merged."""
    from .archive import Archive
    from .lock import ArchiveLock

    say = progress or (lambda message: None)
    output = Path(output)
    if not inputs:
        raise MergeRefused("no input archives given")
    if len(inputs) > MAX_INPUTS:
        raise MergeRefused(f"at most {MAX_INPUTS} input archives per merge (SQLite's limit on attached files); "
                           "merge the others in a second call: the result is the same")
    for path in inputs:
        if _same_file(output, Path(path)) or Path(path).resolve() == output.resolve():
            raise MergeRefused(f"{path}: is the output archive itself; merge into a new or another file")
    checked: dict[Path, InputArchive] = {}
    for path in inputs:
        say(f"checking {path}")
        found = check_input(path)
        # The same file named twice is merged once. (Two copies of one archive
        # taken at different times are both merged: rows already there are
        # found by their keys.)
        checked.setdefault(Path(path).resolve(), found)
    if output.exists():
        say(f"checking {output}")
        _check_output(output)
    result = MergeResult(output)
    with ArchiveLock(output):
        archive = Archive(output)
        archive.migrate()
        db = archive.db
        check_tables_known(db)
        own_id = db.execute("SELECT value FROM archive_info WHERE key = 'archive_id'").fetchone()[0]
        ordered = sorted(checked.values(), key=lambda found: (found.archive_id, str(found.path)))
        if any(found.archive_id == own_id for found in ordered):
            same = next(found for found in ordered if found.archive_id == own_id)
            raise MergeRefused(f"{same.path}: is a copy of the output archive (the same archive id); nothing to merge")
        aliases = []
        try:
            for number, found in enumerate(ordered):
                alias = f"merge_in_{number}"
                db.execute("ATTACH DATABASE ? AS " + alias, [str(found.path)])
                aliases.append(alias)
            try:
                with archive.write():
                    db.execute("PRAGMA defer_foreign_keys = ON")
                    merger = _Merger(db, own_id, say)
                    for alias, found in zip(aliases, ordered):
                        say(f"merging {found.path} (archive {found.archive_id[:12]}, {found.posts} posts)")
                        result.inputs.append(merger.merge_one(alias, found))
                    say("joining quotes without an id to their posts")
                    result.quotes_joined = combine_posts.join_quotes(merger)
                    say("classifying reaction types the inputs could not give")
                    merger.classify()
                    say("refreshing the reactions table")
                    merger.refresh_derived(archive)
                    result.conflicts = merger.conflicts
                    merger.drop_temp()
            except sqlite3.IntegrityError as exc:
                # (an input whose rows name rows it lacks: the transaction is rolled back)
                raise MergeRefused(f"{output}: the merged rows would break a reference ({exc}): an input holds "
                                   "rows that name rows it lacks (check it with PRAGMA foreign_key_check); "
                                   "nothing was changed") from None
        finally:
            for alias in aliases:
                try:
                    db.execute(f"DETACH DATABASE {alias}")
                except sqlite3.Error:
                    pass
    say("done")
    return result


def _check_output(output: Path) -> None:
    """The output must be a sound archive too, of this schema or an older one (migrated)."""
    conn = sqlite3.connect(f"file:{output}?mode=ro", uri=True)
    try:
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            raise MergeRefused(f"{output}: the output is not a SQLite archive or damaged ({exc}); nothing was merged") from None
        if verdict != [("ok",)]:
            raise MergeRefused(f"{output}: the output is damaged (PRAGMA quick_check: {verdict[0][0]}); nothing was merged")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return
        applied = _applied_migrations(conn, output)
        unknown = [name for name in applied if name not in known_migrations()]
        if unknown:
            raise MergeRefused(f"{output}: the output has a newer or unknown schema ({', '.join(unknown)}); "
                               "nothing was merged")
    finally:
        conn.close()


class _Merger:
    """One merge transaction: the inputs one after the other, then what
    depends on all of them."""

    def __init__(self, db, own_id: str, say: Callable[[str], None]):
        self.db = db
        self.own_id = own_id
        self.say = say
        self.conflicts: list[dict] = []
        self.new_in_input = 0  # posts the current input added
        self.roster_changed = False  # (the current input's roster added to the output's)
        self.refresh_all = False  # every reactions row is refreshed at the end
        self.roster_differs: set[str] = set()  # inputs whose roster or elections differ from the output's
        self.now = utc_now()
        for statement in (
            "CREATE TEMP TABLE IF NOT EXISTS merge_accounts (src_id INTEGER PRIMARY KEY, out_id INTEGER)",
            "CREATE TEMP TABLE IF NOT EXISTS merge_runs (src_id INTEGER PRIMARY KEY, out_id INTEGER, new INTEGER)",
            "CREATE TEMP TABLE IF NOT EXISTS merge_existing (id TEXT PRIMARY KEY)",
            "CREATE TEMP TABLE IF NOT EXISTS merge_fetches (src_id INTEGER PRIMARY KEY, out_id INTEGER)",
            # posts whose reactions rows are refreshed at the end (not held in memory: any number)
            "CREATE TEMP TABLE IF NOT EXISTS merge_refresh (id TEXT PRIMARY KEY)",
            *combine_types.TEMP_TABLES,
        ):
            db.execute(statement)

    def drop_temp(self) -> None:
        for name in ("merge_accounts", "merge_runs", "merge_existing", "merge_fetches", "merge_refresh",
                     *combine_types.TEMP_NAMES):
            self.db.execute(f"DROP TABLE IF EXISTS temp.{name}")

    def mark_for_refresh(self, select_ids: str, params: list | None = None) -> None:
        """The posts this query selects get their reactions rows refreshed at the end."""
        if not self.refresh_all:
            self.db.execute(f"INSERT OR IGNORE INTO temp.merge_refresh (id) {select_ids}", params or [])

    def classifier_version(self, election_id: str) -> str:
        """The version of the classifier the output has for an election (from its roster)."""
        from .classify_store import election_classifier

        return election_classifier(self.db, election_id).version

    def merge_one(self, src: str, found: InputArchive) -> InputResult:
        db = self.db
        for name in ("merge_accounts", "merge_runs", "merge_existing", "merge_fetches"):
            db.execute(f"DELETE FROM temp.{name}")
        self.origin = found.archive_id
        result = InputResult(str(found.path), found.archive_id, found.shard)
        counts = result.counts
        self.say("  roster, elections and accounts")
        had_posts = db.execute("SELECT 1 FROM main.posts LIMIT 1").fetchone() is not None
        self.roster_changed = False
        self._roster(src)
        combine_types.merge_milestones(self, src)
        self._accounts(src)
        if self.roster_changed and had_posts:
            self.refresh_all = True  # (rows already here were computed from a smaller roster)
        self.say("  sources and runs")
        self._sources(src)
        counts["runs"] = self._runs(src)
        self.say("  raw payloads")
        counts["raw_payloads"] = db.execute(
            f"INSERT INTO main.raw_payloads SELECT * FROM {src}.raw_payloads WHERE true "
            "ON CONFLICT (sha256) DO UPDATE SET format = excluded.format "
            "WHERE raw_payloads.format = 'unparsed' AND excluded.format != 'unparsed'").rowcount
        self.say("  posts")
        counts["posts"], counts["posts_merged"] = combine_posts.merge_posts(self, src)
        counts["relevance"] = self._relevance(src)
        counts["reaction_classes"] = combine_types.copy_classes(self, src)
        self.say("  fetches and captures")
        counts["fetches"] = self._fetches(src)
        counts["captures"] = self._captures(src)
        self.say("  parse errors, reported reactions, labels, source state")
        counts["parse_errors"] = self._parse_errors(src)
        counts["reported_reactions"] = combine_types.merge_reported(self, src)
        for table, key in GENERIC_KEYS.items():
            counts[table] = self._generic(src, table, key)
        combine_types.count_sightings(self)
        counts["reaction_labels"] = combine_types.merge_labels(self, src)
        self._reaction_rows(src)
        self._source_state(src)
        self._merged_archives(src, found)
        return result

    # --- roster --------------------------------------------------------------------

    def _conflict(self, table: str, key: str, column: str, kept, other) -> None:
        found = {"origin": self.origin, "table_name": table, "row_key": key, "column_name": column,
                 "kept": None if kept is None else str(kept), "other": None if other is None else str(other)}
        if table in ROSTER_TABLES:
            self.roster_differs.add(self.origin)  # (found again on a second merge too)
        inserted = self.db.execute(
            "INSERT OR IGNORE INTO merge_conflicts (origin, table_name, row_key, column_name, kept, other, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", [*found.values(), self.now]).rowcount
        if inserted:
            self.conflicts.append(found)

    def _keyed(self, src: str, table: str, key: str, compared: list[str], fill: bool = False) -> list:
        """Rows of a small table by key: missing ones added, differing values
        recorded as conflicts (or filled, where this archive has none).
        Returns the keys added."""
        db = self.db
        columns = columns_of(db, table)
        added = []
        for values in db.execute(f"SELECT {', '.join(columns)} FROM {src}.{table}").fetchall():
            row = dict(zip(columns, values))
            cursor = db.execute(f"SELECT {', '.join(columns)} FROM main.{table} WHERE {key} = ?", [row[key]])
            mine = cursor.fetchone()
            if mine is None:
                db.execute(f"INSERT INTO main.{table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                           values)
                added.append(row[key])
                continue
            mine = dict(zip(columns, mine))
            for column in compared:
                if mine[column] == row[column] or row[column] is None:
                    continue
                if mine[column] is None and fill:
                    db.execute(f"UPDATE main.{table} SET {column} = ? WHERE {key} = ?", [row[column], row[key]])
                else:
                    self._conflict(table, row[key], column, mine[column], row[column])
        return added

    def _roster(self, src: str) -> None:
        db = self.db
        db.execute(f"INSERT OR IGNORE INTO main.countries SELECT * FROM {src}.countries")
        election_columns = [c for c in columns_of(db, "elections") if c not in ("id", "config_path", "loaded_at")]
        if self._keyed(src, "elections", "id", election_columns):
            self.roster_changed = True
        leader_columns = [c for c in columns_of(db, "leaders") if c != "id"]
        added = self._keyed(src, "leaders", "id", leader_columns)
        if added:
            self.roster_changed = True
        role_columns = [c for c in columns_of(db, "roles") if c not in ("id", "leader_id")]
        listed = ", ".join(role_columns)
        for (leader_id,) in db.execute(f"SELECT DISTINCT leader_id FROM {src}.roles ORDER BY 1").fetchall():
            theirs = db.execute(f"SELECT {listed} FROM {src}.roles WHERE leader_id = ? ORDER BY {listed}",
                                [leader_id]).fetchall()
            mine = db.execute(f"SELECT {listed} FROM main.roles WHERE leader_id = ? ORDER BY {listed}",
                              [leader_id]).fetchall()
            if not mine:
                db.execute(f"INSERT INTO main.roles (leader_id, {listed}) SELECT leader_id, {listed} "
                           f"FROM {src}.roles WHERE leader_id = ? ORDER BY id", [leader_id])
                self.roster_changed = True
            elif mine != theirs:
                self._conflict("roles", leader_id, "roles", json.dumps(mine), json.dumps(theirs))

    def _accounts(self, src: str) -> None:
        """Each account of the input found in the output as the write path
        finds one (platform id, else handle), or added; the map of ids kept
        in temp.merge_accounts."""
        db = self.db
        columns = columns_of(db, "accounts")
        for values in db.execute(f"SELECT {', '.join(columns)} FROM {src}.accounts ORDER BY id").fetchall():
            row = dict(zip(columns, values))
            found = None
            if row["platform_user_id"]:
                found = db.execute("SELECT * FROM main.accounts WHERE platform = ? AND platform_user_id = ?",
                                   [row["platform"], row["platform_user_id"]]).fetchone()
            if found is None and row["handle"]:
                found = db.execute(
                    "SELECT * FROM main.accounts WHERE platform = ? AND handle = ? COLLATE NOCASE "
                    "AND (platform_user_id IS NULL OR ? IS NULL OR platform_user_id = ?) "
                    "ORDER BY in_roster DESC, id LIMIT 1",
                    [row["platform"], row["handle"], row["platform_user_id"], row["platform_user_id"]]).fetchone()
            if found is None:
                others = [c for c in columns if c != "id"]
                out_id = db.execute(
                    f"INSERT INTO main.accounts ({', '.join(others)}) VALUES ({', '.join('?' for _ in others)})",
                    [row[c] for c in others]).lastrowid
                if row["leader_id"]:
                    self.roster_changed = True
            else:
                mine = dict(zip(columns, found))
                out_id = mine["id"]
                if mine["leader_id"] and row["leader_id"] and mine["leader_id"] != row["leader_id"]:
                    self._conflict("accounts", f"{row['platform']} {row['handle'] or row['platform_user_id']}",
                                   "leader_id", mine["leader_id"], row["leader_id"])
                elif row["leader_id"] and not mine["leader_id"]:
                    self.roster_changed = True
                db.execute(
                    "UPDATE main.accounts SET platform_user_id = coalesce(platform_user_id, ?), "
                    "handle = coalesce(handle, ?), url = coalesce(url, ?), display_name = coalesce(display_name, ?), "
                    "leader_id = coalesce(leader_id, ?), in_roster = max(in_roster, ?), "
                    "first_seen_at = min(coalesce(first_seen_at, ?), coalesce(?, first_seen_at)), "
                    "last_seen_at = max(coalesce(last_seen_at, ''), coalesce(?, '')) WHERE id = ?",
                    [row["platform_user_id"], row["handle"], row["url"], row["display_name"], row["leader_id"],
                     row["in_roster"] or 0, row["first_seen_at"], row["first_seen_at"], row["last_seen_at"], out_id])
            db.execute("INSERT INTO temp.merge_accounts (src_id, out_id) VALUES (?, ?)", [row["id"], out_id])

    def _sources(self, src: str) -> None:
        db = self.db
        compared = [c for c in columns_of(db, "sources") if c not in ("id", "first_seen_at")]
        self._keyed(src, "sources", "id", compared, fill=True)
        db.execute(f"UPDATE main.sources SET first_seen_at = (SELECT min(main.sources.first_seen_at, s.first_seen_at) "
                   f"FROM {src}.sources s WHERE s.id = main.sources.id) "
                   f"WHERE id IN (SELECT id FROM {src}.sources WHERE first_seen_at IS NOT NULL)")

    # --- runs ---------------------------------------------------------------------------

    def _runs(self, src: str) -> int:
        """Runs by (origin archive, number there); their per-source rows follow new runs."""
        db = self.db
        known = {}
        for out_id, origin, origin_run_id in db.execute("SELECT id, origin, origin_run_id FROM main.scrape_runs"):
            known[(origin or self.own_id, origin_run_id if origin else out_id)] = out_id
        columns = [c for c in columns_of(db, "scrape_runs") if c not in ("id", "origin", "origin_run_id")]
        added = 0
        for values in db.execute(
            f"SELECT id, origin, origin_run_id, {', '.join(columns)} FROM {src}.scrape_runs ORDER BY id"
        ).fetchall():
            src_id, origin, origin_run_id, *rest = values
            key = (origin or self.origin, origin_run_id if origin else src_id)
            out_id = known.get(key)
            new = out_id is None
            if new:
                out_id = db.execute(
                    f"INSERT INTO main.scrape_runs ({', '.join(columns)}, origin, origin_run_id) "
                    f"VALUES ({', '.join('?' for _ in columns)}, ?, ?)", [*rest, *key]).lastrowid
                known[key] = out_id
                added += 1
            db.execute("INSERT INTO temp.merge_runs (src_id, out_id, new) VALUES (?, ?, ?)", [src_id, out_id, int(new)])
        others = [c for c in columns_of(db, "run_sources") if c not in ("id", "run_id")]
        listed = ", ".join(f"r.{c}" for c in others)
        db.execute(f"INSERT INTO main.run_sources (run_id, {', '.join(others)}) SELECT m.out_id, {listed} "
                   f"FROM {src}.run_sources r JOIN temp.merge_runs m ON m.src_id = r.run_id AND m.new = 1 ORDER BY r.id")
        return added

    def _relevance(self, src: str) -> int:
        return self.db.execute(
            "INSERT INTO main.election_posts (election_id, post_id, matched_terms, score) "
            f"SELECT election_id, post_id, matched_terms, score FROM {src}.election_posts WHERE true "
            "ON CONFLICT (election_id, post_id) DO UPDATE SET "
            "matched_terms = CASE WHEN excluded.score > score OR (excluded.score IS score "
            "AND excluded.matched_terms > matched_terms) THEN excluded.matched_terms ELSE matched_terms END, "
            "score = max(score, excluded.score) "
            "WHERE excluded.score > score OR (excluded.score IS score AND excluded.matched_terms > matched_terms)"
        ).rowcount

    def _reaction_rows(self, src: str) -> None:
        """The reactions rows of the posts this input added: copied from it
        when it computed them from the same roster, elections and milestones
        (no conflict, every account with the same leader), else refreshed at
        the end. (A copied row whose type is not the output's, a class not
        copied or another label, is refreshed at the end too: those posts
        are classified again or marked by the labels' merge.)"""
        db = self.db
        if not self.new_in_input or self.refresh_all:
            return
        differing_leaders = db.execute(
            f"SELECT count(*) FROM temp.merge_accounts m JOIN {src}.accounts s ON s.id = m.src_id "
            "JOIN main.accounts o ON o.id = m.out_id WHERE s.leader_id IS NOT o.leader_id").fetchone()[0]
        same_roster = not differing_leaders and self.origin not in self.roster_differs
        new = "NOT EXISTS (SELECT 1 FROM temp.merge_existing e WHERE e.id = {0})"
        if same_roster:
            columns = [c for c in columns_of(db, "reactions") if c != "post_rowid"]
            db.execute(
                f"INSERT INTO main.reactions ({', '.join(columns)}, post_rowid) "
                f"SELECT {', '.join('r.' + c for c in columns)}, p.rowid FROM {src}.reactions r "
                f"JOIN main.posts p ON p.id = r.post_id WHERE {new.format('r.post_id')} ORDER BY r.election, r.post_id")
            return
        if self.new_in_input + db.execute("SELECT count(*) FROM temp.merge_refresh").fetchone()[0] > REFRESH_BY_ID_LIMIT:
            self.refresh_all = True  # (faster than a list that long)
            return
        self.mark_for_refresh(f"SELECT s.id FROM {src}.posts s WHERE {new.format('s.id')}")

    # --- provenance -------------------------------------------------------------------------

    def _fetches(self, src: str) -> int:
        """Fetches by natural key: the input's found in the output, the others
        added with new ids (temp.merge_fetches maps them)."""
        db = self.db
        db.execute("DROP TABLE IF EXISTS temp.merge_fetch_keys")
        db.execute("CREATE TEMP TABLE merge_fetch_keys AS SELECT id, run_id, source_id, fetched_url, retrieved_at, "
                   "tool_version, response_sha256, page_sha256 FROM main.fetches "
                   "WHERE run_id IN (SELECT out_id FROM temp.merge_runs) OR run_id IS NULL")
        db.execute("CREATE INDEX temp.merge_fetch_keys_all ON merge_fetch_keys (retrieved_at, source_id, run_id)")
        db.execute(
            "INSERT OR IGNORE INTO temp.merge_fetches (src_id, out_id) SELECT f.id, k.id "
            f"FROM {src}.fetches f LEFT JOIN temp.merge_runs m ON m.src_id = f.run_id "
            "JOIN temp.merge_fetch_keys k ON k.retrieved_at IS f.retrieved_at AND k.source_id IS f.source_id "
            "AND k.run_id IS m.out_id AND k.fetched_url IS f.fetched_url AND k.tool_version IS f.tool_version "
            "AND k.response_sha256 IS f.response_sha256 AND k.page_sha256 IS f.page_sha256 ORDER BY f.id, k.id")
        db.execute("DROP TABLE temp.merge_fetch_keys")
        first = db.execute("SELECT coalesce(max(id), 0) FROM main.fetches").fetchone()[0]
        db.execute("DROP TABLE IF EXISTS temp.merge_new_fetches")
        db.execute(f"CREATE TEMP TABLE merge_new_fetches AS SELECT f.id AS src_id, {int(first)} + row_number() "
                   f"OVER (ORDER BY f.id) AS out_id FROM {src}.fetches f "
                   "WHERE f.id NOT IN (SELECT src_id FROM temp.merge_fetches)")
        added = db.execute(
            "INSERT INTO main.fetches (id, run_id, source_id, fetched_url, retrieved_at, tool_version, "
            "response_sha256, page_sha256) SELECT n.out_id, m.out_id, f.source_id, f.fetched_url, f.retrieved_at, "
            f"f.tool_version, f.response_sha256, f.page_sha256 FROM temp.merge_new_fetches n JOIN {src}.fetches f "
            "ON f.id = n.src_id LEFT JOIN temp.merge_runs m ON m.src_id = f.run_id ORDER BY n.out_id").rowcount
        db.execute("INSERT INTO temp.merge_fetches (src_id, out_id) SELECT src_id, out_id FROM temp.merge_new_fetches")
        db.execute("DROP TABLE temp.merge_new_fetches")
        return added

    def _captures(self, src: str) -> int:
        return self.db.execute(
            "INSERT INTO main.captures (post_id, fetch_id, format, location, raw_sha256, raw_pointer) "
            "SELECT c.post_id, f.out_id, c.format, c.location, c.raw_sha256, c.raw_pointer "
            f"FROM {src}.captures c JOIN temp.merge_fetches f ON f.src_id = c.fetch_id "
            "WHERE NOT EXISTS (SELECT 1 FROM main.captures m WHERE m.post_id = c.post_id AND m.fetch_id = f.out_id "
            "AND m.format IS c.format AND m.location IS c.location AND m.raw_sha256 IS c.raw_sha256 "
            "AND m.raw_pointer IS c.raw_pointer) ORDER BY c.id").rowcount

    def _parse_errors(self, src: str) -> int:
        db = self.db
        same = ("m.raw_sha256 IS p.raw_sha256 AND m.source_id IS p.source_id AND m.location IS p.location "
                "AND m.reason IS p.reason")
        db.execute(
            f"UPDATE main.parse_errors AS m SET resolved_at = p.resolved_at, resolved_post_id = p.resolved_post_id "
            f"FROM {src}.parse_errors p WHERE {same} AND m.resolved_at IS NULL AND p.resolved_at IS NOT NULL")
        others = [c for c in columns_of(db, "parse_errors") if c not in ("id", "run_id")]
        return db.execute(
            f"INSERT INTO main.parse_errors (run_id, {', '.join(others)}) SELECT r.out_id, "
            f"{', '.join('p.' + c for c in others)} FROM {src}.parse_errors p "
            "LEFT JOIN temp.merge_runs r ON r.src_id = p.run_id "
            f"WHERE NOT EXISTS (SELECT 1 FROM main.parse_errors m WHERE {same}) ORDER BY p.id").rowcount

    def _generic(self, src: str, table: str, key: tuple[str, ...]) -> int:
        """Rows added unless one with the same natural key is there (GENERIC_KEYS)."""
        info = list(self.db.execute(f"PRAGMA main.table_info({table})"))
        renumbered = {row[1] for row in info if row[5] == 1 and row[2].upper() == "INTEGER"}
        columns = [row[1] for row in info if row[1] not in renumbered]
        joins, value = [], {}
        for column in columns:
            if column in MAPPED_COLUMNS:
                alias = f"map_{column}"
                joins.append(f"LEFT JOIN temp.{MAPPED_COLUMNS[column]} {alias} ON {alias}.src_id = t.{column}")
                value[column] = f"{alias}.out_id"
            else:
                value[column] = f"t.{column}"
        same = " AND ".join(f"m.{column} IS {value[column]}" for column in key)
        order = ", ".join(f"t.{column}" for column in (sorted(renumbered) or key))
        return self.db.execute(
            f"INSERT INTO main.{table} ({', '.join(columns)}) SELECT {', '.join(value[c] for c in columns)} "
            f"FROM {src}.{table} t {' '.join(joins)} WHERE NOT EXISTS (SELECT 1 FROM main.{table} m WHERE {same}) "
            f"ORDER BY {order}").rowcount

    def _source_state(self, src: str) -> None:
        columns = [c for c in columns_of(self.db, "source_state") if c not in ("source_id", "account")]
        rank = "(coalesce({0}.last_success_at, ''), coalesce({0}.updated_at, ''), coalesce({0}.last_id, ''))"
        chosen = ", ".join("r.out_id" if c == "last_run_id" else f"s.{c}" for c in columns)
        self.db.execute(
            f"INSERT INTO main.source_state (source_id, account, {', '.join(columns)}) "
            f"SELECT s.source_id, s.account, {chosen} FROM {src}.source_state s "
            "LEFT JOIN temp.merge_runs r ON r.src_id = s.last_run_id WHERE true "
            f"ON CONFLICT (source_id, account) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in columns)} "
            f"WHERE {rank.format('excluded')} > {rank.format('source_state')}")

    def _merged_archives(self, src: str, found: InputArchive) -> None:
        db = self.db
        db.execute(
            "INSERT INTO main.merged_archives (archive_id, path, shard, first_merged_at, last_merged_at, runs, posts, "
            "tool_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (archive_id) DO UPDATE SET path = excluded.path, "
            "shard = excluded.shard, last_merged_at = excluded.last_merged_at, runs = excluded.runs, "
            "posts = excluded.posts, tool_version = excluded.tool_version",
            [found.archive_id, str(found.path), found.shard, self.now, self.now, found.runs, found.posts, __version__])
        db.execute(f"INSERT OR IGNORE INTO main.merged_archives SELECT * FROM {src}.merged_archives "
                   "WHERE archive_id != ?", [self.own_id])
        db.execute(f"INSERT OR IGNORE INTO main.merge_conflicts (origin, table_name, row_key, column_name, kept, other, "
                   f"recorded_at) SELECT origin, table_name, row_key, column_name, kept, other, recorded_at "
                   f"FROM {src}.merge_conflicts")

    # --- after every input -----------------------------------------------------------------

    def classify(self) -> None:
        """Reaction types: posts and reported reactions whose class the merge
        could not copy, or whose content it changed (scraper/combine_types.py)."""
        combine_types.classify_after_merge(self)
        combine_types.classify_reported_after_merge(self)

    def refresh_derived(self, archive) -> None:
        """The roster names on posts and the reactions table, for what
        changed; then the fingerprints of what the rows were computed from
        (every row is current: the next config load of the same roster
        writes nothing)."""
        from .reaction_rows import _fingerprints, _save_fingerprints, refresh_reaction_rows

        db = self.db
        if self.refresh_all or self.roster_differs:
            archive.elections.refresh_roster_names()
            refresh_reaction_rows(db)
        elif db.execute("SELECT count(*) FROM temp.merge_refresh").fetchone()[0] > REFRESH_BY_ID_LIMIT:
            refresh_reaction_rows(db)
        else:
            last = ""
            while True:  # (a chunk at a time: memory stays flat)
                changed = [row[0] for row in db.execute(
                    "SELECT id FROM temp.merge_refresh WHERE id > ? ORDER BY id LIMIT 5000", [last])]
                if not changed:
                    break
                last = changed[-1]
                refresh_reaction_rows(db, post_ids=changed)
        _save_fingerprints(db, _fingerprints(db))
