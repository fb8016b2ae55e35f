"""Telegram public-channel adapter, against hand-written t.me/s/ pages of a
fictional channel served on 127.0.0.1 (no network)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scraper.errors import ParseFailure, SourceError
from scraper.http import PoliteClient
from scraper.model import FetchedPage
from scraper.normalise import normalise
from scraper.formats import file_reader
from scraper.sources import ScrapeRequest, Unparsed, WatchedAccount
from scraper.sources import telegram

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
CHANNEL = "valdoria_presidencia"
PATH = f"/s/{CHANNEL}"
WINDOW = {"window_start": "2026-03-02T00:00:00Z", "window_end": "2026-03-10T12:00:00Z"}
IN_WINDOW = [133, 132, 131, 130, 128, 127, 124, 123, 121, 120]


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def serve(httpserver, name: str, before: int | None = None, **kwargs):
    query = f"before={before}" if before else ""
    httpserver.expect_request(PATH, query_string=query).respond_with_data(
        fixture(name), content_type="text/html; charset=utf-8", **kwargs
    )


def request_for(httpserver, **kwargs) -> ScrapeRequest:
    return ScrapeRequest(
        account=WatchedAccount(leader_id="Q-valdoria", platform="telegram", handle=CHANNEL),
        source_id="telegram:valdoria_presidencia",
        options={"base_url": httpserver.url_for("/").rstrip("/")},
        **kwargs,
    )


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    with PoliteClient(sleep=sleeps.append) as polite:
        yield polite


def post_number(post) -> int:
    return int(post.native_id.rsplit("/", 1)[1])


def scrape(client, request):
    return list(telegram.scrape_account(client, request))


# --- paging, window, incremental ------------------------------------------------


def test_three_pages_yield_exactly_the_posts_inside_the_window(httpserver, client):
    serve(httpserver, "page1.html")
    serve(httpserver, "page2.html", before=131)
    serve(httpserver, "page3.html", before=124)

    items = scrape(client, request_for(httpserver, **WINDOW))

    assert all(not isinstance(item, Unparsed) for item in items)
    posts = [normalise(item) for item in items]
    assert [post_number(p) for p in posts] == IN_WINDOW
    assert len(httpserver.log) == 3
    by_id = {post_number(p): p for p in posts}

    reply = by_id[127]
    assert reply.native_id == "valdoria_presidencia/127"
    assert reply.url == "https://t.me/valdoria_presidencia/127"
    assert reply.author_handle == CHANNEL
    assert reply.author_display_name == "Presidencia de Valdoria"
    assert reply.created_at == "2026-03-05T16:20:00Z"
    assert reply.text == (
        "La planta abastecerá a 40\u00a0000 hogares. Visitaremos las obras con "
        "@alcaldia_puerto_ficticio.\n#AguaParaTodos"
    )
    assert reply.reply_to == "telegram:valdoria_presidencia/124"
    assert reply.mentions == ["alcaldia_puerto_ficticio"]
    assert reply.hashtags == ["AguaParaTodos"]
    assert reply.links == []  # a mention's t.me link is not an outlink

    # Offset time converted to UTC; entities and line breaks as posted.
    assert by_id[121].created_at == "2026-03-02T12:30:00Z"
    assert by_id[121].hashtags == ["TarifaJusta", "Valdoria"]
    assert by_id[120].text == (
        "Primera reunión de la semana con los gobernadores de Norvalia y Sudvalia.\n"
        "Acordamos un calendario de obras & un fondo común.\n\n«El agua es de todos»"
    )


def test_fields_of_forwards_previews_media_and_views(httpserver, client):
    serve(httpserver, "page1.html")
    serve(httpserver, "page2.html", before=131)
    serve(httpserver, "page3.html", before=124)
    posts = {post_number(p): p for p in map(normalise, scrape(client, request_for(httpserver, **WINDOW)))}

    photo = posts[131]
    assert photo.view_count == 214400 and photo.extra["views_text"] == "214.4K"
    assert photo.media[0]["url"] == "https://cdn4.telesco.pe/file/vd-photo-131.jpg"
    assert posts[130].view_count == 1_200_000

    forward = posts[132]
    assert forward.repost_of == "telegram:ministerio_energia_vd/45"
    assert forward.extra["forwarded_from"]["name"] == "Ministerio de Energía de Valdoria"
    assert forward.extra["edited"] is True
    assert "edited" not in photo.extra

    preview = posts[133]
    assert preview.text == "Lean la entrevista completa: aquí"
    assert preview.links == ["https://diario-ficticio.example/entrevistas/presidenta-2026"]
    assert preview.extra["link_preview"]["site_name"] == "Diario Ficticio"
    assert preview.extra["link_preview"]["description"] == (
        "La mandataria habla de la reforma,\nde las tarifas y de la agenda regional."
    )
    assert preview.media[0]["type"] == "link_preview"

    album = posts[124]
    assert [m["url"].rsplit("/", 1)[1] for m in album.media] == [
        "vd-album-124-a.jpg", "vd-album-124-b.jpg", "vd-album-124-c.jpg"
    ]
    assert album.text == (
        "Inauguración de la planta potabilizadora de Puerto Ficticio.\n"
        "Gracias a los trabajadores que la hicieron posible."
    )
    assert posts[128].media[0]["type"] == "video"
    assert posts[128].media[0]["url"].endswith("vd-video-128.mp4")
    # A link shown cut with an ellipsis is replaced by its full href.
    assert posts[123].text.endswith("/decretos/2026/12-reforma-del-sistema-nacional-de-aguas")


def test_second_scrape_with_since_id_fetches_only_what_is_new(httpserver, client):
    serve(httpserver, "page1_new.html")
    serve(httpserver, "page2.html", before=131)  # must not be asked for

    items = scrape(client, request_for(httpserver, since_id="valdoria_presidencia/133"))

    assert [post_number(normalise(i)) for i in items] == [135, 134]
    assert len(httpserver.log) == 1


# --- failures ----------------------------------------------------------------------


def test_429_with_retry_after_is_waited_out_once(httpserver, client, sleeps):
    httpserver.expect_oneshot_request(PATH, query_string="").respond_with_data(
        "Too Many Requests", status=429, headers={"Retry-After": "7"}
    )
    serve(httpserver, "page1.html")
    serve(httpserver, "page2.html", before=131)

    items = scrape(client, request_for(httpserver, since_id="valdoria_presidencia/128"))

    assert sleeps == [7.0]
    assert len(httpserver.log) == 3  # the 429, its one retry, then page 2
    assert [post_number(normalise(i)) for i in items] == [134, 133, 132, 131, 130]


def test_5xx_then_success_is_retried(httpserver, client, sleeps):
    httpserver.expect_oneshot_request(PATH, query_string="").respond_with_data("oops", status=502)
    serve(httpserver, "page1.html")

    items = scrape(client, request_for(httpserver, since_id="valdoria_presidencia/131"))

    assert len(sleeps) == 1
    assert [post_number(normalise(i)) for i in items] == [134, 133, 132]


def test_404_channel_is_a_clear_source_error(httpserver, client):
    httpserver.expect_request(PATH).respond_with_data("Not Found", status=404)
    with pytest.raises(SourceError) as error:
        scrape(client, request_for(httpserver))
    assert CHANNEL in str(error.value) and PATH in str(error.value) and "404" in str(error.value)


def test_channel_without_public_preview_is_a_source_error(httpserver, client):
    # Telegram redirects t.me/s/<name> to t.me/<name> when the preview is off.
    httpserver.expect_request(PATH).respond_with_data(
        "", status=302, headers={"Location": "/valdoria_presidencia"}
    )
    httpserver.expect_request("/valdoria_presidencia").respond_with_data(
        fixture("no_preview.html"), content_type="text/html"
    )
    with pytest.raises(SourceError, match="no public web preview"):
        scrape(client, request_for(httpserver))


def test_page_without_messages_or_channel_info_is_a_source_error(httpserver, client):
    httpserver.expect_request(PATH).respond_with_data(
        "<html><body><div class='tgme_page'>Nothing here</div></body></html>",
        content_type="text/html",
    )
    with pytest.raises(SourceError, match="no messages and no channel information"):
        scrape(client, request_for(httpserver))


def test_malformed_page_yields_unparsed_after_earlier_items(httpserver, client):
    serve(httpserver, "page1.html")
    serve(httpserver, "page2_malformed.html", before=131)

    items = scrape(client, request_for(httpserver, **WINDOW))

    assert [post_number(normalise(i)) for i in items[:-1]] == [133, 132, 131]
    unparsed = items[-1]
    assert isinstance(unparsed, Unparsed)
    assert "ciento-veintiocho" in unparsed.reason
    assert "before=131" in unparsed.location
    assert unparsed.source_id == "telegram:valdoria_presidencia"
    assert len(httpserver.log) == 2


# --- parsing (pure) ------------------------------------------------------------------


def minified(html: str) -> str:
    # Whitespace with a line break between tags is formatting only.
    return re.sub(r"\s*\n\s*", "", html)


@pytest.mark.parametrize("name", ["page1.html", "page2.html", "page3.html"])
def test_minified_and_pretty_pages_give_identical_posts(name):
    pretty = fixture(name)
    assert minified(pretty) != pretty
    posts = []
    for body in (pretty, minified(pretty)):
        page = FetchedPage(url=f"https://t.me{PATH}", body=body)
        posts.append([normalise(item).to_dict() for item in telegram.items_from_page(page, "s")])
    assert posts[0] == posts[1]
    assert len(posts[0]) >= 4


def test_service_messages_are_not_posts():
    page = FetchedPage(url=f"https://t.me{PATH}?before=124", body=fixture("page3.html"))
    ids = [normalise(item).native_id for item in telegram.items_from_page(page, "s")]
    assert "valdoria_presidencia/119" not in ids
    assert len(ids) == 4


def test_malformed_block_raises_parse_failure():
    page = FetchedPage(url="saved.html", body=fixture("page2_malformed.html"))
    with pytest.raises(ParseFailure):
        telegram.items_from_page(page, "s")


@pytest.mark.parametrize(
    "text, number",
    [("987", 987), ("15K", 15000), ("214.4K", 214400), ("4.85K", 4850), ("1.2M", 1200000), ("", None)],
)
def test_view_counts(text, number):
    assert telegram.parse_count(text) == number


# --- file format ------------------------------------------------------------------------


def test_saved_page_file_reads_to_posts():
    reader = file_reader("telegram-html")
    items = list(reader(str(FIXTURES / "page2.html"), "import:telegram"))
    posts = [normalise(item) for item in items]
    assert [post_number(p) for p in posts] == [124, 127, 128, 130]  # as on the page
    assert posts[1].reply_to == "telegram:valdoria_presidencia/124"
    assert all(item.source_id == "import:telegram" for item in items)


def test_saved_page_with_a_bad_message_keeps_the_others():
    reader = file_reader("telegram-html")
    items = list(reader(str(FIXTURES / "page2_malformed.html"), "import:telegram"))
    unparsed = [i for i in items if isinstance(i, Unparsed)]
    assert len(unparsed) == 1 and "page2_malformed.html#message-2" in unparsed[0].location
    assert [post_number(normalise(i)) for i in items if not isinstance(i, Unparsed)] == [124, 127, 130]
