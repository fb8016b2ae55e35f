"""Live sources end to end: config -> run_scrape -> archive -> reactions view.

Each platform's fictional roster (tests/fixtures/config/live-<platform>.yml)
is scraped from recorded, real-format pages served by pytest-httpserver on
127.0.0.1; no test touches the network. The configs' base_url placeholder
is replaced with the local server's address.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug import Response

from scraper.archive import Archive
from scraper.compression import decompress
from scraper.cli import cli
from scraper.config import load_config
from scraper.http import PoliteClient
from scraper.scrape import run_scrape

FIXTURES = Path(__file__).parent / "fixtures"
PLACEHOLDER = "http://127.0.0.1:9"
X_TOKEN = "x-test-bearer-4f9a0c1d-not-real"
MASTODON_TOKEN = "mastodon-test-token-b81e77-not-real"


def fixture(platform: str, name: str) -> str:
    return (FIXTURES / platform / name).read_text(encoding="utf-8")


def json_response(body: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body, status, headers=headers or {}, content_type="application/json")


# --- fake platforms ---------------------------------------------------------------
# Each serves the recorded pages of one working account and answers the
# roster's other account as the platform answers an unknown one. ``new=True``
# serves the account's first page as it looks after new posts arrived.


class FakeBluesky:
    FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
    RESOLVE = "/xrpc/com.atproto.identity.resolveHandle"
    PAGES = {
        None: "author-feed-page1.json",
        "2026-06-03T11:05:00.000Z": "author-feed-page2.json",
        "2026-05-20T17:45:00.000Z": "author-feed-page3.json",
        "2026-04-28T12:00:00.000Z": "author-feed-page4.json",
    }
    data_path = FEED

    def __init__(self, httpserver, new: bool = False):
        self.pages = {**self.PAGES, None: "author-feed-page1-updated.json"} if new else self.PAGES
        httpserver.expect_request(self.RESOLVE).respond_with_handler(self.resolve)
        httpserver.expect_request(self.FEED).respond_with_handler(self.feed)

    def resolve(self, request):
        if request.args.get("handle") == "valdoria-presidencia.bsky.social":
            return json_response(fixture("bluesky", "resolve-handle.json"))
        # What the AppView answers for a handle that resolves to nobody.
        return json_response('{"error":"InvalidRequest","message":"Unable to resolve handle"}', 400)

    def feed(self, request):
        return json_response(fixture("bluesky", self.pages[request.args.get("cursor")]))


class FakeMastodon:
    ACCOUNT_ID = "113423912337412127"
    STATUSES = f"/api/v1/accounts/{ACCOUNT_ID}/statuses"
    PARENT_ID = "116176681697311255"
    data_path = STATUSES

    def __init__(self, httpserver, new: bool = False):
        self.base = httpserver.url_for(self.STATUSES)
        self.seen_authorization: list[str | None] = []
        httpserver.expect_request("/api/v1/accounts/lookup").respond_with_handler(self.lookup)
        httpserver.expect_request(self.STATUSES).respond_with_handler(self.new_statuses if new else self.statuses)
        httpserver.expect_request(f"/api/v1/statuses/{self.PARENT_ID}").respond_with_handler(
            lambda request: json_response(fixture("mastodon", "status-reply-parent.json"))
        )

    def lookup(self, request):
        self.seen_authorization.append(request.headers.get("Authorization"))
        if request.args.get("acct") == "presidencia@social.valdoria.example":
            return json_response(fixture("mastodon", "account-lookup.json"))
        return json_response('{"error":"Record not found"}', 404)

    def statuses(self, request):
        pages = ["statuses-page1.json", "statuses-page2.json", "statuses-page3.json", "statuses-page4.json"]
        max_ids = [None] + [json.loads(fixture("mastodon", name))[-1]["id"] for name in pages[:-1]]
        index = max_ids.index(request.args.get("max_id"))
        headers = {}
        if index + 1 < len(pages):
            headers["Link"] = f'<{self.base}?limit=40&max_id={max_ids[index + 1]}>; rel="next"'
        return json_response(fixture("mastodon", pages[index]), headers=headers)

    def new_statuses(self, request):
        # What the server answers to since_id=<newest archived>: the newer statuses only.
        since = request.args["since_id"]
        everything = json.loads(fixture("mastodon", "statuses-new.json")) + json.loads(
            fixture("mastodon", "statuses-page1.json")
        )
        newer = [status for status in everything if (len(status["id"]), status["id"]) > (len(since), since)]
        return json_response(json.dumps(newer))


class FakeTelegram:
    CHANNEL = "/s/valdoria_presidencia"
    data_path = CHANNEL

    def __init__(self, httpserver, new: bool = False, malformed: bool = False):
        pages = {None: "page1_new.html" if new else "page1.html", "131": "page2.html", "124": "page3.html"}
        if malformed:
            pages["131"] = "page2_malformed.html"
        self.pages = pages
        httpserver.expect_request(self.CHANNEL).respond_with_handler(self.channel)
        httpserver.expect_request("/s/valdoria_fantasma").respond_with_data("Not Found", status=404)

    def channel(self, request):
        name = self.pages[request.args.get("before")]
        return Response(fixture("telegram", name), 200, content_type="text/html; charset=utf-8")


class FakeX:
    USER_ID = "1395318379115446272"
    TIMELINE = f"/2/users/{USER_ID}/tweets"
    PAGES = {
        None: "timeline_page1.json",
        "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i": "timeline_page2.json",
        "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5j": "timeline_page3.json",
    }
    data_path = TIMELINE

    def __init__(self, httpserver, new: bool = False):
        self.new = new
        self.timeline_args: list[dict] = []
        httpserver.expect_request("/2/users/by/username/valdoria_pres").respond_with_handler(
            self.authorised(lambda request: json_response(fixture("x", "user_lookup.json")))
        )
        httpserver.expect_request("/2/users/by/username/valdoria_fantasma").respond_with_handler(
            self.authorised(lambda request: json_response(fixture("x", "user_not_found.json"), 404))
        )
        httpserver.expect_request(self.TIMELINE).respond_with_handler(self.authorised(self.timeline))
        httpserver.expect_request("/tweet-result").respond_with_handler(self.syndication)
        httpserver.expect_request("/oembed").respond_with_handler(self.oembed)

    @staticmethod
    def authorised(handler):
        def check(request):
            if request.headers.get("Authorization") != f"Bearer {X_TOKEN}":
                return json_response('{"title":"Unauthorized","status":401}', 401)
            return handler(request)

        return check

    def timeline(self, request):
        self.timeline_args.append(request.args.to_dict())
        if self.new:
            return json_response(fixture("x", "timeline_since.json"))
        name = self.PAGES.get(request.args.get("pagination_token"))
        return json_response(fixture("x", name) if name else '{"meta":{"result_count":0}}')

    def syndication(self, request):
        answers = {
            "1402682446806720512": (fixture("x", "syndication_live.json"), 200),
            "1402191669391425536": (fixture("x", "syndication_tombstone.json"), 200),
        }
        body, status = answers.get(request.args.get("id"), ("", 404))
        return json_response(body, status)

    def oembed(self, request):
        if request.args.get("url", "").endswith("/1401999971562524672"):
            return json_response(fixture("x", "oembed_fallback.json"))
        return Response("", 404)


FAKES = {"bluesky": FakeBluesky, "mastodon": FakeMastodon, "telegram": FakeTelegram, "x": FakeX}

# --- what each platform's archive must hold ------------------------------------------

BSKY_DID = "did:plc:rnhszylksqjrjk3linirujs3"
FARO_DID = "did:plc:y4522pgrw66wuiw3p2do4iir"


def bsky(rkey: str, did: str = BSKY_DID) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


def toot(local_id: str) -> str:
    return f"https://social.valdoria.example/@presidencia/{local_id}"


IN_WINDOW = {
    "bluesky": [bsky(k) for k in ("3mnkxaswkls2b", "3mnexn36ns22b", "3mmwdnftnk22b", "3mmp5y5qv222b",
                                  "3mmchhgvzs22b", "3mlnczzb2222b")],
    "mastodon": [toot("116228378613903694"),
                 "https://social.valdoria.example/users/presidencia/statuses/116215856562362064/activity",
                 toot("116201051291696210"), toot("116201045508140819"), toot("116176846848034646"),
                 toot("116158522982427864")],
    "telegram": [f"valdoria_presidencia/{n}" for n in (133, 132, 131, 130, 128, 127, 124, 123, 121, 120)],
    "x": ["1405929600010629120", "1405485374370197504", "1404349263954489344", "1403796746686394368",
          "1402989709228445696"],
}

# A few posts per platform with the columns that must come out right.
CHECKS = {
    "bluesky": {
        bsky("3mnkxaswkls2b"): {
            "handle": "valdoria-presidencia.bsky.social", "created_at": "2026-06-05T20:14:07.123Z",
            "mentions": ["cultura.valdoria.example"],
            "links": ["https://elfaro.example/2026/06/05/jornada-historica-en-valdoria?utm_source=bsky"],
        },
        bsky("3mnexn36ns22b"): {
            "text": "Reunión con alcaldes del norte.\nSeguimos trabajando por cada municipio, sin excepción.",
            "reply_to": "bluesky:" + bsky("3mndalqzs222b", FARO_DID),
        },
        bsky("3mmwdnftnk22b"): {"quote_of": "bluesky:" + bsky("3mmt2uni4c22b", FARO_DID)},
    },
    "mastodon": {
        toot("116228378613903694"): {
            "handle": "presidencia@social.valdoria.example", "created_at": "2026-03-14T16:05:12.345Z",
            "mentions": ["ministra_agua@social.valdoria.example"],
            "links": ["https://www.valdoria.example/plan-agua/2026/documento-completo.pdf"],
        },
        "https://social.valdoria.example/users/presidencia/statuses/116215856562362064/activity": {
            "text": "", "repost_of": "mastodon:https://noticias.otra.example/@cultura/116201234567890123",
        },
        toot("116201051291696210"): {"reply_to": "mastodon:" + toot("116201045508140819")},
        toot("116158522982427864"): {
            "quote_of": "mastodon:https://prensa.libre.example/@lenaskov/116150101010101010",
        },
    },
    "telegram": {
        "valdoria_presidencia/127": {
            "handle": "valdoria_presidencia", "created_at": "2026-03-05T16:20:00Z",
            "text": "La planta abastecerá a 40\u00a0000 hogares. Visitaremos las obras con "
                    "@alcaldia_puerto_ficticio.\n#AguaParaTodos",
            "reply_to": "telegram:valdoria_presidencia/124", "mentions": ["alcaldia_puerto_ficticio"], "links": [],
        },
        "valdoria_presidencia/132": {"repost_of": "telegram:ministerio_energia_vd/45"},
        "valdoria_presidencia/133": {
            "links": ["https://diario-ficticio.example/entrevistas/presidenta-2026"],
        },
    },
    "x": {
        "1402989709228445696": {
            "handle": "valdoria_pres", "created_at": "2021-06-10T14:03:07Z",
            "links": ["https://presidencia.valdoria.example/comunicados/2021-06-10-ostmark"],
        },
        "1405929600010629120": {"repost_of": "x:1405903816386600960"},
        "1405485374370197504": {"quote_of": "x:1405286583536844800"},
        "1403796746686394368": {"reply_to": "x:1403788109158965248", "mentions": ["prensa_valdoria"]},
    },
}

# Requests of a first scrape, and after new posts: (requests, new post ids).
FIRST_REQUESTS = {"bluesky": 4, "mastodon": 5, "telegram": 3, "x": 4}
LATER_END = {"bluesky": "2026-06-30T00:00:00Z", "mastodon": "2026-03-31T00:00:00Z",
             "telegram": "2026-03-31T00:00:00Z", "x": "2021-06-30T00:00:00Z"}
SECOND_SCRAPE = {
    "bluesky": (1, {bsky("3mo3i74yu222b"), bsky("3mnztobrh222b"), bsky("3mnwdvyu3222b")}),
    "mastodon": (2, {toot("116271651225606411"), toot("116267050598403020"), toot("116249473843265165")}),
    "telegram": (1, {"valdoria_presidencia/135", "valdoria_presidencia/134"}),
    "x": (1, {"1407673666742210560", "1407262080936349696"}),
}
GHOST_ERROR = {
    "bluesky": "bluesky account @fantasma-valdoria.bsky.social (ghost-valdoria)",
    "mastodon": "mastodon account @fantasma@social.valdoria.example (ghost-valdoria)",
    "telegram": "telegram account @valdoria_fantasma (ghost-valdoria)",
    "x": "x account @valdoria_fantasma (ghost-valdoria)",
}


# --- helpers ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def tokens(monkeypatch):
    monkeypatch.setenv("X_BEARER_TOKEN", X_TOKEN)
    monkeypatch.delenv("MASTODON_TOKEN", raising=False)
    monkeypatch.delenv("MASTODON_TOKEN_HOST", raising=False)


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(waits):
    with PoliteClient(sleep=waits.append, contact="https://example.org/reaction-archive-tests") as polite:
        yield polite


def config_path(platform: str, httpserver, tmp_path) -> Path:
    text = (FIXTURES / "config" / f"live-{platform}.yml").read_text(encoding="utf-8")
    path = tmp_path / f"live-{platform}.yml"
    path.write_text(text.replace(PLACEHOLDER, httpserver.url_for("").rstrip("/")), encoding="utf-8")
    return path


def scrape(archive, platform, httpserver, tmp_path, client, only, **config_changes):
    config = load_config(config_path(platform, httpserver, tmp_path))
    for name, value in config_changes.items():
        setattr(config.election, name, value)
    return run_scrape(archive, config, only=[only], client=client)


def posts(archive: Archive, platform: str) -> dict[str, dict]:
    rows = archive.db.query("SELECT * FROM posts WHERE platform = ?", [platform])
    return {row["native_id"]: row for row in rows}


def leader_of(archive: Archive, post: dict) -> str | None:
    row = archive.db.execute("SELECT leader_id FROM accounts WHERE id = ?", [post["account_id"]]).fetchone()
    return row[0] if row else None


PLATFORMS = sorted(FAKES)


# --- the tests --------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_scrape_archives_exactly_the_window_with_fields_right(platform, archive, httpserver, tmp_path, client):
    FAKES[platform](httpserver)

    result = scrape(archive, platform, httpserver, tmp_path, client, f"{platform}-rosa")

    assert result.exit_code == 0, result.sources[0].as_dict()
    archived = posts(archive, platform)
    assert sorted(archived) == sorted(IN_WINDOW[platform])
    assert {leader_of(archive, post) for post in archived.values()} == {"rosa-valdoria"}
    for native_id, expected in CHECKS[platform].items():
        row = archived[native_id]
        for column, value in expected.items():
            actual = json.loads(row[column]) if column in ("links", "mentions") else row[column]
            assert actual == value, (native_id, column)
    assert result.sources[0].requests == len(httpserver.log) == FIRST_REQUESTS[platform]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_reactions_view_shows_the_leader_with_role_and_country(platform, archive, httpserver, tmp_path, client):
    FAKES[platform](httpserver)
    scrape(archive, platform, httpserver, tmp_path, client, f"{platform}-rosa")

    rows = list(archive.db.query("SELECT * FROM reactions WHERE platform = ?", [platform]))

    assert rows, "no scraped post matched the election's terms"
    assert {row["post_id"].split(":", 1)[1] for row in rows} <= set(IN_WINDOW[platform])
    for row in rows:
        assert (row["leader_id"], row["author"]) == ("rosa-valdoria", "Rosa Presidenta Ficticia")
        assert row["role"] == "President of Valdoria (fictional)" and row["role_kind"] == "head_of_state"
        assert (row["country_code"], row["country"]) == ("UY", "Uruguay")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_second_scrape_fetches_only_what_is_new(platform, archive, httpserver, tmp_path, client):
    FAKES[platform](httpserver)
    scrape(archive, platform, httpserver, tmp_path, client, f"{platform}-rosa")
    before = set(posts(archive, platform))
    httpserver.clear()
    FAKES[platform](httpserver, new=True)

    # The window now reaches the new posts (as for an election still going on).
    result = scrape(archive, platform, httpserver, tmp_path, client, f"{platform}-rosa",
                    window_end=LATER_END[platform])

    requests, new_ids = SECOND_SCRAPE[platform]
    assert result.exit_code == 0, result.sources[0].as_dict()
    assert set(posts(archive, platform)) - before == new_ids
    assert result.sources[0].stats.new_posts == len(new_ids) and result.sources[0].stats.unchanged == 0
    assert len(httpserver.log) == requests == result.sources[0].requests


def test_mastodon_incremental_scrape_sends_the_local_since_id(archive, httpserver, tmp_path, client):
    FakeMastodon(httpserver)
    scrape(archive, "mastodon", httpserver, tmp_path, client, "mastodon-rosa")
    httpserver.clear()
    FakeMastodon(httpserver, new=True)
    scrape(archive, "mastodon", httpserver, tmp_path, client, "mastodon-rosa")
    statuses = [request.args for request, _ in httpserver.log if request.path == FakeMastodon.STATUSES]
    assert statuses[0]["since_id"] == "116228378613903694"  # the newest archived, not the newest seen


def test_x_incremental_scrape_reuses_the_user_id_and_sends_since_id(archive, httpserver, tmp_path, client):
    FakeX(httpserver)
    scrape(archive, "x", httpserver, tmp_path, client, "x-rosa")
    httpserver.clear()
    api = FakeX(httpserver, new=True)
    scrape(archive, "x", httpserver, tmp_path, client, "x-rosa")
    assert [request.path for request, _ in httpserver.log] == [FakeX.TIMELINE]
    assert api.timeline_args[0]["since_id"] == "1405929600010629120"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_one_missing_account_fails_the_source_but_not_the_other(platform, archive, httpserver, tmp_path, client):
    FAKES[platform](httpserver)

    result = scrape(archive, platform, httpserver, tmp_path, client, f"{platform}-all")

    source = result.sources[0]
    assert source.status == "failed" and result.exit_code == 1
    assert source.error.startswith(GHOST_ERROR[platform]), source.error
    assert sorted(posts(archive, platform)) == sorted(IN_WINDOW[platform])
    rows = list(archive.db.query(
        "SELECT account, status, error, new_posts FROM run_sources WHERE run_id = ? AND account != '(re-check)'",
        [result.run_id],
    ))  # one row per account
    assert sum(row["new_posts"] for row in rows) == len(IN_WINDOW[platform])
    failed = [row for row in rows if row["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error"] in source.error


@pytest.mark.parametrize("platform", PLATFORMS)
def test_cli_exits_1_when_an_account_fails(platform, httpserver, tmp_path):
    FAKES[platform](httpserver)
    db = tmp_path / "archive.db"
    args = ["scrape", "--config", str(config_path(platform, httpserver, tmp_path)), "--db", str(db),
            "--source", f"{platform}-all"]

    outcome = CliRunner().invoke(cli, args)

    assert outcome.exit_code == 1, outcome.output
    assert f"{platform}-all [{platform}] failed" in outcome.output
    assert GHOST_ERROR[platform] in outcome.output
    assert f"{len(IN_WINDOW[platform])} new" in outcome.output
    # The CLI's own client names the project and the config's contact.
    agents = {request.headers["User-Agent"] for request, _ in httpserver.log}
    assert len(agents) == 1 and agents.pop().endswith("(+https://example.org/reaction-archive-tests)")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_429_with_retry_after_is_waited_out(platform, archive, httpserver, tmp_path, client, waits):
    fake = FAKES[platform](httpserver)
    httpserver.expect_oneshot_request(fake.data_path).respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "7"}
    )

    result = scrape(archive, platform, httpserver, tmp_path, client, f"{platform}-rosa")

    assert result.exit_code == 0
    assert waits == [7.0]
    assert len(httpserver.log) == FIRST_REQUESTS[platform] + 1  # one 429, retried once
    assert sorted(posts(archive, platform)) == sorted(IN_WINDOW[platform])


def test_malformed_page_records_a_parse_error_and_keeps_the_pages_before(archive, httpserver, tmp_path, client):
    FakeTelegram(httpserver, malformed=True)

    result = scrape(archive, "telegram", httpserver, tmp_path, client, "telegram-rosa")

    assert result.exit_code == 0 and result.sources[0].stats.parse_errors == 1
    assert sorted(posts(archive, "telegram")) == [f"valdoria_presidencia/{n}" for n in (131, 132, 133)]
    error = archive.db.execute("SELECT source_id, fetched_url, reason FROM parse_errors").fetchone()
    assert error[0] == "telegram-rosa" and "before=131" in error[1] and "ciento-veintiocho" in error[2]


def test_x_hydrate_source_reads_known_posts_without_a_timeline(archive, httpserver, tmp_path, client, monkeypatch):
    monkeypatch.delenv("X_BEARER_TOKEN")
    FakeX(httpserver)

    result = scrape(archive, "x", httpserver, tmp_path, client, "x-known-posts")

    assert result.exit_code == 0, result.sources[0].as_dict()
    archived = posts(archive, "x")
    assert sorted(archived) == ["1401999971562524672", "1402191669391425536", "1402682446806720512"]
    assert archived["1402191669391425536"]["unavailable_reason"] == "deleted"
    assert archived["1402682446806720512"]["handle"] == "valdoria_pres"
    assert leader_of(archive, archived["1402682446806720512"]) == "rosa-valdoria"


def test_x_timeline_without_token_is_a_clear_source_error(archive, httpserver, tmp_path, client, monkeypatch):
    monkeypatch.delenv("X_BEARER_TOKEN")
    FakeX(httpserver)
    result = scrape(archive, "x", httpserver, tmp_path, client, "x-rosa")
    assert result.sources[0].status == "failed"
    assert "X_BEARER_TOKEN" in result.sources[0].error and len(httpserver.log) == 0


def test_tokens_reach_neither_the_archive_nor_the_output(archive, httpserver, tmp_path, client, monkeypatch, caplog):
    monkeypatch.setenv("MASTODON_TOKEN", MASTODON_TOKEN)
    monkeypatch.setenv("MASTODON_TOKEN_HOST", httpserver.url_for("/").split("/")[2])
    caplog.set_level("DEBUG")
    mastodon = FakeMastodon(httpserver)
    FakeX(httpserver)
    scrape(archive, "mastodon", httpserver, tmp_path, client, "mastodon-all")
    scrape(archive, "x", httpserver, tmp_path, client, "x-all")
    assert mastodon.seen_authorization[0] == f"Bearer {MASTODON_TOKEN}"  # it was sent ...
    assert archive.counts()["posts"] > 0

    archive.db.conn.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("archive.db*"))
    reopened = Archive(tmp_path / "archive.db")
    payloads = [decompress(row[1], row[0]) for row in reopened.db.execute("SELECT content, compression FROM raw_payloads")]
    for token in (X_TOKEN, MASTODON_TOKEN):  # ... and is kept nowhere
        assert token.encode() not in stored
        assert all(token.encode() not in payload for payload in payloads)
        assert token not in caplog.text


# --- the snscrape backend (snscrape itself replaced: it would go to the network) ----------


def snscrape_post(number: int, day: int, text: str):
    import datetime as dt
    import warnings

    with warnings.catch_warnings():  # snscrape imports its modules the pre-3.12 way
        warnings.simplefilter("ignore", DeprecationWarning)
        from snscrape.modules import telegram as sntelegram

    moment = dt.datetime(2026, 3, day, 9, 30, tzinfo=dt.timezone.utc)
    return sntelegram.TelegramPost(
        url=f"https://t.me/s/valdoria_presidencia/{number}", date=moment, content=text, outlinks=[]
    )


class FakeSnscrape:
    """Stands in for snscrape's telegram-channel scraper class."""

    items: list = []
    targets: list[str] = []
    yielded = 0

    def __init__(self, target, **kwargs):
        FakeSnscrape.targets.append(target)

    def get_items(self):
        for item in self.items:
            FakeSnscrape.yielded += 1
            yield item


@pytest.fixture
def fake_snscrape(monkeypatch):
    from scraper.sources import snscrape_backend

    monkeypatch.setattr(snscrape_backend, "find_scraper", lambda name: FakeSnscrape)
    monkeypatch.setattr(FakeSnscrape, "items", [
        snscrape_post(210, 9, "Agenda de la semana."),
        snscrape_post(209, 6, "Reforma del agua en Valdoria."),
        snscrape_post(208, 1, "Antes de la ventana."),
    ])
    FakeSnscrape.targets, FakeSnscrape.yielded = [], 0
    return FakeSnscrape


@pytest.mark.parametrize("source_id", ["snscrape-telegram", "snscrape-target"])
def test_snscrape_source_runs_the_named_scraper_on_the_account(source_id, archive, httpserver, tmp_path, client,
                                                              fake_snscrape):
    result = scrape(archive, "telegram", httpserver, tmp_path, client, source_id)

    assert result.exit_code == 0, result.sources[0].as_dict()
    assert fake_snscrape.targets == ["valdoria_presidencia"]
    archived = posts(archive, "telegram")
    assert sorted(archived) == ["valdoria_presidencia/209", "valdoria_presidencia/210"]
    assert archived["valdoria_presidencia/209"]["created_at"] == "2026-03-06T09:30:00Z"
    assert {leader_of(archive, post) for post in archived.values()} == {"rosa-valdoria"}


def test_snscrape_second_run_stops_at_the_newest_archived_post(archive, httpserver, tmp_path, client, fake_snscrape,
                                                               monkeypatch):
    scrape(archive, "telegram", httpserver, tmp_path, client, "snscrape-telegram")
    monkeypatch.setattr(FakeSnscrape, "items", [snscrape_post(211, 10, "Nuevo gabinete."), *FakeSnscrape.items])
    FakeSnscrape.yielded = 0

    result = scrape(archive, "telegram", httpserver, tmp_path, client, "snscrape-telegram")

    assert result.sources[0].stats.new_posts == 1 and result.sources[0].stats.items == 1
    assert FakeSnscrape.yielded == 2  # the new post, then the archived one that stops it


# --- the example config ----------------------------------------------------------------------


def test_example_live_config_shows_every_live_kind_with_placeholder_accounts():
    from scraper.scrape import LIVE_KINDS

    config = load_config(Path(__file__).resolve().parent.parent / "elections" / "example-live.yml")

    assert {source.kind for source in config.sources} == set(LIVE_KINDS)
    # Placeholders that cannot be real accounts: reserved .example domains,
    # names longer than X (15) and Telegram (32) allow.
    limits = {"x": 15, "telegram": 32}
    for leader in config.leaders:
        for account in leader.accounts:
            if account.platform in limits:
                assert len(account.handle) > limits[account.platform], account
            elif account.platform == "rss":
                assert ".example/" in account.url, account
            else:
                assert account.handle.endswith(".example"), account
