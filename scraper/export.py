"""Exports for researchers: the archive as a Frictionless Data Package.

:func:`export_package` writes one folder::

    datapackage.json    table schemas, descriptions from metadata.yml, licences
    README.md           provenance: sources, capture period, counts, filters
    data/reactions.csv  (or .jsonl, .parquet) and the other tables asked for
    ids/x.txt ...       dehydrated id lists, one id per line, per platform
    SHA256SUMS          checksums of every other file (``sha256sum -c``)

Exports are about reactions: the filters select rows of the ``reactions``
view, and the posts, versions and captures exported beside them are those of
the selected posts. Everything is read in one snapshot, streamed in batches
(memory stays flat however large the archive) and written in a fixed order
with no clock time inside, so the same archive and options give
byte-identical files. Nothing is read from the environment.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from . import __version__
from .archive import Archive
from .config import ROLE_KINDS
from .errors import ArchiveLockedError, ArchiveUnwritableError, InputError
from .model import PLATFORMS
from .publish import load_metadata
from .schema import schema_is_current

FORMATS = ("csv", "jsonl", "parquet")
TABLES = ("reactions", "posts", "post_versions", "captures", "reported_reactions")
BATCH_SIZE = 5000  # fixed: Parquet row groups follow it, so it is part of the bytes

# Columns holding JSON text in the archive: arrays and objects in the package.
JSON_COLUMNS = {
    "matched_terms": "array",
    "hashtags": "array",
    "mentions": "array",
    "links": "array",
    "media": "array",
    "extra": "object",
}
# View columns computed by an expression have no declared SQLite type.
COMPUTED_TYPES = {"author": "string", "hours_after_result": "number"}
# Internal to one archive file and renumbered by reprocess: not exported.
OMITTED_COLUMNS = {"reactions": {"post_rowid"}}

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
    """SQL condition on the ``reactions`` view for the filters, and its parameters."""
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


SELECTION_TABLE = "temp.export_selection"


def _select_posts(db, filters: ExportFilters) -> None:
    """The posts of the selected reactions, once, for the other tables and
    the id lists (a temporary table: the archive itself is not written)."""
    where, params = reactions_where(filters)
    db.execute(f"DROP TABLE IF EXISTS {SELECTION_TABLE}")
    db.execute(f"CREATE TABLE {SELECTION_TABLE} (post_id TEXT PRIMARY KEY)")
    db.execute(f"INSERT OR IGNORE INTO {SELECTION_TABLE} SELECT r.post_id FROM reactions r WHERE {where}", params)


def _table_query(name: str, columns: list[str], filters: ExportFilters) -> tuple[str, list]:
    """The query of one exported table, in a stable order (a unique key last)."""
    selected = f"JOIN {SELECTION_TABLE} s ON s.post_id = "
    listed = ", ".join(f"t.{c}" for c in columns)
    if name == "reactions":
        where, params = reactions_where(filters, "t")
        return f"SELECT {listed} FROM reactions t WHERE {where} ORDER BY t.election, t.created_at, t.post_id", params
    if name == "posts":
        return f"SELECT {listed} FROM posts t {selected}t.id ORDER BY t.created_at, t.id", []
    if name == "post_versions":
        return f"SELECT {listed} FROM post_versions t {selected}t.post_id ORDER BY t.post_id, t.version, t.id", []
    if name == "captures":
        return f"SELECT {listed} FROM captures t {selected}t.post_id ORDER BY t.retrieved_at, t.id", []
    if name == "reported_reactions":
        where, params = _reported_where(filters)
        return (
            f"SELECT {', '.join('rr.' + c for c in columns)} FROM reported_reactions rr "
            f"LEFT JOIN leaders l ON l.id = rr.leader_id WHERE {where} "
            "ORDER BY rr.election_id, rr.reported_on, rr.leader_id, rr.id",
            params,
        )
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


def _write_csv(path: Path, table: _Table, batches: Iterator[list[tuple]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(table.columns)
        for batch in batches:
            writer.writerows(batch)
            count += len(batch)
    return count


def _write_jsonl(path: Path, table: _Table, batches: Iterator[list[tuple]]) -> int:
    """One JSON object per line; JSON columns become real arrays and objects."""
    decode = [i for i, kind in enumerate(table.types) if kind in ("array", "object")]
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as file:
        for batch in batches:
            lines = []
            for row in batch:
                values = list(row)
                for i in decode:
                    if values[i] is not None:
                        values[i] = json.loads(values[i])
                lines.append(json.dumps(dict(zip(table.columns, values)), ensure_ascii=False, separators=(",", ":")))
            file.write("\n".join(lines) + "\n")
            count += len(batch)
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


def _write_parquet(path: Path, table: _Table, batches: Iterator[list[tuple]], descriptions: dict) -> int:
    """One row group per batch; JSON columns stay JSON text (as in CSV), and
    each column carries its description as field metadata."""
    pa, pq = _parquet_modules()
    arrow_types = {"integer": pa.int64(), "number": pa.float64()}
    schema = pa.schema(
        [
            pa.field(name, arrow_types.get(kind, pa.string()), metadata={"description": descriptions.get(name, "")})
            for name, kind in zip(table.columns, table.types)
        ]
    )
    count = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for batch in batches:
            columns = list(zip(*batch))
            writer.write_batch(
                pa.RecordBatch.from_arrays(
                    [pa.array(values, type=f.type) for values, f in zip(columns, schema)], schema=schema
                )
            )
            count += len(batch)
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


def _write_id_lists(db, folder: Path) -> tuple[dict[str, int], int]:
    """ids/<platform>.txt for the selected posts, in posting order; returns
    the counts per platform and how many selected posts have no shareable id."""
    platforms = tuple(ID_LIST_TITLES)
    cursor = db.execute(
        f"SELECT p.platform, p.native_id, p.url FROM posts p JOIN {SELECTION_TABLE} s ON s.post_id = p.id "
        "WHERE p.id_is_derived = 0 "
        f"AND p.platform IN ({', '.join('?' * len(platforms))}) ORDER BY p.platform, p.created_at, p.id",
        platforms,
    )
    counts: dict[str, int] = {}
    files = {}
    try:
        for batch in iter(lambda: cursor.fetchmany(BATCH_SIZE), []):
            lines: dict[str, list[str]] = {}
            for platform, native_id, url in batch:
                value = dehydrated_id(platform, native_id, url)
                if value is not None:
                    lines.setdefault(platform, []).append(value + "\n")
            for platform, values in lines.items():
                if platform not in files:
                    (folder / "ids").mkdir(exist_ok=True)
                    files[platform] = (folder / "ids" / f"{platform}.txt").open("w", encoding="utf-8", newline="\n")
                files[platform].writelines(values)
                counts[platform] = counts.get(platform, 0) + len(values)
    finally:
        for file in files.values():
            file.close()
    selected = db.execute(f"SELECT count(*) FROM {SELECTION_TABLE}").fetchone()[0]
    return counts, selected - sum(counts.values())


# --- describing -------------------------------------------------------------------


PRIMARY_KEYS = {
    "reactions": ["post_id", "election"],
    "posts": ["id"],
    "post_versions": ["id"],
    "captures": ["id"],
    "reported_reactions": ["id"],
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


def _resource(table: _Table, format_name: str, folder: Path, tables_meta: dict, exported: set[str]) -> dict:
    meta = tables_meta.get(table.name, {})
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
    resource.update(_file_integrity(folder / table.path))
    resource["schema"] = _table_schema(table, meta.get("columns", {}), exported)
    return resource


def _id_list_resource(platform: str, folder: Path) -> dict:
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
        **_file_integrity(folder / path),
    }


def _file_integrity(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "hash": f"sha256:{_sha256(path)}"}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _provenance(db, filters: ExportFilters) -> dict:
    """What the README and datapackage.json say about where the data came from."""
    first, last = db.execute(
        "SELECT min(c.retrieved_at), max(c.retrieved_at) "
        f"FROM captures c JOIN {SELECTION_TABLE} s ON s.post_id = c.post_id"
    ).fetchone()
    # From the selected posts, not the view again: a post's role does not
    # depend on the election, so its elections are those it is relevant to.
    chosen = f" AND ep.election_id IN ({', '.join('?' * len(filters.elections))})" if filters.elections else ""
    elections = [
        dict(zip(("id", "name", "result_announced_at", "result_label"), row))
        for row in db.execute(
            "SELECT e.id, e.name, e.result_announced_at, e.result_label FROM elections e WHERE e.id IN "
            f"(SELECT ep.election_id FROM election_posts ep JOIN {SELECTION_TABLE} s ON s.post_id = ep.post_id"
            f"{chosen}) ORDER BY e.id",
            list(filters.elections),
        )
    ]
    sources = [
        dict(zip(("id", "kind", "location", "title", "outlet", "published_at", "captures"), row))
        for row in db.execute(
            "SELECT c.source_id, so.kind, so.location, so.title, so.outlet, so.published_at, count(*) "
            f"FROM captures c JOIN {SELECTION_TABLE} s ON s.post_id = c.post_id "
            "LEFT JOIN sources so ON so.id = c.source_id GROUP BY c.source_id ORDER BY c.source_id"
        )
    ]
    tool_versions = [
        row[0]
        for row in db.execute(
            f"SELECT DISTINCT c.tool_version FROM captures c JOIN {SELECTION_TABLE} s ON s.post_id = c.post_id "
            "WHERE c.tool_version IS NOT NULL ORDER BY 1"
        )
    ]
    posts, leaders, countries = db.execute(
        "SELECT count(*), count(DISTINCT l.id), count(DISTINCT l.country) "
        f"FROM {SELECTION_TABLE} s JOIN posts p ON p.id = s.post_id "
        "LEFT JOIN accounts a ON a.id = p.account_id LEFT JOIN leaders l ON l.id = a.leader_id"
    ).fetchone()
    return {
        "archive_as_of": db.execute("SELECT max(retrieved_at) FROM captures").fetchone()[0],
        "capture_period": {"first": first, "last": last},
        "capturing_tool_versions": tool_versions,
        "elections": elections,
        "sources": sources,
        "counts": {"posts": posts, "leaders": leaders, "countries": countries},
    }


def _descriptor(metadata: dict, tables: list[_Table], id_lists: dict[str, int], folder: Path,
                format_name: str, filters: ExportFilters, provenance: dict) -> dict:
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
    descriptor["resources"] = [_resource(t, format_name, folder, tables_meta, exported) for t in tables] + [
        _id_list_resource(platform, folder) for platform in sorted(id_lists)
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
        lines.append(f"| {table.path} | {table.rows} | {_cell(tables_meta.get(table.name, {}).get('description'))} |")
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
    archive: Archive,
    folder: str | Path,
    *,
    format_name: str = "csv",
    tables: tuple[str, ...] = ("reactions",),
    filters: ExportFilters = ExportFilters(),
    overwrite: bool = False,
    batch_size: int = BATCH_SIZE,
) -> ExportResult:
    """Write the reactions (and the other ``tables`` asked for) as a Data
    Package in ``folder``. The package is built beside it and moved in place
    at the end, so a failed export leaves no half-written folder."""
    if format_name not in FORMATS:
        raise InputError(f"unknown format {format_name!r} (known: {', '.join(FORMATS)})")
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise InputError(f"cannot export {', '.join(unknown)} (exportable: {', '.join(TABLES)})")
    if format_name == "parquet":
        _parquet_modules()
    filters = filters.normalised()
    folder = Path(folder)
    _check_target(folder, overwrite)
    work = folder.parent / f".{folder.name}.partial"
    if work.exists():
        shutil.rmtree(work)
    (work / "data").mkdir(parents=True)
    try:
        result = _export_into(archive, work, format_name, [t for t in TABLES if t == "reactions" or t in tables],
                              filters, batch_size)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(work, folder)
    result.folder = folder
    return result


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


def _export_into(archive: Archive, work: Path, format_name: str, names: list[str],
                 filters: ExportFilters, batch_size: int) -> ExportResult:
    db = archive.db
    if not schema_is_current(db):
        raise ArchiveUnwritableError(
            f"{archive.path}: the archive's schema is older than this version; run 'reactions init' to migrate it"
        )
    metadata = load_metadata()
    tables_meta = metadata["databases"]["archive"]["tables"]
    result = ExportResult(work, format_name)
    snapshot = not db.conn.in_transaction
    try:
        if snapshot:
            db.execute("BEGIN")  # one read snapshot: all files describe the same archive state
        _check_filters(db, filters)
        _select_posts(db, filters)
        tables = []
        for name in names:
            columns, types = _columns(db, name)
            table = _Table(name, columns, types, f"data/{name}.{format_name}")
            sql, params = _table_query(name, columns, filters)
            batches = _rows(db, sql, params, batch_size)
            path = work / table.path
            if format_name == "csv":
                table.rows = _write_csv(path, table, batches)
            elif format_name == "jsonl":
                table.rows = _write_jsonl(path, table, batches)
            else:
                table.rows = _write_parquet(path, table, batches, tables_meta.get(name, {}).get("columns", {}))
            tables.append(table)
            result.rows[name] = table.rows
        result.id_lists, without_id = _write_id_lists(db, work)
        provenance = _provenance(db, filters)
    except sqlite3.DatabaseError as exc:
        raise _read_error(archive.path, exc) from None
    finally:
        db.execute(f"DROP TABLE IF EXISTS {SELECTION_TABLE}")
        if snapshot and db.conn.in_transaction:
            db.execute("ROLLBACK")
    descriptor = _descriptor(metadata, tables, result.id_lists, work, format_name, filters, provenance)
    _write_text(work / "datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n")
    readme = _readme(metadata, tables, result.id_lists, without_id, format_name, filters, provenance)
    _write_text(work / "README.md", readme)
    result.checksums = _write_checksums(work)
    return result


def _read_error(path: Path, exc: sqlite3.DatabaseError) -> Exception:
    message = str(exc)
    if "locked" in message or "busy" in message:
        return ArchiveLockedError(f"{path}: the archive is locked by another process ({message})")
    return ArchiveUnwritableError(f"{path}: cannot read the archive for export ({message})")


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


def _write_checksums(folder: Path) -> dict[str, str]:
    """SHA256SUMS in ``sha256sum`` format, every file but itself, sorted by path."""
    checksums = {
        path.relative_to(folder).as_posix(): _sha256(path)
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
