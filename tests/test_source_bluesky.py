"""Bluesky adapter: paging, windows, since_id, errors, facets, embeds, files.

A fake AppView on 127.0.0.1 (pytest-httpserver) serves recorded
getAuthorFeed pages of a fictional account; no test touches the network.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug import Response

from scraper.errors import ParseFailure, SourceError
from scraper.http import PoliteClient
from scraper.model import FetchedPage
from scraper.normalise import normalise
from scraper.formats import file_reader
from scraper.sources import ScrapeRequest, Unparsed, WatchedAccount
from scraper.sources import bluesky

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"
FEED_PATH = "/xrpc/app.bsky.feed.getAuthorFeed"
RESOLVE_PATH = "/xrpc/com.atproto.identity.resolveHandle"

DID = "did:plc:rnhszylksqjrjk3linirujs3"
HANDLE = "valdoria-presidencia.bsky.social"
CULTURA_DID = "did:plc:ze7bymti2vqsk2kyklyzl2ji"
FARO_DID = "did:plc:y4522pgrw66wuiw3p2do4iir"


def post_uri(rkey: str, did: str = DID) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


PINNED = post_uri("3mg2yn7ye222b")
POST_A = post_uri("3mnwdvyu3222b")  # 2026-06-10, after the window
POST_B = post_uri("3mnkxaswkls2b")  # facets, external card
POST_C = post_uri("3mnexn36ns22b")  # reply with two images
POST_D = post_uri("3mmwdnftnk22b")  # quote
POST_E = post_uri("3mmp5y5qv222b")  # quote with video
POST_F = post_uri("3mmchhgvzs22b")  # embed type not known yet
POST_G = post_uri("3mlnczzb2222b")  # two languages, record tags
POST_H = post_uri("3mkkjwbpo222b")  # 2026-04-28, before the window
REPOST = f"at://{DID}/app.bsky.feed.repost/3mnh43kank22b"
IN_WINDOW = [POST_B, POST_C, POST_D, POST_E, POST_F, POST_G]

# cursor sent -> page served; None is the first request
PAGES = {
    None: "author-feed-page1.json",
    "2026-06-03T11:05:00.000Z": "author-feed-page2.json",
    "2026-05-20T17:45:00.000Z": "author-feed-page3.json",
    "2026-04-28T12:00:00.000Z": "author-feed-page4.json",
}


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


class FakeAppView:
    """Serves feed pages by cursor and records every feed request."""

    def __init__(self, httpserver, pages=PAGES, overrides=None):
        self.pages = dict(pages)
        self.overrides = overrides or {}  # cursor -> (status, body, headers) served once
        self.requests: list[dict] = []
        httpserver.expect_request(FEED_PATH).respond_with_handler(self.handle)

    def handle(self, request):
        args = request.args.to_dict()
        self.requests.append(args)
        cursor = args.get("cursor")
        if cursor in self.overrides:
            status, body, headers = self.overrides.pop(cursor)
            return Response(body, status=status, headers=headers, content_type="application/json")
        return Response(fixture_text(self.pages[cursor]), content_type="application/json")

    @property
    def cursors(self):
        return [args.get("cursor") for args in self.requests]


class FakeSleep:
    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleep():
    return FakeSleep()


@pytest.fixture
def client(sleep):
    with PoliteClient(sleep=sleep, backoff=0.5) as polite:
        yield polite


def make_request(httpserver, *, platform_id=DID, handle=HANDLE, **fields) -> ScrapeRequest:
    options = {"base_url": httpserver.url_for("/").rstrip("/"), **fields.pop("options", {})}
    account = WatchedAccount(
        leader_id="valdoria-pres", platform="bluesky", handle=handle, platform_id=platform_id
    )
    return ScrapeRequest(account=account, source_id="bluesky:valdoria", options=options, **fields)


def window(**extra):
    return {"window_start": "2026-05-01T00:00:00Z", "window_end": "2026-06-08T00:00:00Z", **extra}


def scrape(client, request):
    return list(bluesky.scrape_account(client, request))


def posts_by_id(items):
    return {post.native_id: post for post in (normalise(item) for item in items)}


# --- paging and the window ---------------------------------------------------------------


def test_scrape_over_three_pages_keeps_exactly_the_window(httpserver, client):
    appview = FakeAppView(httpserver)
    items = scrape(client, make_request(httpserver, **window()))

    assert [json.loads(i.payload)["post"]["uri"] for i in items] == IN_WINDOW
    # The old pinned post at the top did not stop paging; page 3 went past the
    # window start, so page 4 was never asked for.
    assert appview.cursors == [None, "2026-06-03T11:05:00.000Z", "2026-05-20T17:45:00.000Z"]
    assert all(args["actor"] == DID and args["limit"] == "100" for args in appview.requests)
    assert all(args["filter"] == "posts_with_replies" for args in appview.requests)
    assert all(i.format == "bluesky-feed-item" and i.source_id == "bluesky:valdoria" for i in items)
    assert items[0].page is not None and items[0].fetched_url.startswith(httpserver.url_for(FEED_PATH))
    assert items[0].location.endswith("#feed[2]")


def test_scraped_posts_have_ids_authors_times_and_references(httpserver, client):
    FakeAppView(httpserver)
    posts = posts_by_id(scrape(client, make_request(httpserver, **window())))

    post_b = posts[POST_B]
    assert post_b.url == f"https://bsky.app/profile/{HANDLE}/post/3mnkxaswkls2b"
    assert post_b.author_handle == HANDLE
    assert post_b.author_display_name == "Presidenta Ficticia de Valdoria"
    assert post_b.author_platform_id == DID
    assert post_b.created_at == "2026-06-05T20:14:07.123Z"
    assert post_b.extra["indexedAt"] == "2026-06-05T20:14:07.512Z"
    assert post_b.language == "es"
    assert post_b.counts() == {
        "reply_count": 45, "repost_count": 210, "like_count": 1300, "quote_count": 18, "view_count": None
    }
    assert post_b.mentions == ["cultura.valdoria.example"]
    assert post_b.links == ["https://elfaro.example/2026/06/05/jornada-historica-en-valdoria?utm_source=bsky"]

    assert posts[POST_C].reply_to == "bluesky:" + post_uri("3mndalqzs222b", FARO_DID)
    assert posts[POST_C].text == (
        "Reunión con alcaldes del norte.\nSeguimos trabajando por cada municipio, sin excepción."
    )
    assert posts[POST_D].quote_of == "bluesky:" + post_uri("3mmt2uni4c22b", FARO_DID)
    assert posts[POST_E].quote_of == "bluesky:" + post_uri("3mmlw27p6222b", CULTURA_DID)
    assert posts[POST_G].language == "es" and posts[POST_G].extra["langs"] == ["es", "en"]
    assert posts[POST_G].hashtags == ["Valdoria2026"]


def test_handle_is_resolved_once_and_posts_are_keyed_by_did(httpserver, client):
    appview = FakeAppView(httpserver)
    httpserver.expect_oneshot_request(RESOLVE_PATH, query_string={"handle": HANDLE}).respond_with_data(
        fixture_text("resolve-handle.json"), content_type="application/json"
    )
    request = make_request(httpserver, platform_id=None, handle="@" + HANDLE, **window())
    items = scrape(client, request)

    assert request.account.platform_id == DID  # written back for the caller to keep
    assert all(args["actor"] == DID for args in appview.requests)
    assert {normalise(i).author_platform_id for i in items} == {DID}
    resolve_calls = [r for r, _ in httpserver.log if r.path == RESOLVE_PATH]
    assert len(resolve_calls) == 1


def test_reposts_are_skipped_unless_asked_for(httpserver, client):
    FakeAppView(httpserver)
    request = make_request(httpserver, options={"include_reposts": True}, **window())
    posts = posts_by_id(scrape(client, request))

    assert list(posts) == [POST_B, REPOST, *IN_WINDOW[1:]]
    repost = posts[REPOST]
    assert repost.repost_of == "bluesky:" + post_uri("3mnfyuze7222b", FARO_DID)
    assert repost.author_platform_id == DID and repost.text == ""
    assert repost.created_at == "2026-06-04T07:30:00.611Z"
    assert repost.extra["reposted_post"]["author_handle"] == "elfaro-valdoria.bsky.social"


# --- incremental scrapes -------------------------------------------------------------


def test_second_scrape_with_since_id_fetches_only_new_posts(httpserver, client):
    pages = {**PAGES, None: "author-feed-page1-updated.json"}
    appview = FakeAppView(httpserver, pages=pages)
    request = make_request(httpserver, since_id=POST_A, window_start="2026-05-01T00:00:00Z")
    posts = posts_by_id(scrape(client, request))

    assert [p.text for p in posts.values()] == [
        "Primera reunión del nuevo gabinete.",
        "Gracias a los observadores internacionales.",
    ]
    assert len(appview.requests) == 1  # no second page


def test_since_id_of_a_deleted_post_stops_at_the_first_older_record(httpserver, client):
    pages = {**PAGES, None: "author-feed-page1-updated.json"}
    appview = FakeAppView(httpserver, pages=pages)
    # A record key between POST_B (06-05) and POST_A (06-10) that is not in the feed.
    deleted = post_uri("3mnpzzzzzzz2b")
    posts = posts_by_id(scrape(client, make_request(httpserver, since_id=deleted)))

    assert len(posts) == 3 and POST_A in posts and POST_B not in posts
    assert len(appview.requests) == 1


def test_pinned_post_equal_to_since_id_does_not_stop_paging(httpserver, client):
    pages = {**PAGES, None: "author-feed-page1-updated.json"}
    FakeAppView(httpserver, pages=pages)
    posts = posts_by_id(scrape(client, make_request(httpserver, since_id=POST_A)))
    assert PINNED not in posts and len(posts) == 2


# --- HTTP trouble -----------------------------------------------------------------


def test_429_with_retry_after_is_waited_out_and_retried_once(httpserver, client, sleep):
    limited = '{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}'
    overrides = {None: (429, limited, {"Retry-After": "7"})}
    appview = FakeAppView(httpserver, overrides=overrides)
    items = scrape(client, make_request(httpserver, **window()))

    assert sleep.waits == [7.0]
    # One retry of the refused page, then paging goes on as usual.
    assert appview.cursors == [None, None, "2026-06-03T11:05:00.000Z", "2026-05-20T17:45:00.000Z"]
    assert len(items) == len(IN_WINDOW)


def test_server_error_then_success_is_retried(httpserver, client, sleep):
    overrides = {"2026-06-03T11:05:00.000Z": (502, "Bad Gateway", {})}
    appview = FakeAppView(httpserver, overrides=overrides)
    items = scrape(client, make_request(httpserver, **window()))

    assert len(sleep.waits) == 1
    assert appview.cursors.count("2026-06-03T11:05:00.000Z") == 2
    assert len(items) == len(IN_WINDOW)


def test_unknown_account_raises_a_clear_source_error(httpserver, client):
    httpserver.expect_request(FEED_PATH).respond_with_json(
        {"error": "InvalidRequest", "message": "Profile not found"}, status=404
    )
    with pytest.raises(SourceError) as caught:
        scrape(client, make_request(httpserver))
    message = str(caught.value)
    assert HANDLE in message and DID in message
    assert "not found" in message and httpserver.url_for(FEED_PATH) in message
    assert "Profile not found" in message


def test_unresolvable_handle_raises_a_clear_source_error(httpserver, client):
    # What the AppView answers for a handle that does not exist.
    httpserver.expect_request(RESOLVE_PATH).respond_with_json(
        {"error": "InvalidRequest", "message": "Unable to resolve handle"}, status=400
    )
    with pytest.raises(SourceError) as caught:
        scrape(client, make_request(httpserver, platform_id=None, handle="nadie-en-valdoria.bsky.social"))
    assert "@nadie-en-valdoria.bsky.social" in str(caught.value)
    assert "Unable to resolve handle" in str(caught.value)


def test_refusal_names_the_account_and_url(httpserver, client):
    httpserver.expect_request(FEED_PATH).respond_with_json({"error": "AuthMissing"}, status=401)
    with pytest.raises(SourceError, match="refused.*HTTP 401"):
        scrape(client, make_request(httpserver))


def test_malformed_page_yields_unparsed_after_earlier_items(httpserver, client):
    broken = '{"feed": [{"post": {"uri": "at://did:plc:rnhszylk'
    overrides = {"2026-06-03T11:05:00.000Z": (200, broken, {})}
    FakeAppView(httpserver, overrides=overrides)
    results = scrape(client, make_request(httpserver, **window()))

    assert [type(r).__name__ for r in results] == ["RawItem", "RawItem", "Unparsed"]
    unparsed = results[-1]
    assert isinstance(unparsed, Unparsed)
    assert unparsed.payload == broken and "not JSON" in unparsed.reason
    assert "cursor=2026-06-03" in unparsed.location and unparsed.page is not None


def test_page_without_feed_list_is_unparsed():
    page = FetchedPage(url="https://public.api.bsky.app" + FEED_PATH, body='{"cursor": "x"}')
    with pytest.raises(ParseFailure, match="no 'feed' list"):
        bluesky.items_from_feed_page(page, "s")


# --- facets and embeds (pure) --------------------------------------------------------------


def page_posts(name: str):
    page = FetchedPage(url=f"file:{name}", body=fixture_text(name))
    return posts_by_id(bluesky.items_from_feed_page(page, "bluesky:test"))


def test_facets_use_byte_offsets_after_emoji_and_accents():
    post = page_posts("author-feed-page1.json")[POST_B]
    # The shortened display text stays in the text; the full URL is in links.
    assert post.text.startswith("🗳️ Jornada histórica en Valdoria: ¡participación récord!")
    assert "elfaro.example/2026/06/05/jorn..." in post.text
    assert post.mentions == ["cultura.valdoria.example"]
    assert post.hashtags == ["EleccionesValdoria"]
    assert post.links[0].startswith("https://elfaro.example/2026/06/05/jornada-historica-en-valdoria")


def test_facet_helper_slices_bytes_not_characters():
    text = "¡Olé! 🎉 con @ana.valdoria.example y #Año"
    data = text.encode("utf-8")
    start = data.index(b"@ana")
    tag = data.index("#Año".encode())
    facets = [
        {"index": {"byteStart": start, "byteEnd": start + len(b"@ana.valdoria.example")},
         "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:ana"}]},
        {"index": {"byteStart": tag, "byteEnd": len(data)},
         "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Año"}]},
        {"index": {"byteStart": 0, "byteEnd": 3},  # offsets that show no @handle
         "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:otro"}]},
    ]
    found = bluesky.facet_entities(text, facets)
    assert found["mentions"] == ["ana.valdoria.example", "did:plc:otro"]
    assert found["hashtags"] == ["Año"]


def test_embeds_become_media_links_and_quotes():
    posts = {**page_posts("author-feed-page1.json"), **page_posts("author-feed-page2.json")}

    card = posts[POST_B].media[0]
    assert card["type"] == "link_card" and card["title"] == "Jornada histórica en Valdoria"

    images = posts[POST_C].media
    assert [m["type"] for m in images] == ["image", "image"]
    assert images[0]["url"].startswith(f"https://cdn.bsky.app/img/feed_fullsize/plain/{DID}/")
    assert images[1]["alt"] == "La presidenta saluda a la alcaldesa de Río Claro"

    assert posts[POST_D].extra["quoted_post"]["text"].startswith("Encuesta El Faro")

    video = posts[POST_E].media[0]
    assert video["type"] == "video" and video["url"].endswith("/playlist.m3u8")

    unknown = posts[POST_F].media[0]
    assert unknown["type"] == "unknown" and unknown["embed_type"] == "app.bsky.embed.gallery#view"
    assert unknown["raw"]["items"][0]["alt"] == "Plaza mayor de Puerto Alba"


def test_record_embed_without_view_and_missing_quote():
    view = {
        "uri": post_uri("3mabcdefghi2b"),
        "author": {"did": DID, "handle": "handle.invalid"},
        "record": {
            "text": "Sin vista",
            "createdAt": "2026-05-02T10:00:00Z",
            "embed": {
                "$type": "app.bsky.embed.recordWithMedia",
                "record": {"$type": "app.bsky.embed.record",
                           "record": {"uri": post_uri("3mzzzzzzzzz2b", FARO_DID), "cid": "bafyreix"}},
                "media": {"$type": "app.bsky.embed.images",
                          "images": [{"alt": "", "image": {"$type": "blob", "ref": {"$link": "bafkreiq"},
                                                           "mimeType": "image/jpeg", "size": 10}}]},
            },
        },
    }
    post = bluesky.post_view_to_post(view)
    assert post.url == f"https://bsky.app/profile/{DID}/post/3mabcdefghi2b"
    assert post.quote_of == "bluesky:" + post_uri("3mzzzzzzzzz2b", FARO_DID)
    image_url = f"https://cdn.bsky.app/img/feed_fullsize/plain/{DID}/bafkreiq@jpeg"
    assert post.media == [{"type": "image", "url": image_url, "alt": None}]


# --- saved files -------------------------------------------------------------------


def test_file_format_reads_a_saved_response():
    reader = file_reader("bluesky-feed")
    results = list(reader(str(FIXTURES / "author-feed-page1.json"), "import:bsky"))
    posts = posts_by_id(results)
    # Pinned post kept once, repost skipped as in a scrape.
    assert list(posts) == [PINNED, POST_A, POST_B, POST_C]
    assert posts[PINNED].extra["pinned"] is True
    assert results[0].location.endswith("author-feed-page1.json#feed[0]")
    assert results[0].fetched_url is None


def test_file_format_reads_a_list_of_pages(tmp_path):
    pages = [json.loads(fixture_text(f"author-feed-page{n}.json")) for n in (1, 2, 3)]
    saved = tmp_path / "feed-pages.json"
    saved.write_text(json.dumps(pages, ensure_ascii=False), encoding="utf-8")
    results = list(bluesky.read_bluesky_feed(str(saved), "import:bsky", include_reposts=True))

    assert len(results) == 10
    assert REPOST in posts_by_id(results)
    assert results[5].location.endswith("feed-pages.json#[1].feed[0]")


def test_file_format_reads_jsonl_and_reports_the_bad_line():
    results = list(file_reader("bluesky-feed")(str(FIXTURES / "author-feed-saved.jsonl"), "import:bsky"))

    good = [r for r in results if not isinstance(r, Unparsed)]
    bad = [r for r in results if isinstance(r, Unparsed)]
    assert list(posts_by_id(good)) == [POST_G, POST_H, POST_D, POST_E]  # a page, an item, a bare postView
    assert len(bad) == 1 and bad[0].location.endswith("author-feed-saved.jsonl:4")
    assert bad[0].source_id == "import:bsky" and "not JSON" in bad[0].reason


def test_file_format_reports_a_truncated_saved_response_once(tmp_path):
    saved = tmp_path / "cut.json"
    saved.write_text(fixture_text("author-feed-page2.json")[:5000], encoding="utf-8")
    results = list(bluesky.read_bluesky_feed(str(saved), "import:bsky"))
    assert len(results) == 1 and isinstance(results[0], Unparsed)
    assert results[0].location == str(saved)
