"""Several nights of scraping against a simulated Mastodon server on
127.0.0.1, with the archive checked after each (issue: nightly scrapes that
can be trusted). A fictional account; the server is stateful so a night can
add, edit and delete posts."""

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug import Response

from scraper.archive import Archive
from scraper.cli import cli
from scraper.config import load_config
from scraper.http import PoliteClient
from scraper.integrity import WritingSession
from scraper.lock import ArchiveLock
from scraper.scrape import ScrapeOptions, run_scrape

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "113423912337412127"
HOST = "social.valdoria.example"
NO_RECHECK_AGE_LIMIT = 100_000  # days: the simulated posts are dated 2026-11


def status(number: int, text: str, edited_at: str | None = None, favourites: int = 1) -> dict:
    local_id = str(116_500_000_000_000_000 + number)
    return {
        "id": local_id,
        "created_at": f"2026-11-{10 + number:02d}T12:00:00.000Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "es",
        "uri": f"https://{HOST}/users/presidencia/statuses/{local_id}",
        "url": f"https://{HOST}/@presidencia/{local_id}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": favourites,
        "edited_at": edited_at,
        "content": f"<p>{text}</p>",
        "reblog": None,
        "account": ACCOUNT,
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
    }


ACCOUNT = {
    "id": ACCOUNT_ID,
    "username": "presidencia",
    "acct": "presidencia",
    "display_name": "Presidenta Ficticia de Valdoria",
    "url": f"https://{HOST}/@presidencia",
    "uri": f"https://{HOST}/users/presidencia",
    "locked": False,
    "bot": False,
    "created_at": "2024-11-04T00:00:00.000Z",
    "note": "",
    "followers_count": 10,
    "following_count": 1,
    "statuses_count": 7,
    "emojis": [],
    "fields": [],
}


class SimulatedMastodon:
    """A Mastodon server whose timeline changes from night to night. Pages
    hold two statuses, so every night pages."""

    PAGE = 2

    def __init__(self, httpserver):
        self.httpserver = httpserver
        self.statuses: dict[int, dict] = {}
        self.broken = False  # every request answers 500
        self.silent = False  # the timeline answers [] (a platform hiccup)
        self.block_on_page: int | None = None  # page number that waits for a kill
        self.page_reached = threading.Event()
        self.release = threading.Event()
        self.pages_served = 0
        httpserver.expect_request("/api/v1/accounts/lookup").respond_with_handler(self.lookup)
        httpserver.expect_request(f"/api/v1/accounts/{ACCOUNT_ID}/statuses").respond_with_handler(self.timeline)
        httpserver.expect_request(f"/api/v1/accounts/{ACCOUNT_ID}").respond_with_json(ACCOUNT)
        for number in range(1, 20):
            local_id = status(number, "")["id"]
            httpserver.expect_request(f"/api/v1/statuses/{local_id}").respond_with_handler(self.single(number))

    def post(self, number, text, **kwargs):
        self.statuses[number] = status(number, text, **kwargs)

    def lookup(self, request):
        if self.broken:
            return Response("down", status=500)
        return Response(json.dumps(ACCOUNT), content_type="application/json")

    def timeline(self, request):
        if self.broken:
            return Response("down", status=500)
        rows = [] if self.silent else sorted(self.statuses.values(), key=lambda s: int(s["id"]), reverse=True)
        args = request.args
        if args.get("max_id"):
            rows = [s for s in rows if int(s["id"]) < int(args["max_id"])]
        if args.get("since_id"):
            rows = [s for s in rows if int(s["id"]) > int(args["since_id"])]
        page, more = rows[: self.PAGE], rows[self.PAGE:]
        self.pages_served += 1
        if self.block_on_page == self.pages_served:
            self.page_reached.set()
            self.release.wait(20)
        headers = {}
        if more:
            base = self.httpserver.url_for(f"/api/v1/accounts/{ACCOUNT_ID}/statuses")
            headers["Link"] = f'<{base}?limit=40&max_id={page[-1]["id"]}>; rel="next"'
        return Response(json.dumps(page), content_type="application/json", headers=headers)

    def single(self, number):
        def handler(request):
            if self.broken:
                return Response("down", status=500)
            if number not in self.statuses:
                return Response(json.dumps({"error": "Record not found"}), status=404, content_type="application/json")
            return Response(json.dumps(self.statuses[number]), content_type="application/json")

        return handler


CONFIG = """
contact: https://example.org/reaction-archive-tests
election:
  id: valdoria-nightly
  name: Fictional election, nightly test
  country: UY
  timezone: UTC
  polling_dates: [2026-11-08]
  result_announced_at: 2026-11-09T02:00:00Z
  window: {start: 2026-11-01, end: 2026-12-31}
  candidates: [rosa-valdoria]
  terms:
    es: {keywords: [Valdoria], hashtags: []}
    pt: {keywords: [eleições], hashtags: []}
    en: {keywords: [election], hashtags: []}
roster:
  - id: rosa-valdoria
    name: Rosa Presidenta Ficticia
    country: UY
    roles:
      - {title: President of Valdoria (fictional), kind: head_of_state, start: 2020-03-01}
    accounts:
      mastodon: {handle: "@presidencia@social.valdoria.example"}
sources:
  - id: mastodon-rosa
    kind: mastodon
    options: {base_url: "BASE_URL"}
"""


@pytest.fixture
def server(httpserver):
    return SimulatedMastodon(httpserver)


@pytest.fixture
def config_path(tmp_path, httpserver):
    path = tmp_path / "nightly.yml"
    path.write_text(CONFIG.replace("BASE_URL", httpserver.url_for("/").rstrip("/")))
    return path


def night(db, config_path, waits=None, **options):
    client = PoliteClient(sleep=(waits.append if waits is not None else lambda s: None), max_retries=2)
    options.setdefault("recheck_days", NO_RECHECK_AGE_LIMIT)
    return run_scrape(Archive(db), load_config(config_path), client=client, options=ScrapeOptions(**options))


def texts(db):
    return {r["native_id"].rsplit("/", 1)[1][-2:]: r["text"] for r in Archive(db).db.query("select native_id, text from posts")}


def snapshot(db):
    archive = Archive(db)
    return {
        "posts": list(archive.db.query(
            "select id, text, created_at, is_edited, version_count, deleted_at is not null as deleted from posts order by id"
        )),
        "versions": list(archive.db.query("select post_id, version, text, like_count from post_versions order by post_id, version")),
        "relevance": list(archive.db.query("select * from election_posts order by post_id")),
    }


def test_nights_backfill_then_new_edited_and_deleted(server, config_path, tmp_path):
    db = tmp_path / "archive.db"
    for number in range(1, 6):
        server.post(number, f"Valdoria, día {number}")

    first = night(db, config_path)
    assert first.exit_code == 0
    assert texts(db) == {f"{n:02d}": f"Valdoria, día {n}" for n in range(1, 6)}
    assert server.pages_served == 3  # 5 statuses, 2 per page

    # Night 2: two new posts, one edited, one deleted.
    server.post(6, "Valdoria, día 6")
    server.post(7, "Valdoria, día 7")
    server.post(3, "Valdoria, día 3 (corregido)", edited_at="2026-11-20T08:00:00.000Z")
    del server.statuses[2]
    server.pages_served = 0
    second = night(db, config_path)
    assert second.exit_code == 0
    assert server.pages_served == 1  # only what is new: since_id, one page
    archive = Archive(db)
    assert archive.db["posts"].count == 7
    edited = next(archive.db.query("select * from posts where native_id like '%03'"))
    assert edited["text"] == "Valdoria, día 3 (corregido)" and edited["version_count"] == 2 and edited["is_edited"] == 1
    versions = [r["text"] for r in archive.db.query(
        "select text from post_versions where post_id = ? order by version", [edited["id"]])]
    assert versions == ["Valdoria, día 3", "Valdoria, día 3 (corregido)"]
    deleted = next(archive.db.query("select * from posts where native_id like '%02'"))
    assert deleted["deleted_at"] and deleted["text"] == "Valdoria, día 2"
    rows = {r["account"]: r for r in archive.db.query("select * from run_sources where run_id = ?", [second.run_id])}
    assert rows["@presidencia@social.valdoria.example"]["new_posts"] == 2
    assert rows["(re-check)"]["deleted"] == 1
    assert second.sources[0].stats.deleted == 1


def test_unreachable_server_is_not_a_deletion(server, config_path, tmp_path):
    db = tmp_path / "archive.db"
    for number in range(1, 4):
        server.post(number, f"Valdoria {number}")
    night(db, config_path)
    server.broken = True
    waits = []
    result = night(db, config_path, waits=waits)
    assert result.exit_code == 1 and result.sources[0].status == "failed"
    assert "500" in result.sources[0].error
    assert Archive(db).db.execute("select count(*) from posts where deleted_at is not null").fetchone()[0] == 0
    assert waits, "5xx answers are retried with backoff"


def test_account_that_suddenly_returns_nothing_is_an_anomaly(server, config_path, tmp_path):
    db = tmp_path / "archive.db"
    for number in range(1, 4):
        server.post(number, f"Valdoria {number}")
        night(db, config_path, recheck_days=0)
    server.silent = True
    result = night(db, config_path, recheck_days=0)
    assert result.exit_code == 0
    anomaly = Archive(db).db.execute(
        "select anomaly from run_sources where run_id = ? and account is not null", [result.run_id]
    ).fetchone()[0]
    assert anomaly.startswith("returned nothing; the last 3 runs returned")
    # A full pass that finds fewer posts than the archive holds: paging stopped early.
    result = night(db, config_path, recheck_days=0, full=True)
    anomaly = Archive(db).db.execute(
        "select anomaly from run_sources where run_id = ? and account is not null", [result.run_id]
    ).fetchone()[0]
    assert anomaly.startswith("paging stopped early: 0 posts in the window")
    status = CliRunner().invoke(cli, ["status", "--db", str(db)])
    assert "paging stopped early" in status.output


def test_since_and_full_ignore_the_saved_state(server, config_path, tmp_path):
    db = tmp_path / "archive.db"
    for number in range(1, 6):
        server.post(number, f"Valdoria {number}")
    night(db, config_path, recheck_days=0)
    server.pages_served = 0
    night(db, config_path, recheck_days=0, full=True)
    assert server.pages_served == 3
    server.pages_served = 0
    night(db, config_path, recheck_days=0, since="2026-11-14T00:00:00Z")
    assert server.pages_served == 2  # 5 and 4, then the page that passes the start; never page 3


def test_second_run_while_one_holds_the_lock(server, config_path, tmp_path):
    db = tmp_path / "archive.db"
    server.post(1, "Valdoria 1")
    night(db, config_path)

    def content():
        with __import__("sqlite3").connect(db) as conn:
            return list(conn.iterdump())

    before = content()
    with ArchiveLock(db):  # this process holds it; the second run is another process
        result = subprocess.run(
            [sys.executable, "-m", "scraper.cli", "scrape", "--config", str(config_path), "--db", str(db)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 3, result.stderr
    assert "another run holds the archive" in result.stderr
    assert content() == before


def test_an_import_is_refused_while_a_scrape_runs(server, config_path, tmp_path):
    db = tmp_path / "archive.db"
    server.post(1, "Valdoria 1")
    night(db, config_path)
    with ArchiveLock(db):
        result = subprocess.run(
            [sys.executable, "-m", "scraper.cli", "import", "article", str(ROOT / "examples" / "peru-2021" / "seed-report.txt"),
             "--db", str(db)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 3, result.stderr


def test_killed_run_then_rerun_equals_an_uninterrupted_run(server, config_path, tmp_path):
    for number in range(1, 8):
        server.post(number, f"Valdoria, día {number}")
    clean_db = tmp_path / "clean.db"
    night(clean_db, config_path, recheck_days=0)

    killed_db = tmp_path / "killed.db"
    server.pages_served = 0
    server.block_on_page = 3  # pages 1 and 2 are in; the run waits on page 3
    process = subprocess.Popen(
        [sys.executable, "-m", "scraper.cli", "scrape", "--config", str(config_path), "--db", str(killed_db),
         "--recheck-days", "0", "--log-format", "json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        assert server.page_reached.wait(30), "the run never reached page 3"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        server.release.set()
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)  # waits, and closes the pipes
    server.block_on_page = None

    killed = Archive(killed_db)
    assert killed.db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert killed.db.execute("select status from scrape_runs").fetchone()[0] == "running"
    assert killed.db.execute("select count(*) from posts").fetchone()[0] >= 2  # page 1 was committed
    assert killed.db["source_state"].count == 0  # the account did not complete: no state saved

    # As every command that takes the lock does (scraper.integrity.WritingSession):
    # the run the killed process left 'running' is marked interrupted, once.
    with WritingSession(killed_db) as session:
        archive = Archive(killed_db)
        session.attach(archive)
        night(killed_db, config_path, recheck_days=0)
    assert session.interrupted == 1 and session.lock.stale_holder
    assert snapshot(killed_db) == snapshot(clean_db)
    archive = Archive(killed_db)
    assert archive.db.execute("select count(*) from posts_fts").fetchone()[0] == archive.db["posts"].count
    archive.db.execute("insert into posts_fts(posts_fts) values('integrity-check')")
    assert archive.db.execute("select status from scrape_runs order by id").fetchall() == [("interrupted",), ("ok",)]


def test_exit_codes(server, config_path, tmp_path, monkeypatch):
    monkeypatch.setattr("scraper.http.wait", lambda seconds: None)  # no real backoff in the CLI's own client
    db = tmp_path / "archive.db"
    server.post(1, "Valdoria 1")
    runner = CliRunner()
    ok = runner.invoke(cli, ["scrape", "--config", str(config_path), "--db", str(db), "--log-format", "json"])
    assert ok.exit_code == 0, ok.output
    line = json.loads(ok.output.splitlines()[0])
    assert line["source"] == "mastodon-rosa" and line["status"] == "ok"
    bad_config = tmp_path / "bad.yml"
    bad_config.write_text(config_path.read_text().replace("country: UY\n  timezone", "country: ZZ\n  timezone"))
    assert runner.invoke(cli, ["scrape", "--config", str(bad_config), "--db", str(db)]).exit_code == 2
    server.broken = True
    failed = runner.invoke(cli, ["scrape", "--config", str(config_path), "--db", str(db), "--recheck-days", "0"])
    assert failed.exit_code == 1
