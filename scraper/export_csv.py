"""CSV lines of an exported table, made by SQLite: one string per row.

Reading a row into Python costs an object per value, and at 40 columns
that alone took longer than ``sqlite3 -csv`` needs for the whole file
(benchmarks/bench_browse.py, variant export-csv). So each line is built by
one ``printf`` in the query and Python only joins, writes and hashes
them (as bytes: SQLite's text is UTF-8 already). The dialect (RFC 4180, the same for every CSV file of a
package; datapackage.json says it as the resource's ``dialect``):

- every text value is quoted, ``"`` doubled inside (``%w``), whatever it
  holds: commas, line breaks, a lone CR, any character;
- NULL is an empty field without quotes, so it differs from the empty
  string, written ``""``;
- integers as they are; numbers (REAL) by SQLite's own text, up to 15
  significant digits, which holds every number the archive stores exactly:
  each is rounded when it is written (hours to 0.1, confidence and score to
  0.01, coordinates to 0.01), see docs/exporting.md;
- lines end with ``\\n``; a header row of the column names.

Rows SQLite cannot write that way are written by Python
(:func:`csv_row`), chosen per row in the query: a text value holding NUL
(``printf`` would stop at it), -0.0 (SQLite prints 0.0; the hours keep the
sign as the former view did), an infinite number, or a value of another
type than its column's (text in an INTEGER column). Python writes them
in the same dialect, so which path wrote a row does not show in the file.

A NULL text value travels through ``printf`` as a random marker (made anew
for every file, never in the output), removed from each batch by one
replace: a value can only be mistaken for it by holding those 24 random
characters, which no one can know in advance.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

# SQLite's default limit on a function's arguments is 127 (printf takes the
# format too); wider tables are written by the other writer.
MAX_COLUMNS = 120
ROW_FUNCTION = "reaction_archive_csv_row"
DIALECT = {"delimiter": ",", "doubleQuote": True, "quoteChar": '"', "lineTerminator": "\n", "header": True}


def supported(columns: list[str]) -> bool:
    """Whether SQLite can build this table's lines (a row of one column
    needs csv.writer's special case for an empty line)."""
    return 2 <= len(columns) <= MAX_COLUMNS


def csv_field(value) -> str:
    """One value in the dialect: text quoted, NULL empty, a number unquoted."""
    if value is None:
        return ""
    if type(value) is str:
        return '"' + value.replace('"', '""') + '"'
    if type(value) is float:  # to 15 significant digits, as SQLite writes the other rows
        return float.__repr__(float(f"{value:.15g}"))
    if type(value) is int:
        return str(value)
    return '"' + str(value).replace('"', '""') + '"'  # bytes: as csv.writer would show them


def csv_row(*values) -> str:
    """A whole line but its line end, for the rows SQLite does not write."""
    return ",".join(map(csv_field, values))


def register(conn) -> None:
    """Make :func:`csv_row` callable from SQL on this connection."""
    conn.create_function(ROW_FUNCTION, -1, csv_row, deterministic=True)


def line_expression(refs: list[str], kinds: list[str], declared: list[str], null_marker: str) -> str:
    """SQL for one row's line. ``refs`` are the column references of the
    query, ``kinds`` their package types (integer, number, string ...),
    ``declared`` their declared SQLite types ('' for an expression)."""
    formats, arguments, exceptional = [], [], []
    for ref, kind, decl in zip(refs, kinds, declared):
        decl = (decl or "").upper()
        if kind == "integer":
            formats.append("%s")
            arguments.append(ref)
            # No check: INTEGER affinity keeps integers (and reals) as numbers,
            # and each check reads the value again (about 0.1 us a value).
        elif kind == "number":
            formats.append("%s")
            arguments.append(ref)
            # -0.0, which SQLite prints as 0.0 (= 0, so 0.0 too: rare)
            exceptional.append(f"{ref} = 0")
        else:
            formats.append('"%w"')
            arguments.append(f"ifnull({ref}, '{null_marker}')")
            exceptional.append(f"instr({ref}, char(0))")
            if "CHAR" not in decl and "CLOB" not in decl and "TEXT" not in decl:
                # no text affinity: a number here would be formatted by SQLite
                exceptional.append(f"typeof({ref}) IN ('real', 'blob')")
    line = f"printf('{','.join(formats)}', {', '.join(arguments)})"
    # As bytes: the line is UTF-8 in SQLite already, and a str would be
    # decoded for Python only to be encoded again for the file (0.6 s of
    # 5 at a million posts).
    return (f"CAST(CASE WHEN {' OR '.join(exceptional)} THEN {ROW_FUNCTION}({', '.join(refs)}) "
            f"ELSE {line} END AS BLOB)")


def new_null_marker() -> str:
    """Random characters a value would have to hold to be taken for NULL
    (no quote, no NUL: it passes through %w unchanged)."""
    return "\x1f" + secrets.token_hex(12)


def header(columns: list[str]) -> str:
    """The header row: column names are identifiers, never quoted."""
    return ",".join(columns) + "\n"


def batches_of_lines(cursor, batch_size: int, null_marker: str) -> Iterator[tuple[bytes, int]]:
    """The query's lines, as UTF-8 of ``batch_size`` rows and their count."""
    quoted_marker = f'"{null_marker}"'.encode("utf-8")
    while True:
        rows = cursor.fetchmany(batch_size)
        if not rows:
            return
        data = b"\n".join([row[0] for row in rows]) + b"\n"
        if quoted_marker in data:
            data = data.replace(quoted_marker, b"")
        yield data, len(rows)
