"""What checking a transform's post costs (scraper/post_check.py), per post,
on the posts of a synthetic X API v2 page (benchmarks/synthetic.py): the
fast path an ordinary post takes, beside the full check every post took
before it (the same checks field by field), and the transform that made the
post, for scale. CPU time of this process (time.process_time), the fastest
of --repeat rounds.

    .venv/bin/python benchmarks/bench_post_check.py --repeat 40
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import synthetic  # noqa: E402

from scraper import formats, post_check  # noqa: E402
from scraper.normalise import _transform_for, _transforms  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    line = next(iter(synthetic.twarc2_lines(100)))
    items = list(formats.line_reader("twarc2-jsonl")(line, "bench", "bench.jsonl:1"))
    transform = _transforms.get(items[0].format) or _transform_for(items[0].format)
    posts = [transform(item) for item in items]

    def per_post(fn, rounds: int = 200) -> float:
        timer = timeit.Timer(lambda: [fn(p) for p in posts], timer=time.process_time)
        return min(timer.timeit(rounds) for _ in range(args.repeat)) / (rounds * len(posts)) * 1e6

    def full(post):
        post_check._check_types(post)
        post_check._check_values(post)

    rows = [
        ("check_post (fast path: an ordinary post)", per_post(post_check.check_post)),
        ("full check, field by field (every post before)", per_post(full)),
        ("the X v2 transform that made the post", per_post(lambda p, i=items[0]: transform(i), rounds=20)),
    ]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"<!-- {len(posts)} posts of a synthetic X v2 page; commit {commit}; CPU time, fastest of {args.repeat} -->")
    print("| what | µs per post |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value:.2f} |")
    print(f"| ratio full / fast | {rows[1][1] / rows[0][1]:.1f} |")


if __name__ == "__main__":
    main()
