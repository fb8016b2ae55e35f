"""Merge speed and memory (issue 16): ``reactions merge`` of N synthetic posts
scraped as S shards, beside ``sqlite3``'s ATTACH ... INSERT of the same
rows; then the partitioned Parquet export of the merged archive.

    .venv/bin/python benchmarks/bench_merge.py --posts 1000000 --shards 3 --workdir /tmp/bench

The synthetic twarc2 pages (benchmarks/synthetic.py) are dealt round-robin
into S files, one per shard, each imported into its own archive with
``reactions import twarc2-jsonl`` and the synthetic roster config (200
fictional leaders in 24 countries, so posts are relevant and become
reactions rows). Then, each as its own child process (benchmarks/measure.py:
wall time, peak RSS of that child):

    merge            reactions merge NEW.db shard-1.db ... shard-S.db
    merge-into-copy  cp shard-1.db OUT.db; reactions merge OUT.db shard-2.db ... shard-S.db
    sqlite3          cp shard-1.db OUT.db; sqlite3 OUT.db: ATTACH each other shard and
                     INSERT its rows into every content table, in one transaction
                     (what a user would write by hand: no identity, no dedup, ids
                     renumbered, the full-text index kept by its triggers)
    merge-again      reactions merge NEW.db shard-1.db (an archive merged twice: adds nothing)
    export-parquet   reactions export --format parquet of the merged archive (one file)
    export-partitioned  the same with --partition election,platform,month

rows/s for the merges counts the posts the inputs add (the baseline inserts
the same posts); for the exports, the reactions rows written.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import measure
import synthetic

CONTENT_TABLES = ("raw_payloads", "accounts", "posts", "post_versions", "election_posts", "fetches", "captures",
                  "parse_errors", "sources", "scrape_runs", "run_sources", "reactions", "reaction_classes")


def split_pages(total: int, shards: int, workdir: Path) -> list[Path]:
    paths = [workdir / f"shard-{index + 1}.jsonl" for index in range(shards)]
    files = [path.open("w", encoding="utf-8") for path in paths]
    try:
        for number, line in enumerate(synthetic.twarc2_lines(total)):
            files[number % shards].write(line + "\n")
    finally:
        for file in files:
            file.close()
    return paths


def build_shards(total: int, shards: int, workdir: Path, log) -> tuple[list[Path], Path]:
    config = workdir / "roster.yml"
    synthetic.write("roster", 200, str(config))
    archives = []
    for pages in split_pages(total, shards, workdir):
        db = pages.with_suffix(".db")
        started = time.perf_counter()
        measure.run([*measure.tool("reactions", "scraper.cli"), "import", "twarc2-jsonl", pages.name, "--db", db.name,
                     "--config", str(config)], cwd=workdir)
        pages.unlink()
        log(f"{db.name}: {measure.count(db, 'posts'):,} posts imported in {time.perf_counter() - started:.1f} s "
            f"({measure.mib(measure.database_bytes(db))} MiB)")
        archives.append(db)
    return archives, config


def baseline_sql(others: list[Path], columns: dict[str, list[str]]) -> str:
    """ATTACH each shard and copy its rows, ids renumbered where they are integers."""
    lines = ["PRAGMA journal_mode = WAL;", "BEGIN;"]
    for number, path in enumerate(others):
        lines.append(f"ATTACH '{path}' AS s{number};")
    lines.append("COMMIT;")  # (ATTACH is refused inside a transaction)
    lines.append("BEGIN;")
    for number, _ in enumerate(others):
        for table in CONTENT_TABLES:
            names = [c for c in columns[table] if c != "id" or table in ("posts", "sources")]
            listed = ", ".join(names)
            lines.append(f"INSERT OR IGNORE INTO {table} ({listed}) SELECT {listed} FROM s{number}.{table};")
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def table_columns(db: Path) -> dict[str, list[str]]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return {table: [row[1] for row in conn.execute(f"PRAGMA table_info({table})")] for table in CONTENT_TABLES}


def bench(total: int, shards: int, workdir: Path, variants: list[str], log) -> list[dict]:
    archives, _ = build_shards(total, shards, workdir, log)
    reactions = measure.tool("reactions", "scraper.cli")
    posts_in = [measure.count(db, "posts") for db in archives]
    merged = workdir / "merged.db"
    rows = []

    def record(name: str, run: measure.Run, items: int, what: str, result_db: Path | None = None) -> None:
        row = {"variant": name, "seconds": round(run.seconds, 2), "peak_rss_mib": round(run.peak_rss_mib, 1),
               "items": items, "per_second": round(items / run.seconds) if run.seconds else None, "what": what}
        if result_db is not None:
            row["posts_after"] = measure.count(result_db, "posts")
            row["captures_after"] = measure.count(result_db, "captures")
        rows.append(row)
        log(f"{name}: {run.seconds:.1f} s, {row['per_second']:,} {what}/s, peak {run.peak_rss_mib:.0f} MiB")

    if "merge" in variants or "merge-again" in variants or variants_need_merged(variants):
        run = measure.run([*reactions, "merge", merged.name, *[db.name for db in archives]], cwd=workdir)
        record("merge", run, sum(posts_in), "posts", merged)
    if "merge-into-copy" in variants:
        copy = workdir / "merge-copy.db"
        shutil.copy(archives[0], copy)
        run = measure.run([*reactions, "merge", copy.name, *[db.name for db in archives[1:]]], cwd=workdir)
        record("merge-into-copy", run, sum(posts_in[1:]), "posts", copy)
        measure.remove_database(copy)
    if "sqlite3" in variants:
        copy = workdir / "sqlite3-copy.db"
        shutil.copy(archives[0], copy)
        script = workdir / "baseline.sql"
        script.write_text(baseline_sql([db.resolve() for db in archives[1:]], table_columns(archives[0])))
        sqlite3_cli = shutil.which("sqlite3")
        if sqlite3_cli is None:
            raise SystemExit("the sqlite3 command-line shell is not installed (apt-get install sqlite3)")
        run = measure.run(["sh", "-c", f"{sqlite3_cli} {copy.name} < {script.name}"], cwd=workdir)
        record("sqlite3", run, sum(posts_in[1:]), "posts", copy)
        measure.remove_database(copy)
    if "merge-again" in variants:
        run = measure.run([*reactions, "merge", merged.name, archives[0].name], cwd=workdir)
        record("merge-again", run, posts_in[0], "posts", merged)
    reactions_rows = measure.count(merged, "reactions") if merged.exists() else 0
    for name, extra in (("export-parquet", []), ("export-partitioned", ["--partition", "election,platform,month"])):
        if name in variants:
            out = workdir / name
            run = measure.run([*reactions, "export", out.name, "--db", merged.name, "--format", "parquet", *extra],
                              cwd=workdir)
            record(name, run, reactions_rows, "rows")
            shutil.rmtree(out)
    return rows


def variants_need_merged(variants: list[str]) -> bool:
    return any(v.startswith("export") for v in variants)


VARIANTS = ("merge", "merge-into-copy", "sqlite3", "merge-again", "export-parquet", "export-partitioned")


def table(results: list[dict], total: int, shards: int) -> str:
    by_name = {row["variant"]: row for row in results}
    baseline = by_name.get("sqlite3")
    lines = [f"{total:,} posts in {shards} shards", ""]
    body = []
    for row in results:
        ratio = ""
        if baseline and row["variant"].startswith("merge") and row["variant"] != "merge-again":
            ratio = f"{row['seconds'] / baseline['seconds'] * baseline['items'] / row['items']:.2f}x"
        body.append([row["variant"], f"{row['seconds']:.1f}", f"{row['per_second']:,} {row['what']}/s",
                     f"{row['peak_rss_mib']:.0f}", row.get("posts_after", ""), ratio])
    return "\n".join(lines) + measure.markdown_table(
        ["variant", "seconds", "rate", "peak RSS MiB", "posts after", "time per post vs sqlite3"], body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--workdir", type=Path, help="folder for the inputs and archives (default: a temporary one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    info = measure.machine()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-merge-", dir=args.workdir) as tmp:
        results = bench(args.posts, args.shards, Path(tmp).resolve(), args.variants, log)
    if args.json:
        print(json.dumps({"machine": info, "results": results}, indent=2))
    else:
        print(f"<!-- {json.dumps(info)} -->")
        print(table(results, args.posts, args.shards))


if __name__ == "__main__":
    main()
