"""Partitioned Parquet: ``reactions export --format parquet --partition
election,platform,month``.

The reactions are written in a Hive-style layout, one folder level per
partition column and one file per partition::

    data/reactions/election=peru-2021/platform=x/month=2021-06/part-0.parquet

which DuckDB (``read_parquet('data/reactions/**/*.parquet',
hive_partitioning = true)``), Spark (``spark.read.parquet('data/reactions')``),
BigQuery external tables (hive partitioning mode AUTO) and pyarrow datasets
read directly, skipping the folders a query filters out.

As Hive does, a partition column is in the folder names, not in the files
(readers add it back from the path); ``month`` is the post's UTC month
(``YYYY-MM`` of ``created_at``). A value is written as it is, with any
character other than letters, digits and ``._-`` escaped as ``%XX`` (readers
decode it); a missing value is ``__HIVE_DEFAULT_PARTITION__``, Hive's name for
it. The rows of each file are in the export's order (election, posting time,
post id), in row groups of the export's batch size, so the same archive and
options give byte-identical files.

Streaming: rows arrive in export order, so once the stream has passed an
(election, month) the files of earlier ones are complete and closed; only
the files of the current election and month stay open, each with at most
one batch of rows waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

# Columns the reactions can be partitioned by: the table's own, and month.
# (reaction_type and milestone: a type's or a stage's reactions read alone.)
PARTITION_COLUMNS = ("election", "platform", "month", "country_code", "role_kind", "language", "reaction_type",
                     "milestone")
DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
PART_NAME = "part-0.parquet"


def parse_partition(text: str | tuple | list | None) -> tuple[str, ...]:
    """``"election,platform,month"`` -> its columns, checked."""
    from .errors import InputError

    if not text:
        return ()
    names = [name.strip() for name in (text.split(",") if isinstance(text, str) else text) if name.strip()]
    unknown = [name for name in names if name not in PARTITION_COLUMNS]
    if unknown:
        raise InputError(f"--partition {', '.join(unknown)}: not a partition column "
                         f"(choose from {', '.join(PARTITION_COLUMNS)})")
    if len(set(names)) != len(names):
        raise InputError(f"--partition {text}: a column is named twice")
    return tuple(names)


def folder_value(value) -> str:
    if value is None or value == "":
        return DEFAULT_PARTITION
    return quote(str(value), safe="")  # letters, digits and _.-~ stay as they are


@dataclass
class Part:
    """One partition's file: its path in the package and its values."""

    path: str
    values: dict[str, str | None]
    rows: int = 0
    bytes: int = 0
    sha256: str = ""


@dataclass
class _Open:
    writer: object
    part: Part
    waiting: list[list] = field(default_factory=list)  # columns of rows not yet written
    count: int = 0


def write_partitioned(work: Path, table, batches, schema, partition: tuple[str, ...], batch_size: int,
                      digests: dict) -> list[Part]:
    """Write the table's column batches as Hive partitions under
    ``data/<table>/``; return the parts written, in path order. ``schema``
    is the pyarrow schema of all the table's columns (with descriptions)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = table.columns
    index = {name: position for position, name in enumerate(columns)}
    kept = [position for position, name in enumerate(columns) if name not in partition]
    file_schema = pa.schema([schema.field(position) for position in kept])
    # The export's order (election, then posting time): once the stream has
    # passed a partition's election (and month), its file is complete.
    ordering = [name for name in ("election", "month") if name in partition] if "election" in partition else []
    open_parts: dict[tuple, _Open] = {}
    closed: set[tuple] = set()  # keys of every file opened (once each)
    done: list[Part] = []

    def keys_of(batch: list) -> list[tuple]:
        found = []
        for name in partition:
            if name == "month":
                found.append([created[:7] if created else None for created in batch[index["created_at"]]])
            else:
                found.append(batch[index[name]])
        return list(zip(*found))

    def position_of(key: tuple) -> tuple:
        return tuple(key[partition.index(name)] or "" for name in ordering)

    def flush(entry: _Open) -> None:
        if entry.count:
            arrays = [pa.array(values, type=file_schema.field(i).type) for i, values in enumerate(entry.waiting)]
            entry.writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=file_schema))
            entry.part.rows += entry.count
            entry.waiting, entry.count = [[] for _ in kept], 0

    def close(key: tuple) -> None:
        entry = open_parts.pop(key)
        flush(entry)
        entry.writer.close()
        path = work / entry.part.path
        entry.part.bytes = path.stat().st_size
        done.append(entry.part)

    for batch in batches:
        groups: dict[tuple, list[int]] = {}
        for row, key in enumerate(keys_of(batch)):
            groups.setdefault(key, []).append(row)
        for key, rows in groups.items():  # in order of first row: positions never go back
            if ordering:
                position = position_of(key)
                for finished in [k for k in open_parts if position_of(k) < position]:
                    close(finished)
            entry = open_parts.get(key)
            if entry is None:
                if key in closed:
                    raise RuntimeError(f"partition {key} met again after its file was closed")
                closed.add(key)
                values = dict(zip(partition, key))
                folder = "/".join(f"{name}={folder_value(value)}" for name, value in values.items())
                part = Part(f"data/{table.name}/{folder}/{PART_NAME}", values)
                (work / part.path).parent.mkdir(parents=True, exist_ok=True)
                writer = pq.ParquetWriter(str(work / part.path), file_schema, compression="zstd")
                entry = open_parts[key] = _Open(writer, part, [[] for _ in kept])
            pending = rows
            while pending:  # row groups of batch_size rows
                chosen, pending = pending[:batch_size - entry.count], pending[batch_size - entry.count:]
                for slot, position_in_batch in enumerate(kept):
                    values = batch[position_in_batch]
                    entry.waiting[slot].extend([values[row] for row in chosen])
                entry.count += len(chosen)
                if entry.count >= batch_size:
                    flush(entry)
    for key in list(open_parts):
        close(key)
    return sorted(done, key=lambda part: part.path)


def resource(table, parts: list[Part], partition: tuple[str, ...], file_fields: list[dict], described: dict,
             digests: dict, folder: Path) -> dict:
    """The package resource of a partitioned table: every part listed (a
    multipart resource), with the partition values of each."""
    for part in parts:
        part.sha256 = digests[folder / part.path]  # (hashed by the export as it was written, or after)
    return {
        "name": table.name.replace("_", "-"),
        "path": [part.path for part in parts],
        "profile": "tabular-data-resource",
        "title": table.name,
        "description": described.get("description", ""),
        "format": "parquet",
        "mediatype": "application/vnd.apache.parquet",
        "schema": {"fields": file_fields, "missingValues": [""]},
        "partitioning": {
            "style": "hive",
            "columns": list(partition),
            "month": "YYYY-MM of created_at (UTC)" if "month" in partition else None,
            "null_value": DEFAULT_PARTITION,
            "read_with": f"read_parquet('data/{table.name}/**/*.parquet', hive_partitioning = true)",
            "parts": [{"path": part.path, "values": part.values, "rows": part.rows, "bytes": part.bytes,
                       "hash": f"sha256:{part.sha256}"} for part in parts],
        },
    }
