"""What each way of making the archive smaller would save, measured on one
archive and the file it was imported from, before anyone builds it.

    .venv/bin/python benchmarks/size_options.py --db fresh.db --input twarc2-100000.jsonl

Prints, in MiB of the archive (8 KiB pages), with the CPU each costs:

- raw payloads at other Zstandard levels and with a dictionary trained on
  the file's first lines (each input line is one stored page);
- the full-text index rebuilt with ``detail=column`` (no phrase or NEAR
  queries any more) and ``columnsize=0`` (bm25 re-reads every matching
  post to rank it);
- the bytes of post columns the archive could derive (``url`` equal to
  X's canonical address for handle and id; ``native_id`` equal to the id
  after ``x:``) and of captures' ``location`` prefix shared by a whole
  fetch (the file name and line);
- a ``VACUUM`` after the import (every page packed again).

Nothing here changes the archive (it works on copies in a temporary folder).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

MIB = 1024 * 1024


def cpu() -> float:
    return time.process_time()


def mib(n: float) -> str:
    return f"{n / MIB:.1f}"


def payload_levels(lines: list[bytes]) -> list[tuple[str, str, str]]:
    import zstandard

    rows = []
    for level in (3, 6, 9, 12):
        compressor = zstandard.ZstdCompressor(level=level)
        started = cpu()
        size = sum(len(compressor.compress(line)) for line in lines)
        rows.append((f"zstd level {level}", mib(size), f"{(cpu() - started) * 1e6 / (100 * len(lines)):.1f} us/post"))
    dictionary = zstandard.train_dictionary(16384, lines[:200:2])
    for level in (3, 9):
        compressor = zstandard.ZstdCompressor(level=level, dict_data=dictionary)
        started = cpu()
        size = sum(len(compressor.compress(line)) for line in lines)
        rows.append((f"zstd level {level}, 16 KiB dictionary", mib(size),
                     f"{(cpu() - started) * 1e6 / (100 * len(lines)):.1f} us/post"))
    return rows


def fts_options(db: Path, work: Path) -> list[tuple[str, str, str]]:
    rows = []
    for options in ("detail=full", "detail=column", "detail=full, columnsize=0", "detail=column, columnsize=0"):
        target = work / "fts.db"
        target.unlink(missing_ok=True)
        conn = sqlite3.connect(target)
        conn.execute("PRAGMA page_size = 8192")
        conn.execute("ATTACH ? AS a", [str(db)])
        conn.execute("CREATE VIRTUAL TABLE f USING fts5(text, author_name, display_name, handle, mentioned_names, "
                     f"content='', tokenize='unicode61 remove_diacritics 2', {options})")
        started = cpu()
        conn.execute("INSERT INTO f (rowid, text, author_name, display_name, handle, mentioned_names) "
                     "SELECT rowid, text, author_name, display_name, handle, mentioned_names FROM a.posts")
        conn.commit()
        spent = cpu() - started
        size = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'f\\_%' ESCAPE '\\'").fetchone()[0]
        rows.append((f"posts_fts, {options}", mib(size), f"{spent:.2f} s to build"))
        conn.close()
    return rows


def derivable(db: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(db)
    url, url_canonical, native = conn.execute(
        "SELECT sum(length(CAST(url AS BLOB))), "
        "sum(CASE WHEN url = 'https://x.com/' || handle || '/status/' || native_id THEN length(CAST(url AS BLOB)) END), "
        "sum(CASE WHEN id = platform || ':' || native_id THEN length(CAST(native_id AS BLOB)) END) FROM posts"
    ).fetchone()
    location, shared = conn.execute(
        "SELECT sum(length(CAST(location AS BLOB))), sum(instr(location, '#') - 1) FROM captures "
        "WHERE instr(location, '#') > 0"
    ).fetchone()
    conn.close()
    return [
        ("posts.url (all)", mib(url or 0), f"{mib(url_canonical or 0)} MiB of it X's canonical address"),
        ("posts.native_id equal to the id after 'platform:'", mib(native or 0), ""),
        ("captures.location (all)", mib(location or 0), f"{mib(shared or 0)} MiB of it the fetch's file:line"),
    ]


def vacuum(db: Path, work: Path) -> list[tuple[str, str, str]]:
    copy = work / "vacuum.db"
    shutil.copyfile(db, copy)
    before = copy.stat().st_size
    conn = sqlite3.connect(copy)
    started = cpu()
    conn.execute("VACUUM")
    spent = cpu() - started
    conn.close()
    return [("VACUUM after the import", mib(before - copy.stat().st_size) + " saved", f"{spent:.2f} s")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="an archive imported from --input")
    parser.add_argument("--input", type=Path, required=True, help="the twarc2 JSONL file it was imported from")
    args = parser.parse_args()
    lines = args.input.read_bytes().splitlines()
    with sqlite3.connect(args.db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
    print(f"archive {mib(args.db.stat().st_size)} MiB, input {mib(args.input.stat().st_size)} MiB; "
          f"raw_payloads {mib(sizes.get('raw_payloads', 0))}, posts_fts {mib(sizes.get('posts_fts_data', 0) + sizes.get('posts_fts_docsize', 0))}\n")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        rows = [*payload_levels(lines), *fts_options(args.db, work), *derivable(args.db), *vacuum(args.db, work)]
    width = max(len(r[0]) for r in rows)
    print(f"{'option':<{width}}  {'MiB':>10}  cost")
    for name, size, cost in rows:
        print(f"{name:<{width}}  {size:>10}  {cost}")


if __name__ == "__main__":
    main()
