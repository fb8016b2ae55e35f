"""The published archive in a real browser: `reactions serve` on the
fictional demo election, on 127.0.0.1, and Debian's headless Chromium
(installed by .ci/run when missing). Pages are loaded with --dump-dom after
their scripts ran; screenshots go to tests/artifacts/ (or $ARTIFACTS_DIR).
Skipped only where no browser can be had, never in CI."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from scraper.demo import build_demo
from scraper.model import RawItem
from scraper.reaction_rows import refresh_reaction_rows

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR") or Path(__file__).parent / "artifacts")

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("CI must have Chromium (.ci/run installs Debian's chromium)", pytrace=False)
    pytest.skip("no Chromium here (apt-get install chromium)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, db: Path):
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix="served-"))
        env = {**os.environ, "TMPDIR": str(self.tmp)}  # where serve keeps its temporary metadata
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scraper.cli", "serve", "--db", str(db), "--port", str(self.port)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/-/versions.json", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stderr.read().decode())
                time.sleep(0.3)
        raise RuntimeError("reactions serve did not start")

    def stop(self, signum=signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        self.process.communicate(timeout=30)  # waits, and closes the pipes
        return self.process.returncode


def chromium(url: str, screenshot: str | None = None) -> str:
    """The page's DOM after its scripts ran (and a screenshot, if named)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                "--virtual-time-budget=8000", "--window-size=1400,1800"]
        if screenshot:
            subprocess.run([*base, f"--screenshot={ARTIFACTS / screenshot}", url], capture_output=True, timeout=120)
        done = subprocess.run([*base, "--dump-dom", url], capture_output=True, timeout=120)
    return done.stdout.decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    db = tmp_path_factory.mktemp("browser") / "demo.db"
    build_demo(db)
    served = Served(db)
    yield served
    if served.process.poll() is None:
        served.stop()


def test_cards_facets_chart_and_map(demo_server):
    cards = chromium(demo_server.url + "/demo/reactions", "reactions-cards.png")
    assert cards.count('<article class="reaction-card') == 50
    assert 'class="facet-info' in cards or "facet-results" in cards
    assert "(fictional)" in cards
    assert 'class="reaction-type reaction-type-' in cards and 'class="reaction-timing"' in cards
    assert 'data-column="reaction_type"' in cards and 'data-column="milestone"' in cards
    charts = chromium(demo_server.url + "/demo/-/charts", "charts.png")
    assert charts.count('class="chart-svg"') == 6 and "<rect" in charts
    # The map: datasette-cluster-map drew Leaflet and its markers (tiles may not load offline).
    countries = chromium(demo_server.url + "/demo/reactions_per_country?election=demo-fictional-2024", "map.png")
    assert "leaflet-container" in countries
    assert "marker-cluster" in countries or "leaflet-marker-icon" in countries
    index = chromium(demo_server.url + "/", "index.png")
    assert "Ready-made queries" in index


def test_markup_stays_text_in_the_browser(tmp_path, valdoria_archive):
    archive = valdoria_archive
    archive.register_source("test", "article", "test")
    hostile = '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'"> presidenta electa'
    archive.store([RawItem(format="article-text-embed", payload=f"{hostile} — Alguien (@alguien) June 9, 2021",
                           source_id="test", location="t#1")], archive.start_run("test"))
    with archive.write():
        archive.db.execute("UPDATE posts SET author_name = '<img src=y onerror=alert(1)>', url = 'javascript:alert(2)'")
        refresh_reaction_rows(archive.db)
    archive.db.conn.close()
    served = Served(archive.path)
    try:
        dom = chromium(served.url + "/archive/reactions", "xss.png")
    finally:
        served.stop()
    assert "pwned" not in dom.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "&lt;script&gt;" in dom and "<img src=\"x\"" not in dom and 'href="javascript:' not in dom


def test_serve_stops_on_sigterm_and_leaves_nothing(tmp_path):
    db = tmp_path / "demo.db"
    build_demo(db)
    served = Served(db)
    assert list(served.tmp.glob("reactions-serve-*"))  # its temporary metadata, while it runs
    assert served.stop(signal.SIGTERM) == 0
    assert not list(served.tmp.glob("reactions-serve-*"))
    with pytest.raises(OSError):
        urllib.request.urlopen(served.url + "/-/versions.json", timeout=2)  # Datasette is gone too
