"""X/Twitter adapter: API v2 timelines on a local server, hydration without a
token, the syndication token formula, and the three file formats.

All accounts and posts in tests/fixtures/x are fictional; ids are snowflakes
made for dates in June 2021 (June 2023 for the edited post: edits came in 2022).
"""

from __future__ import annotations

import json
import math
import re
import time
from fractions import Fraction
from pathlib import Path

import pytest
from werkzeug import Response

from scraper.errors import SourceError
from scraper.http import PoliteClient
from scraper.model import RawItem
from scraper.normalise import normalise
from scraper.formats import file_reader
from scraper.prepare import stored_payload
from scraper.sources import ScrapeRequest, Unparsed, WatchedAccount
from scraper.sources import x

FIXTURES = Path(__file__).parent / "fixtures" / "x"
TOKEN = "test-bearer-not-a-real-token-7c1e"
PRES_ID = "1395318379115446272"

T_NEW, T1, T2, T3 = "1407673666742210560", "1407262080936349696", "1405929600010629120", "1405485374370197504"
T4, T5, T6, T7 = "1404349263954489344", "1403796746686394368", "1402989709228445696", "1399667037195124736"
ORIG, QUOTED, PARENT = "1405903816386600960", "1405286583536844800", "1403788109158965248"
HYD_LIVE, HYD_DEAD, HYD_FALL, HYD_404 = (
    "1402682446806720512",
    "1402191669391425536",
    "1401999971562524672",
    "1401420112511553536",
)
# meta.next_token of pages 1, 2 and 3: the tokens that ask for pages 2, 3 and 4.
TO_PAGE_2 = "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"
TO_PAGE_3 = "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5j"
TO_PAGE_4 = "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5k"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


class FakeXApi:
    """API v2 on 127.0.0.1: user lookup, and timeline pages chosen by
    pagination_token. ``first_responses`` are sent before the real answers
    (429s, 5xx); every request is recorded."""

    def __init__(self, httpserver, pages=None, first_responses=(), lookup=("user_lookup.json", 200)):
        # pagination_token -> fixture name, or a Response to send as it is
        self.pages = pages or {None: "timeline_page1.json", TO_PAGE_2: "timeline_page2.json", TO_PAGE_3: "timeline_page3.json"}
        self.first_responses = list(first_responses)
        self.lookup = lookup
        self.requests: list[tuple[str, dict]] = []
        httpserver.expect_request(re.compile(r"^/2/")).respond_with_handler(self.handle)
        self.base_url = httpserver.url_for("").rstrip("/")

    def handle(self, request):
        self.requests.append((request.path, request.args.to_dict()))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response('{"title":"Unauthorized","status":401}', 401, content_type="application/json")
        if self.first_responses:
            return self.first_responses.pop(0)
        if request.path.startswith("/2/users/by/username/"):
            name, status = self.lookup
            return Response(fixture(name), status, content_type="application/json")
        answer = self.pages.get(request.args.get("pagination_token"))
        if isinstance(answer, Response):
            return answer
        body = fixture(answer) if answer else '{"meta":{"result_count":0}}'
        return Response(body, 200, content_type="application/json")

    def timeline_requests(self):
        return [args for path, args in self.requests if path.endswith("/tweets")]

    def lookup_requests(self):
        return [path for path, _args in self.requests if "/by/username/" in path]


def request_for(api, **kwargs):
    account = WatchedAccount(leader_id="Q-valdoria", platform="x", handle=kwargs.pop("handle", "valdoria_pres"),
                             platform_id=kwargs.pop("platform_id", None))
    return ScrapeRequest(account=account, source_id="x:valdoria_pres", options={"base_url": api.base_url}, **kwargs)


@pytest.fixture
def waits():
    return []


@pytest.fixture
def client(waits):
    with PoliteClient(sleep=waits.append) as polite:
        yield polite


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv(x.TOKEN_ENV, TOKEN)


def assert_token_nowhere(values):
    for value in values:
        if isinstance(value, RawItem):
            texts = [value.payload, json.dumps(value.context), stored_payload(value), value.page.to_payload()]
            texts += list(value.page.headers.values()) + [value.page.url]
        else:
            texts = [value.payload, value.location, value.page.to_payload() if value.page else ""]
        assert all(TOKEN not in text for text in texts)


# --- API v2 timeline ---------------------------------------------------------------


def test_three_pages_yield_exactly_the_posts_inside_the_window(httpserver, client, token):
    api = FakeXApi(httpserver)
    request = request_for(api, window_start="2021-06-05T00:00:00Z", window_end="2021-06-20T00:00:00Z")

    values = list(x.scrape_account(client, request))

    assert all(isinstance(v, RawItem) for v in values)
    posts = [normalise(item) for item in values]
    # T1 is newer than window_end (skipped); T7 is older than window_start (stop).
    assert [p.native_id for p in posts] == [T2, T3, T4, T5, T6]
    assert len(api.lookup_requests()) == 1
    pages = api.timeline_requests()
    assert [args.get("pagination_token") for args in pages] == [None, TO_PAGE_2, TO_PAGE_3]  # page 4 never asked
    first = pages[0]
    assert first["max_results"] == "100"
    assert first["start_time"] == "2021-06-05T00:00:00Z" and first["end_time"] == "2021-06-20T00:00:00Z"
    assert "note_tweet" in first["tweet.fields"] and "edit_history_tweet_ids" in first["tweet.fields"]
    assert first["expansions"] == x.TIMELINE_FIELDS["expansions"]
    assert first["media.fields"] == "url,preview_image_url,type"
    assert_token_nowhere(values)

    by_id = {p.native_id: p for p in posts}
    assert all(p.author_handle == "valdoria_pres" and p.author_platform_id == PRES_ID for p in posts)
    assert all(p.author_display_name == "Presidenta Ficticia de Valdoria" for p in posts)
    assert by_id[T6].created_at == "2021-06-10T14:03:07Z"
    assert by_id[T6].url == f"https://x.com/valdoria_pres/status/{T6}"
    assert by_id[T6].links == ["https://presidencia.valdoria.example/comunicados/2021-06-10-ostmark"]
    assert by_id[T2].repost_of == f"x:{ORIG}"
    assert by_id[T3].quote_of == f"x:{QUOTED}"
    assert by_id[T5].reply_to == f"x:{PARENT}"
    assert by_id[T5].mentions == ["prensa_valdoria"]
    assert by_id[T4].mentions == ["valdoria_gob"]


def v2_posts(*names):
    items = []
    for name in names:
        items += x.items_from_v2_page(fixture(name), "x:test", name)
    return {post.native_id: post for post in map(normalise, items)}


def test_retweet_gets_the_full_text_of_the_original_with_links_expanded():
    post = v2_posts("timeline_page1.json")[T2]
    assert post.text == (
        "RT @valdoria_gob: El Consejo de Ministros aprobó hoy el plan nacional de agua potable 2021-2025. "
        "Más de 300 comunidades rurales tendrán acceso a red pública antes de fin de año. "
        "Detalles: https://gob.valdoria.example/agua/plan?fase=1&region=norte #AguaParaTodos"
    )
    # "&region" must not become "®ion": the text is decoded exactly once.
    assert post.links == ["https://gob.valdoria.example/agua/plan?fase=1&region=norte"]
    assert post.hashtags == ["AguaParaTodos"]
    assert post.mentions == ["valdoria_gob"]
    assert post.extra["reposted_post"]["author_handle"] == "valdoria_gob"


def test_quote_decodes_entities_and_keeps_the_quoted_link_and_counts():
    post = v2_posts("timeline_page1.json")[T3]
    assert "La transparencia & el acceso" in post.text
    assert post.text.endswith(f"#LibertadDePrensa https://twitter.com/prensa_valdoria/status/{QUOTED}")
    assert post.hashtags == ["LibertadDePrensa"]
    assert post.language == "es" and not post.language_detected
    assert post.counts() == {"reply_count": 5, "repost_count": 12, "like_count": 140, "quote_count": 2, "view_count": 8450}
    assert post.extra["quoted_post"]["text"].startswith("Entrevista exclusiva")
    assert "edit_history_tweet_ids" not in post.extra  # never edited: its history is its own id
    assert post.edited_at is None


def test_long_post_uses_note_tweet_keeps_line_breaks_and_drops_the_media_link():
    post = v2_posts("timeline_page2.json")[T4]
    assert post.text.startswith("Mensaje a la nación sobre la temporada de lluvias:\n\nDurante las próximas semanas")
    assert "evacuación de su comunidad.\n\nLos refugios temporales" in post.text
    assert post.text.endswith("https://proteccioncivil.valdoria.example/lluvias/refugios\n\nCuidémonos entre todos. #TemporadaDeLluvias")
    assert "t.co" not in post.text and "pic.twitter.com" not in post.text
    assert post.links == ["https://proteccioncivil.valdoria.example/lluvias/refugios"]
    assert post.hashtags == ["TemporadaDeLluvias"]
    assert post.media == [
        {"type": "photo", "url": "https://pbs.twimg.com/media/E3zVaLdLluvia01.jpg", "media_key": "3_1404349097520279552"}
    ]
    assert post.extra["long_post"] is True


def test_reply_and_hashtags_with_accents():
    posts = v2_posts("timeline_page2.json", "timeline_page3.json")
    reply = posts[T5]
    assert reply.text.startswith("@prensa_valdoria Confirmo")
    assert reply.extra["in_reply_to_user_id"] == "1381162603115446272"
    assert reply.extra["conversation_id"] == PARENT
    assert reply.extra["reply_to_post"]["author_handle"] == "prensa_valdoria"
    assert posts[T6].hashtags == ["Cooperación", "Valdoria"]
    assert posts[T6].text.split("\n")[1] == "Un paso histórico para ambos pueblos."


def test_second_scrape_with_since_id_fetches_only_what_is_new(httpserver, client, token):
    api = FakeXApi(httpserver, pages={None: "timeline_since.json", TO_PAGE_2: "timeline_page2.json"})
    request = request_for(api, platform_id=PRES_ID, since_id=T2)

    posts = [normalise(item) for item in x.scrape_account(client, request)]

    assert [p.native_id for p in posts] == [T_NEW, T1]
    assert api.lookup_requests() == []  # user id known: no lookup
    pages = api.timeline_requests()
    assert len(pages) == 1 and pages[0]["since_id"] == T2
    assert "start_time" not in pages[0]


@pytest.mark.parametrize(
    "limit_headers",
    [{"Retry-After": "7"}, {"x-rate-limit-reset": "RESET", "x-rate-limit-remaining": "0"}],
    ids=["retry-after", "x-rate-limit-reset"],
)
def test_429_is_waited_out_then_retried_once(httpserver, client, waits, token, limit_headers):
    headers = {k: (str(int(time.time()) + 30) if v == "RESET" else v) for k, v in limit_headers.items()}
    too_many = Response('{"title":"Too Many Requests","status":429}', 429, headers=headers, content_type="application/json")
    api = FakeXApi(httpserver, pages={None: "timeline_page3.json"}, first_responses=[too_many])

    posts = list(x.scrape_account(client, request_for(api, platform_id=PRES_ID)))

    assert [json.loads(p.payload)["id"] for p in posts] == [T6, T7]
    assert len(waits) == 1
    assert (waits[0] == 7) if "Retry-After" in headers else (25 <= waits[0] <= 30)
    assert [args.get("pagination_token") for args in api.timeline_requests()] == [None, None, TO_PAGE_4]


def test_5xx_then_success_is_retried(httpserver, client, waits, token):
    api = FakeXApi(httpserver, pages={None: "timeline_page3.json"},
                   first_responses=[Response("upstream", 503), Response("", 500)])
    posts = list(x.scrape_account(client, request_for(api, platform_id=PRES_ID)))
    assert len(posts) == 2
    assert len(waits) == 2
    assert len(api.timeline_requests()) == 4  # 503, 500, page 3, empty page for its next_token


def test_unknown_account_404_raises_a_clear_source_error(httpserver, client, token):
    api = FakeXApi(httpserver, lookup=("user_not_found.json", 404))
    with pytest.raises(SourceError) as caught:
        list(x.scrape_account(client, request_for(api, handle="valdoria_fantasma")))
    message = str(caught.value)
    assert "@valdoria_fantasma" in message and "not found" in message
    assert "/2/users/by/username/valdoria_fantasma" in message
    assert api.timeline_requests() == []


def test_unknown_account_answered_200_with_errors_raises_too(httpserver, client, token):
    api = FakeXApi(httpserver, lookup=("user_not_found.json", 200))
    with pytest.raises(SourceError, match=r"@valdoria_fantasma.*Could not find user"):
        list(x.scrape_account(client, request_for(api, handle="valdoria_fantasma")))


def test_timeline_answered_with_errors_only_raises(httpserver, client, token):
    suspended = Response(json.dumps({"errors": [{"title": "Forbidden", "detail": "User has been suspended: [valdoria_pres]."}]}),
                         200, content_type="application/json")
    api = FakeXApi(httpserver, pages={None: suspended})
    with pytest.raises(SourceError, match=r"@valdoria_pres.*suspended"):
        list(x.scrape_account(client, request_for(api)))


def test_refused_token_names_the_environment_variable(httpserver, client, monkeypatch):
    monkeypatch.setenv(x.TOKEN_ENV, "a-revoked-token")
    api = FakeXApi(httpserver)
    with pytest.raises(SourceError) as caught:
        list(x.scrape_account(client, request_for(api)))
    assert "X_BEARER_TOKEN" in str(caught.value) and "401" in str(caught.value)
    assert "a-revoked-token" not in str(caught.value)


def test_malformed_page_yields_unparsed_after_the_earlier_items(httpserver, client, token):
    broken = Response('{"data": {"id": "oops"}, "meta": {}}', 200, content_type="application/json")
    api = FakeXApi(httpserver, pages={None: "timeline_page1.json", TO_PAGE_2: broken})

    values = list(x.scrape_account(client, request_for(api, platform_id=PRES_ID)))

    assert [json.loads(v.payload)["id"] for v in values[:-1]] == [T1, T2, T3]
    unparsed = values[-1]
    assert isinstance(unparsed, Unparsed)
    assert "'data' is a dict" in unparsed.reason
    assert unparsed.payload == '{"data": {"id": "oops"}, "meta": {}}'
    assert f"pagination_token={TO_PAGE_2}" in unparsed.location
    assert_token_nowhere(values)


def test_without_a_token_timelines_are_refused_with_the_variable_named(client, monkeypatch):
    monkeypatch.delenv(x.TOKEN_ENV, raising=False)
    request = ScrapeRequest(account=WatchedAccount(None, "x", handle="valdoria_pres"), source_id="x:valdoria_pres")
    with pytest.raises(SourceError) as caught:
        list(x.scrape_account(client, request))
    assert "X_BEARER_TOKEN" in str(caught.value) and "@valdoria_pres" in str(caught.value)


# --- hydration without a token -------------------------------------------------------


class FakeEmbeds:
    """Syndication and oEmbed on 127.0.0.1, as X answers them for four posts."""

    def __init__(self, httpserver):
        self.requests: list[tuple[str, dict]] = []
        httpserver.expect_request("/tweet-result").respond_with_handler(self.syndication)
        httpserver.expect_request("/oembed").respond_with_handler(self.oembed)
        self.base_url = httpserver.url_for("").rstrip("/")

    def syndication(self, request):
        args = request.args.to_dict()
        self.requests.append((request.path, args))
        if args.get("token") != x.syndication_token(args["id"]):
            return Response("{}", 200, content_type="application/json")  # what a wrong token gets
        answers = {
            HYD_LIVE: (fixture("syndication_live.json"), 200),
            HYD_DEAD: (fixture("syndication_tombstone.json"), 200),
            HYD_FALL: ("<html>upstream error</html>", 503),
            HYD_404: ("", 404),
        }
        body, status = answers[args["id"]]
        return Response(body, status, content_type="application/json" if status == 200 else "text/html")

    def oembed(self, request):
        args = request.args.to_dict()
        self.requests.append((request.path, args))
        if args["url"] == f"https://twitter.com/i/status/{HYD_FALL}":
            return Response(fixture("oembed_fallback.json"), 200, content_type="application/json")
        return Response("", 404)


def test_hydration_live_tombstone_fallback_and_404(httpserver, waits):
    embeds = FakeEmbeds(httpserver)
    wanted = [f"https://x.com/valdoria_pres/status/{HYD_LIVE}?s=20", HYD_DEAD,
              f"https://twitter.com/i/web/status/{HYD_FALL}", HYD_404, "https://x.com/valdoria_pres"]

    with PoliteClient(sleep=waits.append, max_retries=1) as client:
        values = list(x.hydrate_posts(client, wanted, "x:hydrate", {"base_url": embeds.base_url}))

    live, dead, fallback, missing, not_a_post = values
    assert [v.format for v in (live, dead, fallback, missing)] == [
        "x-syndication-tweet", "x-syndication-tweet", "x-oembed", "x-syndication-tweet"]
    assert isinstance(not_a_post, Unparsed) and "not an X post id" in not_a_post.reason
    syndication_args = [args for path, args in embeds.requests if path == "/tweet-result"]
    assert all(a["token"] == x.syndication_token(a["id"]) and a["lang"] == "en" for a in syndication_args)
    oembed_args = [args for path, args in embeds.requests if path == "/oembed"]
    assert oembed_args == [{"url": f"https://twitter.com/i/status/{HYD_FALL}", "omit_script": "1", "dnt": "1"}]
    assert len(waits) == 1  # the 503 was retried once before falling back

    post = normalise(live)
    assert post.native_id == HYD_LIVE and post.author_handle == "valdoria_pres"
    assert post.text == ("Visitamos el hospital regional de Brennfeld. Gracias al personal de salud por su entrega & compromiso. "
                         "Agenda: https://presidencia.valdoria.example/agenda/brennfeld #SaludPública")
    assert post.created_at == "2021-06-09T17:42:10Z"
    assert post.like_count == 321 and post.reply_count == 17
    assert post.media[0]["type"] == "photo" and post.media[0]["url"] == "https://pbs.twimg.com/media/E3bRenNfElD01.jpg"
    assert post.hashtags == ["SaludPública"] and post.unavailable is None

    gone = normalise(dead)
    assert (gone.native_id, gone.unavailable, gone.text) == (HYD_DEAD, "deleted", "")
    assert gone.created_at == "2021-06-08T09:12:00.101Z"  # from the snowflake

    assert normalise(missing).unavailable == "deleted" and normalise(missing).native_id == HYD_404

    embedded = normalise(fallback)
    assert embedded.native_id == HYD_FALL
    assert embedded.author_handle == "valdoria_pres"
    assert embedded.author_display_name == "Presidenta Ficticia de Valdoria"
    assert embedded.text == ("Reunión de trabajo con @valdoria_gob sobre el presupuesto 2022.\n\n"
                             "Prioridades: salud, educación & agua. #Presupuesto2022 https://t.co/Pres22LnkA")
    assert embedded.mentions == ["valdoria_gob"] and embedded.hashtags == ["Presupuesto2022"]
    assert embedded.links == ["https://t.co/Pres22LnkA"]
    assert embedded.media == [{"type": "unknown", "url": "https://pic.twitter.com/Pic22Budgt", "link": "https://t.co/Pic22Budgt"}]
    assert embedded.language == "es"
    assert embedded.created_at == "2021-06-07T20:30:15.777Z"
    assert embedded.extra["embed_date"] == "June 7, 2021"


def test_tombstone_text_decides_suspended():
    item = x.item_from_syndication(fixture("syndication_tombstone_suspended.json"), HYD_DEAD, "x:t", "file")
    post = normalise(item)
    assert post.unavailable == "suspended"
    assert post.extra["tombstone_text"].startswith("This Post is from a suspended account")


@pytest.mark.parametrize(
    "value, expected",
    [
        (HYD_LIVE, HYD_LIVE),
        (f"https://x.com/valdoria_pres/status/{HYD_LIVE}", HYD_LIVE),
        (f"https://mobile.twitter.com/valdoria_pres/status/{HYD_LIVE}/photo/1", HYD_LIVE),
        (f"https://twitter.com/i/web/status/{HYD_LIVE}?ref=abc", HYD_LIVE),
        ("https://x.com/valdoria_pres", None),
    ],
)
def test_tweet_id_from_ids_and_urls(value, expected):
    assert x.tweet_id_from(value) == expected


# --- the syndication token --------------------------------------------------------------


def test_token_matches_the_js_formula_for_a_worked_example():
    # id 1402682446806720512 is a multiple of 256, so Number(id) is exact;
    # / 1e15 * PI is about 4406.68..., and 4406 = 3*36^2 + 14*36 + 14 -> "3ee".
    # Its fraction in base 36 runs "nnaxpkeh" until the digits stop being
    # significant for the double (checked against Node 20 / V8:
    # (1402682446806720512/1e15*Math.PI).toString(36) === "3ee.nnaxpkeh").
    assert x.js_radix_string(int(HYD_LIVE) / 1e15 * math.pi, 36) == "3ee.nnaxpkeh"
    assert x.syndication_token(HYD_LIVE) == "3eennaxpkeh"
    # Zeros anywhere and the point are dropped, not only trailing ones.
    assert x.syndication_token("20") == "6dq1a2xwd93"  # V8: "0.000000006dq1a2xwd93"
    assert x.syndication_token("1234567890123456789") == "2zqic77uqyk"  # "2zq.ic77uqyk"


@pytest.mark.parametrize("tweet_id", [HYD_LIVE, HYD_DEAD, HYD_FALL, T1, T6, "1234567890123456789"])
def test_radix_digits_are_exact_and_just_enough_to_identify_the_double(tweet_id):
    # For a snowflake the value is in the thousands, so its fraction has at
    # most ~42 significant bits and V8's "fraction *= 36" stays exact: the
    # digits are then the true base-36 expansion, cut where they stop
    # mattering. (For tiny values V8's own rounding drifts; "20" and "1" are
    # pinned to V8's output above instead.)
    value = int(tweet_id) / 1e15 * math.pi
    text = x.js_radix_string(value, 36)
    whole, _, fraction = text.partition(".")
    parsed = Fraction(int(whole, 36)) + sum(
        Fraction(int(digit, 36), 36 ** (place + 1)) for place, digit in enumerate(fraction))
    # The digits name this double (within half the gap to the next one) ...
    half_gap = Fraction(math.nextafter(value, math.inf) - value) / 2
    assert abs(parsed - Fraction(value)) <= half_gap
    # ... and one digit fewer would not.
    if len(fraction) > 1:
        shorter = Fraction(int(whole, 36)) + sum(
            Fraction(int(digit, 36), 36 ** (place + 1)) for place, digit in enumerate(fraction[:-1]))
        assert abs(shorter - Fraction(value)) > half_gap


# --- file formats -----------------------------------------------------------------------


def test_x_v2_reads_a_saved_page():
    values = list(file_reader("x-v2")(str(FIXTURES / "timeline_page1.json"), "import:x"))
    assert [normalise(v).native_id for v in values] == [T1, T2, T3]  # a file import keeps every post
    assert values[0].location.endswith("timeline_page1.json#data[0]")


def test_x_v2_reads_jsonl_pages_and_reports_the_bad_line():
    values = list(file_reader("x-v2")(str(FIXTURES / "saved_pages.jsonl"), "import:x"))
    edited, bad, video = values
    assert isinstance(bad, Unparsed) and bad.location.endswith("saved_pages.jsonl:2")

    post = normalise(edited)
    assert post.native_id == "1665650099207184384"
    assert post.created_at == "2023-06-05T09:15:00.211Z"  # the first version's time, from its id
    assert post.edited_at == "2023-06-05T09:21:44Z"
    assert post.extra["edit_history_tweet_ids"] == ["1665648403118727168", "1665650099207184384"]
    assert post.hashtags == ["Educación"]

    clip = normalise(video)
    assert clip.text == "" and clip.language is None and clip.extra["lang"] == "zxx"
    assert clip.media[0]["type"] == "video"
    assert clip.media[0]["url"].startswith("https://pbs.twimg.com/ext_tw_video_thumb/")


def test_x_syndication_reads_saved_answers():
    live = list(file_reader("x-syndication")(str(FIXTURES / "syndication_live.json"), "import:x"))
    dead = list(file_reader("x-syndication")(str(FIXTURES / "syndication_tombstone.json"), "import:x"))
    assert normalise(live[0]).native_id == HYD_LIVE
    assert normalise(dead[0]).unavailable == "deleted"


def test_x_oembed_reads_a_saved_answer(tmp_path):
    values = list(file_reader("x-oembed")(str(FIXTURES / "oembed_fallback.json"), "import:x"))
    assert normalise(values[0]).native_id == HYD_FALL
    broken = tmp_path / "broken.jsonl"
    broken.write_text(fixture("oembed_fallback.json").replace("\n", " ") + "\n{\"html\": \"no quote\"}\n", encoding="utf-8")
    good, bad = file_reader("x-oembed")(str(broken), "import:x")
    assert isinstance(good, RawItem) and isinstance(bad, Unparsed) and bad.location.endswith("broken.jsonl:2")


def test_saved_syndication_answer_wrapped_in_data(tmp_path):
    """Some tools save the tweet-result wrapped as {"data": {...}}."""
    from scraper.normalise import normalise
    from scraper.sources.x import read_x_syndication

    bare = json.loads((Path(__file__).parent / "fixtures" / "x" / "syndication_live.json").read_text())
    path = tmp_path / "wrapped.json"
    path.write_text(json.dumps({"data": bare}))
    posts = [normalise(item) for item in read_x_syndication(str(path), "s")]
    assert [p.native_id for p in posts] == [bare["id_str"]]


def test_v2_page_saved_without_created_at_takes_the_time_from_the_id():
    from scraper.normalise import normalise
    from scraper.sources.x import items_from_v2_page

    page = {"data": [{"id": "1402279246033858617", "text": "Hola", "edit_history_tweet_ids": ["1402279246033858617"]}]}
    post = normalise(items_from_v2_page(page, "s", "saved.json")[0])
    assert post.created_at == "2021-06-08T15:00:00Z"
