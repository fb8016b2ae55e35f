"""Sharded scrapes merged (issue 16): one fictional roster served by a
simulated X API v2 on 127.0.0.1, with an article that quotes some of its
posts without their ids and reports reactions, and a second article (on
another shard) that reports one of them again. Scraped once into one
archive and once as three shards (``--shard K/3``); the shards merged in two
orders must hold what the single archive holds: posts, versions, captures,
raw payloads, relevance, reaction types and timing (the election has a
candidate and milestones, so posts are classified), reported reactions with
their sightings. Then: labels, a merge killed with -9, merging twice, and
inputs that are refused."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug import Response

from scraper import combine, sharding
from scraper.archive import Archive
from scraper.cli import cli
from scraper.config import load_config
from scraper.http import PoliteClient
from scraper.reaction_rows import refresh_reaction_rows
from scraper.scrape import ScrapeOptions, run_scrape

ROOT = Path(__file__).resolve().parent.parent
FROZEN_NOW = "2026-11-27T03:00:00Z"
HTTP_DATE = "Fri, 27 Nov 2026 03:00:00 GMT"
TWITTER_EPOCH_MS = 1288834974657
START = datetime(2021, 6, 7, 14, tzinfo=timezone.utc)

# Fictional leaders of fictional governments (no real people or accounts).
LEADERS = [
    ("ana-ficticia", "Ana Ficticia", "UY", "head_of_state", "ana_ficticia"),
    ("bruno-inventado", "Bruno Inventado", "AR", "head_of_government", "bruno_inventado"),
    ("carla-imaginaria", "Carla Imaginaria", "BR", "foreign_minister", "carla_imaginaria"),
    ("diego-supuesto", "Diego Supuesto", "CL", "head_of_state", "diego_supuesto"),
    ("elena-hipotetica", "Elena Hipotética", "PY", "foreign_minister", "elena_hipotetica"),
    ("fabio-irreal", "Fabio Irreal", "BO", "head_of_government", "fabio_irreal"),
    ("gloria-quimera", "Gloria Quimera", "PE", "head_of_state", "gloria_quimera"),
    ("hugo-novela", "Hugo Novela", "EC", "foreign_minister", "hugo_novela"),
    ("irene-fabula", "Irene Fábula", "CO", "head_of_state", "irene_fabula"),
]
POSTS_PER_ACCOUNT = 4
# What each account's posts say (four reaction types; every one relevant: it names Valdoria).
TEXTS = (
    "Felicito a Ana Ficticia por su victoria en las elecciones de Valdoria, mensaje 0 de {name}",
    "Llamo a la calma y a esperar los resultados oficiales en Valdoria, mensaje 1 de {name}",
    "Saludo al pueblo de Valdoria por sus elecciones, mensaje 2 de {name}",
    "Nos preocupan las denuncias de irregularidades en Valdoria, mensaje 3 de {name}",
)
REPORTED = "Hugo Novela and Bruno Inventado congratulated the people of Valdoria on the election."


def snowflake(moment: datetime, sequence: int) -> str:
    return str(((int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22) + sequence)


def user_of(number: int) -> dict:
    _, name, _, _, handle = LEADERS[number]
    return {"id": str(1_395_000_000_000_000_000 + number), "name": name, "username": handle}


def tweets_of(number: int) -> list[dict]:
    """The account's posts, newest first, as API v2 gives them."""
    user = user_of(number)
    found = []
    for index in range(POSTS_PER_ACCOUNT):
        moment = START + timedelta(hours=index * 5, minutes=number)
        tweet_id = snowflake(moment, number * 10 + index)
        found.append({
            "id": tweet_id,
            "text": TEXTS[index].format(name=user["name"]),
            "created_at": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "author_id": user["id"],
            "lang": "es",
            "edit_history_tweet_ids": [tweet_id],
            "conversation_id": tweet_id,
            "public_metrics": {"retweet_count": index, "reply_count": 1, "like_count": 10 * number + index,
                               "quote_count": 0, "bookmark_count": 0, "impression_count": 100},
        })
    return sorted(found, key=lambda t: int(t["id"]), reverse=True)


class SimulatedX:
    """X API v2 for the roster: user lookup by username and each user's
    timeline, two posts a page (so every account pages)."""

    PAGE = 2

    def __init__(self, httpserver):
        for number in range(len(LEADERS)):
            user = user_of(number)
            httpserver.expect_request(f"/2/users/by/username/{user['username']}").respond_with_handler(
                lambda request, user=user: self.answer({"data": user}))
            httpserver.expect_request(f"/2/users/{user['id']}/tweets").respond_with_handler(
                lambda request, number=number: self.timeline(request, number))

    @staticmethod
    def answer(body: dict) -> Response:
        return Response(json.dumps(body, ensure_ascii=False), content_type="application/json")

    def timeline(self, request, number: int) -> Response:
        rows = tweets_of(number)
        start = int(request.args.get("pagination_token") or 0)
        page = rows[start:start + self.PAGE]
        meta = {"result_count": len(page), "newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if start + self.PAGE < len(rows):
            meta["next_token"] = str(start + self.PAGE)
        return self.answer({"data": page, "includes": {"users": [user_of(number)]}, "meta": meta})


def article_text() -> str:
    """A news report quoting the first post of some accounts as plain text (no ids)."""
    lines = ["Leaders of the region react to the fictional Valdoria election.", "",
             REPORTED, ""]
    for number in (0, 2, 4, 6, 8):
        tweet = tweets_of(number)[-1]
        user = user_of(number)
        day = datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00"))
        lines += [f"{tweet['text']} — {user['name']} (@{user['username']}) {day:%B} {day.day}, {day.year}", ""]
    return "\n".join(lines)


def copy_text() -> str:
    """Another outlet's report of the same reactions (the same sentence)."""
    return "\n".join(["Regional wire: the fictional Valdoria election.", "", REPORTED, ""])


def config_text(base_url: str, article: Path, copy: Path) -> str:
    roster = "\n".join(
        f"  - id: {leader_id}\n    name: {name}\n    country: {country}\n    roles:\n"
        f"      - {{title: Fictional office, kind: {kind}, start: 2020-01-01}}\n"
        f"    accounts:\n      x: {{handle: {handle}}}"
        for leader_id, name, country, kind, handle in LEADERS
    )
    return f"""
contact: https://example.org/reaction-archive-tests
election:
  id: valdoria-shards
  name: Fictional election, sharded scrape test
  country: UY
  timezone: UTC
  polling_dates: [2021-06-06]
  result_announced_at: 2021-06-07T02:00:00Z
  milestones:
    polls_closed: {{at: "2021-06-06T22:00:00Z", source: fictional electoral court}}
    first_results: {{at: "2021-06-07T00:30:00Z", source: fictional}}
    official_result: {{at: "2021-06-07T02:00:00Z", source: fictional}}
    inauguration: {{at: "2021-06-08T12:00:00Z", label: Ana Ficticia sworn in}}
  window: {{start: 2021-06-05, end: 2021-06-20}}
  candidates: [ana-ficticia]
  terms:
    es: {{keywords: [Valdoria], hashtags: []}}
    pt: {{keywords: [eleições], hashtags: []}}
    en: {{keywords: [election], hashtags: []}}
roster:
{roster}
sources:
  - id: regional-report
    kind: article
    path: {article}
  - id: regional-report-copy
    kind: article
    path: {copy}
  - id: x-roster
    kind: x
    options: {{base_url: "{base_url}"}}
"""


def freeze_clocks(monkeypatch) -> None:
    """Every clock the scrape reads (and the local server's Date header)
    says the same time, so that two scrapes of the same server store the
    same provenance."""
    import http.server

    import scraper.http

    monkeypatch.setattr(http.server.BaseHTTPRequestHandler, "date_time_string",
                        lambda self, timestamp=None: HTTP_DATE)
    original = scraper.http.utc_now
    for name, module in list(sys.modules.items()):
        if name.startswith("scraper") and getattr(module, "utc_now", None) is original:
            monkeypatch.setattr(module, "utc_now", lambda: FROZEN_NOW)


def scrape(db: Path, config_path: Path, shard: sharding.Shard | None = None):
    client = PoliteClient(sleep=lambda seconds: None, max_retries=1)
    result = run_scrape(Archive(db), load_config(config_path), client=client,
                        options=ScrapeOptions(recheck_days=0, shard=shard))
    assert result.exit_code == 0, [s.as_dict() for s in result.sources]
    return result


def content(db: Path) -> dict[str, list]:
    """What an archive holds, by natural keys (no row ids, no account ids)."""
    with sqlite3.connect(db) as conn:
        account = "(SELECT a.platform || ':' || coalesce(a.platform_user_id, lower(a.handle)) FROM accounts a WHERE a.id = p.account_id)"
        columns = [row[1] for row in conn.execute("PRAGMA table_info(posts)") if row[1] != "account_id"]
        found = {
            "posts": conn.execute(f"SELECT {', '.join('p.' + c for c in columns)}, {account} FROM posts p ORDER BY id").fetchall(),
            "versions": conn.execute(
                "SELECT post_id, version, text, reply_count, repost_count, like_count, quote_count, view_count, "
                "edited_at, first_seen_at, last_seen_at FROM post_states ORDER BY post_id, version").fetchall(),
            "captures": conn.execute(
                "SELECT post_id, source_id, format, location, fetched_url, retrieved_at, tool_version, raw_sha256, "
                "response_sha256, raw_pointer FROM capture_details ORDER BY 1, 2, 3, 4, 5, 6, 8, 9, 10").fetchall(),
            "raw_payloads": [(sha, fmt, size, _plain(codec, data)) for sha, fmt, size, codec, data in conn.execute(
                "SELECT sha256, format, size, compression, content FROM raw_payloads ORDER BY sha256")],
            "relevance": conn.execute("SELECT * FROM election_posts ORDER BY election_id, post_id").fetchall(),
            "reactions": conn.execute(
                "SELECT election, post_id, country_code, role_kind, author, text, hours_after_result, reaction_type, "
                "type_source, classified_type, type_confidence, type_evidence, addressed_candidates, timing, "
                "milestone, next_milestone FROM reactions ORDER BY election, post_id").fetchall(),
            "classes": conn.execute(
                "SELECT election_id, post_id, reaction_type, confidence, evidence, addressed_candidates, classifier, "
                "post_version FROM reaction_classes ORDER BY 1, 2").fetchall(),
            "classifier_state": conn.execute("SELECT * FROM classifier_state ORDER BY name").fetchall(),
            "milestones": conn.execute("SELECT * FROM election_milestones ORDER BY 1, 2").fetchall(),
            "labels": conn.execute(
                "SELECT l.election_id, l.post_id, r.leader_id, r.evidence, l.reaction_type, l.note, l.labelled_by, "
                "l.labelled_at FROM reaction_labels l LEFT JOIN reported_reactions r ON r.id = l.reported_reaction_id "
                "ORDER BY 1, 2, 3, 4").fetchall(),
            "reported_reactions": conn.execute(
                "SELECT r.election_id, r.leader_id, r.source_id, r.evidence, r.evidence_key, r.reported_on, "
                "r.sightings, c.reaction_type, c.confidence, c.evidence, c.addressed_candidates, c.classifier "
                "FROM reported_reactions r LEFT JOIN reported_reaction_classes c ON c.reported_reaction_id = r.id "
                "ORDER BY 1, 2, 3, 4").fetchall(),
            "sightings": conn.execute(
                "SELECT r.election_id, r.leader_id, r.evidence_key, s.source_id, s.evidence, s.reported_on, "
                "s.recorded_at FROM reported_reaction_sightings s JOIN reported_reactions r "
                "ON r.id = s.reported_reaction_id ORDER BY 1, 2, 3, 4, 5").fetchall(),
            "parse_errors": conn.execute(
                "SELECT source_id, format, location, reason, raw_sha256 FROM parse_errors ORDER BY 1, 3, 5").fetchall(),
        }
    return found


def stale_reaction_rows(db: Path) -> int:
    """How many reactions rows a refresh would write (then rolled back)."""
    conn = sqlite3.connect(db)
    try:
        return refresh_reaction_rows(conn)
    finally:
        conn.rollback()
        conn.close()


def _plain(codec: str, data: bytes) -> bytes:
    if codec == "zlib":
        return zlib.decompress(data)
    import zstandard

    return zstandard.ZstdDecompressor().decompress(data)


@pytest.fixture(scope="module")
def scraped(tmp_path_factory, make_httpserver):
    """The roster scraped once into one archive and once as three shards
    (once for the module: the tests below only read these files)."""
    folder = tmp_path_factory.mktemp("shards")
    server = make_httpserver
    with pytest.MonkeyPatch.context() as monkeypatch:
        freeze_clocks(monkeypatch)
        monkeypatch.setenv("X_BEARER_TOKEN", "x-test-bearer-shards-not-real")
        SimulatedX(server)
        article = folder / "regional-report.txt"
        article.write_text(article_text(), encoding="utf-8")
        copy = folder / "regional-report-copy.txt"
        copy.write_text(copy_text(), encoding="utf-8")
        config_path = folder / "roster.yml"
        config_path.write_text(config_text(server.url_for("/").rstrip("/"), article, copy), encoding="utf-8")
        try:
            single = folder / "single.db"
            scrape(single, config_path)
            shards = []
            for index in (1, 2, 3):
                path = folder / f"shard-{index}.db"
                scrape(path, config_path, sharding.Shard(index, 3))
                shards.append(path)
        finally:
            server.clear()
    return single, shards


def test_shards_merged_in_any_order_hold_what_one_archive_holds(tmp_path, scraped):
    single, shards = scraped
    expected = content(single)
    assert len(expected["posts"]) == len(LEADERS) * POSTS_PER_ACCOUNT  # the quotes joined their posts
    assert {"bruno-inventado", "hugo-novela"} <= {row[1] for row in expected["reported_reactions"]}
    # Issue 13 at work: posts classified, timed against the milestones; each report once, the one both
    # articles (on different shards) give seen twice.
    assert len({row[7] for row in expected["reactions"]}) == 4 and all(row[13] for row in expected["reactions"])
    assert len(expected["milestones"]) == 4
    assert {row[1]: row[6] for row in expected["reported_reactions"] if row[3] == REPORTED} == {
        "bruno-inventado": 2, "hugo-novela": 2}
    assert sharding.shard_of(sharding.source_key("regional-report"), 3) != \
        sharding.shard_of(sharding.source_key("regional-report-copy"), 3)
    assert all(not row[3] for row in expected["posts"])  # (id_is_derived) no quote left without its post
    # Every shard holds a part; together, every account once.
    parts = [Archive(path).db["posts"].count for path in shards]
    assert all(parts) and sum(parts) <= len(expected["posts"]) + 5
    article_shard = next(i for i, path in enumerate(shards) if Archive(path).db["sources"].count_where(
        "id = 'regional-report'") and Archive(path).db["captures"].count_where("format LIKE 'article%'"))
    assert Archive(shards[article_shard]).db["posts"].count_where("id_is_derived = 1") >= 1  # quotes cross shards

    forward, backward = tmp_path / "forward.db", tmp_path / "backward.db"
    combine.merge_archives(forward, shards)
    for path in reversed(shards):  # one at a time, the other way round
        combine.merge_archives(backward, [path])
    for merged in (forward, backward):
        assert content(merged) == expected
        archive = Archive(merged)
        assert archive.db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert archive.db.execute("SELECT count(*) FROM posts_fts").fetchone()[0] == archive.db["posts"].count
        archive.db.execute("INSERT INTO posts_fts(posts_fts) VALUES ('integrity-check')")
        assert stale_reaction_rows(merged) == 0  # copied or refreshed, the rows are current
        origins = {row[0] for row in archive.db.execute("SELECT origin FROM scrape_runs")}
        assert len(origins) == 3 and None not in origins  # every run marked with its archive
        assert archive.db["merged_archives"].count == 3

    # Merging a shard again adds nothing.
    before = content(forward)
    runs = Archive(forward).db["scrape_runs"].count
    combine.merge_archives(forward, [shards[1], shards[0]])
    assert content(forward) == before and Archive(forward).db["scrape_runs"].count == runs

    # Status says which shard an archive holds, and the shards' freshness once merged.
    shard_status = CliRunner().invoke(cli, ["status", "--db", str(shards[1])])
    assert "holds shard 2/3" in shard_status.output
    merged_status = CliRunner().invoke(cli, ["status", "--db", str(forward)])
    assert "Merged from:" in merged_status.output and "shard 3/3:" in merged_status.output


def test_rendezvous_assignment_is_stable():
    keys = [sharding.account_key("x", handle=f"leader_{n}") for n in range(400)]
    three = {key: sharding.shard_of(key, 3) for key in keys}
    assert set(three.values()) == {1, 2, 3}
    assert all(60 <= list(three.values()).count(k) <= 200 for k in (1, 2, 3))
    # A fourth shard takes about a quarter; nobody moves between the first three.
    four = {key: sharding.shard_of(key, 4) for key in keys}
    moved = [key for key in keys if four[key] != three[key]]
    assert all(four[key] == 4 for key in moved) and 50 <= len(moved) <= 150
    # Removing accounts moves nobody else; the key ignores case and '@'.
    assert sharding.account_key("x", handle="@Leader_7") == sharding.account_key("x", handle="leader_7")
    with pytest.raises(Exception, match="K/N"):
        sharding.parse_shard("3")
    with pytest.raises(Exception, match="between 1 and N"):
        sharding.parse_shard("4/3")


def test_scrape_refuses_a_bad_shard_before_touching_the_archive(tmp_path):
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(cli, ["scrape", "--shard", "0/3", "--db", str(db),
                                      "--config", str(ROOT / "tests/fixtures/config/valdoria.yml")])
    assert result.exit_code == 2 and "--shard '0/3'" in result.output
    assert not db.exists()


def test_every_table_has_a_merge_rule(archive):
    combine.check_tables_known(archive.db)


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def test_refused_inputs_change_nothing(tmp_path, scraped):
    single, shards = scraped
    out = tmp_path / "out.db"
    combine.merge_archives(out, [shards[0]])
    before = _dump(out)
    runner = CliRunner()

    newer = tmp_path / "newer.db"
    shutil.copy(shards[1], newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                     "VALUES ('reaction-archive', 'm099_from_the_future', '2027-01-01')")
    damaged = tmp_path / "damaged.db"
    data = bytearray(shards[2].read_bytes())
    data[20000:60000] = b"\x00" * 40000  # pages overwritten by a bad disk
    damaged.write_bytes(bytes(data))
    not_archive = tmp_path / "notes.db"
    with sqlite3.connect(not_archive) as conn:
        conn.execute("CREATE TABLE notes (text)")
    for bad, words in ((newer, "newer or unknown"), (damaged, "damaged"), (out, "is the output"),
                       (not_archive, "not a Reaction Archive"), (tmp_path / "missing.db", "no such archive")):
        result = runner.invoke(cli, ["merge", str(out), str(shards[1]), str(bad)])
        assert result.exit_code == 5, (bad, result.output)
        assert words in result.output and str(bad.name) in result.output
        assert _dump(out) == before


def copy_of(path: Path, to: Path) -> Path:
    """A consistent copy of an archive (the module's files are only read)."""
    with sqlite3.connect(path) as source, sqlite3.connect(to) as target:
        source.backup(target)
    return to


def labelled(path: Path, post_id: str | None, reaction_type: str, by: str, at: str, reported: str | None = None) -> None:
    """A person's label, set as 'reactions label' sets it, at a given time."""
    from scraper.classify_store import Label, set_label

    archive = Archive(path)
    with archive.write():
        reported_id = None
        if reported:
            reported_id = archive.db.execute("SELECT id FROM reported_reactions WHERE leader_id = ? AND evidence = ?",
                                             [reported, REPORTED]).fetchone()[0]
        set_label(archive.db, Label("valdoria-shards", reaction_type, post_id, reported_id, f"note by {by}", by))
        archive.db.execute("UPDATE reaction_labels SET labelled_at = ? WHERE labelled_by = ?", [at, by])


def test_labels_are_never_lost_and_the_later_label_wins_in_any_order(tmp_path, scraped):
    single, shards = scraped
    # Two people label the same post differently, one in a copy of the single archive, one in shard 3
    # (which holds the post); each also labels what only they hold.
    shard = shards[2]
    post_id, other_post = [row[0] for row in sqlite3.connect(shard).execute(
        "SELECT post_id FROM reactions ORDER BY post_id LIMIT 2")]
    alone = sqlite3.connect(single).execute(
        "SELECT post_id FROM reactions WHERE post_id NOT IN (SELECT value FROM json_each(?)) ORDER BY post_id LIMIT 1",
        [json.dumps([post_id, other_post])]).fetchone()[0]
    first, second = copy_of(single, tmp_path / "first.db"), copy_of(shard, tmp_path / "second.db")
    labelled(first, post_id, "rejection", "ana", "2026-11-28T10:00:00Z")
    labelled(first, alone, "other", "ana2", "2026-11-28T10:05:00Z")
    labelled(second, post_id, "recognition", "ben", "2026-11-29T09:00:00Z")  # later: wins
    labelled(second, None, "recognition", "ben2", "2026-11-29T09:30:00Z", reported="hugo-novela")

    one, other = tmp_path / "one.db", tmp_path / "other.db"
    combine.merge_archives(one, [first])
    combine.merge_archives(one, [second])
    combine.merge_archives(other, [second])
    combine.merge_archives(other, [first])
    assert content(one) == content(other)
    for merged in (one, other):
        db = Archive(merged).db
        labels = {(row[1], row[2]): (row[4], row[6]) for row in content(merged)["labels"]}
        assert labels == {(post_id, None): ("recognition", "ben"), (alone, None): ("other", "ana2"),
                          (None, "hugo-novela"): ("recognition", "ben2")}
        # The reactions rows show the labels; the label that lost is kept whole in merge_conflicts.
        assert db.execute("SELECT reaction_type, type_source FROM reactions WHERE post_id = ?", [post_id]).fetchone() \
            == ("recognition", "label")
        assert db.execute("SELECT reaction_type FROM reactions WHERE post_id = ?", [alone]).fetchone() == ("other",)
        (kept, lost), = db.execute("SELECT kept, other FROM merge_conflicts WHERE table_name = 'reaction_labels'")
        assert json.loads(kept)["labelled_by"] == "ben"
        assert json.loads(lost) == {"reaction_type": "rejection", "note": "note by ana", "labelled_by": "ana",
                                    "labelled_at": "2026-11-28T10:00:00Z"}
        assert stale_reaction_rows(merged) == 0
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    # Merged again: nothing changes, no conflict is added.
    combine.merge_archives(one, [second, first])
    assert content(one) == content(other)
    assert Archive(one).db.execute("SELECT count(*) FROM merge_conflicts").fetchone()[0] == 1
    result = CliRunner().invoke(cli, ["merge", str(tmp_path / "cli.db"), str(first), str(second)])
    assert result.exit_code == 0 and f"conflict: reaction_labels valdoria-shards {post_id} label" in result.output


MERGE_SCRIPT = """
import os, sys, time
from scraper import combine
seen = []
def progress(message):
    print(message, flush=True)
    seen.append(message)
    if seen.count(os.environ["STOP_AT"]) == int(os.environ["STOP_AFTER"]):
        time.sleep(60)  # inside the merge's transaction: the test kills the process here
combine.merge_archives(sys.argv[1], sys.argv[2:], progress=progress)
"""


def test_a_merge_killed_with_9_leaves_the_output_as_it_was_and_a_rerun_finishes(tmp_path, scraped):
    single, shards = scraped
    out = tmp_path / "out.db"
    combine.merge_archives(out, [shards[0]])
    before = _dump(out)
    # Inside the second input; while classifying what could not be copied; at the last step before the commit.
    for step, count in (("  fetches and captures", 2), ("classifying reaction types the inputs could not give", 1),
                        ("refreshing the reactions table", 1)):
        environment = {**os.environ, "STOP_AT": step, "STOP_AFTER": str(count)}
        with subprocess.Popen([sys.executable, "-c", MERGE_SCRIPT, str(out), *map(str, shards[1:])],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True, env=environment) as process:
            for line in process.stdout:
                count -= line.rstrip("\n") == step
                if count == 0:
                    os.kill(process.pid, signal.SIGKILL)
                    break
            process.wait(20)
        assert process.returncode == -signal.SIGKILL
        assert Archive(out).db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert _dump(out) == before, f"killed at {step!r}: the output changed"
    combine.merge_archives(out, shards[1:])
    reference = tmp_path / "reference.db"
    combine.merge_archives(reference, shards)
    assert content(out) == content(reference) == content(single)


# --- two archives that disagree --------------------------------------------------------


def imported(path: Path, config, lines_file: Path) -> Path:
    from scraper.scrape import import_file

    archive = Archive(path)
    archive.migrate()
    archive.load_config(config)
    result = import_file(archive, "twarc2-jsonl", str(lines_file), config=config, workers=0)
    assert result.status == "ok", result.error
    return path


def test_a_post_seen_differently_merges_its_states_and_roster_differences_are_conflicts(tmp_path, valdoria_config):
    from scraper.classify_store import election_classifier
    from scraper.config import load_config

    fixture = ROOT / "tests" / "fixtures" / "imports" / "twarc2-search.jsonl"
    first = imported(tmp_path / "a.db", valdoria_config, fixture)
    # The same pages fetched later: one post's likes grew; and a roster whose leader (the candidate: another
    # classifier) is named otherwise, and an election with milestones.
    later = tmp_path / "later.jsonl"
    text = fixture.read_text(encoding="utf-8").replace('"like_count": ', '"like_count": 1000', 1)
    later.write_text(text.replace('"retrieved_at": "', '"retrieved_at": "2027-', 1) if '"retrieved_at": "' in text
                     else text, encoding="utf-8")
    renamed = tmp_path / "renamed.yml"
    renamed.write_text((ROOT / "tests/fixtures/config/valdoria.yml").read_text().replace(
        "name: Rosa Ficticia\n", "name: Rosa Ficticia Pérez\n").replace("path: ../article/news-embeds.html",
        f"path: {ROOT / 'tests/fixtures/article/news-embeds.html'}").replace(
        "  window: {start:", '  milestones:\n    polls_closed: {at: "2021-06-06T21:00:00Z"}\n  window: {start:'))
    second = imported(tmp_path / "b.db", load_config(renamed), later)

    one, other = tmp_path / "ab.db", tmp_path / "ba.db"
    combine.merge_archives(one, [first])
    combine.merge_archives(one, [second])
    combine.merge_archives(other, [second])
    combine.merge_archives(other, [first])
    a, b = content(one), content(other)
    assert a["versions"] == b["versions"] and a["captures"] == b["captures"] and a["relevance"] == b["relevance"]
    states = {}
    for row in a["versions"]:
        states.setdefault(row[0], []).append(row)
    changed = [post for post, rows in states.items() if len(rows) == 2]
    assert len(changed) == 1  # both states of the post whose likes grew, once each
    assert Archive(one).db.execute("SELECT count(*) FROM posts").fetchone()[0] == len(states)

    conflicts = list(Archive(one).db.query("SELECT * FROM merge_conflicts ORDER BY id"))
    polls_closed = ('{"position": 1, "at": "2021-06-06T21:00:00Z", "precision": "second", "name": "polls closed", '
                    '"label": "polls closed", "source": null}')
    assert [(c["table_name"], c["row_key"], c["column_name"], c["kept"], c["other"]) for c in conflicts] == [
        ("leaders", "rosa-fictional", "name", "Rosa Ficticia", "Rosa Ficticia Pérez"),
        ("election_milestones", "valdoria-2021 polls_closed", "milestone", None, polls_closed)]
    # Milestones are configuration: each output keeps its own (the config's official result, and
    # polls closing in one of them) and records the other.
    assert Archive(other).db.execute("SELECT row_key, kept, other FROM merge_conflicts "
                                     "WHERE table_name = 'election_milestones'").fetchall() == [
        ("valdoria-2021 polls_closed", polls_closed, None)]
    for merged, milestones in ((one, 1), (other, 2)):  # the reactions rows are what the merged roster gives
        assert stale_reaction_rows(merged) == 0
        db = Archive(merged).db
        assert db.execute("SELECT count(*) FROM election_milestones").fetchone()[0] == milestones
        # Every relevant post has one class, made by the classifier of the output's roster.
        (state,), = db.execute("SELECT value FROM classifier_state WHERE name = 'classifier:valdoria-2021'")
        assert state == election_classifier(db, "valdoria-2021").version
        assert db.execute("SELECT count(*) FROM election_posts").fetchone() == db.execute(
            "SELECT count(*) FROM reaction_classes WHERE classifier = ?", [state]).fetchone()
        assert db.execute("SELECT count(*) FROM reactions WHERE timing IS NOT NULL").fetchone()[0] > 0
    kept = Archive(other).db.execute("SELECT name FROM leaders WHERE id = 'rosa-fictional'").fetchone()[0]
    assert kept == "Rosa Ficticia Pérez"  # each output keeps its own value, and says so
    result = CliRunner().invoke(cli, ["merge", str(tmp_path / "cli.db"), str(first), str(second)])
    assert result.exit_code == 0 and "conflict: leaders rosa-fictional name" in result.output
    assert "merge_conflicts" in result.output


def test_a_dangling_account_reference_becomes_null_never_another_account(tmp_path, valdoria_config):
    fixture = ROOT / "tests" / "fixtures" / "imports" / "twarc2-search.jsonl"
    first = imported(tmp_path / "a.db", valdoria_config, fixture)
    with sqlite3.connect(first) as conn:  # an input written with foreign keys off, its account row lost
        post_id, account_id = conn.execute(
            "SELECT id, account_id FROM posts WHERE account_id IS NOT NULL ORDER BY id LIMIT 1").fetchone()
        conn.execute("DELETE FROM accounts WHERE id = ?", [account_id])
    out = tmp_path / "out.db"
    combine.merge_archives(out, [first])
    assert Archive(out).db.execute("SELECT account_id FROM posts WHERE id = ?", [post_id]).fetchone() == (None,)
    assert Archive(out).db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_an_archive_merged_again_writes_nothing_where_the_output_filled_its_posts(tmp_path, valdoria_config):
    """A post both inputs hold is merged once: the output's row takes gaps
    from the other input, so it no longer equals either input's. Merging
    one of them again must find nothing to do: no post counted as merged,
    no state rewritten, no class made again (its time would change)."""
    from scraper.scrape import import_file

    imports = ROOT / "tests" / "fixtures" / "imports"
    first = imported(tmp_path / "a.db", valdoria_config, imports / "twarc2-search.jsonl")
    second = Archive(tmp_path / "b.db")
    second.migrate()
    second.load_config(valdoria_config)
    result = import_file(second, "x-v1-json", str(imports / "x-v1-tweets.jsonl"), config=valdoria_config, workers=0)
    assert result.status == "ok", result.error
    out = tmp_path / "out.db"
    merged = combine.merge_archives(out, [first, second.path])
    assert sum(found.counts["posts_merged"] for found in merged.inputs) >= 1  # the case: posts both hold

    def held() -> dict[str, list]:
        with sqlite3.connect(out) as conn:
            return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                    for table in ("posts", "post_versions", "reaction_classes", "reactions", "captures")}

    before = held()
    for again in ([first], [second.path], [second.path, first]):
        result = combine.merge_archives(out, again)
        assert [(found.counts["posts"], found.counts["posts_merged"]) for found in result.inputs] == \
            [(0, 0)] * len(again)
        assert held() == before
