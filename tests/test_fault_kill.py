"""Fault suite: `kill -9` at seeded random moments of an import and of a
scrape against a local server, then the same command again.

After each kill: the archive passes SQLite's integrity check; after the
second run it holds exactly the posts of the input (none lost, none twice)
and no run is left `running` (the killed one is marked `interrupted`).

CI runs a handful of seeded trials (3 imports, 2 scrapes);
`pytest tests/test_fault_kill.py --kill-trials 20` runs twenty of each
(docs/reliability.md has the figures).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from scraper import integrity
from scraper.archive import Archive

from .fault_helpers import hang_guard

ROOT = Path(__file__).resolve().parent.parent
IMPORT_POSTS = 6_000
SCRAPE_PAGES, PAGE_SIZE = 12, 40


def trials(config, kind: str) -> list[int]:
    count = config.getoption("--kill-trials") or {"import": 3, "scrape": 2}[kind]
    return list(range(count))


def pytest_generate_tests(metafunc):
    if "import_trial" in metafunc.fixturenames:
        metafunc.parametrize("import_trial", trials(metafunc.config, "import"))
    if "scrape_trial" in metafunc.fixturenames:
        metafunc.parametrize("scrape_trial", trials(metafunc.config, "scrape"))


def reactions(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scraper.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def kill_at(process: subprocess.Popen, seconds: float) -> bool:
    """SIGKILL after ``seconds``; True if the process was still running.
    Its output is read meanwhile (a child blocked on a full pipe would not
    be working when killed) and its pipes are closed either way."""
    try:
        process.communicate(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        return True
    finally:
        process.stdout.close()
        process.stderr.close()


def finish(*args: str) -> subprocess.CompletedProcess:
    process = reactions(*args)
    out, err = process.communicate(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def state(path: Path) -> dict:
    archive = Archive(path)
    try:
        return {
            "posts": archive.db.execute("SELECT count(*) FROM posts").fetchone()[0],
            "runs": dict(archive.db.execute("SELECT status, count(*) FROM scrape_runs GROUP BY status").fetchall()),
        }
    finally:
        archive.db.conn.close()


def report(kind: str, trial: int, killed: bool, db: Path) -> None:
    """The archive right after the kill passes the integrity check; a line
    says where the kill landed (seen with pytest -s)."""
    stored = "no archive yet"
    if db.exists():
        assert integrity.quick_check(db) == ["ok"]
        archive = Archive(db)
        has_posts = archive.db["posts"].exists()
        archive.db.conn.close()
        stored = f"{state(db)['posts']} posts stored" if has_posts else "an archive without its tables yet"
    print(f"\nkill -9 {kind} trial {trial}: {'killed' if killed else 'finished first'}, {stored}; integrity ok")


# --- an import killed ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_jsonl(tmp_path_factory) -> Path:
    """A twarc2 flattened file of fictional posts."""
    path = tmp_path_factory.mktemp("kill") / "posts.jsonl"
    start = datetime(2021, 6, 6, 12, tzinfo=timezone.utc)
    with path.open("w", encoding="utf-8") as out:
        for n in range(IMPORT_POSTS):
            author = {"id": str(1_300_000_000_000_000_000 + n % 50), "username": f"lider_{n % 50:02d}",
                      "name": f"Líder Ficticio {n % 50}"}
            post = {"id": str(1_402_000_000_000_000_000 + n), "author_id": author["id"], "author": author,
                    "created_at": (start + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "lang": "es", "text": f"Felicito al pueblo de Valdoria por la jornada {n}. #Elecciones"}
            out.write(json.dumps(post, ensure_ascii=False) + "\n")
    return path


def test_import_killed_at_a_random_moment_loses_nothing(import_trial, big_jsonl, tmp_path):
    rng = random.Random(1400 + import_trial)
    db = tmp_path / "archive.db"
    killed = kill_at(reactions("import", "twarc2-jsonl", str(big_jsonl), "--db", str(db), "--workers", "0",
                               "--config", str(ROOT / "tests/fixtures/config/valdoria.yml")),
                     rng.uniform(0.8, 3.5))
    report("import", import_trial, killed, db)
    done = finish("import", "twarc2-jsonl", str(big_jsonl), "--db", str(db), "--workers", "0",
                  "--config", str(ROOT / "tests/fixtures/config/valdoria.yml"))
    assert done.returncode == 0, done.stderr
    after = state(db)
    assert after["posts"] == IMPORT_POSTS
    assert set(after["runs"]) <= {"ok", "interrupted"}  # (killed after it finished: ok)
    assert after["runs"].get("interrupted", 0) <= 1 and after["runs"].get("ok", 0) >= 1
    assert integrity.quick_check(db) == ["ok"]


def test_an_import_killed_leaves_no_worker_behind(big_jsonl, tmp_path):
    """Workers of an import killed with -9 end on their own (nothing tells
    them; each watches for its importer), and the import run again holds
    every post once."""
    db = tmp_path / "archive.db"
    config = str(ROOT / "tests/fixtures/config/valdoria.yml")
    process = reactions("import", "twarc2-jsonl", str(big_jsonl), "--db", str(db), "--workers", "2", "--config", config)
    workers: set[int] = set()
    with hang_guard(60, "waiting for the import's workers to start"):
        while not workers and process.poll() is None:
            workers = children(process.pid)
            time.sleep(0.05)
    assert workers, "the import ended before its workers could be seen"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    process.stdout.close()
    process.stderr.close()
    with hang_guard(30, "workers left running after their import was killed"):
        while any(alive(pid) for pid in workers):
            time.sleep(0.1)
    done = finish("import", "twarc2-jsonl", str(big_jsonl), "--db", str(db), "--workers", "2", "--config", config)
    assert done.returncode == 0, done.stderr
    assert state(db)["posts"] == IMPORT_POSTS


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it counts as gone)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# --- a scrape killed -------------------------------------------------------------------------------

ACCOUNT_ID = "113423912337412127"
STATUSES = f"/api/v1/accounts/{ACCOUNT_ID}/statuses"


def status(n: int) -> dict:
    moment = datetime(2026, 3, 14, 12, tzinfo=timezone.utc) - timedelta(minutes=5 * n)
    local_id = str(116_300_000_000_000_000 - n)
    return {
        "id": local_id, "created_at": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "in_reply_to_id": None,
        "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "", "visibility": "public",
        "language": "es", "uri": f"https://social.valdoria.example/users/presidencia/statuses/{local_id}",
        "url": f"https://social.valdoria.example/@presidencia/{local_id}", "replies_count": 0, "reblogs_count": 0,
        "favourites_count": n, "edited_at": None, "reblog": None, "media_attachments": [], "mentions": [],
        "tags": [], "emojis": [], "card": None, "poll": None,
        "content": f"<p>Mensaje ficticio número {n} sobre el plan de agua de Valdoria.</p>",
        "account": {"id": ACCOUNT_ID, "username": "presidencia", "acct": "presidencia",
                    "display_name": "Presidenta Ficticia de Valdoria",
                    "url": "https://social.valdoria.example/@presidencia"},
    }


class SlowMastodon:
    """An account of SCRAPE_PAGES pages, each answered after a short pause."""

    def __init__(self, server: HTTPServer):
        self.server = server
        self.pages = [[status(n) for n in range(p * PAGE_SIZE, (p + 1) * PAGE_SIZE)] for p in range(SCRAPE_PAGES)]
        server.expect_request(STATUSES).respond_with_handler(self.statuses)

    def statuses(self, request):
        time.sleep(0.05)
        max_id = request.args.get("max_id")
        index = 0 if max_id is None else next(i for i, page in enumerate(self.pages) if page[0]["id"] < max_id)
        headers = {}
        if index + 1 < len(self.pages):
            next_id = self.pages[index][-1]["id"]
            headers["Link"] = f'<{self.server.url_for(STATUSES)}?limit=40&max_id={next_id}>; rel="next"'
        return Response(json.dumps(self.pages[index]), 200, headers=headers, content_type="application/json")


def scrape_config(server: HTTPServer, tmp_path: Path) -> Path:
    text = (ROOT / "tests/fixtures/config/live-mastodon.yml").read_text()
    text = text.replace("http://127.0.0.1:9", server.url_for("").rstrip("/"))
    text = text.replace("window: {start: 2026-03-01, end: 2026-03-15}", "window: {start: 2026-02-01, end: 2026-03-15}")
    text = text.replace("    accounts: [rosa-valdoria]\n    options: {", f"    accounts: [rosa-valdoria]\n    options: {{account_id: \"{ACCOUNT_ID}\", ")
    path = tmp_path / "kill-mastodon.yml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def slow_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    SlowMastodon(server)
    yield server
    server.stop()


def test_scrape_killed_at_a_random_moment_resumes_without_loss(scrape_trial, slow_server, tmp_path):
    rng = random.Random(2400 + scrape_trial)
    db, config = tmp_path / "archive.db", scrape_config(slow_server, tmp_path)
    args = ("scrape", "--config", str(config), "--db", str(db), "--source", "mastodon-rosa", "--recheck-days", "0")
    killed = kill_at(reactions(*args), rng.uniform(0.8, 2.5))
    report("scrape", scrape_trial, killed, db)
    done = finish(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    after = state(db)
    assert after["posts"] == SCRAPE_PAGES * PAGE_SIZE
    assert set(after["runs"]) <= {"ok", "interrupted"}  # (killed after it finished: ok)
    assert after["runs"].get("interrupted", 0) <= 1 and after["runs"].get("ok", 0) >= 1
