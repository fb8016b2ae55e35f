"""Synthetic inputs in real formats, for benchmarks: X API v2 pages as
twarc2 writes them (one response page per line, with includes and the
__twarc metadata key), compact (the fields the archive reads) or
``twarc2-full`` (every field twarc2 asks for by default, as a real
collection has). Fictional users, deterministic content. And a config
whose roster names those users (``roster``): fictional leaders in 24
countries with 12 kinds of role, a fifth of them changing role during the
election window, so that the reactions have the countries and roles a real
archive's facets show.

    python benchmarks/synthetic.py twarc2 100000 /tmp/posts-100k.jsonl
    python benchmarks/synthetic.py twarc2-full 100000 /tmp/posts-100k-full.jsonl
    python benchmarks/synthetic.py roster 200 /tmp/roster-config.yml
"""

from __future__ import annotations

import json
import random
import sys
from datetime import datetime, timedelta, timezone

TWITTER_EPOCH_MS = 1288834974657
START = datetime(2021, 6, 6, 12, tzinfo=timezone.utc)
WORDS = (
    "felicito al pueblo elecciones democracia presidente electo victoria hermano gobierno "
    "paz justicia futuro región integración votos jornada cívica parabéns eleição congratulations "
    "election peaceful people historic day Valdoria"
).split()


def snowflake(moment: datetime, sequence: int) -> str:
    ms = int(moment.timestamp() * 1000)
    return str(((ms - TWITTER_EPOCH_MS) << 22) + (sequence % 4096))


def users(count: int = 200) -> list[dict]:
    return [
        {"id": str(1_300_000_000_000_000_000 + n), "username": f"lider_{n:04d}", "name": f"Líder Ficticio {n}"}
        for n in range(count)
    ]


def tweet(n: int, author: dict, rng: random.Random) -> dict:
    moment = START + timedelta(seconds=n * 7)
    words = rng.choices(WORDS, k=rng.randint(8, 30))
    text = " ".join(words) + f" #Elecciones{n % 5} @lider_{rng.randint(0, 199):04d} https://t.co/Ab{n:08d}"
    return {
        "id": snowflake(moment, n),
        "author_id": author["id"],
        "conversation_id": snowflake(moment, n),
        "created_at": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "lang": rng.choice(["es", "pt", "en"]),
        "edit_history_tweet_ids": [snowflake(moment, n)],
        "text": text,
        "entities": {
            "hashtags": [{"start": 0, "end": 0, "tag": f"Elecciones{n % 5}"}],
            "urls": [{"start": 0, "end": 0, "url": f"https://t.co/Ab{n:08d}",
                      "expanded_url": f"https://example.org/statement/{n}", "display_url": f"example.org/statement/{n}"}],
        },
        "public_metrics": {"retweet_count": rng.randint(0, 500), "reply_count": rng.randint(0, 90),
                           "like_count": rng.randint(0, 5000), "quote_count": rng.randint(0, 40),
                           "bookmark_count": 0, "impression_count": rng.randint(0, 100000)},
    }


def with_default_fields(item: dict, n: int) -> dict:
    """A tweet of :func:`tweet` with the other fields twarc2 asks for by
    default (every tweet field and expansion of X API v2: the mentioned
    user, annotations, context annotations, edit controls, reply settings),
    shaped as the API returns them. Fictional values; the post's text and
    everything the archive reads from it are unchanged."""
    handle = item["text"].split("@", 1)[1].split(" ", 1)[0]
    at = item["text"].index("@")
    item = dict(item)
    item["entities"] = {
        **item["entities"],
        "mentions": [{"start": at, "end": at + 1 + len(handle), "username": handle,
                      "id": str(1_300_000_000_000_000_000 + int(handle[-4:]))}],
        "annotations": [{"start": 0, "end": 7, "probability": 0.4417, "type": "Place", "normalized_text": "Valdoria"}],
    }
    item["context_annotations"] = [
        {"domain": {"id": "35", "name": "Politician", "description": "Politicians in the world"},
         "entity": {"id": str(1_000_000_000_000_000_000 + n % 200), "name": f"Líder Ficticio {n % 200}"}},
        {"domain": {"id": "88", "name": "Political Body", "description": "A section of government"},
         "entity": {"id": "1000000000000000500", "name": "Fictional Electoral Court"}},
    ]
    item["edit_controls"] = {"edits_remaining": 5, "is_edit_eligible": True,
                             "editable_until": item["created_at"].replace(":00.000Z", ":59.000Z")}
    item["reply_settings"] = "everyone"
    item["possibly_sensitive"] = False
    return item


def user_with_default_fields(user: dict, n: int) -> dict:
    """A user of :func:`users` with the user fields twarc2 asks for by default."""
    return {
        **user,
        "created_at": f"20{10 + n % 12:02d}-0{1 + n % 9}-1{n % 10}T12:00:00.000Z",
        "description": f"Cuenta oficial ficticia número {n}. Fictional account for benchmarks; no real person.",
        "location": "Valdoria",
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{1_500_000_000_000_000_000 + n}/ficticio_normal.jpg",
        "protected": False,
        "public_metrics": {"followers_count": 1000 + 37 * n, "following_count": 100 + n, "tweet_count": 5000 + 11 * n,
                           "listed_count": 10 + n, "like_count": 200 + 3 * n},
        "url": f"https://t.co/Us{n:08d}",
        "entities": {"url": {"urls": [{"start": 0, "end": 23, "url": f"https://t.co/Us{n:08d}",
                                       "expanded_url": f"https://example.org/lider/{n}",
                                       "display_url": f"example.org/lider/{n}"}]}},
        "verified": False,
        "verified_type": "none",
    }


def twarc2_lines(total: int, per_page: int = 100, default_fields: bool = False):
    """X API v2 pages as twarc2 writes them. ``default_fields``: every field
    twarc2 asks for by default (a real collection's shape); otherwise the
    few fields the archive reads (a compact input)."""
    rng = random.Random(2021)
    people = users()
    full_people = [user_with_default_fields(u, n) for n, u in enumerate(people)] if default_fields else people
    for start in range(0, total, per_page):
        tweets = [tweet(n, people[n % len(people)], rng) for n in range(start, min(total, start + per_page))]
        authors = {t["author_id"] for t in tweets}
        if default_fields:
            tweets = [with_default_fields(t, start + i) for i, t in enumerate(tweets)]
            authors |= {m["id"] for t in tweets for m in t["entities"]["mentions"]}
        page = {
            "data": tweets,
            "includes": {"users": [u for u in full_people if u["id"] in authors]},
            "meta": {"result_count": len(tweets), "newest_id": tweets[0]["id"], "oldest_id": tweets[-1]["id"]},
            "__twarc": {"url": "https://api.x.com/2/tweets/search/all?query=elecciones", "version": "2.14.0",
                        "retrieved_at": "2026-11-27T00:00:00+00:00"},
        }
        yield json.dumps(page, ensure_ascii=False)


def flat_lines(total: int):
    """The same tweets one object per line, for `sqlite-utils insert --nl`."""
    for line in twarc2_lines(total):
        for item in json.loads(line)["data"]:
            yield json.dumps(item, ensure_ascii=False)


def post_lines(total: int):
    """The same tweets as rows with the archive's post columns, flattened
    the way a user would prepare them for `sqlite-utils insert --nl --pk id`
    (the baseline pipeline of benchmarks/bench_pipeline.py)."""
    import hashlib
    import re

    people = {u["id"]: (n, u) for n, u in enumerate(users())}
    for line in twarc2_lines(total):
        for item in json.loads(line)["data"]:
            number, user = people[item["author_id"]]
            metrics = item["public_metrics"]
            text = item["text"]
            yield json.dumps({
                "id": f"x:{item['id']}",
                "platform": "x",
                "native_id": item["id"],
                "id_is_derived": 0,
                "match_hash": hashlib.sha256(text.lower().encode()).hexdigest()[:20],
                "url": f"https://x.com/{user['username']}/status/{item['id']}",
                "account_id": number + 1,
                "handle": user["username"],
                "display_name": user["name"],
                "author_name": user["name"],
                "mentioned_names": None,
                "created_at": item["created_at"][:19] + "Z",
                "created_at_precision": "second",
                "text": text,
                "language": item["lang"],
                "hashtags": json.dumps(re.findall(r"#(\w+)", text)),
                "mentions": json.dumps(re.findall(r"@(\w+)", text)),
                "links": json.dumps([u["expanded_url"] for u in item["entities"]["urls"]]),
                "reply_count": metrics["reply_count"],
                "repost_count": metrics["retweet_count"],
                "like_count": metrics["like_count"],
                "quote_count": metrics["quote_count"],
                "view_count": metrics["impression_count"],
                "version_count": 1,
                "first_captured_at": "2026-11-27T00:00:00Z",
                "last_captured_at": "2026-11-27T00:00:00Z",
            }, ensure_ascii=False)


COUNTRIES = ("AR", "BO", "BR", "CL", "CO", "EC", "PY", "PE", "UY", "VE", "MX", "GT", "HN", "SV", "NI", "CR",
             "PA", "CU", "DO", "ES", "PT", "US", "CA", "FR")
ROLE_KINDS = ("head_of_state", "head_of_government", "foreign_minister", "minister", "legislator",
              "party_leader", "former_head_of_state", "vice_head_of_state", "international_official",
              "candidate", "former_legislator", "other")


def roster_config(count: int = 200) -> str:
    """A config (YAML) with the fictional election of tests/fixtures/config/valdoria.yml
    and a roster of ``count`` fictional leaders, the X users of :func:`users`."""
    lines = [
        "# Synthetic benchmark config: fictional election, fictional leaders (benchmarks/synthetic.py).",
        "election:",
        "  id: valdoria-2021",
        "  name: Fictional runoff (benchmark)",
        "  country: UY",
        "  timezone: America/Montevideo",
        "  polling_dates: [2021-06-06]",
        "  result_announced_at: 2021-06-07T21:00:00-03:00",
        "  milestones:  # fictional: every reaction gets its timing, as in a real archive",
        "    polls_closed: {at: \"2021-06-06T18:00:00-03:00\", source: fictional}",
        "    first_results: {at: \"2021-06-06T22:30:00-03:00\", source: fictional}",
        "    inauguration: {at: 2021-07-01, source: fictional}",
        "  window: {start: 2021-06-06, end: 2021-07-31}",
        "  candidates: []",
        "  terms:",
        "    es: {keywords: [elecciones, presidenta electa], hashtags: [EleccionesFicticias]}",
        "    pt: {keywords: [eleições], hashtags: [EleicoesFicticias]}",
        "    en: {keywords: [election], hashtags: [FictionalElection]}",
        "roster:",
    ]
    for n, user in enumerate(users(count)):
        kind = ROLE_KINDS[n % len(ROLE_KINDS)]
        lines += [
            f"  - id: lider-ficticio-{n:04d}",
            f"    name: {user['name']}",
            f"    country: {COUNTRIES[n % len(COUNTRIES)]}",
            "    roles:",
        ]
        if n % 5 == 0:  # a role that changes on 2021-06-20, inside the window
            lines += [
                f"      - {{title: Fictional role {n} (until June), kind: {kind}, start: 2019-01-01, end: 2021-06-19}}",
                f"      - {{title: Fictional role {n} (from June), kind: {ROLE_KINDS[(n + 3) % len(ROLE_KINDS)]}, "
                "start: 2021-06-20}",
            ]
        else:
            lines.append(f"      - {{title: Fictional role {n}, kind: {kind}, start: 2019-01-01}}")
        lines += ["    accounts:", f"      x: {{handle: {user['username']}}}"]
    return "\n".join(lines) + "\n"


def write(kind: str, total: int, path: str) -> None:
    if kind == "roster":
        with open(path, "w", encoding="utf-8") as out:
            out.write(roster_config(total))
        return
    if kind == "twarc2-full":
        lines = twarc2_lines(total, default_fields=True)
    else:
        lines = {"twarc2": twarc2_lines, "flat": flat_lines, "posts": post_lines}[kind](total)
    with open(path, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")


if __name__ == "__main__":
    write(sys.argv[1], int(sys.argv[2]), sys.argv[3])
