"""Exports for researchers: the archive as a Frictionless Data Package.

:func:`export_package` writes one folder::

    datapackage.json    table schemas, descriptions from metadata.yml, licences
    README.md           provenance: sources, capture period, counts, filters
    data/reactions.csv  (or .jsonl, .parquet) and the other tables asked for
    ids/x.txt ...       dehydrated id lists, one id per line, per platform
    SHA256SUMS          checksums of every other file (``sha256sum -c``)

Exports are about reactions: the filters select rows of the ``reactions``
table, and the posts, versions and captures exported beside them are those of
the selected posts. Everything is read in one snapshot, streamed in batches
(memory stays flat however large the archive) and written in a fixed order
with no clock time inside, so the same archive and options give
byte-identical files. Nothing is read from the environment.

For speed (benchmarks/bench_export.py, bench_browse.py's export-csv): the
reactions are read from the ``reactions`` table (kept current at write time,
see scraper/reaction_rows.py) in the order of an index; CSV lines are made
by SQLite, one string per row (scraper/export_csv.py, which also describes
the dialect), or for a table of one column a column of a batch at a time
(csv_lines); each file is hashed as it is written; and the selected posts
are listed once.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import sqlite3
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, export_csv
from .errors import ArchiveLockedError, ArchiveUnwritableError, InputError

if TYPE_CHECKING:
    from .archive import Archive

# The archive, config, model, publish and schema modules are imported where
# they are used: `reactions export` loads this module at start-up, and an
# export needs neither the importers that scraper.archive loads nor, for
# `reactions --help`, sqlite-utils.

FORMATS = ("csv", "jsonl", "parquet")
TABLES = ("reactions", "posts", "post_versions", "captures", "reported_reactions", "reported_reaction_classes",
          "not_reacted")
BATCH_SIZE = 5000  # fixed: Parquet row groups follow it, so it is part of the bytes

# Columns holding JSON text in the archive: arrays and objects in the package.
JSON_COLUMNS = {
    "matched_terms": "array",
    "hashtags": "array",
    "mentions": "array",
    "links": "array",
    "media": "array",
    "extra": "object",
    "type_evidence": "array",
    "addressed_candidates": "array",
}
# Columns without a declared SQLite type (a view's expressions; the hours of
# the reactions table, which keep -0.0 as the former view gave it).
COMPUTED_TYPES = {
    "author": "string", "hours_after_result": "number", "hours_after_polls_closed": "number",
    "hours_after_milestone": "number",
}
# Internal to one archive file and renumbered by reprocess: not exported.
OMITTED_COLUMNS = {"reactions": {"post_rowid"}, "capture_details": {"fetch_id"}}
# Exported tables read from a view: a capture with its fetch's provenance, one row each.
# (and every state of a post, whether it showed one or several).
# reported_reaction_classes is read from reported_reaction_types: the type in
# force (a person's label wins), its source and the classifier's own type.
READ_FROM = {"captures": "capture_details", "post_versions": "post_states",
             "reported_reaction_classes": "reported_reaction_types"}

MEDIA_TYPES = {"csv": "text/csv", "jsonl": "application/jsonl", "parquet": "application/vnd.apache.parquet"}
ID_LIST_TITLES = {
    "x": "X post ids",
    "bluesky": "Bluesky post at:// URIs",
    "mastodon": "Mastodon status URLs",
    "telegram": "Telegram post URLs",
}


@dataclass(frozen=True)
class ExportFilters:
    """Which reactions to export; every filter is a list of accepted values
    (empty: no filter). ``since``/``until`` bound ``created_at`` and are UTC
    dates or date-times, both inclusive."""

    elections: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    role_kinds: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None

    def normalised(self) -> "ExportFilters":
        return ExportFilters(
            elections=_unique(self.elections),
            countries=_unique(v.upper() for v in self.countries),
            role_kinds=_unique(v.lower() for v in self.role_kinds),
            platforms=_unique(v.lower() for v in self.platforms),
            languages=_unique(v.lower() for v in self.languages),
            since=_time_bound(self.since, "since"),
            until=_time_bound(self.until, "until"),
        )

    def as_dict(self) -> dict:
        """The filters in use, for the README and datapackage.json."""
        values = {
            "election": list(self.elections),
            "country": list(self.countries),
            "role_kind": list(self.role_kinds),
            "platform": list(self.platforms),
            "language": list(self.languages),
            "since": self.since,
            "until": self.until,
        }
        return {name: value for name, value in values.items() if value}


@dataclass
class ExportResult:
    folder: Path
    format: str
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows written
    id_lists: dict[str, int] = field(default_factory=dict)  # platform -> ids written
    checksums: dict[str, str] = field(default_factory=dict)  # relative path -> sha256


@dataclass
class _Table:
    """One exported table: its file, its fields and its package resource."""

    name: str
    columns: list[str]
    types: list[str]
    path: str
    rows: int = 0
    parts: list = field(default_factory=list)  # a partitioned table's files (scraper.partitioned)
    partition: tuple[str, ...] = ()


def _unique(values) -> tuple[str, ...]:
    return tuple(sorted({v.strip() for v in values if v and v.strip()}))


def _time_bound(value: str | None, name: str) -> str | None:
    """A date stays a date; a date-time becomes UTC ``YYYY-MM-DDTHH:MM:SS``
    (naive ones are taken as UTC)."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise InputError(f"--{name} {text!r}: expected a date (2021-06-06) or an ISO date-time") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


# --- selecting ----------------------------------------------------------------


def reactions_where(filters: ExportFilters, alias: str = "r") -> tuple[str, list]:
    """SQL condition on the ``reactions`` table for the filters, and its parameters."""
    clauses, params = [], []
    for target, values in (
        (f"{alias}.election", filters.elections),
        (f"{alias}.country_code", filters.countries),
        (f"{alias}.role_kind", filters.role_kinds),
        (f"{alias}.platform", filters.platforms),
    ):
        if values:
            clauses.append(f"{target} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if filters.languages:
        # 'pt' also keeps the regional tags a platform may give ('pt-BR').
        one = f"lower({alias}.language) = ? OR lower({alias}.language) LIKE ?"
        clauses.append("(" + " OR ".join([one] * len(filters.languages)) + ")")
        for language in filters.languages:
            params.extend([language, f"{language}-%"])
    for operator, bound in ((">=", filters.since), ("<=", filters.until)):
        if bound:
            # A post known only to the day counts as the start of that day.
            clauses.append(f"substr({alias}.created_at, 1, {len(bound)}) {operator} ?")
            params.append(bound)
    return (" AND ".join(clauses) or "1"), params


def _reported_where(filters: ExportFilters) -> tuple[str, list]:
    """The same filters on reported_reactions: election, the leader's country,
    the role held on the report's day, and the report's date. Platform and
    language do not apply (a reported reaction is not a post)."""
    clauses, params = [], []
    if filters.elections:
        clauses.append(f"rr.election_id IN ({', '.join('?' * len(filters.elections))})")
        params.extend(filters.elections)
    if filters.countries:
        clauses.append(f"l.country IN ({', '.join('?' * len(filters.countries))})")
        params.extend(filters.countries)
    if filters.role_kinds:
        clauses.append(
            "(SELECT r2.kind FROM roles r2 WHERE r2.leader_id = rr.leader_id "
            "AND r2.start_date <= rr.reported_on AND (r2.end_date IS NULL OR r2.end_date >= rr.reported_on) "
            f"ORDER BY r2.precedence, r2.start_date DESC LIMIT 1) IN ({', '.join('?' * len(filters.role_kinds))})"
        )
        params.extend(filters.role_kinds)
    for operator, bound in ((">=", filters.since), ("<=", filters.until)):
        if bound:
            clauses.append(f"substr(rr.reported_on, 1, 10) {operator} ?")
            params.append(bound[:10])
    return (" AND ".join(clauses) or "1"), params


def _check_filters(db, filters: ExportFilters) -> None:
    """Unknown values are almost always typos: say so instead of exporting nothing."""
    from .config import ROLE_KINDS
    from .model import PLATFORMS

    known_elections = [row[0] for row in db.execute("SELECT id FROM elections ORDER BY id")]
    known_countries = {row[0] for row in db.execute("SELECT code FROM countries")}
    for name, values, known in (
        ("election", filters.elections, known_elections),
        ("country", filters.countries, known_countries),
        ("role-kind", filters.role_kinds, ROLE_KINDS),
        ("platform", filters.platforms, PLATFORMS),
    ):
        unknown = [v for v in values if v not in known]
        if unknown:
            listed = f" (known: {', '.join(sorted(known)) or 'none'})" if len(known) < 40 else ""
            raise InputError(f"--{name} {', '.join(unknown)}: not in this archive{listed}")


# Temporary tables of one export (the archive itself is not written).
SELECTION_TABLE = "temp.export_selection"  # the posts of the selected reactions
PROVENANCE_TABLE = "temp.export_captures"  # the selected posts' captures, counted by source and tool version
TEMP_TABLES = (SELECTION_TABLE, PROVENANCE_TABLE)

# The export order of reactions; election and post id make it total.
REACTIONS_ORDER = "r.election, r.created_at, r.post_id"


@dataclass(frozen=True)
class _Selection:
    """Where the posts of the selected reactions are listed, each once: a
    temporary table with their post_id."""

    table: str

    def posts(self) -> str:
        """FROM clause of the selected posts, as p."""
        return f"{self.table} s JOIN posts p ON p.id = s.post_id"

    def posts_order(self) -> str:
        """ORDER BY for posting order (created_at, id)."""
        return "p.created_at, p.id"


def _select(db, filters: ExportFilters) -> _Selection:
    """Fill the temporary table of the selected reactions' posts, once each,
    for the other tables, the id lists and the provenance."""
    where, params = reactions_where(filters)
    _drop_temp_tables(db)
    db.execute(f"CREATE TABLE {SELECTION_TABLE} (post_id TEXT PRIMARY KEY)")
    db.execute(f"INSERT OR IGNORE INTO {SELECTION_TABLE} SELECT r.post_id FROM reactions r WHERE {where}", params)
    return _Selection(SELECTION_TABLE)


def _drop_temp_tables(db) -> None:
    for name in TEMP_TABLES:
        db.execute(f"DROP TABLE IF EXISTS {name}")


def _table_query(name: str, columns: list[str], filters: ExportFilters, selection: _Selection,
                 listing=", ".join) -> tuple[str, list]:
    """The query of one exported table, in a stable order (a unique key last).
    ``listing`` makes the select list of the qualified columns (by default
    the columns themselves; for CSV, one line per row)."""
    selected = f"JOIN {selection.table} s ON s.post_id = "
    listed = listing([f"t.{c}" for c in columns])
    if name == "reactions":
        where, params = reactions_where(filters, "r")
        listed = listing([f"r.{c}" for c in columns])
        return f"SELECT {listed} FROM reactions r WHERE {where} ORDER BY {REACTIONS_ORDER}", params
    if name == "posts":
        listed = listing([f"p.{c}" for c in columns])
        return f"SELECT {listed} FROM {selection.posts()} ORDER BY {selection.posts_order()}", []
    if name == "post_versions":
        return f"SELECT {listed} FROM post_states t {selected}t.post_id ORDER BY t.post_id, t.version", []
    if name == "captures":
        return f"SELECT {listed} FROM capture_details t {selected}t.post_id ORDER BY t.retrieved_at, t.id", []
    if name == "reported_reactions":
        where, params = _reported_where(filters)
        return (
            f"SELECT {listing(['rr.' + c for c in columns])} FROM reported_reactions rr "
            f"LEFT JOIN leaders l ON l.id = rr.leader_id WHERE {where} "
            "ORDER BY rr.election_id, rr.reported_on, rr.leader_id, rr.id",
            params,
        )
    if name == "reported_reaction_classes":
        where, params = _reported_where(filters)
        return (
            f"SELECT {listed} FROM reported_reaction_types t JOIN reported_reactions rr ON rr.id = t.reported_reaction_id "
            f"LEFT JOIN leaders l ON l.id = rr.leader_id WHERE {where} "
            "ORDER BY rr.election_id, rr.reported_on, rr.leader_id, rr.id",
            params,
        )
    if name == "not_reacted":
        # Leaders who have not reacted: the election and country filters apply.
        clauses, params = [], []
        for column, values in (("t.election", filters.elections), ("t.country_code", filters.countries)):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        where = " AND ".join(clauses) or "1"
        return f"SELECT {listed} FROM not_reacted t WHERE {where} ORDER BY t.election, t.country_code, t.leader_id", params
    raise InputError(f"unknown table {name!r} (exportable: {', '.join(TABLES)})")


def _columns(db, name: str) -> tuple[list[str], list[str]]:
    """The exported columns of a table or view, with their package types."""
    columns, types = [], []
    for _, column, declared, *_ in db.execute(f"PRAGMA table_info({name})"):
        if column in OMITTED_COLUMNS.get(name, ()):
            continue
        columns.append(column)
        types.append(_field_type(column, declared))
    return columns, types


def _field_type(column: str, declared: str) -> str:
    if column in JSON_COLUMNS:
        return JSON_COLUMNS[column]
    declared = (declared or "").upper()
    if "INT" in declared:
        return "integer"
    if any(word in declared for word in ("REAL", "FLOA", "DOUB")):
        return "number"
    if declared:
        return "string"
    return COMPUTED_TYPES.get(column, "string")


# --- writing rows -------------------------------------------------------------


def _rows(db, sql: str, params: list, batch_size: int) -> Iterator[list[tuple]]:
    """The query's rows in batches, straight from the cursor."""
    cursor = db.execute(sql, params)
    while True:
        batch = cursor.fetchmany(batch_size)
        if not batch:
            return
        yield batch


def _column_batches(batches: Iterator[list[tuple]]) -> Iterator[list]:
    """Batches of rows as batches of columns, the shape the writers take."""
    for batch in batches:
        yield list(zip(*batch))


class _DataFile:
    """A file of the package, written as UTF-8 and hashed on the way, so that
    datapackage.json and SHA256SUMS need no second read of it."""

    def __init__(self, path: Path, digests: dict[Path, str]):
        self.path = path
        self.digests = digests
        self.sha256 = hashlib.sha256()

    def __enter__(self) -> "_DataFile":
        self.file = self.path.open("wb")
        return self

    def write(self, text: str) -> None:
        self.write_bytes(text.encode("utf-8"))

    def write_bytes(self, data: bytes) -> None:
        self.sha256.update(data)
        self.file.write(data)

    def __exit__(self, exc_type, *exc) -> None:
        self.file.close()
        if exc_type is None:
            self.digests[self.path] = self.sha256.hexdigest()


# --- CSV ----------------------------------------------------------------------
# For the tables SQLite does not write (scraper/export_csv.py: one column, or
# over 120). The bytes are those of csv.writer(file, lineterminator="\n") (QUOTE_MINIMAL),
# made a column of a batch at a time: csv.writer looks at every character of
# every field on its own, about 10 us for a row of the reactions table, where
# one scan of a whole column says whether any of its values needs quotes.


def _csv_quoted_characters() -> str:
    """The characters that make csv.writer quote a field, asked of csv.writer
    itself, so that the fast writer follows this Python's rules."""
    import io

    found = []
    for code in range(128):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([f"a{chr(code)}b", "c"])
        if buffer.getvalue().startswith('"'):
            found.append(chr(code))
    return "".join(found)


CSV_QUOTED_CHARACTERS = _csv_quoted_characters()
_NONE = type(None)


def _csv_needs_quotes(text: str) -> bool:
    return any(character in text for character in CSV_QUOTED_CHARACTERS)


if sorted(CSV_QUOTED_CHARACTERS) == sorted(',"\n'):  # Python 3.11's: spelt out, twice as fast as a regex

    def _csv_quote_each(texts) -> list[str]:
        return ['"' + t.replace('"', '""') + '"' if ("," in t or '"' in t or "\n" in t) else t for t in texts]

else:
    _csv_search = re.compile("[" + re.escape(CSV_QUOTED_CHARACTERS) + "]").search

    def _csv_quote_each(texts) -> list[str]:
        return ['"' + t.replace('"', '""') + '"' if _csv_search(t) else t for t in texts]


def _csv_text(value) -> str:
    """A value as csv.writer writes it, before quoting: None empty, a float by
    its repr, anything else by str."""
    if value is None:
        return ""
    if type(value) is float:
        return float.__repr__(value)
    return value if type(value) is str else str(value)


def _csv_column(values) -> list[str] | tuple:
    """One column of a batch as CSV fields."""
    try:
        joined = "".join(values)  # text only, the common case: no other look at the values
        texts = values
    except TypeError:
        texts = _csv_texts(values)
        joined = "".join(texts)
    if _csv_needs_quotes(joined):
        return _csv_quote_each(texts)
    return texts


def _csv_texts(values) -> list[str]:
    kinds = set(map(type, values))
    if kinds == {_NONE}:
        return [""] * len(values)
    if kinds == {int}:
        return list(map(str, values))
    if kinds <= {str, _NONE}:
        return ["" if value is None else value for value in values]
    if kinds <= {int, _NONE}:
        return ["" if value is None else str(value) for value in values]
    if kinds <= {float, _NONE}:
        # Few distinct values (hours, scores, coordinates): each repr is made
        # once. Zero is left out, as -0.0 and 0.0 are one key but two reprs.
        reprs = {value: repr(value) for value in set(values) if value}
        return [reprs[value] if value else "" if value is None else repr(value) for value in values]
    return list(map(_csv_text, values))


def csv_lines(columns: list) -> str:
    """Columns of equal length as the lines csv.writer would write for their
    rows, with ``lineterminator="\\n"``."""
    if not columns or not len(columns[0]):
        return ""
    fields = [_csv_column(values) for values in columns]
    if len(fields) == 1:  # csv.writer quotes a row that would otherwise be an empty line
        fields = [['""' if field == "" else field for field in fields[0]]]
    return "\n".join(map(",".join, zip(*fields))) + "\n"


def _write_csv(out: _DataFile, table: _Table, batches: Iterator[list]) -> int:
    count = 0
    out.write(csv_lines([[name] for name in table.columns]))
    for columns in batches:
        out.write(csv_lines(columns))
        count += len(columns[0])
    return count


def _write_csv_lines(db, out: _DataFile, table: _Table, source: str, filters: ExportFilters,
                     selection: _Selection, batch_size: int) -> int:
    """CSV whose lines SQLite builds (scraper/export_csv.py): one string per
    row reaches Python. Each batch is hashed and written by a second thread
    while SQLite makes the next one (both let go of the GIL), at most two
    batches behind."""
    declared = {column: kind for _, column, kind, *_ in db.execute(f"PRAGMA table_info({source})")}
    marker = export_csv.new_null_marker()

    def listing(refs: list[str]) -> str:
        return export_csv.line_expression(refs, table.types, [declared[c] for c in table.columns], marker)

    export_csv.register(db.conn)
    sql, params = _table_query(table.name, table.columns, filters, selection, listing)
    out.write(export_csv.header(table.columns))
    count = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-writer") as writer:
        pending: deque = deque()
        for data, rows in export_csv.batches_of_lines(db.execute(sql, params), batch_size, marker):
            pending.append(writer.submit(out.write_bytes, data))  # in order: one writer
            if len(pending) > 2:
                pending.popleft().result()  # raises the writer's error (a full disk) here
            count += rows
        for written in pending:
            written.result()
    return count


def _write_jsonl(out: _DataFile, table: _Table, batches: Iterator[list]) -> int:
    """One JSON object per line; JSON columns become real arrays and objects."""
    decode = [i for i, kind in enumerate(table.types) if kind in ("array", "object")]
    count = 0
    for columns in batches:
        lines = []
        for row in zip(*columns):
            values = list(row)
            for i in decode:
                if values[i] is not None:
                    values[i] = json.loads(values[i])
            lines.append(json.dumps(dict(zip(table.columns, values)), ensure_ascii=False, separators=(",", ":")))
        out.write("\n".join(lines) + "\n")
        count += len(lines)
    return count


def _parquet_modules():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise InputError(
            "Parquet needs pyarrow: pip install 'reaction-archive[parquet]' (or choose --format csv or jsonl)"
        ) from None
    return pyarrow, pyarrow.parquet


def _parquet_schema(table: _Table, descriptions: dict):
    pa, _ = _parquet_modules()
    arrow_types = {"integer": pa.int64(), "number": pa.float64()}
    return pa.schema(
        [
            pa.field(name, arrow_types.get(kind, pa.string()), metadata={"description": descriptions.get(name, "")})
            for name, kind in zip(table.columns, table.types)
        ]
    )


def _write_parquet(path: Path, table: _Table, batches: Iterator[list], descriptions: dict) -> int:
    """One row group per batch; JSON columns stay JSON text (as in CSV), and
    each column carries its description as field metadata."""
    pa, pq = _parquet_modules()
    schema = _parquet_schema(table, descriptions)
    count = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for columns in batches:
            writer.write_batch(
                pa.RecordBatch.from_arrays(
                    [pa.array(values, type=f.type) for values, f in zip(columns, schema)], schema=schema
                )
            )
            count += len(columns[0])
        if count == 0:
            writer.write_table(schema.empty_table())
    return count


# --- dehydrated id lists --------------------------------------------------------


def dehydrated_id(platform: str, native_id: str | None, url: str | None) -> str | None:
    """What others need to fetch the post again under the platform's terms:
    X post id, Bluesky at:// URI, Mastodon status URL, Telegram post URL.
    None when the archive holds no such id (a post quoted without its id)."""
    if not native_id:
        return None
    if platform == "x":
        return native_id if native_id.isdigit() else None
    if platform == "bluesky":
        return native_id if native_id.startswith("at://") else None
    if platform == "mastodon":
        for candidate in (native_id, url):
            if candidate and candidate.startswith(("https://", "http://")):
                return candidate
        return None
    if platform == "telegram":
        if re.fullmatch(r"[A-Za-z0-9_]+/\d+", native_id):
            return f"https://t.me/{native_id}"
        return url if url and url.startswith("https://t.me/") else None
    return None


class _IdLists:
    """ids/<platform>.txt for the selected posts, in posting order, each
    platform's ids written to its own file as they come."""

    def __init__(self, folder: Path, digests: dict[Path, str], opened: ExitStack):
        self.folder = folder
        self.digests = digests
        self.opened = opened  # closes the files, however the export ends
        self.files: dict[str, _DataFile] = {}
        self.counts: dict[str, int] = {}

    def add(self, posts) -> None:
        """(platform, native_id, url) of posts with an id of their own
        (id_is_derived = 0) on a platform with a list."""
        lines: dict[str, list[str]] = {}
        for platform, native_id, url in posts:
            value = dehydrated_id(platform, native_id, url)
            if value is not None:
                lines.setdefault(platform, []).append(value + "\n")
        for platform, values in lines.items():
            if platform not in self.files:
                (self.folder / "ids").mkdir(exist_ok=True)
                path = self.folder / "ids" / f"{platform}.txt"
                self.files[platform] = self.opened.enter_context(_DataFile(path, self.digests))
            self.files[platform].write("".join(values))
            self.counts[platform] = self.counts.get(platform, 0) + len(values)

    def add_selected(self, db, filters: ExportFilters) -> None:
        """The selected posts' ids, read from the reactions rows: each row
        holds its post's platform, key and time, so an index gives them in
        posting order without reading the posts' wide rows (at a million
        posts, 2.4 s to 1.5 s, most of it now this Python loop). A post's key is ``platform:native_id`` unless its
        id is derived (``platform:derived:HASH``, scraper/identity.py); the
        URL is read only on the platforms whose rule may need it. A post
        reacting to several elections comes once per election, next to each
        other in this order, and is listed once."""
        where, params = reactions_where(filters, "r")
        platforms = tuple(ID_LIST_TITLES)
        cursor = db.execute(
            "SELECT r.platform, r.post_id, CASE WHEN r.platform IN ('mastodon', 'telegram') THEN r.url END "
            f"FROM reactions r WHERE {where} AND r.platform IN ({', '.join('?' * len(platforms))}) "
            "ORDER BY r.created_at, r.post_id",
            [*params, *platforms],
        )
        previous = None
        for batch in iter(lambda: cursor.fetchmany(BATCH_SIZE), []):
            posts = []
            for platform, post_id, url in batch:
                if post_id == previous:
                    continue
                previous = post_id
                native_id = post_id[len(platform) + 1:]
                if not native_id.startswith("derived:"):
                    posts.append((platform, native_id, url))
            self.add(posts)

    def written(self) -> dict[str, int]:
        """Ids per platform, in platform order (as datapackage.json lists them)."""
        return dict(sorted(self.counts.items()))


def _counts(db, filters: ExportFilters, posts: int) -> dict[str, int]:
    """Selected posts, the roster leaders who wrote them and their countries.
    Each reaction row holds its post's leader (``leader_id``, from the
    account) and the leader's country (``country_code``), so the selected
    reactions say it through an index, without reading every post (2.5 times
    faster at 100k posts)."""
    where, params = reactions_where(filters)
    leaders, countries = db.execute(
        "SELECT count(DISTINCT l.id), count(DISTINCT l.country) "
        f"FROM reactions r LEFT JOIN leaders l ON l.id = r.leader_id WHERE {where}", params
    ).fetchone()
    return {"posts": posts, "leaders": leaders, "countries": countries}


# --- describing -------------------------------------------------------------------


PRIMARY_KEYS = {
    "reactions": ["post_id", "election"],
    "posts": ["id"],
    "post_versions": ["post_id", "version"],
    "captures": ["id"],
    "reported_reactions": ["id"],
    "reported_reaction_classes": ["reported_reaction_id"],
    "not_reacted": ["election", "leader_id"],
}
POST_REFERENCES = {"reactions": "post_id", "post_versions": "post_id", "captures": "post_id"}


def resource_name(table: str) -> str:
    """Data Package names allow lower case, digits and -._/ but no underscore."""
    return table.replace("_", "-")


def _table_schema(table: _Table, columns_meta: dict, exported: set[str]) -> dict:
    fields = []
    for name, kind in zip(table.columns, table.types):
        described = {"name": name, "type": kind}
        if columns_meta.get(name):
            described["description"] = columns_meta[name]
        fields.append(described)
    schema = {"fields": fields, "missingValues": [""], "primaryKey": PRIMARY_KEYS[table.name]}
    if table.name in POST_REFERENCES and "posts" in exported:
        schema["foreignKeys"] = [
            {"fields": POST_REFERENCES[table.name], "reference": {"resource": "posts", "fields": "id"}}
        ]
    return schema


def _resource(table: _Table, format_name: str, folder: Path, tables_meta: dict, exported: set[str],
              digests: dict[Path, str]) -> dict:
    meta = tables_meta.get(READ_FROM.get(table.name, table.name), {})
    if table.parts:
        from .partitioned import resource as partitioned_resource

        fields = [f for f in _table_schema(table, meta.get("columns", {}), exported)["fields"]
                  if f["name"] not in table.partition]
        for part in table.parts:
            path = folder / part.path
            digests[path] = digests.get(path) or _sha256(path)
        return partitioned_resource(table, table.parts, table.partition, fields, meta, digests, folder)
    resource = {
        "name": resource_name(table.name),
        "path": table.path,
        "profile": "tabular-data-resource",
        "title": table.name,
        "description": meta.get("description", ""),
        "format": format_name,
        "mediatype": MEDIA_TYPES[format_name],
    }
    if format_name != "parquet":
        resource["encoding"] = "utf-8"
    if format_name == "csv":
        resource["dialect"] = dict(export_csv.DIALECT)  # quoting: see scraper/export_csv.py
    resource.update(_file_integrity(folder / table.path, digests))
    resource["schema"] = _table_schema(table, meta.get("columns", {}), exported)
    return resource


def _id_list_resource(platform: str, folder: Path, digests: dict[Path, str]) -> dict:
    path = f"ids/{platform}.txt"
    return {
        "name": f"ids-{platform}",
        "path": path,
        "profile": "data-resource",
        "title": ID_LIST_TITLES[platform],
        "description": (
            f"Dehydrated list: the {ID_LIST_TITLES[platform]} of the exported posts, one per line, "
            "for others to fetch the posts again under the platform's terms."
        ),
        "format": "txt",
        "mediatype": "text/plain",
        "encoding": "utf-8",
        **_file_integrity(folder / path, digests),
    }


def _file_integrity(path: Path, digests: dict[Path, str]) -> dict:
    digest = digests.get(path) or _sha256(path)
    return {"bytes": path.stat().st_size, "hash": f"sha256:{digest}"}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _provenance(db, filters: ExportFilters, selection: _Selection, counts: dict[str, int]) -> dict:
    """What the README and datapackage.json say about where the data came
    from. The selected posts' captures are read once, counted by source and
    tool version; the capture period, the sources and the tool versions come
    from those counts."""
    # Counted by fetch first, then the few fetches joined: half the time of
    # joining every capture to its fetch (0.09 to 0.05 s at 100k posts).
    db.execute(
        f"CREATE TABLE {PROVENANCE_TABLE} AS SELECT f.source_id AS source_id, f.tool_version AS tool_version, "
        "min(f.retrieved_at) AS first, max(f.retrieved_at) AS last, sum(c.captures) AS captures "
        f"FROM (SELECT c.fetch_id AS fetch_id, count(*) AS captures FROM captures c "
        f"JOIN {selection.table} s ON s.post_id = c.post_id GROUP BY c.fetch_id) c "
        "JOIN fetches f ON f.id = c.fetch_id GROUP BY f.source_id, f.tool_version"
    )
    first, last = db.execute(f"SELECT min(first), max(last) FROM {PROVENANCE_TABLE}").fetchone()
    # A post's role does not depend on the election, so its elections are
    # those it is relevant to; EXISTS stops at an election's first selected
    # post (IN listed them all: 0.05 s at 100k posts).
    where = (f"EXISTS (SELECT 1 FROM election_posts ep JOIN {selection.table} s ON s.post_id = ep.post_id "
             "WHERE ep.election_id = e.id)")
    if filters.elections:
        where += f" AND e.id IN ({', '.join('?' * len(filters.elections))})"
    params = list(filters.elections)
    elections = [
        dict(zip(("id", "name", "result_announced_at", "result_label"), row))
        for row in db.execute(
            f"SELECT e.id, e.name, e.result_announced_at, e.result_label FROM elections e WHERE {where} ORDER BY e.id",
            params,
        )
    ]
    sources = [
        dict(zip(("id", "kind", "location", "title", "outlet", "published_at", "captures"), row))
        for row in db.execute(
            "SELECT c.source_id, so.kind, so.location, so.title, so.outlet, so.published_at, sum(c.captures) "
            f"FROM {PROVENANCE_TABLE} c LEFT JOIN sources so ON so.id = c.source_id "
            "GROUP BY c.source_id ORDER BY c.source_id"
        )
    ]
    tool_versions = [
        row[0]
        for row in db.execute(
            f"SELECT DISTINCT tool_version FROM {PROVENANCE_TABLE} WHERE tool_version IS NOT NULL ORDER BY 1"
        )
    ]
    return {
        "archive_as_of": db.execute("SELECT max(retrieved_at) FROM fetches").fetchone()[0],
        "capture_period": {"first": first, "last": last},
        "capturing_tool_versions": tool_versions,
        "elections": elections,
        "sources": sources,
        "counts": counts,
    }


def _descriptor(metadata: dict, tables: list[_Table], id_lists: dict[str, int], folder: Path,
                format_name: str, filters: ExportFilters, provenance: dict, digests: dict[Path, str]) -> dict:
    tables_meta = metadata["databases"]["archive"]["tables"]
    exported = {t.name for t in tables}
    descriptor = {
        "profile": "data-package",
        "name": "reaction-archive-export",
        "title": f"{metadata.get('title', 'Reaction Archive')} export",
        "description": (
            f"{tables_meta['reactions']['description']} "
            f"{metadata['databases']['archive'].get('description', '')} See README.md for provenance."
        ),
    }
    if _is_timestamp(provenance["archive_as_of"]):
        descriptor["created"] = provenance["archive_as_of"]  # the archive's latest capture, never "now"
    descriptor["licenses"] = [
        {"name": "CC-BY-4.0", "path": metadata.get("license_url"), "title": metadata.get("license")}
    ]
    descriptor["sources"] = [{"title": metadata.get("source"), "path": metadata.get("source_url")}] + [
        {"title": f"{kind}: {_plural(count, 'source')} ({_plural(captures, 'capture')})"}
        for kind, count, captures in _sources_by_kind(provenance["sources"])
    ]
    descriptor["reaction_archive"] = {
        "tool_version": __version__,
        "format": format_name,
        "filters": filters.as_dict(),
        "archive_as_of": provenance["archive_as_of"],
        "capture_period": provenance["capture_period"],
        "capturing_tool_versions": provenance["capturing_tool_versions"],
        "elections": [e["id"] for e in provenance["elections"]],
        "counts": provenance["counts"],
        "rows": {t.name: t.rows for t in tables},
        "id_lists": id_lists,
    }
    descriptor["resources"] = [_resource(t, format_name, folder, tables_meta, exported, digests) for t in tables] + [
        _id_list_resource(platform, folder, digests) for platform in sorted(id_lists)
    ]
    return descriptor


def _is_timestamp(value: str | None) -> bool:
    try:
        return bool(value) and len(value) > 10 and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _sources_by_kind(sources: list[dict]) -> list[tuple[str, int, int]]:
    kinds: dict[str, list[int]] = {}
    for source in sources:
        totals = kinds.setdefault(source["kind"] or "unknown", [0, 0])
        totals[0] += 1
        totals[1] += source["captures"]
    return [(kind, n, captures) for kind, (n, captures) in sorted(kinds.items())]


# --- README -----------------------------------------------------------------------


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _readme(metadata: dict, tables: list[_Table], id_lists: dict[str, int], without_id: int,
            format_name: str, filters: ExportFilters, provenance: dict) -> str:
    sections = [
        _readme_contents(metadata, tables, id_lists, format_name, provenance),
        _readme_filters(filters),
        _readme_provenance(provenance),
        _readme_ids_and_licence(metadata, without_id),
    ]
    return "\n".join(line for section in sections for line in section)


def _readme_contents(metadata: dict, tables: list[_Table], id_lists: dict[str, int], format_name: str,
                     provenance: dict) -> list[str]:
    tables_meta = metadata["databases"]["archive"]["tables"]
    counts = provenance["counts"]
    lines = [
        f"# {metadata.get('title', 'Reaction Archive')} export",
        "",
        tables_meta["reactions"]["description"],
        "",
        f"Exported by reaction-archive {__version__} as {format_name.upper()}, from an archive whose latest "
        f"capture is {provenance['archive_as_of'] or 'unknown (no captures)'}. The same archive exported with "
        "the same options gives byte-identical files.",
        "",
        "## Contents",
        "",
        "| file | rows | what |",
        "| --- | --- | --- |",
    ]
    for table in tables:
        lines.append(f"| {table.path} | {table.rows} | {_cell(tables_meta.get(READ_FROM.get(table.name, table.name), {}).get('description'))} |")
    for platform in sorted(id_lists):
        lines.append(f"| ids/{platform}.txt | {id_lists[platform]} | {ID_LIST_TITLES[platform]}, one per line |")
    return lines + [
        "| datapackage.json | | Frictionless Data Package: a table schema per file, with column descriptions |",
        "| SHA256SUMS | | SHA-256 of every other file: check with `sha256sum -c SHA256SUMS` |",
        "",
        f"{_plural(counts['posts'], 'post')} by {_plural(counts['leaders'], 'roster leader')} from "
        f"{_plural(counts['countries'], 'country', 'countries')} (posts by accounts outside the roster count "
        "among the posts only).",
        "",
    ]


def _readme_filters(filters: ExportFilters) -> list[str]:
    chosen = filters.as_dict()
    if not chosen:
        return ["## Filters", "", "None: every reaction in the archive.", ""]
    lines = ["## Filters", ""]
    for name, value in chosen.items():
        lines.append(f"- {name}: {', '.join(value) if isinstance(value, list) else value}")
    return lines + [
        "",
        "Posts, versions and captures are those of the exported reactions. Reported reactions follow the "
        "election, country, role-kind and date filters (on the report's date); platform and language do "
        "not apply to them.",
        "",
    ]


def _readme_provenance(provenance: dict) -> list[str]:
    lines = ["## Provenance", ""]
    for election in provenance["elections"]:
        lines.append(
            f"- Election {election['id']}: {election['name']}; result: {election['result_label']} "
            f"({election['result_announced_at']})."
        )
    period = provenance["capture_period"]
    if period["first"]:
        lines.append(
            f"- Capture period of the exported posts: {period['first']} to {period['last']} "
            "(captures.retrieved_at, UTC)."
        )
    if provenance["capturing_tool_versions"]:
        lines.append(f"- Captured by reaction-archive {', '.join(provenance['capturing_tool_versions'])}.")
    if provenance["sources"]:
        lines += ["", "| source | kind | title | outlet | published | captures |", "| --- " * 6 + "|"]
        for s in provenance["sources"]:
            title = s["title"] or _public_location(s["location"])
            lines.append(
                f"| {_cell(s['id'])} | {_cell(s['kind'])} | {_cell(title)} | {_cell(s['outlet'])} "
                f"| {_cell(s['published_at'])} | {s['captures']} |"
            )
    return lines + [""]


def _readme_ids_and_licence(metadata: dict, without_id: int) -> list[str]:
    lines = [
        "## Id lists",
        "",
        "The ids/ files are dehydrated lists: only the posts' ids, so that they can be shared where a "
        "platform's terms allow ids but not content, and fetched again (\"hydrated\") by whoever uses them.",
        "",
    ]
    if without_id:
        lines += [
            f"{without_id} exported post{'s have' if without_id != 1 else ' has'} no shareable platform id "
            "(quoted in an article without its id, or on a platform without an id list) and appear in no list.",
            "",
        ]
    return lines + [
        "## Licence",
        "",
        f"{metadata.get('license', '')} ({metadata.get('license_url', '')})",
        "",
        "The archive's structure, metadata and provenance may be reused with attribution. The text of each "
        "post belongs to its author and is recorded here for research and journalism: cite the archive, and "
        "each post by its URL.",
        "",
    ]


def _public_location(location: str | None) -> str:
    """A URL as it is; a local file by its name only (not the capturing machine's path)."""
    if not location:
        return ""
    if location.startswith(("https://", "http://")):
        return location
    return Path(location).name


# --- the package --------------------------------------------------------------------


def export_package(
    archive: Archive | str | Path,
    folder: str | Path,
    *,
    format_name: str = "csv",
    tables: tuple[str, ...] = ("reactions",),
    filters: ExportFilters = ExportFilters(),
    overwrite: bool = False,
    batch_size: int = BATCH_SIZE,
    partition: tuple[str, ...] = (),
) -> ExportResult:
    """Write the reactions (and the other ``tables`` asked for) as a Data
    Package in ``folder``. The package is built beside it and moved in place
    at the end, so a failed export leaves no half-written folder.

    ``archive`` is an open :class:`~scraper.archive.Archive`, or the path of
    an archive file, which is then opened here just for this export."""
    if format_name not in FORMATS:
        raise InputError(f"unknown format {format_name!r} (known: {', '.join(FORMATS)})")
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise InputError(f"cannot export {', '.join(unknown)} (exportable: {', '.join(TABLES)})")
    if format_name == "parquet":
        _parquet_modules()
    partition = _partitioning(partition, format_name)
    filters = filters.normalised()
    folder = Path(folder)
    _check_target(folder, overwrite)
    with _opened(archive) as (path, db):
        work = folder.parent / f".{folder.name}.partial"
        if work.exists():
            shutil.rmtree(work)
        (work / "data").mkdir(parents=True)
        try:
            result = _export_into(path, db, work, format_name,
                                  [t for t in TABLES if t == "reactions" or t in tables], filters, batch_size,
                                  partition)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(work, folder)
    result.folder = folder
    return result


@contextmanager
def _opened(archive: Archive | str | Path):
    """The archive's path and database. An archive given by its path is
    opened here, and closed after: with sqlite-utils only, not through
    scraper.archive, which loads every importer (half the start-up time of
    `reactions export`)."""
    if not isinstance(archive, (str, os.PathLike)):
        yield Path(archive.path), archive.db
        return
    from sqlite_utils import Database

    path = Path(archive)
    if not path.is_file():
        raise ArchiveUnwritableError(f"{path}: no archive here yet; run 'reactions scrape' first")
    conn = sqlite3.connect(str(path), timeout=5.0)
    try:
        try:
            db = Database(conn)
            db.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except sqlite3.DatabaseError as exc:
            raise _read_error(path, exc) from None
        yield path, db
    finally:
        conn.close()


def _check_target(folder: Path, overwrite: bool) -> None:
    if not folder.exists():
        return
    if not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder")
    if not any(folder.iterdir()):
        return
    if not overwrite:
        raise InputError(f"{folder}: not empty; choose a new folder, or --overwrite to replace an earlier export")
    if not (folder / "datapackage.json").exists():
        raise InputError(f"{folder}: not empty and not an earlier export (no datapackage.json); not replacing it")


def _partitioning(partition, format_name: str) -> tuple[str, ...]:
    """The checked --partition columns (Parquet only)."""
    from .partitioned import parse_partition

    partition = parse_partition(partition)
    if partition and format_name != "parquet":
        raise InputError(f"--partition writes a Hive layout of Parquet files: add --format parquet "
                         f"(not {format_name})")
    return partition


def _export_into(path: Path, db, work: Path, format_name: str, names: list[str],
                 filters: ExportFilters, batch_size: int, partition: tuple[str, ...] = ()) -> ExportResult:
    from .publish import load_metadata
    from .schema import schema_is_current

    if not schema_is_current(db):
        raise ArchiveUnwritableError(
            f"{path}: the archive's schema is older than this version; run 'reactions init' to migrate it"
        )
    metadata = load_metadata()
    tables_meta = metadata["databases"]["archive"]["tables"]
    result = ExportResult(work, format_name)
    digests: dict[Path, str] = {}
    snapshot = not db.conn.in_transaction
    try:
        if snapshot:
            db.execute("BEGIN")  # one read snapshot: all files describe the same archive state
        _check_filters(db, filters)
        selection = _select(db, filters)
        with ExitStack() as opened:
            id_lists = _IdLists(work, digests, opened)
            tables = [
                _write_table(db, work, name, format_name, filters, selection, batch_size, tables_meta, digests,
                             partition if name == "reactions" else ())
                for name in names
            ]
            id_lists.add_selected(db, filters)
        result.rows = {table.name: table.rows for table in tables}
        result.id_lists = id_lists.written()
        selected = db.execute(f"SELECT count(*) FROM {selection.table}").fetchone()[0]
        without_id = selected - sum(result.id_lists.values())
        provenance = _provenance(db, filters, selection, _counts(db, filters, selected))
    except sqlite3.DatabaseError as exc:
        raise _read_error(path, exc) from None
    finally:
        if snapshot and db.conn.in_transaction:
            db.execute("ROLLBACK")  # also drops the temporary tables, faster than DROP TABLE
        else:
            _drop_temp_tables(db)
    descriptor = _descriptor(metadata, tables, result.id_lists, work, format_name, filters, provenance, digests)
    _write_text(work / "datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n")
    readme = _readme(metadata, tables, result.id_lists, without_id, format_name, filters, provenance)
    _write_text(work / "README.md", readme)
    result.checksums = _write_checksums(work, digests)
    return result


def _write_table(db, work: Path, name: str, format_name: str, filters: ExportFilters, selection: _Selection,
                 batch_size: int, tables_meta: dict, digests: dict[Path, str],
                 partition: tuple[str, ...] = ()) -> _Table:
    columns, types = _columns(db, READ_FROM.get(name, name))
    table = _Table(name, columns, types, f"data/{name}/" if partition else f"data/{name}.{format_name}",
                   partition=partition)
    if format_name == "csv" and export_csv.supported(columns):
        with _DataFile(work / table.path, digests) as out:
            table.rows = _write_csv_lines(db, out, table, READ_FROM.get(name, name), filters, selection, batch_size)
        return table
    sql, params = _table_query(name, columns, filters, selection)
    batches = _column_batches(_rows(db, sql, params, batch_size))
    if partition:
        from .partitioned import write_partitioned

        schema = _parquet_schema(table, tables_meta.get(READ_FROM.get(name, name), {}).get("columns", {}))
        table.parts = write_partitioned(work, table, batches, schema, partition, batch_size, digests)
        table.rows = sum(part.rows for part in table.parts)
    elif format_name == "parquet":
        table.rows = _write_parquet(work / table.path, table, batches,
                                    tables_meta.get(READ_FROM.get(name, name), {}).get("columns", {}))
    else:
        write = _write_csv if format_name == "csv" else _write_jsonl
        with _DataFile(work / table.path, digests) as out:
            table.rows = write(out, table, batches)
    return table


def _read_error(path: Path, exc: sqlite3.DatabaseError) -> Exception:
    message = str(exc)
    if "locked" in message or "busy" in message:
        return ArchiveLockedError(f"{path}: the archive is locked by another process ({message})")
    return ArchiveUnwritableError(f"{path}: cannot read the archive for export ({message})")


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def _write_checksums(folder: Path, digests: dict[Path, str]) -> dict[str, str]:
    """SHA256SUMS in ``sha256sum`` format, every file but itself, sorted by
    path (files hashed as they were written are not read again)."""
    checksums = {
        path.relative_to(folder).as_posix(): digests.get(path) or _sha256(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "SHA256SUMS"
    }
    lines = [f"{digest}  {name}\n" for name, digest in sorted(checksums.items())]
    _write_text(folder / "SHA256SUMS", "".join(lines))
    return checksums


def read_checksums(folder: str | Path) -> dict[str, str]:
    """The SHA256SUMS of an export, as relative path -> digest."""
    text = (Path(folder) / "SHA256SUMS").read_text(encoding="utf-8")
    return {name: digest for digest, name in (line.split("  ", 1) for line in text.splitlines() if line)}


def verify_package(folder: str | Path) -> list[str]:
    """Files of an export whose checksum no longer matches (empty: all good)."""
    folder = Path(folder)
    return [name for name, digest in read_checksums(folder).items()
            if not (folder / name).is_file() or _sha256(folder / name) != digest]
