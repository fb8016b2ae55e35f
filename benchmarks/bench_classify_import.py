"""What classifying reactions adds to an import: the share of the import's
CPU time spent in the classifier's hook, in one process.

    .venv/bin/python benchmarks/bench_classify_import.py --size 100000

Imports the synthetic twarc2 file (benchmarks/synthetic.py) with the test
election (tests/fixtures/config/valdoria.yml; most synthetic posts are
relevant to it, and dense with the lexicon's words: a worst case) in one
process (--workers 0), timing the classifier where the preparing step runs
it on each relevant post (scraper.reaction_types.ElectionClassifier.classify_post,
called by scraper/prepare.py: in worker processes when there are some),
and the hook that stores the classes of a stored batch
(scraper/classify_store.after_batch, a callback of the archive's writer,
told the batch's post ids and prepared posts).
CPU time, not wall time: on a shared machine the ratio holds where wall
times do not. Beside it, the same import with reaction types off (the
archive taken as not migrated to them: no classifier on the matchers, the
hook a no-op): the import as it was before reaction types.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import synthetic  # noqa: E402

from scraper import classify_store  # noqa: E402
from scraper.archive import Archive  # noqa: E402
from scraper.config import load_config  # noqa: E402
from scraper.reaction_types import ElectionClassifier  # noqa: E402
from scraper.scrape import import_file  # noqa: E402

CONFIG = ROOT / "tests" / "fixtures" / "config" / "valdoria.yml"


def run(path: Path, db: Path, classify: bool) -> dict:
    originals = classify_store.after_batch, ElectionClassifier.classify_post, classify_store.migrated
    spent = {"hook_s": 0.0, "prepare_s": 0.0}

    def timed(name, function):
        def call(*args, **kwargs):
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.process_time() - started
        return call

    classify_store.after_batch = timed("hook_s", originals[0])
    ElectionClassifier.classify_post = timed("prepare_s", originals[1])
    if not classify:
        classify_store.migrated = lambda database: False
    try:
        archive = Archive(db)
        archive.migrate()
        archive.load_config(load_config(CONFIG))
        started = time.process_time()
        import_file(archive, "twarc2-jsonl", str(path), workers=0)
        total = time.process_time() - started
    finally:
        classify_store.after_batch, ElectionClassifier.classify_post, classify_store.migrated = originals
    classified = archive.db["reaction_classes"].count
    return {"cpu_s": total, "classified": classified, **spent}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "twarc2.jsonl"
        synthetic.write("twarc2", args.size, str(path))
        without = run(path, Path(folder) / "without.db", classify=False)
        with_types = run(path, Path(folder) / "with.db", classify=True)
    print(f"{args.size:,} posts, {with_types['classified']:,} relevant and classified")
    print("| import | CPU s | of which classifying (preparing step) | storing the classes (writer's hook) "
          "| posts/s (CPU) |")
    print("|---|---:|---:|---:|---:|")
    for name, result in (("without reaction types", without), ("with reaction types", with_types)):
        print(f"| {name} | {result['cpu_s']:.1f} | {result['prepare_s']:.1f} | {result['hook_s']:.1f} "
              f"| {args.size / result['cpu_s']:,.0f} |")
    print(f"ratio with / without: {with_types['cpu_s'] / without['cpu_s']:.2f}; "
          f"classifier {with_types['classified'] / max(with_types['prepare_s'], 1e-9):,.0f} posts/s (CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
