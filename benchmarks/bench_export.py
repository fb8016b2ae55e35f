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
datapackage.json, README, id lists and SHA256SUMS included). The start-up
alone, ``reactions --version`` (fastest of three), is logged first.

Two options of this benchmark only: ``--archive PATH`` exports an existing
archive instead of building one (``--sizes`` is then ignored; the archive is
left in place), so that two versions of the code can be measured on the
same archive; ``--repeat N`` runs each variant N times and keeps the fastest
(a shared machine's timings vary by 15% and more from run to run).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sqlite3
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


OPTIONS = {"archive": None, "repeat": 1}  # this benchmark's own options, see the docstring


def log_startup(workdir: Path, log) -> None:
    runs = [measure.run([*measure.tool("reactions", "scraper.cli"), "--version"], cwd=workdir) for _ in range(3)]
    fastest = min(runs, key=lambda r: r.seconds)
    log(f"start-up: reactions --version {fastest.seconds:.2f} s, {fastest.peak_rss_mib:.0f} MiB peak")


def export_once(db: Path, variant: str, workdir: Path) -> tuple[measure.Run, int]:
    out = workdir / "export"
    shutil.rmtree(out, ignore_errors=True)
    result = measure.run([*measure.tool("reactions", "scraper.cli"), "export", str(out), "--db", str(db),
                          *VARIANTS[variant]], cwd=workdir)
    size = measure.folder_bytes(out)
    shutil.rmtree(out)
    return result, size


def bench_size(size: int, variants: list[str], config: Path, workdir: Path, log) -> list[dict]:
    log_startup(workdir, log)
    given = OPTIONS["archive"]
    db = given.resolve() if given else build_archive(size, config, workdir, log)
    if given:
        with sqlite3.connect(db) as conn:
            size = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    results = []
    for variant in variants:
        runs = [export_once(db, variant, workdir) for _ in range(max(1, OPTIONS["repeat"]))]
        result, export_bytes = min(runs, key=lambda r: r[0].seconds)
        rows = written_rows(result.stdout)
        total = sum(rows.values())
        row = {
            "variant": variant,
            "posts": size,
            "reaction_rows": rows.get("reactions", 0),
            "rows": total,
            "tables": rows,
            "seconds": round(result.seconds, 2),
            "runs_seconds": [round(r.seconds, 2) for r, _ in runs],
            "rows_per_s": round(total / result.seconds),
            "peak_rss_mib": round(max(r.peak_rss_mib for r, _ in runs), 1),
            "export_bytes": export_bytes,
        }
        log(f"  {variant}: {row['seconds']} s, {row['rows']:,} rows, {row['rows_per_s']:,} rows/s, "
            f"{row['peak_rss_mib']} MiB peak" + (f" (runs: {row['runs_seconds']})" if len(runs) > 1 else ""))
        results.append(row)
    if not given:
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
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--archive", type=Path, help="export this archive instead of building one")
    own.add_argument("--repeat", type=int, default=1, help="runs per variant; the fastest is kept")
    options, rest = own.parse_known_args(argv)
    OPTIONS.update(archive=options.archive, repeat=options.repeat)
    if options.archive:
        rest += ["--sizes", "0"]  # one pass over bench_size, on the archive given
    measure.main(__doc__, VARIANTS, bench_size, table, rest, sizes_help="posts in the archive",
                 config_help="config the archive is built with", default_config=DEFAULT_CONFIG, prefix="bench-export-")


if __name__ == "__main__":
    main()
