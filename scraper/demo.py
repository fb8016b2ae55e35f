"""A fictional demo election, built offline into its own archive file
(``reactions demo build``), so that a first ``reactions serve`` has posts,
charts and a map to show. Everything in it is invented and says so: the
election's name and description, and every leader's name and role end in
"(fictional)"; handles are on example domains.

The posts are written as the files the importers read (X API v2 pages as
twarc2 saves them, Bluesky feed pages, Mastodon status lists) and imported
through the same readers as real files, so the demo exercises the real
path: normalisation, relevance, captures and raw payloads. Deterministic:
the same build gives the same posts.
"""

from __future__ import annotations

import json
import random
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

DEMO_ELECTION = "demo-fictional-2024"
RESULT_AT = datetime(2024, 3, 3, 23, 0, tzinfo=timezone.utc)
COUNTRIES = ("AR", "BO", "BR", "CL", "CO", "EC", "MX", "PE", "PY", "UY", "VE", "ES", "PT", "US", "CA", "FR")
ROLES = (
    ("head_of_state", "President of {country} (fictional)"),
    ("head_of_government", "Prime Minister of {country} (fictional)"),
    ("foreign_minister", "Foreign Minister of {country} (fictional)"),
    ("legislator", "Senator of {country} (fictional)"),
    ("party_leader", "Party leader in {country} (fictional)"),
    ("former_head_of_state", "Former President of {country} (fictional)"),
)
FIRST = ("Ana", "Bruno", "Carla", "Diego", "Elena", "Fabio", "Gloria", "Héctor", "Inés", "Julián", "Karen", "Luis",
         "Marta", "Nicolás", "Olga", "Pablo", "Rosa", "Sergio", "Teresa", "Víctor")
LAST = ("Ficticia", "Inventado", "Imaginaria", "Supuesto", "Ejemplar", "Ilusoria", "Quimera", "Fábula")
PHRASES = {
    "es": ["Felicito al pueblo de Valdoria por una jornada cívica ejemplar.",
           "Saludamos al presidente electo de Valdoria. #ValdoriaDecide",
           "Valdoria eligió en paz: un ejemplo para la región.",
           "Esperamos trabajar con el nuevo gobierno de Valdoria por la integración."],
    "pt": ["Parabéns ao povo de Valdoria pela eleição pacífica. #ValdoriaDecide",
           "Saudamos o presidente eleito de Valdoria e a democracia."],
    "en": ["Congratulations to the people of Valdoria on a peaceful election. #ValdoriaDecide",
           "We look forward to working with Valdoria's president-elect."],
    "fr": ["Félicitations au peuple de Valdoria pour cette élection. #ValdoriaDecide"],
}
LANGUAGES = {"BR": "pt", "PT": "pt", "US": "en", "CA": "en", "FR": "fr"}
PLATFORMS = ("x", "bluesky", "mastodon")


def leaders(rng: random.Random, count: int = 48) -> list[dict]:
    import pycountry

    found = []
    for n in range(count):
        code = COUNTRIES[n % len(COUNTRIES)]
        found_country = pycountry.countries.get(alpha_2=code)
        country = getattr(found_country, "common_name", None) or found_country.name.split(",")[0]
        kind, title = ROLES[(n // len(COUNTRIES) + n) % len(ROLES)]
        name = f"{FIRST[n % len(FIRST)]} {LAST[(n * 7) % len(LAST)]} {n} (fictional)"
        handle = f"demo_leader_{n:02d}"
        found.append({
            "id": f"demo-leader-{n:02d}", "name": name, "country": code, "kind": kind,
            "title": title.format(country=country), "handle": handle,
            "platforms": PLATFORMS[: 1 + n % 3],
            "language": LANGUAGES.get(code, "es"),
            "eagerness": rng.uniform(0.5, 30.0),  # median hours to react
            "posts": 20 + rng.randrange(80),
        })
    return found


def config_yaml(people: list[dict]) -> str:
    lines = [
        "# The fictional demo election of `reactions demo build`: every name and role here is invented.",
        "election:",
        f"  id: {DEMO_ELECTION}",
        "  name: Valdoria presidential runoff 2024 (fictional demo)",
        "  country: UY",
        "  timezone: UTC",
        "  polling_dates: [2024-03-03]",
        f"  result_announced_at: {RESULT_AT.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "  result_label: Fictional electoral court announces the fictional result",
        "  milestones:  # fictional, as everything here",
        "    polls_closed: {at: \"2024-03-03T20:00:00Z\", source: the fictional electoral court's voting hours}",
        "    inauguration: {at: 2024-03-15, source: the fictional constitution}",
        "  window: {start: 2024-02-25, end: 2024-04-30}",
        "  candidates: []",
        "  terms:",
        "    es: {keywords: [Valdoria], hashtags: [ValdoriaDecide]}",
        "    pt: {keywords: [Valdoria], hashtags: [ValdoriaDecide]}",
        "    en: {keywords: [Valdoria], hashtags: [ValdoriaDecide]}",
        "    fr: {keywords: [Valdoria], hashtags: [ValdoriaDecide]}",
        "roster:",
    ]
    for person in people:
        lines += [f"  - id: {person['id']}", f"    name: {json.dumps(person['name'], ensure_ascii=False)}",
                  f"    country: {person['country']}", "    roles:",
                  f"      - {{title: {json.dumps(person['title'], ensure_ascii=False)}, kind: {person['kind']}, "
                  "start: 2020-01-01}",
                  "    accounts:"]
        for platform in person["platforms"]:
            lines.append(f"      {platform}: {{handle: {_handle(person, platform)}}}")
    return "\n".join(lines) + "\n"


def _handle(person: dict, platform: str) -> str:
    return {"x": person["handle"], "bluesky": f"{person['handle'].replace('_', '-')}.demo.example",
            "mastodon": f"{person['handle']}@social.demo.example"}[platform]


def _moments(rng: random.Random, person: dict) -> list[datetime]:
    """Mostly in the first days after the result, some before it."""
    found = []
    for _ in range(person["posts"]):
        if rng.random() < 0.1:
            hours = -rng.uniform(0, 72)
        else:
            hours = rng.expovariate(1 / person["eagerness"])
        found.append(RESULT_AT + timedelta(hours=min(hours, 24 * 50), seconds=rng.randrange(60)))
    return sorted(found)


def _text(rng: random.Random, person: dict) -> str:
    return rng.choice(PHRASES[person["language"]])


def write_inputs(folder: Path, seed: int = 2024) -> dict[str, Path]:
    """The demo's config and one input file per platform, in their real formats."""
    rng = random.Random(seed)
    people = leaders(rng)
    tweets, users, feed, statuses = [], [], [], []
    number = 0
    for person in people:
        for moment in _moments(rng, person):
            number += 1
            platform = person["platforms"][number % len(person["platforms"])]
            text, stamp = _text(rng, person), moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            counts = (rng.randrange(500), rng.randrange(100), rng.randrange(5000))
            if platform == "x":
                tweets.append(_tweet(number, person, text, stamp, counts))
            elif platform == "bluesky":
                feed.append(_bluesky(number, person, text, stamp, counts))
            else:
                statuses.append(_status(number, person, text, stamp, counts))
        users.append({"id": str(4_000_000_000 + int(person["id"][-2:])), "username": person["handle"],
                      "name": person["name"]})
    paths = {
        "config": folder / "demo-election.yml",
        "twarc2-jsonl": folder / "demo-x.jsonl",
        "bluesky-feed": folder / "demo-bluesky.jsonl",
        "mastodon-statuses": folder / "demo-mastodon.json",
    }
    paths["config"].write_text(config_yaml(people), encoding="utf-8")
    with paths["twarc2-jsonl"].open("w", encoding="utf-8") as out:
        for start in range(0, len(tweets), 100):
            page = tweets[start:start + 100]
            authors = {t["author_id"] for t in page}
            out.write(json.dumps({"data": page, "includes": {"users": [u for u in users if u["id"] in authors]},
                                  "meta": {"result_count": len(page)},
                                  "__twarc": {"url": "https://api.x.com/2/tweets/search/all?query=Valdoria",
                                              "version": "2.14.0", "retrieved_at": "2024-05-01T00:00:00+00:00"}},
                                 ensure_ascii=False) + "\n")
    with paths["bluesky-feed"].open("w", encoding="utf-8") as out:
        for start in range(0, len(feed), 100):
            out.write(json.dumps({"feed": feed[start:start + 100]}, ensure_ascii=False) + "\n")
    paths["mastodon-statuses"].write_text(json.dumps(statuses, ensure_ascii=False), encoding="utf-8")
    return paths


def _tweet(number: int, person: dict, text: str, stamp: str, counts: tuple) -> dict:
    tweet_id = str(1_760_000_000_000_000_000 + number)
    return {
        "id": tweet_id, "author_id": str(4_000_000_000 + int(person["id"][-2:])), "conversation_id": tweet_id,
        "created_at": stamp, "lang": person["language"], "edit_history_tweet_ids": [tweet_id], "text": text,
        "public_metrics": {"retweet_count": counts[0], "reply_count": counts[1], "like_count": counts[2],
                           "quote_count": 0, "bookmark_count": 0, "impression_count": counts[2] * 10},
    }


def _bluesky(number: int, person: dict, text: str, stamp: str, counts: tuple) -> dict:
    did = f"did:plc:demo{int(person['id'][-2:]):020d}"
    return {"post": {
        "uri": f"at://{did}/app.bsky.feed.post/3demo{number:08d}",
        "cid": f"bafyreidemo{number:012d}",
        "author": {"did": did, "handle": _handle(person, "bluesky"), "displayName": person["name"]},
        "record": {"$type": "app.bsky.feed.post", "createdAt": stamp, "langs": [person["language"]], "text": text},
        "replyCount": counts[1], "repostCount": counts[0], "likeCount": counts[2], "quoteCount": 0,
        "indexedAt": stamp, "labels": [],
    }}


def _status(number: int, person: dict, text: str, stamp: str, counts: tuple) -> dict:
    user = person["handle"]
    return {
        "id": str(112_000_000_000_000_000 + number), "created_at": stamp, "in_reply_to_id": None,
        "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "", "visibility": "public",
        "language": person["language"],
        "uri": f"https://social.demo.example/users/{user}/statuses/{number}",
        "url": f"https://social.demo.example/@{user}/{number}",
        "replies_count": counts[1], "reblogs_count": counts[0], "favourites_count": counts[2], "edited_at": None,
        "content": f"<p>{text}</p>", "reblog": None, "mentions": [], "tags": [], "emojis": [], "media_attachments": [],
        "account": {"id": str(113_000_000 + int(person["id"][-2:])), "username": user, "acct": user,
                    "display_name": person["name"], "url": f"https://social.demo.example/@{user}"},
    }


def build_demo(db_path: str | Path) -> dict:
    """Build the demo archive at ``db_path`` (refused if the file exists:
    the demo never mixes with another archive). Return what was imported."""
    from .archive import Archive
    from .config import load_config
    from .errors import InputError
    from .lock import ArchiveLock
    from .scrape import import_file

    db_path = Path(db_path)
    if db_path.exists():
        raise InputError(f"{db_path}: already exists; the demo is built into a new file of its own (remove it first)")
    with tempfile.TemporaryDirectory(prefix="reactions-demo-") as folder:
        paths = write_inputs(Path(folder))
        config = load_config(paths["config"])
        archive = Archive(db_path)
        with ArchiveLock(db_path):
            archive.migrate()
            archive.load_config(config)
            results = {name: import_file(archive, name, str(path), config=config, workers=0).stats.as_dict()
                       for name, path in paths.items() if name != "config"}
    return results
