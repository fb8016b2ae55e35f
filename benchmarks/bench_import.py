"""Import speed and memory: ``reactions import twarc2-jsonl`` into a fresh
archive, beside ``sqlite-utils insert --nl`` of the same tweets, in one run.

    .venv/bin/python benchmarks/bench_import.py --sizes 100000 1000000

For each size the synthetic input (benchmarks/synthetic.py) is written once
to a temporary folder; then each variant runs as its own child process on a
fresh database, measured by benchmarks/measure.py (wall time, peak RSS of
that child). Variants:

    import          reactions import, no config (normalisation, FTS, captures),
                    with its default worker processes (one per CPU)
    import-serial   the same in one process (--workers 0)
    import+config   the default with --config (relevance matching runs too)
    sqlite-utils    sqlite-utils insert fresh.db tweets FLAT.jsonl --nl

Every child runs in the temporary folder, so no elections/*.yml of the
working directory is picked up by default.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import measure
import synthetic

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "tests" / "fixtures" / "config" / "valdoria.yml"
VARIANTS = ("import", "import-serial", "import+config", "sqlite-utils")


def bench_size(size: int, variants: list[str], config: Path, workdir: Path, log) -> list[dict]:
    pages, flat = workdir / f"twarc2-{size}.jsonl", workdir / f"flat-{size}.jsonl"
    started = time.perf_counter()
    synthetic.write("twarc2", size, str(pages))
    synthetic.write("flat", size, str(flat))
    log(f"{size:,} posts: inputs written in {time.perf_counter() - started:.1f} s "
        f"({measure.mib(pages.stat().st_size)} MiB twarc2, {measure.mib(flat.stat().st_size)} MiB flat)")
    results = []
    for variant in variants:
        db = workdir / "fresh.db"
        measure.remove_database(db)
        if variant == "sqlite-utils":
            command = [*measure.tool("sqlite-utils"), "insert", str(db), "tweets", str(flat), "--nl"]
        else:
            command = [*measure.tool("reactions", "scraper.cli"), "import", "twarc2-jsonl", str(pages), "--db", str(db)]
            if variant == "import+config":
                command += ["--config", str(config)]
            if variant == "import-serial":
                command += ["--workers", "0"]
        result = measure.run(command, cwd=workdir)
        table = "tweets" if variant == "sqlite-utils" else "posts"
        row = {
            "variant": variant,
            "posts": size,
            "rows_stored": measure.count(db, table),
            "seconds": round(result.seconds, 2),
            "posts_per_s": round(size / result.seconds),
            "peak_rss_mib": round(result.peak_rss_mib, 1),
            "db_bytes": measure.database_bytes(db),
        }
        if variant != "sqlite-utils":
            row["captures"] = measure.count(db, "captures")
            row["fts_rows"] = measure.count(db, "posts_fts")
            relevant = re.search(r"(\d+) relevant", result.stdout)
            row["relevant"] = int(relevant.group(1)) if relevant else None
        measure.remove_database(db)
        log(f"  {variant}: {row['seconds']} s, {row['posts_per_s']:,} posts/s, {row['peak_rss_mib']} MiB peak")
        results.append(row)
    pages.unlink()
    flat.unlink()
    return results


def table(results: list[dict]) -> str:
    rows = [
        [r["variant"], f"{r['posts']:,}", f"{r['seconds']:.1f}", f"{r['posts_per_s']:,}", f"{r['peak_rss_mib']:.0f}",
         measure.mib(r["db_bytes"]), f"{r['rows_stored']:,}",
         "" if r.get("captures") is None else f"{r['captures']:,}",
         "" if r.get("relevant") is None else f"{r['relevant']:,}"]
        for r in results
    ]
    return measure.markdown_table(
        ["variant", "posts", "wall s", "posts/s", "peak RSS MiB", "db MiB", "rows stored", "captures", "relevant"], rows)


def main(argv: list[str] | None = None) -> None:
    measure.main(__doc__, VARIANTS, bench_size, table, argv, sizes_help="posts per run",
                 config_help="config for the import+config variant", default_config=DEFAULT_CONFIG, prefix="bench-import-")


if __name__ == "__main__":
    main()
