"""Would a writer thread let SQLite work while Python reads the next batch?

Issue 15 asks the default import to cost no more CPU than one process and
finish sooner. Worker processes finish sooner for more CPU (the hand-off,
docs/performance.md); a thread would not pay the hand-off, but shares the
GIL. Python's sqlite3 releases the GIL around each ``sqlite3_step``, and
``executemany`` steps once per row, so a writing thread wants the GIL back
after every row while the other thread runs Python. This measures that,
side by side in one run, as ratios to the writer alone:

- ``rows``: 100 batches of 1,000 rows by ``executemany`` (how the archive
  inserts posts, captures and payloads), a commit after each batch;
- ``one-step``: the same rows copied by one ``INSERT ... SELECT`` per batch
  (how the archive fills its full-text index), and the commit.

Each alone, then beside a thread running a pure-Python loop (the reading
and normalising of the next batch), at Python's default switch interval
(5 ms) and at 0.1 ms.

    .venv/bin/python benchmarks/bench_writer_thread.py
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

BATCH = 1_000


def _connect(folder: Path, name: str) -> sqlite3.Connection:
    conn = sqlite3.connect(folder / name, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode = wal")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, body TEXT)")
    conn.execute("CREATE INDEX t_k ON t (k)")
    return conn


def write_rows(conn: sqlite3.Connection, rows: list) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", rows[start:start + BATCH])
        conn.execute("COMMIT")


def write_one_step(conn: sqlite3.Connection, rows: list) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO t SELECT * FROM src WHERE id >= ? AND id < ?", [start, start + BATCH])
        conn.execute("COMMIT")


def _spin(stop: threading.Event) -> None:
    total = 0
    while not stop.is_set():
        for number in range(1_000):
            total += number


def measure(kind: str, rows: list, busy: bool, switch: float) -> float:
    """Wall seconds of the writing, alone or beside a busy Python thread."""
    with tempfile.TemporaryDirectory(prefix="writer-thread-") as folder:
        conn = _connect(Path(folder), "bench.db")
        write = write_rows
        if kind == "one-step":
            conn.execute("CREATE TEMP TABLE src (id INTEGER PRIMARY KEY, k TEXT, body TEXT)")
            conn.executemany("INSERT INTO src VALUES (?, ?, ?)", rows)  # (before the clock starts)
            write = write_one_step
        stop = threading.Event()
        spinner = threading.Thread(target=_spin, args=(stop,))
        previous = sys.getswitchinterval()
        sys.setswitchinterval(switch)
        try:
            if busy:
                spinner.start()
            started = time.perf_counter()
            write(conn, rows)
            elapsed = time.perf_counter() - started
        finally:
            stop.set()
            if busy:
                spinner.join()
            sys.setswitchinterval(previous)
            conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows written (default 20,000)")
    args = parser.parse_args()
    rows = [(number, f"k{number:09d}", "palabras de una publicación ficticia " * 6) for number in range(args.rows)]
    print(f"{args.rows:,} rows in batches of {BATCH:,}; Python {sys.version.split()[0]}, "
          f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs")
    print("| writing | alone s | beside a busy thread, 5 ms switch | ratio | 0.1 ms switch | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in ("rows", "one-step"):
        alone = measure(kind, rows, busy=False, switch=0.005)
        default = measure(kind, rows, busy=True, switch=0.005)
        fast = measure(kind, rows, busy=True, switch=0.0001)
        print(f"| {kind} | {alone:.2f} | {default:.2f} | {default / alone:.1f}x | {fast:.2f} | {fast / alone:.1f}x |")


if __name__ == "__main__":
    main()
