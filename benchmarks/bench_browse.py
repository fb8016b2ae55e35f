"""Browsing speed: the requests a person makes in Datasette on the
``reactions`` view of an archive built from N synthetic posts, through
Datasette's in-process client with the project's metadata and settings.

    .venv/bin/python benchmarks/bench_browse.py --sizes 100000

Variants (each request timed once after one warm-up request):

    page      /archive/reactions.json  (default sort, the five default facets)
    facet     /archive/reactions.json?_facet=country&_size=0
    search    /archive/reactions.json?_search=elecciones
    timeline  /archive/election_timeline.json?election=valdoria-2021&_size=50
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import measure
from bench_export import DEFAULT_CONFIG, build_archive

VARIANTS = {
    "page": "/archive/reactions.json",
    "facet": "/archive/reactions.json?_facet=country&_size=0",
    "search": "/archive/reactions.json?_search=elecciones",
    "timeline": "/archive/election_timeline.json?election=valdoria-2021&_size=50",
}


def bench_size(size: int, variants: list[str], config: Path, workdir: Path, log) -> list[dict]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from scraper.publish import datasette_instance

    built = build_archive(size, config, workdir, log)
    db = built.with_name("archive.db")  # the metadata describes the database named "archive"
    built.rename(db)
    datasette = datasette_instance(db)

    async def timed(path: str) -> tuple[float, int]:
        await datasette.client.get(path)  # warm-up: caches, introspection
        started = time.perf_counter()
        response = await datasette.client.get(path)
        return (time.perf_counter() - started) * 1000, response.status_code

    results = []
    for name in variants:
        milliseconds, status = asyncio.run(timed(VARIANTS[name]))
        log(f"  {name}: {milliseconds:.0f} ms (HTTP {status})")
        results.append({"variant": name, "posts": size, "reactions": measure.count(db, "reactions"),
                        "ms": round(milliseconds), "status": status})
    return results


def table(results: list[dict]) -> str:
    return measure.markdown_table(
        ["variant", "posts", "reactions", "ms", "HTTP"],
        [[r["variant"], f"{r['posts']:,}", f"{r['reactions']:,}", r["ms"], r["status"]] for r in results],
    )


def main(argv: list[str] | None = None) -> None:
    measure.main(__doc__, VARIANTS, bench_size, table, argv, sizes_help="posts in the archive",
                 config_help="config the archive is built with", default_config=DEFAULT_CONFIG, prefix="bench-browse-")


if __name__ == "__main__":
    main()
