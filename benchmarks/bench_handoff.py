"""What handing a prepared post from a worker process to the writing process
costs, per post, three ways, beside what writing its row costs in one process.

Issue 15 asks the import with workers to cost no more CPU than one process.
Workers pay for the hand-off, which one process never does
(docs/performance.md). This measures that hand-off in CPU microseconds a
post, on synthetic twarc2 pages prepared by the archive's own reader (the
code a worker runs), so the project can weigh a redesign of the writer:

- ``pickle`` (today): the worker pickles its chunk's results (the item's
  place, the prepared post's fields, the compressed page once per page),
  the writing process unpickles them and makes the items again
  (scraper/parallel.py); then it binds each post's row with ``executemany``;
- ``sqlite chunk``: the worker binds the rows into an in-memory SQLite
  table and hands over ``serialize()``'s bytes; the writing process
  ``deserialize``s them into an attached schema and copies the rows with
  one ``INSERT ... SELECT``. The rest of the results (all but the row) are
  still pickled;
- ``json``: the worker hands the rows as one JSON text; the writing
  process inserts them with ``INSERT ... SELECT value ->> n FROM json_each(?)``.

The reference is ``one process``: binding the rows with ``executemany``,
what a serial import does and a worker-fed one must do too. Each figure is
the best of ``--repeat`` runs of ``time.process_time``, with the
garbage collector set as an import sets it; the writing
process's share is what decides the wall time, the sum is the CPU.

    .venv/bin/python benchmarks/bench_handoff.py --posts 10000
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import synthetic  # noqa: E402

from scraper import limits, parallel  # noqa: E402
from scraper.archive.writer import fewer_collections  # noqa: E402
from scraper.model import POST_COLUMNS  # noqa: E402
from scraper.sources.filestream import numbered_lines  # noqa: E402

# What the writer adds to a prepared row (scraper/archive/writer.py, _insert).
WRITER_COLUMNS = 6


def prepared_results(posts: int) -> list:
    """The results a worker hands over for ``posts`` synthetic posts."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "posts.jsonl")
        synthetic.write("twarc2", posts, path)
        parallel._set_up("twarc2-jsonl", "bench", [], False, limits.current())
        with open(path, encoding="utf-8", newline="") as stream:
            text = io.StringIO(stream.read(), newline="")
        return parallel._read_chunk(path, numbered_lines(text))


def best(run, repeat: int, posts: int) -> float:
    """CPU microseconds a post, the best of ``repeat`` runs."""
    fastest = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        fastest = min(fastest, time.process_time() - start)
    return fastest / posts * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000, help="posts handed over (default 10,000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each step; the fastest counts (default 5)")
    args = parser.parse_args()
    with fewer_collections():  # as in an import (scraper/archive/writer.py)
        measure(args.posts, args.repeat)


def measure(posts: int, repeat: int) -> None:
    results = prepared_results(posts)
    posts = len(results)
    row_field = parallel._PREPARED_FIELDS.index("row")
    rows = [entry[1][row_field] + (7, "Nombre Ficticio", None, None, "2026-11-27T00:00:00+00:00",
                                   "2026-11-27T00:00:00+00:00") for entry in results]
    width = len(rows[0])
    assert width == len(POST_COLUMNS), (width, len(POST_COLUMNS))
    columns = ", ".join(f"c{n}" for n in range(width))
    insert = f"INSERT INTO t VALUES ({', '.join('?' for _ in range(width))})"
    writer = sqlite3.connect(":memory:", isolation_level=None)
    writer.execute("ATTACH ':memory:' AS chunk")

    def fresh_table() -> None:
        writer.execute("DROP TABLE IF EXISTS main.t")
        writer.execute(f"CREATE TABLE main.t ({columns})")

    def bind_rows() -> None:
        fresh_table()
        writer.executemany(insert, rows)

    # pickle, as today
    whole = pickle.dumps(results, protocol=5)
    pickle_worker = best(lambda: pickle.dumps(results, protocol=5), repeat, posts)
    pickle_writer = (best(lambda: parallel._as_read_items(pickle.loads(whole), "bench"), repeat, posts)
                     + best(bind_rows, repeat, posts))

    # sqlite chunk: the rows as a serialized database, the rest pickled
    rest = [(place, prepared[:row_field] + (None,) + prepared[row_field + 1:], raw)
            for place, prepared, raw in results]

    def chunk_bytes() -> bytes:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute(f"CREATE TABLE t ({columns})")
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
        conn.execute("COMMIT")
        data = conn.serialize()
        conn.close()
        pickle.dumps(rest, protocol=5)
        return data

    data, rest_pickled = chunk_bytes(), pickle.dumps(rest, protocol=5)

    def copy_chunk() -> None:
        parallel._as_read_items(pickle.loads(rest_pickled), "bench")
        writer.deserialize(data, name="chunk")
        fresh_table()
        writer.execute("INSERT INTO main.t SELECT * FROM chunk.t")

    chunk_worker = best(chunk_bytes, repeat, posts)
    chunk_writer = best(copy_chunk, repeat, posts)

    # json: the rows as one JSON text, the rest pickled
    text = json.dumps(rows, ensure_ascii=False)
    picks = ", ".join(f"value ->> {n}" for n in range(width))

    def insert_json() -> None:
        parallel._as_read_items(pickle.loads(rest_pickled), "bench")
        fresh_table()
        writer.execute(f"INSERT INTO main.t SELECT {picks} FROM json_each(?)", [text])

    json_worker = best(lambda: (json.dumps(rows, ensure_ascii=False), pickle.dumps(rest, protocol=5)),
                       repeat, posts)
    json_writer = best(insert_json, repeat, posts)

    alone = best(bind_rows, repeat, posts)
    count = writer.execute("SELECT count(*) FROM main.t").fetchone()[0]
    assert count == posts, (count, posts)
    print(f"{posts:,} prepared posts ({width} columns a row); Python {sys.version.split()[0]}, "
          f"SQLite {sqlite3.sqlite_version}; CPU microseconds a post, best of {repeat}")
    print(f"bytes handed over a post: pickle {len(whole) / posts:.0f}, "
          f"sqlite chunk {(len(data) + len(rest_pickled)) / posts:.0f}, json {(len(text) + len(rest_pickled)) / posts:.0f}")
    print("| hand-off | worker | writing process | both | extra CPU beside one process | writing process / one process |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| one process (executemany, no hand-off) | - | {alone:.1f} | {alone:.1f} | 0 | 1.00x |")
    for name, worker, writing in (("pickle (today)", pickle_worker, pickle_writer),
                                  ("sqlite chunk", chunk_worker, chunk_writer),
                                  ("json", json_worker, json_writer)):
        print(f"| {name} | {worker:.1f} | {writing:.1f} | {worker + writing:.1f} | {worker + writing - alone:+.1f} "
              f"| {writing / alone:.2f}x |")


if __name__ == "__main__":
    main()
