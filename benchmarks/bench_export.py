"""Export speed and memory: ``reactions export`` of an archive built from N
synthetic posts, as CSV and as JSONL.

    .venv/bin/python benchmarks/bench_export.py --sizes 100000

For each size the archive is built once with ``reactions import
twarc2-jsonl --config tests/fixtures/config/valdoria.yml`` (so posts match
the fictional election and become rows of the ``reactions`` view), then each
variant exports it to a fresh folder as its own child process, measured by
benchmarks/measure.py (wall time, peak RSS of that child). Variants:

    csv        reactions export OUT --format csv      (the reactions table)
    jsonl      reactions export OUT --format jsonl
    csv+all    reactions export OUT --format csv --include all
               (reactions, posts, post_versions, captures, reported_reactions)

rows/s counts every row written, over the whole command (start-up,
datapackage.json, README, id lists and SHA256SUMS included).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import measure
import synthetic

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "tests" / "fixtures" / "config" / "valdoria.yml"
VARIANTS = {
    "csv": ["--format", "csv"],
    "jsonl": ["--format", "jsonl"],
    "csv+all": ["--format", "csv", "--include", "all"],
}


def build_archive(size: int, config: Path, workdir: Path, log) -> Path:
    pages, db = workdir / f"twarc2-{size}.jsonl", workdir / f"archive-{size}.db"
    synthetic.write("twarc2", size, str(pages))
    started = time.perf_counter()
    measure.run([*measure.tool("reactions", "scraper.cli"), "import", "twarc2-jsonl", str(pages), "--db", str(db),
                 "--config", str(config)], cwd=workdir)
    pages.unlink()
    log(f"{size:,} posts: archive built in {time.perf_counter() - started:.1f} s "
        f"({measure.mib(measure.database_bytes(db))} MiB, {measure.count(db, 'reactions'):,} reactions)")
    return db


def written_rows(stdout: str) -> dict[str, int]:
    """'OUT: 7389 reactions, 10000 posts (csv); id lists: ...' -> {table: rows}."""
    counts = stdout.split(": ", 1)[1].split(" (", 1)[0]
    return {name: int(n) for n, name in re.findall(r"(\d+) (\w+)", counts)}


def bench_size(size: int, variants: list[str], config: Path, workdir: Path, log) -> list[dict]:
    db = build_archive(size, config, workdir, log)
    results = []
    for variant in variants:
        out = workdir / "export"
        shutil.rmtree(out, ignore_errors=True)
        result = measure.run([*measure.tool("reactions", "scraper.cli"), "export", str(out), "--db", str(db),
                              *VARIANTS[variant]], cwd=workdir)
        rows = written_rows(result.stdout)
        total = sum(rows.values())
        row = {
            "variant": variant,
            "posts": size,
            "reaction_rows": rows.get("reactions", 0),
            "rows": total,
            "tables": rows,
            "seconds": round(result.seconds, 2),
            "rows_per_s": round(total / result.seconds),
            "peak_rss_mib": round(result.peak_rss_mib, 1),
            "export_bytes": measure.folder_bytes(out),
        }
        shutil.rmtree(out)
        log(f"  {variant}: {row['seconds']} s, {row['rows']:,} rows, {row['rows_per_s']:,} rows/s, "
            f"{row['peak_rss_mib']} MiB peak")
        results.append(row)
    measure.remove_database(db)
    return results


def table(results: list[dict]) -> str:
    rows = [
        [r["variant"], f"{r['posts']:,}", f"{r['reaction_rows']:,}", f"{r['rows']:,}", f"{r['seconds']:.1f}",
         f"{r['rows_per_s']:,}", f"{r['peak_rss_mib']:.0f}", measure.mib(r["export_bytes"])]
        for r in results
    ]
    return measure.markdown_table(
        ["variant", "posts", "reaction rows", "rows written", "wall s", "rows/s", "peak RSS MiB", "export MiB"], rows)


def main(argv: list[str] | None = None) -> None:
    measure.main(__doc__, VARIANTS, bench_size, table, argv, sizes_help="posts in the archive",
                 config_help="config the archive is built with", default_config=DEFAULT_CONFIG, prefix="bench-export-")


if __name__ == "__main__":
    main()
