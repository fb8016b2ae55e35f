"""CSV lines built by SQLite (scraper/export_csv.py): hostile values read
back by csv.reader, DuckDB and pandas as the archive holds them."""

import csv
import io
import math
import sqlite3

import duckdb
import pytest

from scraper import export_csv
from scraper.export import export_package, verify_package

from .test_export import dialect_bytes, multi_archive, roles_archive  # noqa: F401 (fixtures)

LONG = "largo " * 200_000  # 1.2 MB in one value
HOSTILE_TEXT = [
    None, "", " ", "plain", "a,b", 'say "hi"', '"', '""', '","', "two\nlines", "crlf\r\nhere", "lone\rcr", "\r",
    "nul\x00inside", "\x00", "tab\there", "é,ñ 中文", "emoji 🗳️✅ and ZWJ 👩‍👩‍👧", "\u2028line\u2029sep", '["a", "b"]',
    "007", "1e5", "-0.0", "NULL", "(NULL)", "\x1f" + "0" * 24, "\x1f" + "a" * 24 + '"', "trailing space ", LONG,
    "=1+2", "\ufeffbom",
]
# Numbers as the archive stores them: rounded when written (hours to 0.1, confidence and score to 0.01)
STORED_NUMBERS = [None, 0.0, -0.0, 1.5, -36.0, 0.84, 1.0, -16.29, 12345.6, -0.1, 1e-2]
# and any others, written with 15 significant digits
NUMBERS = STORED_NUMBERS + [0.1 + 0.2, 1 / 3, 1e-05, 1e16, 123456789012345.6, float("inf"), float("-inf"),
                            99284.63011873909]
INTEGERS = [None, 0, -1, 2**63 - 1, -(2**63), 7]


@pytest.fixture(autouse=True)
def long_fields():
    """csv.reader refuses fields over 128 KiB unless told (as for any CSV)."""
    limit = csv.field_size_limit(10 * len(LONG))
    yield
    csv.field_size_limit(limit)


@pytest.fixture
def hostile_table():
    """A real SQLite table with one column of each kind the exports have:
    TEXT, INTEGER, REAL, and two without a declared type (a number, a string)."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER, s TEXT, i INTEGER, f REAL, h, u)")
    rows = []
    for n in range(max(len(HOSTILE_TEXT), len(NUMBERS), len(INTEGERS))):
        rows.append((n, HOSTILE_TEXT[n % len(HOSTILE_TEXT)], INTEGERS[n % len(INTEGERS)], NUMBERS[n % len(NUMBERS)],
                     NUMBERS[(n + 3) % len(NUMBERS)], [None, "x,y", 5, 2.5, "z"][n % 5]))
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", rows)
    yield conn, rows
    conn.close()


def lines_of(conn, columns, kinds, declared, batch_size=7) -> str:
    export_csv.register(conn)
    marker = export_csv.new_null_marker()
    expression = export_csv.line_expression(columns, kinds, declared, marker)
    cursor = conn.execute(f"SELECT {expression} FROM t ORDER BY id")
    lines = b"".join(data for data, _ in export_csv.batches_of_lines(cursor, batch_size, marker))
    return export_csv.header(columns) + lines.decode("utf-8")


COLUMNS = ["id", "s", "i", "f", "h", "u"]
KINDS = ["integer", "string", "integer", "number", "number", "string"]
DECLARED = ["INTEGER", "TEXT", "INTEGER", "REAL", "", ""]


def test_hostile_values_are_written_in_the_dialect(hostile_table):
    conn, _ = hostile_table
    conn.execute("DELETE FROM t WHERE f NOT IN (%s) OR h NOT IN (%s)" % ((", ".join(map(repr, STORED_NUMBERS[1:])),) * 2))
    stored = conn.execute("SELECT id, s, i, f, h FROM t ORDER BY id").fetchall()
    assert len(stored) > 10
    written = lines_of(conn, COLUMNS[:5], KINDS[:5], DECLARED[:5])
    assert written.encode("utf-8") == dialect_bytes(stored, COLUMNS[:5])


def test_hostile_values_read_back_by_csv_reader(hostile_table):
    conn, _ = hostile_table
    stored = conn.execute("SELECT * FROM t ORDER BY id").fetchall()
    read = list(csv.reader(io.StringIO(lines_of(conn, COLUMNS, KINDS, DECLARED), newline="")))
    assert read[0] == COLUMNS
    assert len(read) == len(stored) + 1
    for got, row in zip(read[1:], stored):
        assert got[1] == ("" if row[1] is None else row[1])  # text exactly, NUL, CR and all
        assert got[0] == str(row[0]) and got[2] == ("" if row[2] is None else str(row[2]))
        assert got[5] == ("" if row[5] is None else str(row[5]))  # a column without a type: whatever it holds
        for value, text in ((row[3], got[3]), (row[4], got[4])):
            if value is None:
                assert text == ""
            else:  # the float to 15 significant digits (exact for those stored), the sign of zero too
                assert float(text) == float(f"{value:.15g}")
                assert math.copysign(1, float(text)) == math.copysign(1, value)
                if value in STORED_NUMBERS:
                    assert float(text) == value


def test_null_and_empty_text_differ_in_the_file(hostile_table):
    conn, _ = hostile_table
    lines = lines_of(conn, COLUMNS, KINDS, DECLARED).split("\n")
    assert lines[1] == "0,,,,1.5,"  # NULL text, integer, real and untyped: empty fields
    assert lines[2] == '1,"",0,0.0,-36.0,"x,y"'  # the empty string is quoted


def test_duckdb_reads_the_values(hostile_table, tmp_path):
    conn, _ = hostile_table
    path = tmp_path / "t.csv"
    path.write_text(lines_of(conn, COLUMNS[:4], KINDS[:4], DECLARED[:4]), encoding="utf-8", newline="")
    stored = conn.execute("SELECT id, s, i, f FROM t ORDER BY id").fetchall()
    columns = "{'id': 'BIGINT', 's': 'VARCHAR', 'i': 'BIGINT', 'f': 'DOUBLE'}"
    read = duckdb.connect().execute(
        f"SELECT * FROM read_csv('{path}', header = true, columns = {columns}, allow_quoted_nulls = false) ORDER BY id"
    ).fetchall()
    assert len(read) == len(stored)
    for got, row in zip(read, stored):
        assert got[:3] == row[:3]  # NULL and "" kept apart, NUL and CR inside text
        if row[3] is None:
            assert got[3] is None
        else:
            assert got[3] == float(f"{row[3]:.15g}") and math.copysign(1, got[3]) == math.copysign(1, row[3])


def test_pandas_reads_the_values(hostile_table):
    pandas = pytest.importorskip("pandas")
    conn, _ = hostile_table
    text = lines_of(conn, COLUMNS[:4], KINDS[:4], DECLARED[:4]).replace("\x00", "")  # pandas' C parser ends a field at NUL
    frame = pandas.read_csv(io.StringIO(text), dtype={"s": str}, keep_default_na=False, na_values=[""])
    stored = conn.execute("SELECT id, s FROM t ORDER BY id").fetchall()
    assert [None if isinstance(v, float) else v for v in frame["s"]] == [
        None if not s else s.replace("\x00", "") for _, s in stored]


def test_the_package_of_hostile_reactions(roles_archive, tmp_path):
    """Hostile values in the reactions table, exported with the other tables:
    read back as the archive holds them, the package verifies and validates."""
    db = roles_archive.db
    ids = [row[0] for row in db.execute("SELECT rowid FROM reactions ORDER BY rowid")]
    with roles_archive.write():
        for n, rowid in enumerate(ids):
            db.execute("UPDATE reactions SET text = ?, display_name = ?, type_evidence = ? WHERE rowid = ?",
                       (HOSTILE_TEXT[n % len(HOSTILE_TEXT)], HOSTILE_TEXT[(n + 5) % len(HOSTILE_TEXT)],
                        HOSTILE_TEXT[(n + 9) % len(HOSTILE_TEXT)], rowid))
    export_package(roles_archive, tmp_path / "out", tables=("posts",))
    assert verify_package(tmp_path / "out") == []
    columns = [r[1] for r in db.execute("PRAGMA table_info(reactions)") if r[1] != "post_rowid"]
    stored = db.execute(f"SELECT {', '.join(columns)} FROM reactions ORDER BY election, created_at, post_id").fetchall()
    path = tmp_path / "out" / "data" / "reactions.csv"
    assert path.read_bytes() == dialect_bytes(stored, columns)
    with path.open(encoding="utf-8", newline="") as file:
        read = list(csv.DictReader(file))
    for got, row in zip(read, stored, strict=True):
        values = dict(zip(columns, row))
        for name in ("text", "display_name", "type_evidence"):
            assert got[name] == (values[name] or "")
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(tmp_path / "out" / "datapackage.json")
    errors = [e.get("type") for task in report.to_dict().get("tasks", []) for e in task.get("errors", [])]
    assert set(errors) <= {"type-error"}, errors  # type_evidence is an array: hostile text is not one
