"""Browsing speed: the requests a person makes in Datasette on the
``reactions`` table of an archive built from N synthetic posts, through
Datasette's in-process client with the project's metadata, templates,
plugin and settings (as `reactions serve` runs it); beside plain Datasette
(no metadata, default settings) on the bare ``posts`` table as the
reference; and ``reactions export --format csv`` beside ``sqlite3 -csv`` of
the same rows.

    .venv/bin/python benchmarks/bench_browse.py --sizes 1000000 --workdir /tmp/bench
    .venv/bin/python benchmarks/bench_browse.py --archive /tmp/bench-1m/archive.db

The archive is built with the synthetic roster (benchmarks/synthetic.py
``roster``: 200 fictional leaders of 24 countries, 12 kinds of role), so
the facets have the values a real archive's have. ``--archive PATH`` reuses
an archive built before (a million posts take minutes to import); it must
be named ``archive.db``. Each request: one warm-up, then the median of 5.

Variants:

    page          /archive/reactions.json   (newest first, the seven default facets)
    page-html     /archive/reactions        (the cards)
    facet         /archive/reactions.json?country=<the largest country>
    type-facet    /archive/reactions.json?reaction_type=congratulation
    search        /archive/reactions.json?_search=<one leader's handle number>   (about 1% of posts)
    search-broad  /archive/reactions.json?_search=elecciones                     (about half the posts)
    search-html, search-broad-html   the same two searches as the page of cards (HTML)
    timeline, first, per-country, saved-search, feed, congratulations,
    allegations, not-reacted: the canned queries
    charts        /archive/-/charts
    plain-*       plain Datasette on /archive/posts (page, a facet, a search)
    export-csv    reactions export OUT --format csv, and sqlite3 -csv of the same rows
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import measure
import synthetic

ROOT = Path(__file__).resolve().parent.parent
REPEAT = 5

VARIANTS = {
    "page": "/archive/reactions.json",
    "page-html": "/archive/reactions",
    "facet": "/archive/reactions.json?country={country}",
    "type-facet": "/archive/reactions.json?reaction_type=congratulation",
    "search": "/archive/reactions.json?_search=0042",
    "search-broad": "/archive/reactions.json?_search=elecciones",
    "search-html": "/archive/reactions?_search=0042",
    "search-broad-html": "/archive/reactions?_search=elecciones",
    "timeline": "/archive/election_timeline.json?election=valdoria-2021&_size=50",
    "first": "/archive/first_reactions.json?election=valdoria-2021",
    "per-country": "/archive/reactions_per_country.json?election=valdoria-2021",
    "saved-search": "/archive/search.json?q=L%C3%ADder%2042",
    "feed": "/archive/new_reactions.atom",
    "congratulations": "/archive/congratulations_in_order.json?election=valdoria-2021",
    "allegations": "/archive/allegations_and_calm.json?election=valdoria-2021&type=",
    "not-reacted": "/archive/not_yet_reacted.json?election=valdoria-2021&on=",
    "charts": "/archive/-/charts",
    "plain-page": "/archive/posts.json",
    "plain-facet": "/archive/posts.json?_facet=language",
    "plain-search": "/archive/posts.json?_search=elecciones",
    "export-csv": None,
}
OPTIONS = {"archive": None}


def build(size: int, workdir: Path, log) -> Path:
    pages, config, db = workdir / f"twarc2-{size}.jsonl", workdir / "roster.yml", workdir / "archive.db"
    config.write_text(synthetic.roster_config(), encoding="utf-8")
    synthetic.write("twarc2", size, str(pages))
    run = measure.run([*measure.tool("reactions", "scraper.cli"), "import", "twarc2-jsonl", str(pages), "--db", str(db),
                       "--config", str(config)], cwd=workdir)
    pages.unlink()
    log(f"{size:,} posts: archive built in {run.seconds:.1f} s ({measure.mib(measure.database_bytes(db))} MiB, "
        f"{measure.count(db, 'reactions'):,} reactions)")
    return db


async def timed(client, path: str) -> tuple[float, int]:
    await client.get(path)  # warm-up: caches, introspection
    runs, status = [], None
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = await client.get(path)
        runs.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    return statistics.median(runs), status


def bench_size(size: int, variants: list[str], config: Path, workdir: Path, log) -> list[dict]:
    sys.path.insert(0, str(ROOT))
    db = OPTIONS["archive"] or build(size, workdir, log)
    posts = measure.count(db, "posts")
    reactions = measure.count(db, "reactions")
    import sqlite3

    with sqlite3.connect(db) as conn:
        country = conn.execute("SELECT value FROM reactions_facet_counts WHERE facet = 'country' "
                               "GROUP BY value ORDER BY sum(n) DESC LIMIT 1").fetchone()[0]
    results = []

    def record(variant, ms, status, reference=None):
        log(f"  {variant}: {ms:,.0f} ms (HTTP {status})" + (f"; {reference}" if reference else ""))
        results.append({"variant": variant, "posts": posts, "reactions": reactions, "ms": round(ms), "status": status,
                        "reference": reference})

    plain = [v for v in variants if v.startswith("plain-")]
    if plain:  # before our instance: its plugin, once loaded, stays registered in this process
        from datasette.app import Datasette

        reference = Datasette(files=[str(db)])
        for variant in plain:
            ms, status = asyncio.run(timed(reference.client, VARIANTS[variant]))
            record(variant, ms, status)
    from scraper.publish import datasette_instance

    ours = datasette_instance(db)
    for variant in variants:
        if variant.startswith("plain-") or variant == "export-csv":
            continue
        ms, status = asyncio.run(timed(ours.client, VARIANTS[variant].format(country=country)))
        record(variant, ms, status)
    if "export-csv" in variants:
        results.extend(export_beside_sqlite3(db, workdir, log, posts, reactions))
    return results


def export_beside_sqlite3(db: Path, workdir: Path, log, posts: int, reactions: int) -> list[dict]:
    import shutil
    import sqlite3

    out = workdir / "export"
    shutil.rmtree(out, ignore_errors=True)
    ours = min((measure.run([*measure.tool("reactions", "scraper.cli"), "export", str(out), "--db", str(db),
                             "--format", "csv", "--overwrite"], cwd=workdir) for _ in range(2)),
               key=lambda r: r.seconds)
    with sqlite3.connect(db) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(reactions)") if row[1] != "post_rowid"]
    sql = f"SELECT {', '.join(columns)} FROM reactions ORDER BY election, created_at, post_id"
    target = workdir / "sqlite3.csv"
    cli = shutil.which("sqlite3")
    if cli is None:
        raise SystemExit("sqlite3 (the command-line shell) is needed for the export reference")
    theirs = min((measure.run(["sh", "-c", f'"{cli}" -csv -header "{db}" "{sql}" > "{target}"'], cwd=workdir)
                  for _ in range(2)), key=lambda r: r.seconds)
    ratio = ours.seconds / theirs.seconds
    cpu_ratio = ours.cpu_seconds / theirs.cpu_seconds
    log(f"  export-csv: {ours.seconds:.2f} s ({ours.cpu_seconds:.2f} s CPU); sqlite3 -csv {theirs.seconds:.2f} s "
        f"({theirs.cpu_seconds:.2f} s CPU); ratio {ratio:.2f} (CPU {cpu_ratio:.2f})")
    shutil.rmtree(out, ignore_errors=True)
    target.unlink()
    return [{"variant": "export-csv", "posts": posts, "reactions": reactions, "ms": round(ours.seconds * 1000),
             "status": 0, "reference": f"sqlite3 -csv {theirs.seconds * 1000:,.0f} ms, ratio {ratio:.2f} "
                                       f"(CPU {ours.cpu_seconds:.2f} / {theirs.cpu_seconds:.2f} s = {cpu_ratio:.2f})"}]


def table(results: list[dict]) -> str:
    return measure.markdown_table(
        ["variant", "posts", "reactions", "median ms", "HTTP", "reference"],
        [[r["variant"], f"{r['posts']:,}", f"{r['reactions']:,}", f"{r['ms']:,}", r["status"] or "",
          r.get("reference") or ""] for r in results],
    )


def main(argv: list[str] | None = None) -> None:
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--archive", type=Path, help="measure this archive (named archive.db) instead of building one")
    options, rest = own.parse_known_args(argv)
    if options.archive:
        OPTIONS["archive"] = options.archive.resolve()
        rest += ["--sizes", "0"]
    measure.main(__doc__, VARIANTS, bench_size, table, rest, sizes_help="posts in the archive",
                 config_help="(unused: the synthetic roster is used)", default_config=ROOT / "metadata.yml",
                 prefix="bench-browse-")


if __name__ == "__main__":
    main()
