"""A fingerprint of what an archive holds, to check that a change of the
write path left the archive's content the same.

    .venv/bin/python benchmarks/fingerprint.py --posts 20000

Imports the same synthetic twarc2 file (benchmarks/synthetic.py) with the
test election (tests/fixtures/config/valdoria.yml, so relevance is matched
too) once in one process and once with worker processes, then prints a
short hash per table of its logical content: posts, versions, captures,
relevance, raw payloads, accounts, parse errors. Logical: read the same
way from archives of every schema version, so that a change in how a
thing is stored (a compressed payload's codec, a capture's provenance moved
to ``fetches``, the one state of an unedited post kept in ``posts`` only)
does not change the fingerprint, while a change in what is stored does.

``--db PATH`` prints the fingerprint of an existing archive instead.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import synthetic

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tests" / "fixtures" / "config" / "valdoria.yml"
COUNTS = "reply_count, repost_count, like_count, quote_count, view_count"


def tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}


def logical_rows(conn: sqlite3.Connection) -> dict[str, list]:
    has = tables(conn)
    rows = {
        # (a post with an id has no match hash since 0.2: it is a quote's key)
        "posts": [row[:4] + ((row[4] if row[3] else None),) + row[5:]
                  for row in conn.execute("SELECT * FROM posts ORDER BY id").fetchall()],
        "election_posts": conn.execute("SELECT * FROM election_posts ORDER BY election_id, post_id").fetchall(),
        "accounts": conn.execute(
            "SELECT platform, handle, platform_user_id, display_name, leader_id, in_roster, "
            # (the roster's accounts are first seen when the config is loaded: not compared)
            "CASE WHEN in_roster THEN NULL ELSE first_seen_at END, CASE WHEN in_roster THEN NULL ELSE last_seen_at END "
            "FROM accounts ORDER BY platform, platform_user_id, handle").fetchall(),
        "parse_errors": conn.execute(
            "SELECT source_id, format, location, fetched_url, reason, raw_sha256 FROM parse_errors ORDER BY id").fetchall(),
    }
    # Every state of every post: an unedited post's one state may live in posts only.
    stored = conn.execute(
        f"SELECT post_id, version, text, {COUNTS}, edited_at, first_seen_at, last_seen_at FROM post_versions "
        "WHERE post_id IN (SELECT id FROM posts WHERE version_count > 1)").fetchall()
    single = conn.execute(
        f"SELECT id, 1, text, {COUNTS}, edited_at, first_captured_at, last_captured_at FROM posts "
        "WHERE version_count = 1").fetchall()
    rows["versions"] = sorted(stored + single, key=lambda r: (r[0], r[1]))
    if "fetches" in has:
        captures = conn.execute(
            "SELECT c.post_id, f.source_id, c.format, c.location, f.fetched_url, f.retrieved_at, "
            "coalesce(c.raw_sha256, f.page_sha256), f.response_sha256, c.raw_pointer "
            "FROM captures c JOIN fetches f ON f.id = c.fetch_id ORDER BY c.id").fetchall()
    else:
        captures = conn.execute(
            "SELECT post_id, source_id, format, location, fetched_url, retrieved_at, raw_sha256, "
            "response_sha256, raw_pointer FROM captures ORDER BY id").fetchall()
    rows["captures"] = captures  # (without the tool's version, which a change of the tool changes)
    rows["raw_payloads"] = [
        (sha, fmt, size, _decompress(codec, content))
        for sha, fmt, size, codec, content in conn.execute(
            "SELECT sha256, format, size, compression, content FROM raw_payloads ORDER BY sha256")
    ]
    return rows


def _decompress(codec: str, content: bytes) -> bytes:
    if codec == "zlib":
        return zlib.decompress(content)
    if codec == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompress(content)
    return content


def fingerprint(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        found = {}
        for name, rows in logical_rows(conn).items():
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(row).encode("utf-8", "surrogatepass"))
            found[name] = f"{len(rows)}:{digest.hexdigest()[:16]}"
        return found


def imported(workdir: Path, pages: Path, name: str, workers: str) -> Path:
    db = workdir / name
    reactions = Path(sys.executable).parent / "reactions"
    # (the file named relatively: a source's id hashes the path)
    command = [str(reactions), "import", "twarc2-jsonl", pages.name, "--db", str(db), "--config", str(CONFIG),
               "--workers", workers]
    subprocess.run(command, cwd=workdir, check=True, capture_output=True)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--db", type=Path, help="fingerprint this archive instead")
    args = parser.parse_args()
    if args.db:
        print(fingerprint(args.db))
        return
    with tempfile.TemporaryDirectory(prefix="fingerprint-") as tmp:
        workdir = Path(tmp)
        pages = workdir / "pages.jsonl"
        synthetic.write("twarc2", args.posts, str(pages))
        serial = fingerprint(imported(workdir, pages, "serial.db", "0"))
        parallel = fingerprint(imported(workdir, pages, "workers.db", "2"))
    for name, value in serial.items():
        same = "same" if parallel[name] == value else f"DIFFERS in workers: {parallel[name]}"
        print(f"{name:15} {value}  ({same})")


if __name__ == "__main__":
    main()
