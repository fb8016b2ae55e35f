"""Fault suite: every live source against a hostile server on 127.0.0.1.

Each platform's fake (tests/test_live_sources.py) serves its recorded pages,
except that the account's second page (the feed's only request, for RSS)
is answered with hostility: 429 with seconds or with a date, a storm of
5xx, no answer within the timeout, a body dripped a byte at a time, a body
cut short, one larger than the limit, a redirect loop, garbage, JSON (or
HTML) nested deeper than any parser goes. Then the server is good again.

For every case: the run ends within its bounds (a hang guard fails the
test otherwise), each source gives one result line, what was stored before
the hostile answer is kept, and the next run completes the window.
"""

from __future__ import annotations

import os
import time
from email.utils import formatdate
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from scraper.archive import Archive
from scraper.cli import _summary_line
from scraper.config import load_config
from scraper.http import HttpLimits, PoliteClient
from scraper.scrape import run_scrape

from .fault_helpers import hang_guard
from .test_live_sources import FAKES, IN_WINDOW, X_TOKEN, config_path, posts

FIXTURES = Path(__file__).parent / "fixtures"
LIMITS = HttpLimits(timeout=0.3, deadline=1.0, max_response_bytes=256 << 10)

# The fake's handler of each platform's paged data, and which request to it turns hostile.
GOOD = {
    "bluesky": lambda fake: fake.feed,
    "mastodon": lambda fake: fake.statuses,
    "telegram": lambda fake: fake.channel,
    "x": lambda fake: fake.authorised(fake.timeline),
}
HOSTILE_REQUEST = {"bluesky": 2, "mastodon": 2, "telegram": 2, "x": 2, "rss": 1}
TRANSIENT = ("429-seconds", "429-date")  # waited out: the first run completes
PARSE_ERRORS = ("garbage", "nested")  # an answer that is not a page: recorded, the account fetched again
KINDS = ("429-seconds", "429-date", "5xx-storm", "timeout", "slow-drip", "truncated", "oversized",
         "redirect-loop", "garbage", "nested")


def drip(body: bytes, interval: float, total: float):
    def chunks():
        end = time.monotonic() + total
        for byte in body:
            if time.monotonic() > end:
                return
            yield bytes([byte])
            time.sleep(interval)

    return chunks()


def hostile_response(kind: str, request, platform: str, attempt: int, good) -> Response:
    html = platform in ("telegram", "rss")
    content_type = "text/html" if platform == "telegram" else "application/rss+xml" if platform == "rss" else "application/json"
    if kind == "429-seconds":
        return Response("slow down", 429, headers={"Retry-After": "1"}) if attempt == 1 else good(request)
    if kind == "429-date":
        when = formatdate(time.time() + 2, usegmt=True)
        return Response("slow down", 429, headers={"Retry-After": when}) if attempt == 1 else good(request)
    if kind == "5xx-storm":
        return Response("overloaded", 503)
    if kind == "timeout":
        time.sleep(LIMITS.timeout * 3)
        return good(request)
    if kind == "slow-drip":
        return Response(drip(b"x" * 200, 0.1, 4), 200, content_type=content_type,
                        headers={"Content-Length": "200"}, direct_passthrough=True)
    if kind == "truncated":
        body = good(request).get_data()
        return Response([body[: len(body) // 2]], 200, content_type=content_type,
                        headers={"Content-Length": str(len(body))}, direct_passthrough=True)
    if kind == "oversized":
        piece = b"x" * 65536
        return Response((piece for _ in range(64)), 200, content_type=content_type, direct_passthrough=True)
    if kind == "redirect-loop":
        return Response("", 302, headers={"Location": request.full_path})
    if kind == "garbage":
        return Response(os.urandom(3000), 200, content_type=content_type)
    if kind == "nested":
        body = ("<div>" * 20000 + "</div>" * 20000) if html else ("[" * 100_000 + "]" * 100_000)
        return Response(body, 200, content_type=content_type)
    raise AssertionError(kind)


class Hostility:
    """Turns one request to a path hostile (and its retries); the others, and
    everything once ``calm()`` is called, get the fake's good answer."""

    def __init__(self, server: HTTPServer, path: str, good, kind: str, platform: str):
        self.good, self.kind, self.platform = good, kind, platform
        self.requests = 0
        self.attempts = 0
        self.calm_now = False
        server.expect_request(path).respond_with_handler(self.handle)
        server.handlers.insert(0, server.handlers.pop())  # before the fake's own handler

    def handle(self, request):
        self.requests += 1
        if self.calm_now or self.requests < HOSTILE_REQUEST[self.platform]:
            return self.good(request)
        self.attempts += 1
        return hostile_response(self.kind, request, self.platform, self.attempts, self.good)

    def calm(self):
        self.calm_now = True


@pytest.fixture(scope="module")
def module_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)  # a hostile answer must not hold up the next
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(module_server):
    yield module_server
    module_server.clear()


@pytest.fixture(autouse=True)
def tokens(monkeypatch):
    monkeypatch.setenv("X_BEARER_TOKEN", X_TOKEN)
    monkeypatch.delenv("MASTODON_TOKEN", raising=False)


class FakeRss:
    PATH = "/feeds/statements.rss"

    def __init__(self, server):
        self.body = (FIXTURES / "imports" / "statements.rss").read_bytes()
        server.expect_request(self.PATH).respond_with_handler(self.feed)

    def feed(self, request):
        return Response(self.body, 200, content_type="application/rss+xml")


def rss_config(server, tmp_path) -> Path:
    text = (FIXTURES / "config" / "valdoria.yml").read_text()
    text = text.replace("      x: {handle: lucia_inventada}",
                        f"      x: {{handle: lucia_inventada}}\n      rss: {{url: \"{server.url_for(FakeRss.PATH)}\"}}")
    text = text.replace("sources:\n", "sources:\n  - {id: statements, kind: rss}\n")
    text = text.replace("path: ../article/news-embeds.html", f"path: {FIXTURES / 'article' / 'news-embeds.html'}")
    path = tmp_path / "rss.yml"
    path.write_text(text)
    return path


def setup(platform: str, kind: str, server, tmp_path):
    if platform == "rss":
        fake = FakeRss(server)
        hostility = Hostility(server, FakeRss.PATH, fake.feed, kind, platform)
        return hostility, load_config(rss_config(server, tmp_path)), "statements"
    fake = FAKES[platform](server)
    hostility = Hostility(server, fake.data_path, GOOD[platform](fake), kind, platform)
    return hostility, load_config(config_path(platform, server, tmp_path)), f"{platform}-rosa"


def expected_posts(platform: str, archive: Archive) -> set[str]:
    if platform == "rss":
        return set(posts(archive, "rss")) if len(posts(archive, "rss")) == 2 else {"two feed entries"}
    return set(IN_WINDOW[platform])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("platform", [*sorted(FAKES), "rss"])
def test_hostile_answer_is_bounded_reported_and_resumed(platform, kind, server, tmp_path):
    hostility, config, source = setup(platform, kind, server, tmp_path)
    archive = Archive(tmp_path / "archive.db")
    archive.migrate()
    waits: list[float] = []
    with PoliteClient(sleep=waits.append, max_retries=2, limits=LIMITS) as client:
        with hang_guard(60, f"{platform} against {kind}"):
            first = run_scrape(archive, config, only=[source], client=client)
        result = first.sources[0]
        line = _summary_line(result)
        assert "\n" not in line and line.startswith(source)
        kept = set(posts(archive, platform))
        if kind in TRANSIENT:
            assert result.status == "ok", line
            assert waits and max(waits) >= 0.5  # Retry-After honoured (waits are recorded, not slept)
        elif kind in PARSE_ERRORS:
            # (An RSS answer that is no feed at all is a parse error too: never a silent zero.)
            assert result.stats.parse_errors >= 1 or result.status == "failed", line
        else:
            assert result.status == "failed" and result.error, line
            assert first.exit_code == 1
        if platform != "rss" and kind not in TRANSIENT:
            assert kept, "the page before the hostile one was not kept"
            assert kept < expected_posts(platform, archive)

        hostility.calm()
        with hang_guard(60, f"{platform} after {kind}"):
            second = run_scrape(archive, config, only=[source], client=client)
    assert second.exit_code == 0, _summary_line(second.sources[0])
    final = set(posts(archive, platform))
    assert kept <= final
    if platform == "rss":
        assert len(final) == 2
    else:
        assert final == expected_posts(platform, archive)
    running = archive.db.execute("SELECT count(*) FROM scrape_runs WHERE status = 'running'").fetchone()[0]
    assert running == 0


def test_config_limits_reach_the_client_and_the_cli_prints_one_line_per_source(server, tmp_path):
    from click.testing import CliRunner

    from scraper.cli import cli

    hostility, _config, source = setup("telegram", "slow-drip", server, tmp_path)
    path = config_path("telegram", server, tmp_path)
    path.write_text(path.read_text() + "limits: {request_timeout: 0.3, request_deadline: 1, max_response_bytes: 1 MiB}\n")
    with hang_guard(60, "reactions scrape against a dripping server"):
        result = CliRunner().invoke(cli, ["scrape", "--config", str(path), "--db", str(tmp_path / "a.db"),
                                          "--source", source])
    assert result.exit_code == 1, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"{source} [telegram] failed")
    assert "1 s deadline" in lines[0] and lines[1].startswith("run 1: 1 sources, 1 failed")
    assert hostility.attempts == 1  # a request past its deadline is not tried again


# --- the deadline itself: at the socket where httpx allows it, between reads where it does not ---------------


class DrippingServer:
    """A raw HTTP server on 127.0.0.1 that answers every request with a
    status line and then one byte every ``interval`` seconds (of headers, or
    of a body after complete headers), each well inside the read timeout,
    for ``total`` seconds at most: only a deadline on the whole request
    ends it sooner."""

    def __init__(self, where: str, interval: float = 0.05, total: float = 20.0):
        import socket
        import threading

        self.where, self.interval, self.total = where, interval, total
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/page"
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.listener.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            with connection:
                connection.recv(65536)
                head = b"HTTP/1.1 200 OK\r\n"
                if self.where == "body":
                    head += b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                connection.sendall(head)
                end = time.monotonic() + self.total
                while time.monotonic() < end and not self.stopping.is_set():
                    try:
                        connection.sendall(b"x" if self.where == "body" else b"X-Slow: 1\r\n"[:1])
                    except OSError:
                        break
                    time.sleep(self.interval)

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        self.listener.close()


@pytest.mark.parametrize("where", ["headers", "body"])
def test_the_deadline_is_enforced_at_the_socket(where):
    from scraper.http import ResponseRefused

    server = DrippingServer(where)
    try:
        with PoliteClient(limits=LIMITS, max_retries=0) as client:
            backend = client._client._transport._pool._network_backend
            assert backend is client._deadline  # the installed backend, as this httpx allows
            with hang_guard(10, f"a request dripped in its {where}"), pytest.raises(ResponseRefused) as refused:
                client.get(server.url)
    finally:
        server.stop()
    assert f"within the {LIMITS.deadline:g} s deadline" in str(refused.value)


def test_without_a_pool_to_hand_the_backend_the_body_is_still_cut_off(monkeypatch, caplog):
    """An httpx whose transport has no ``_pool._network_backend``: a warning,
    and the deadline checked between the chunks of a body (each read is
    bounded by the timeout), so a dripped body still ends."""
    import httpx

    from scraper import http_deadline
    from scraper.http import ResponseRefused

    class PoolWithoutBackend:
        def __init__(self, pool):
            self._inner = pool

        def handle_request(self, request):
            return self._inner.handle_request(request)

        def close(self):
            self._inner.close()

    real_init = httpx.HTTPTransport.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self._pool = PoolWithoutBackend(self._pool)

    monkeypatch.setattr(httpx.HTTPTransport, "__init__", init)
    monkeypatch.setattr(http_deadline, "_warned", False)
    server = DrippingServer("body")
    try:
        with caplog.at_level("WARNING", logger="scraper.http_deadline"):
            with PoliteClient(limits=LIMITS, max_retries=0) as client:
                with hang_guard(10, "a dripped body without the socket deadline"), \
                        pytest.raises(ResponseRefused) as refused:
                    client.get(server.url)
    finally:
        server.stop()
    assert "checked between reads only" in caplog.text
    assert f"within the {LIMITS.deadline:g} s deadline" in str(refused.value) and "bytes received" in str(refused.value)
