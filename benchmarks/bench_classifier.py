"""Precision and recall of the reaction-type classifier on the labelled
evaluation set, beside a plain keyword baseline, and its speed.

    python benchmarks/bench_classifier.py            # the tables
    python benchmarks/bench_classifier.py --errors   # and every post it gets wrong, with its evidence

The evaluation set (benchmarks/data/reaction_types_eval.yml) holds fictional
posts in Spanish, Portuguese, English and French, labelled by hand. The
baseline is what a user would do without the classifier: look the same
lexicon's words up in the text and take the type with the most hits, with
no negation, no addressee and no deferral rules. Results go to
docs/analysis.md with the date and commit.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.reaction_types import PRIORITY, TYPES, Classifier, load_lexicon  # noqa: E402

EVAL_SET = ROOT / "benchmarks" / "data" / "reaction_types_eval.yml"


def load_eval_set(path: Path = EVAL_SET) -> tuple[list[str], dict[str, list[dict]]]:
    """The candidates, and the posts of each part: development (tuned on) and held-out."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data["candidates"], {"development": data["posts"], "held-out": data["held_out"]}


def baseline_type(lexicon, text: str) -> str:
    """The lexicon's words counted, nothing else (ties as the classifier breaks them)."""
    from scraper.reaction_types import _sentences

    scores = Counter()
    for words in _sentences(text):
        for pattern, _, _ in lexicon.types.matches(words):
            scores[pattern.kind] += pattern.weight
    if not scores:
        return "other"
    return max(scores, key=lambda kind: (scores[kind], -PRIORITY.index(kind)))


def scores_table(gold: list[str], predicted: list[str]) -> dict[str, tuple[float, float, int, int]]:
    """type -> (precision, recall, predicted count, gold count)."""
    table = {}
    for kind in TYPES:
        true_positive = sum(1 for g, p in zip(gold, predicted) if g == p == kind)
        said = sum(1 for p in predicted if p == kind)
        there = sum(1 for g in gold if g == kind)
        table[kind] = (true_positive / said if said else 0.0, true_positive / there if there else 0.0, said, there)
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="List every post classified wrongly, with its evidence.")
    parser.add_argument("--repeat", type=int, default=50, help="Passes over the set for the timing (default 50).")
    args = parser.parse_args(argv)

    candidates, parts = load_eval_set()
    classifier = Classifier(candidates)
    lexicon = load_lexicon()
    print(f"Classifier {classifier.version}")
    misclassified = []
    for part, posts in parts.items():
        results = report(part, posts, classifier, lexicon)
        misclassified.extend((part, post, result) for post, result in zip(posts, results)
                             if post["type"] != result.reaction_type)
    posts = [post for posts in parts.values() for post in posts]
    texts = [(post["text"], post["lang"]) for post in posts]
    started = time.perf_counter()
    for _ in range(args.repeat):
        for text, language in texts:
            classifier.classify(text, language)
    ours_rate = len(texts) * args.repeat / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(args.repeat):
        for text, _ in texts:
            baseline_type(lexicon, text)
    base_rate = len(texts) * args.repeat / (time.perf_counter() - started)
    print(f"\nSpeed: {ours_rate:,.0f} posts/s classified; the keyword baseline {base_rate:,.0f} posts/s "
          f"(ratio {ours_rate / base_rate:.2f})")

    if args.errors:
        print("\nMisclassified:")
        for part, post, result in misclassified:
            print(f"- {part} [{post['lang']}] {post['type']} -> {result.reaction_type} ({result.confidence}): {post['text']}")
            for note in result.evidence:
                print(f"    {note}")
    return 0


def report(part: str, posts: list[dict], classifier, lexicon) -> list:
    """Print the tables of one part of the set; return the classifications."""
    gold = [post["type"] for post in posts]
    results = [classifier.classify(post["text"], post["lang"]) for post in posts]
    predicted = [result.reaction_type for result in results]
    baseline = [baseline_type(lexicon, post["text"]) for post in posts]
    languages = Counter(post["lang"] for post in posts)
    print(f"\n### {part}: {len(posts)} posts ({', '.join(f'{k} {v}' for k, v in sorted(languages.items()))})\n")
    ours, theirs = scores_table(gold, predicted), scores_table(gold, baseline)
    print("| type | posts | precision | recall | baseline precision | baseline recall |")
    print("|---|---|---|---|---|---|")
    for kind in TYPES:
        p, r, _, n = ours[kind]
        bp, br, _, _ = theirs[kind]
        print(f"| {kind} | {n} | {p:.2f} | {r:.2f} | {bp:.2f} | {br:.2f} |")
    accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(gold)
    base_accuracy = sum(g == p for g, p in zip(gold, baseline)) / len(gold)
    print(f"| all (accuracy) | {len(gold)} | {accuracy:.2f} | | {base_accuracy:.2f} | |\n")
    print("| language | accuracy | negations right | hard cases right |")
    print("|---|---|---|---|")
    for language in sorted(languages):
        rows = [(post, p) for post, p in zip(posts, predicted) if post["lang"] == language]
        right = sum(post["type"] == p for post, p in rows)
        negations = [(post, p) for post, p in rows if "negation" in post.get("tags", ())]
        hard = [(post, p) for post, p in rows if "hard" in post.get("tags", ())]
        print(f"| {language} | {right / len(rows):.2f} ({right}/{len(rows)}) | "
              f"{sum(post['type'] == p for post, p in negations)}/{len(negations)} | "
              f"{sum(post['type'] == p for post, p in hard)}/{len(hard)} |")
    return results


if __name__ == "__main__":
    sys.exit(main())
