"""Mastodon adapter: fictional accounts on fictional servers, served from
recorded-format fixtures by a local HTTP server (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scraper.errors import SourceError
from scraper.http import PoliteClient
from scraper.model import FetchedPage, RawItem
from scraper.normalise import normalise
from scraper.formats import file_reader
from scraper.prepare import stored_payload
from scraper.sources import ScrapeRequest, Unparsed, WatchedAccount
from scraper.sources import mastodon
from scraper.sources.mastodon import (
    AccountAddress,
    id_order,
    next_page_url,
    parse_account_address,
    read_statuses_file,
    scrape_account,
)

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
HANDLE = "@presidencia@social.valdoria.example"
ACCT = "presidencia@social.valdoria.example"
ACCOUNT_ID = "113423912337412127"
LOOKUP_PATH = "/api/v1/accounts/lookup"
STATUSES_PATH = f"/api/v1/accounts/{ACCOUNT_ID}/statuses"
WINDOW = {"window_start": "2026-03-01T00:00:00Z", "window_end": "2026-03-15T00:00:00Z"}


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture_ids(name: str) -> list[str]:
    return [status["id"] for status in json.loads(fixture_text(name))]


PAGE1, PAGE2, PAGE3, PAGE4 = (fixture_ids(f"statuses-page{n}.json") for n in (1, 2, 3, 4))
S10, S9, S8 = PAGE1
S7, S6, S5 = PAGE2
S4, S3, S2 = PAGE3
S12, S11 = fixture_ids("statuses-new.json")
PARENT = json.loads(fixture_text("status-reply-parent.json"))


@pytest.fixture(autouse=True)
def no_token(monkeypatch):
    monkeypatch.delenv(mastodon.TOKEN_VARIABLE, raising=False)
    monkeypatch.delenv(mastodon.TOKEN_HOST_VARIABLE, raising=False)


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    with PoliteClient(sleep=sleeps.append) as polite:
        yield polite


def scrape_request(httpserver, **fields) -> ScrapeRequest:
    return ScrapeRequest(
        account=WatchedAccount(leader_id="valdoria-presidencia", platform="mastodon", handle=HANDLE),
        source_id="mastodon:presidencia",
        options={"base_url": httpserver.url_for("/").rstrip("/")},
        **fields,
    )


def link_to(httpserver, max_id: str, min_id: str) -> str:
    base = httpserver.url_for(STATUSES_PATH)
    return f'<{base}?limit=40&max_id={max_id}>; rel="next", <{base}?limit=40&min_id={min_id}>; rel="prev"'


def serve_lookup(httpserver):
    httpserver.expect_request(LOOKUP_PATH, query_string={"acct": ACCT}).respond_with_data(
        fixture_text("account-lookup.json"), content_type="application/json"
    )


def serve_page(httpserver, name, query, link=None):
    httpserver.expect_request(STATUSES_PATH, query_string=query).respond_with_data(
        fixture_text(name), content_type="application/json", headers={"Link": link} if link else {}
    )


def serve_timeline(httpserver):
    """Four full-looking pages: each but the last names the next one."""
    serve_lookup(httpserver)
    serve_page(httpserver, "statuses-page1.json", {"limit": "40"}, link_to(httpserver, S8, S10))
    serve_page(httpserver, "statuses-page2.json", {"limit": "40", "max_id": S8}, link_to(httpserver, S5, S7))
    serve_page(httpserver, "statuses-page3.json", {"limit": "40", "max_id": S5}, link_to(httpserver, S2, S4))
    serve_page(httpserver, "statuses-page4.json", {"limit": "40", "max_id": S2})
    httpserver.expect_request(f"/api/v1/statuses/{PARENT['id']}").respond_with_data(
        fixture_text("status-reply-parent.json"), content_type="application/json"
    )


def requested(httpserver, path=STATUSES_PATH) -> list[dict]:
    return [dict(request.args) for request, _response in httpserver.log if request.path == path]


# --- scraping ------------------------------------------------------------------


def test_scrape_keeps_exactly_the_window_over_three_pages(httpserver, client):
    serve_timeline(httpserver)

    items = list(scrape_account(client, scrape_request(httpserver, **WINDOW)))

    assert all(isinstance(item, RawItem) for item in items)
    posts = {post.extra["local_id"]: post for post in map(normalise, items)}
    assert list(posts) == [S9, S8, S7, S6, S5, S4]  # S10 after the window, S3 before it
    # Stopped inside page 3: page 4 was never asked for.
    assert [args.get("max_id") for args in requested(httpserver)] == [None, S8, S5]
    for post in posts.values():
        assert post.platform == "mastodon"
        assert post.author_handle == ACCT
        assert post.author_display_name == "Presidenta Ficticia de Valdoria"
        assert post.author_platform_id == "https://social.valdoria.example/@presidencia"

    plan = posts[S9]
    assert plan.native_id == plan.url == f"https://social.valdoria.example/@presidencia/{S9}"
    assert plan.created_at == "2026-03-14T16:05:12.345Z"
    assert plan.edited_at == "2026-03-14T16:20:03.118Z"
    assert plan.text == (
        "Hoy presentamos el Plan Nacional de Agua 2026 junto a @ministra_agua.\n\n"
        "Tres prioridades:\n1. Riego eficiente\n2. Potabilizadoras rurales\n3. Cuencas protegidas\n\n"
        "Documento completo: https://www.valdoria.example/plan-agua/2026/documento-completo.pdf #PlanAgua"
    )
    assert plan.links == ["https://www.valdoria.example/plan-agua/2026/documento-completo.pdf"]
    assert plan.mentions == ["ministra_agua@social.valdoria.example"]
    assert plan.hashtags == ["PlanAgua"]
    assert plan.language == "es" and not plan.language_detected
    assert (plan.reply_count, plan.repost_count, plan.like_count, plan.quote_count) == (56, 310, 1204, 12)
    assert plan.extra["card"]["title"] == "Plan Nacional de Agua 2026 (documento completo)"
    assert plan.extra["visibility"] == "public"

    boost = posts[S8]
    assert boost.text == ""
    assert boost.repost_of == "mastodon:https://noticias.otra.example/@cultura/116201234567890123"
    assert boost.links == [] and boost.hashtags == [] and boost.mentions == []
    assert boost.native_id == f"https://social.valdoria.example/users/presidencia/statuses/{S8}/activity"

    thread_end = posts[S7]
    assert thread_end.reply_to == f"mastodon:https://social.valdoria.example/@presidencia/{S6}"
    assert thread_end.text == (
        "(2/2) La planta abastecerá a 40.000 hogares a partir de junio.\n"
        "Gracias al equipo técnico por la visita."
    )

    media = posts[S6].media
    assert [(m["type"], m["url"].rsplit(".", 1)[1]) for m in media] == [("image", "png"), ("video", "mp4")]
    assert media[0]["alt"].startswith("Gráfico de barras")
    assert posts[S6].hashtags == ["AguaParaTodos"]

    answer = posts[S5]
    assert answer.reply_to == "mastodon:https://prensa.libre.example/@lenaskov/116173377880099001"
    assert answer.mentions == ["lenaskov@prensa.libre.example"]
    assert answer.language == "en"
    assert answer.extra["in_reply_to_local_id"] == PARENT["id"]
    assert len(requested(httpserver, f"/api/v1/statuses/{PARENT['id']}")) == 1

    quote = posts[S4]
    assert quote.quote_of == "mastodon:https://prensa.libre.example/@lenaskov/116150101010101010"
    assert quote.extra["visibility"] == "unlisted"


def test_raw_items_carry_the_status_as_received(httpserver, client):
    serve_timeline(httpserver)
    item = next(iter(scrape_account(client, scrape_request(httpserver, **WINDOW))))
    status = json.loads(fixture_text("statuses-page1.json"))[1]
    assert item.payload == json.dumps(status, ensure_ascii=False, sort_keys=True)
    assert item.format == "mastodon-status"
    assert item.location.endswith("#1")
    assert item.fetched_url == item.page.url and "limit=40" in item.fetched_url
    assert item.context["local_domain"] == "social.valdoria.example"


@pytest.mark.parametrize(
    "since_id",
    [
        S10,
        f"https://social.valdoria.example/@presidencia/{S10}",
        f"mastodon:https://social.valdoria.example/@presidencia/{S10}",
    ],
)
def test_second_scrape_with_since_id_fetches_only_what_is_new(httpserver, client, since_id):
    serve_lookup(httpserver)
    serve_page(httpserver, "statuses-new.json", {"limit": "40", "since_id": S10})

    items = list(scrape_account(client, scrape_request(httpserver, since_id=since_id)))

    assert [normalise(item).extra["local_id"] for item in items] == [S12, S11]
    assert len(httpserver.log) == 2  # the lookup and one page


def test_since_id_stops_even_where_the_server_ignores_it(httpserver, client):
    serve_lookup(httpserver)
    newer_then_older = [
        *json.loads(fixture_text("statuses-new.json")),
        *json.loads(fixture_text("statuses-page1.json")),
    ]
    httpserver.expect_request(STATUSES_PATH).respond_with_json(
        newer_then_older, headers={"Link": link_to(httpserver, S8, S12)}
    )

    items = list(scrape_account(client, scrape_request(httpserver, since_id=S10)))

    assert [normalise(item).extra["local_id"] for item in items] == [S12, S11]
    assert len(requested(httpserver)) == 1


def test_ids_are_compared_as_strings_beyond_float_precision():
    newer, older = "116249473843265165", "116249473843265164"
    assert float(newer) == float(older)  # what a float would lose
    assert id_order(newer) > id_order(older)
    assert id_order("99999999999999999") < id_order("100000000000000000")
    window = mastodon.Window(None, None, older)
    status = json.loads(fixture_text("statuses-page1.json"))[0]
    assert status["id"] == newer and window.verdict(status) == "keep"
    assert mastodon.Window(None, None, newer).verdict(status) == "stop"


def test_429_with_retry_after_is_waited_out_once(httpserver, client, sleeps):
    serve_lookup(httpserver)
    httpserver.expect_oneshot_request(STATUSES_PATH).respond_with_json(
        {"error": "Too many requests"}, status=429, headers={"Retry-After": "7"}
    )
    serve_page(httpserver, "statuses-page4.json", {"limit": "40"})

    items = list(scrape_account(client, scrape_request(httpserver)))

    assert len(items) == 1
    assert sleeps == [7.0]
    assert len(requested(httpserver)) == 2


def test_server_error_then_success_is_retried(httpserver, client, sleeps):
    serve_lookup(httpserver)
    httpserver.expect_oneshot_request(STATUSES_PATH).respond_with_data("Bad Gateway", status=502)
    serve_page(httpserver, "statuses-page4.json", {"limit": "40"})

    items = list(scrape_account(client, scrape_request(httpserver)))

    assert [normalise(item).extra["local_id"] for item in items] == PAGE4
    assert len(sleeps) == 1
    assert len(requested(httpserver)) == 2


def test_unknown_account_raises_a_clear_source_error(httpserver, client):
    httpserver.expect_request(LOOKUP_PATH).respond_with_json({"error": "Record not found"}, status=404)

    with pytest.raises(SourceError) as raised:
        list(scrape_account(client, scrape_request(httpserver)))

    message = str(raised.value)
    assert f"@{ACCT}" in message and "not found" in message
    assert httpserver.url_for(LOOKUP_PATH) in message
    assert "Record not found" in message


@pytest.mark.parametrize("status", [401, 403])
def test_server_requiring_login_names_server_and_token_variable(httpserver, client, status):
    httpserver.expect_request(LOOKUP_PATH).respond_with_json(
        {"error": "This API requires an authenticated user"}, status=status
    )

    with pytest.raises(SourceError) as raised:
        list(scrape_account(client, scrape_request(httpserver)))

    message = str(raised.value)
    host = httpserver.url_for("/").split("//")[1].rstrip("/")
    assert f"Mastodon server {host} refused @{ACCT}" in message
    assert "MASTODON_TOKEN" in message and f"HTTP {status}" in message
    assert "DISALLOW_UNAUTHENTICATED_API_ACCESS" in message


def test_refusal_of_statuses_page_is_a_source_error_too(httpserver, client):
    serve_lookup(httpserver)
    httpserver.expect_request(STATUSES_PATH).respond_with_json(
        {"error": "This API requires an authenticated user"}, status=401
    )
    with pytest.raises(SourceError, match="MASTODON_TOKEN"):
        list(scrape_account(client, scrape_request(httpserver)))


def test_no_token_means_no_authorization_header(httpserver, client):
    serve_lookup(httpserver)
    serve_page(httpserver, "statuses-page4.json", {"limit": "40"})
    list(scrape_account(client, scrape_request(httpserver)))
    assert all("Authorization" not in request.headers for request, _ in httpserver.log)


def test_token_is_sent_as_bearer_and_never_stored(httpserver, client, monkeypatch):
    token = "fictional-test-token-0000"
    monkeypatch.setenv("MASTODON_TOKEN", token)
    monkeypatch.setenv("MASTODON_TOKEN_HOST", httpserver.url_for("/").split("/")[2])
    bearer = {"Authorization": f"Bearer {token}"}
    httpserver.expect_request(LOOKUP_PATH, headers=bearer).respond_with_data(
        fixture_text("account-lookup.json"), content_type="application/json"
    )
    httpserver.expect_request(STATUSES_PATH, headers=bearer).respond_with_data(
        fixture_text("statuses-page4.json"), content_type="application/json"
    )

    items = list(scrape_account(client, scrape_request(httpserver)))

    assert len(items) == 1
    stored = stored_payload(items[0]) + items[0].page.to_payload() + json.dumps(items[0].context)
    assert token not in stored


def test_token_without_its_host_is_sent_nowhere(httpserver, client, monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", "fictional-test-token-0000")
    monkeypatch.delenv("MASTODON_TOKEN_HOST", raising=False)
    httpserver.expect_request(LOOKUP_PATH).respond_with_json({"error": "This API requires an authenticated user"}, status=401)
    with pytest.raises(SourceError, match="MASTODON_TOKEN_HOST is not set"):
        list(scrape_account(client, scrape_request(httpserver)))
    assert all("Authorization" not in request.headers for request, _ in httpserver.log)


def test_token_host_keeps_the_token_from_other_servers(httpserver, client, monkeypatch):
    monkeypatch.setenv("MASTODON_TOKEN", "fictional-test-token-0000")
    monkeypatch.setenv("MASTODON_TOKEN_HOST", "home.server.example")
    httpserver.expect_request(LOOKUP_PATH).respond_with_json(
        {"error": "This API requires an authenticated user"}, status=401
    )

    with pytest.raises(SourceError, match="MASTODON_TOKEN_HOST names another server"):
        list(scrape_account(client, scrape_request(httpserver)))
    assert all("Authorization" not in request.headers for request, _ in httpserver.log)


def test_malformed_page_yields_unparsed_after_earlier_items(httpserver, client):
    serve_lookup(httpserver)
    serve_page(httpserver, "statuses-page1.json", {"limit": "40"}, link_to(httpserver, S8, S10))
    httpserver.expect_request(STATUSES_PATH, query_string={"limit": "40", "max_id": S8}).respond_with_data(
        "<html><body>502 Bad Gateway</body></html>", content_type="text/html"
    )

    items = list(scrape_account(client, scrape_request(httpserver)))

    assert [item.location.rsplit("#", 1)[1] for item in items[:3]] == ["0", "1", "2"]
    assert all(isinstance(item, RawItem) for item in items[:3])
    unparsed = items[3]
    assert isinstance(unparsed, Unparsed) and len(items) == 4
    assert "not JSON" in unparsed.reason
    assert unparsed.payload.startswith("<html>") and f"max_id={S8}" in unparsed.location
    assert unparsed.page is not None and unparsed.source_id == "mastodon:presidencia"


def test_status_missing_fields_makes_the_page_unparsed(httpserver, client):
    serve_lookup(httpserver)
    httpserver.expect_request(STATUSES_PATH).respond_with_json([{"id": "116249473843265165"}])
    (unparsed,) = list(scrape_account(client, scrape_request(httpserver)))
    assert isinstance(unparsed, Unparsed) and "status without created_at, account, url/uri" in unparsed.reason


def test_base_url_defaults_to_the_accounts_server():
    class RecordingClient:
        def __init__(self):
            self.urls = []

        def get(self, url, **kwargs):
            self.urls.append(url)
            return FetchedPage(url=url, body='{"error":"Record not found"}', status=404)

    recording = RecordingClient()
    request = ScrapeRequest(
        account=WatchedAccount(
            leader_id=None, platform="mastodon", url="https://social.valdoria.example/@presidencia"
        ),
        source_id="mastodon:presidencia",
    )
    with pytest.raises(SourceError):
        list(scrape_account(recording, request))
    assert recording.urls == ["https://social.valdoria.example/api/v1/accounts/lookup"]


def test_suspended_account_is_a_source_error(httpserver, client):
    account = json.loads(fixture_text("account-lookup.json")) | {"suspended": True}
    httpserver.expect_request(LOOKUP_PATH).respond_with_json(account)
    with pytest.raises(SourceError, match="suspended"):
        list(scrape_account(client, scrape_request(httpserver)))


# --- pure parts ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "@presidencia@social.valdoria.example",
        "presidencia@Social.Valdoria.Example",
        "https://social.valdoria.example/@presidencia",
        "https://social.valdoria.example/users/presidencia/",
        "https://otro.servidor.example/@presidencia@social.valdoria.example",
    ],
)
def test_account_addresses(text):
    assert parse_account_address(text) == AccountAddress("presidencia", "social.valdoria.example")


@pytest.mark.parametrize("text", ["", "presidencia", "@presidencia", "https://social.valdoria.example/about"])
def test_not_account_addresses(text):
    assert parse_account_address(text) is None


def test_next_page_url_reads_rel_next_wherever_it_is():
    prev_first = FetchedPage(
        url="https://s.example/x",
        body="[]",
        headers={
            "Link": '<https://s.example/a?min_id=9>; rel="prev", <https://s.example/a?max_id=3>; rel="next"'
        },
    )
    assert next_page_url(prev_first) == "https://s.example/a?max_id=3"
    assert next_page_url(FetchedPage(url="https://s.example/x", body="[]")) is None


def test_saved_statuses_file_reads_to_posts():
    assert file_reader("mastodon-statuses") is read_statuses_file
    path = FIXTURES / "statuses-saved.json"

    posts = [normalise(item) for item in read_statuses_file(str(path), "import:valdoria")]

    boost, answer, first = posts
    saved = json.loads(fixture_text("statuses-saved.json"))
    assert [post.extra["local_id"] for post in posts] == [status["id"] for status in saved]
    assert {post.author_handle for post in posts} == {"vicepresidencia@social.valdoria.example"}
    assert boost.text == "" and boost.repost_of == "mastodon:" + saved[0]["reblog"]["url"]
    assert answer.reply_to == "mastodon:" + saved[2]["url"]
    assert first.text == (
        "Primera sesión del Consejo de Energía.\n\n"
        "Orden del día: https://www.valdoria.example/energia/orden-del-dia"
    )
    assert first.links == ["https://www.valdoria.example/energia/orden-del-dia"]
    assert first.created_at == "2026-04-01T09:00:00Z"


def test_saved_file_bad_records_are_unparsed_and_the_rest_go_on(tmp_path):
    good = json.loads(fixture_text("statuses-saved.json"))[2]
    path = tmp_path / "statuses.json"
    path.write_text(json.dumps([good, "not a status", {"id": "116328628224013999"}]), encoding="utf-8")

    results = list(read_statuses_file(str(path), "import:valdoria"))

    assert isinstance(results[0], RawItem) and results[0].location == f"{path}[0]"
    assert [type(r).__name__ for r in results[1:]] == ["Unparsed", "Unparsed"]
    assert [r.location for r in results[1:]] == [f"{path}[1]", f"{path}[2]"]
    assert normalise(results[0]).native_id == good["url"]


def test_saved_file_that_holds_no_status_is_one_unparsed_saying_what_it_is(tmp_path):
    path = tmp_path / "statuses.json"
    path.write_text('{"error": "Record not found"}', encoding="utf-8")
    (result,) = list(read_statuses_file(str(path), "import:valdoria"))
    assert isinstance(result, Unparsed)
    assert result.reason.startswith("a JSON object with keys error; it looks like an API error answer (Record not found)")
    assert "expected Mastodon statuses" in result.reason


def test_options_skip_lookup_and_leave_out_boosts_and_replies(httpserver, client):
    query = {"limit": "40", "exclude_reblogs": "true", "exclude_replies": "true"}
    serve_page(httpserver, "statuses-page4.json", query)
    request = scrape_request(httpserver)
    request.options |= {"account_id": ACCOUNT_ID, "include_reposts": False, "include_replies": False}

    items = list(scrape_account(client, request))

    assert len(items) == 1
    assert requested(httpserver, LOOKUP_PATH) == []


def test_quote_post_fallback_paragraph_is_not_text():
    """Mastodon 4.5 adds "RE: <url>" (class quote-inline) for old clients."""
    from scraper.model import FetchedPage
    from scraper.normalise import normalise
    from scraper.sources.mastodon import items_from_page

    status = json.loads(fixture_text("statuses-page4.json"))[0]
    quoted = dict(status, id="116300000000000001", url="https://social.valdoria.example/@presidencia/116300000000000001")
    status = dict(status, content='<p>Comparto.</p><p class="quote-inline">RE: <a href="https://social.valdoria.example/@presidencia/116300000000000001">social.valdoria.example/@presidencia/116300000000000001</a></p>',
                  quote={"state": "accepted", "quoted_status": quoted})
    page = FetchedPage(url="https://social.valdoria.example/api/v1/accounts/1/statuses", body=json.dumps([status]), status=200)
    post = normalise(items_from_page(page, "s")[0])
    assert post.text == "Comparto."
    assert post.quote_of == "mastodon:https://social.valdoria.example/@presidencia/116300000000000001"
