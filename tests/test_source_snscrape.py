"""snscrape backend: the scraper path with a fake scraper class (no network)
and the ``snscrape --jsonl`` file format in the 0.4 and 0.5+ schemas."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # snscrape's find_module()
    import snscrape.base
    import snscrape.modules.telegram as sntelegram

from scraper.errors import SourceError
from scraper.model import RawItem
from scraper.normalise import normalise
from scraper.formats import file_reader
from scraper.sources import ScrapeRequest, Unparsed, WatchedAccount
from scraper.sources import snscrape_backend

FIXTURES = Path(__file__).parent / "fixtures" / "snscrape"
UTC = dt.timezone.utc
CHANNEL = "valdoria_presidencia"


def telegram_post(number: int, day: int, text: str, outlinks=()) -> sntelegram.TelegramPost:
    return sntelegram.TelegramPost(
        url=f"https://t.me/s/{CHANNEL}/{number}",
        date=dt.datetime(2026, 4, day, 9, 30, tzinfo=UTC),
        content=text,
        outlinks=list(outlinks),
    )


# Newest first, as snscrape's telegram-channel yields them.
CHANNEL_POSTS = [
    telegram_post(205, 20, "Agenda de la semana próxima."),
    telegram_post(204, 15, "Decreto de emergencia hídrica publicado https://boletin.valdoria.example/d/44",
                  ["https://boletin.valdoria.example/d/44"]),
    telegram_post(203, 12, "Reunión con @alcaldia_puerto_ficticio sobre el puerto. #PuertoFicticio"),
    telegram_post(202, 8, "Visita oficial a Costa Imaginaria."),
    telegram_post(201, 2, "Mensaje de fin de mes."),
]


class FakeScraper:
    """Stands in for an snscrape scraper class: same constructor and get_items."""

    instances: list["FakeScraper"] = []
    items: list = CHANNEL_POSTS
    fail_after: int | None = None
    failure: Exception = RuntimeError("unexpected markup")

    def __init__(self, name, **kwargs):
        self.name = name
        self.yielded = 0
        FakeScraper.instances.append(self)

    def get_items(self):
        for index, item in enumerate(self.items):
            if self.fail_after is not None and index == self.fail_after:
                raise self.failure
            self.yielded += 1
            yield item


@pytest.fixture
def fake_scraper(monkeypatch):
    FakeScraper.instances = []
    looked_up = []

    def find(name):
        looked_up.append(name)
        return FakeScraper

    monkeypatch.setattr(snscrape_backend, "find_scraper", find)
    yield FakeScraper, looked_up  # monkeypatch restores FakeScraper's attributes


def request(**kwargs) -> ScrapeRequest:
    return ScrapeRequest(
        account=WatchedAccount(leader_id="Q-valdoria", platform="telegram", handle=CHANNEL),
        source_id="snscrape:telegram:valdoria_presidencia",
        options={"scraper": "telegram-channel"},
        **kwargs,
    )


def numbers(items) -> list[int]:
    return [int(normalise(i).native_id.rsplit("/", 1)[1]) for i in items]


# --- scraper path ----------------------------------------------------------------------


def test_scraper_items_inside_the_window_become_posts(fake_scraper):
    scraper_class, looked_up = fake_scraper
    items = list(snscrape_backend.scrape_account(None, request(
        window_start="2026-04-10T00:00:00Z", window_end="2026-04-16T00:00:00Z")))

    assert looked_up == ["telegram-channel"]
    assert scraper_class.instances[0].name == CHANNEL
    assert numbers(items) == [204, 203]
    # Stopped at 202, the first item older than the window: 201 never asked for.
    assert scraper_class.instances[0].yielded == 4

    post = normalise(items[0])
    assert post.platform == "telegram"
    assert post.native_id == "valdoria_presidencia/204"  # same key as our own Telegram adapter
    assert post.url == "https://t.me/valdoria_presidencia/204"
    assert post.author_handle == CHANNEL
    assert post.created_at == "2026-04-15T09:30:00Z"
    assert post.links == ["https://boletin.valdoria.example/d/44"]
    mention = normalise(items[1])
    assert mention.mentions == ["alcaldia_puerto_ficticio"]
    assert mention.hashtags == ["PuertoFicticio"]

    payload = json.loads(items[0].payload)
    assert payload["_type"] == "snscrape.modules.telegram.TelegramPost"
    assert items[0].payload == json.dumps(payload, ensure_ascii=False, sort_keys=True)
    assert items[0].context == {"scraper": "telegram-channel"}


def test_since_id_stops_at_the_newest_archived_post(fake_scraper):
    scraper_class, _ = fake_scraper
    items = list(snscrape_backend.scrape_account(None, request(since_id="valdoria_presidencia/203")))
    assert numbers(items) == [205, 204]
    assert scraper_class.instances[0].yielded == 3


def test_scraper_breaking_midway_yields_unparsed_after_earlier_items(fake_scraper, monkeypatch):
    monkeypatch.setattr(FakeScraper, "fail_after", 2)
    items = list(snscrape_backend.scrape_account(None, request()))
    assert numbers(items[:2]) == [205, 204]
    assert isinstance(items[2], Unparsed)
    assert "unexpected markup" in items[2].reason
    assert "telegram-channel" in items[2].location and "#2" in items[2].location


def test_scraper_exception_is_a_source_error(fake_scraper, monkeypatch):
    monkeypatch.setattr(FakeScraper, "fail_after", 0)
    monkeypatch.setattr(FakeScraper, "failure", snscrape.base.ScraperException("Got status code 404"))
    with pytest.raises(SourceError, match="telegram-channel 'valdoria_presidencia' failed"):
        list(snscrape_backend.scrape_account(None, request()))


def test_items_without_json_method_fall_back_to_asdict(fake_scraper, monkeypatch):
    @dataclasses.dataclass
    class PlainItem:
        url: str
        date: dt.datetime
        content: str
        outlinks: list

    plain = PlainItem(f"https://t.me/s/{CHANNEL}/300", dt.datetime(2026, 5, 1, tzinfo=UTC), "Texto", [])
    monkeypatch.setattr(FakeScraper, "items", [plain])
    [item] = list(snscrape_backend.scrape_account(None, request()))
    post = normalise(item)
    assert post.native_id == "valdoria_presidencia/300" and post.created_at == "2026-05-01T00:00:00Z"


def test_missing_scraper_option_and_unknown_scraper_name():
    with pytest.raises(SourceError, match="options.scraper"):
        list(snscrape_backend.scrape_account(None, ScrapeRequest(
            account=WatchedAccount(None, "telegram", handle=CHANNEL), source_id="s")))
    with pytest.raises(SourceError, match="no scraper named 'myspace-user'"):
        snscrape_backend.find_scraper("myspace-user")


def test_real_scraper_lookup_finds_the_class_without_network():
    assert snscrape_backend.find_scraper("telegram-channel") is sntelegram.TelegramChannelScraper


@pytest.mark.parametrize(
    "name, platform",
    [("telegram-channel", "telegram"), ("twitter-user", "x"), ("vkontakte-user", "web"),
     ("weibo-user", "web"), ("mastodon-profile", "mastodon"), ("reddit-user", "web")],
)
def test_platform_from_scraper_name(name, platform):
    assert snscrape_backend.platform_of(name) == platform


# --- snscrape --jsonl files ------------------------------------------------------------------


def read(name: str, source_id: str = "import:snscrape"):
    return list(file_reader("snscrape-jsonl")(str(FIXTURES / name), source_id))


def test_jsonl_schema_04_tweets():
    items = read("tweets-0.4.jsonl")
    reply, retweet, plain = [normalise(i) for i in items]

    assert reply.platform == "x"
    assert reply.native_id == "1500000000000000011"  # above 2**53, kept exact
    assert reply.reply_to == "x:1499999999999999001"
    assert reply.author_handle == "valdoria_pres"
    assert reply.author_platform_id == "1512345678901234567"
    assert reply.author_display_name == "Presidenta Ficticia de Valdoria"
    assert reply.created_at == "2022-03-01T15:20:00Z"
    assert reply.text == (
        "@energia_vd Gracias por el informe. Lo publicamos aquí: "
        "https://informe.valdoria.example/energia-2022"
    )
    assert reply.links == ["https://informe.valdoria.example/energia-2022"]
    assert reply.mentions == ["energia_vd"]
    assert (reply.reply_count, reply.repost_count, reply.like_count, reply.quote_count) == (3, 12, 88, 1)
    assert reply.language == "es" and reply.language_detected is False

    assert retweet.repost_of == "x:1500000000000000077"
    assert plain.links == [] and plain.hashtags == [] and plain.media == []
    assert items[0].location.endswith("tweets-0.4.jsonl:1")


def test_jsonl_schema_05_and_later_items():
    tweet, channel_post, vk_post, weibo_post = [normalise(i) for i in read("items-0.7.jsonl")]

    assert tweet.native_id == "1789012345678901234"
    assert tweet.quote_of == "x:1789000000000000123"
    assert tweet.text == (
        "Un presupuesto para todas las regiones.\n"
        "Detalles: https://presupuesto.valdoria.example/2025 #Presupuesto2025 @minhacienda_vd"
    )
    assert tweet.links == ["https://presupuesto.valdoria.example/2025"]
    assert tweet.hashtags == ["Presupuesto2025"] and tweet.mentions == ["minhacienda_vd"]
    assert tweet.media == [{
        "type": "photo",
        "url": "https://pbs.twimg.com/media/VdPres2025a?format=jpg&name=large",
        "thumbnail": "https://pbs.twimg.com/media/VdPres2025a?format=jpg&name=small",
    }]
    assert tweet.view_count == 98765
    assert tweet.extra["snscrape_version"] == "0.7.0.20230622"

    assert channel_post.platform == "telegram"
    assert channel_post.native_id == "valdoria_presidencia/140"
    assert channel_post.url == "https://t.me/valdoria_presidencia/140"
    assert channel_post.extra["link_preview"]["title"] == "Agenda presidencial"

    assert vk_post.platform == "web" and vk_post.extra["site"] == "vkontakte"
    assert vk_post.native_id == "https://vk.com/wall-170000001_512"
    assert vk_post.links == [] and vk_post.media[0]["url"] == "https://vk.com/photo-170000001_4567"

    assert weibo_post.platform == "web" and weibo_post.extra["site"] == "weibo"
    assert weibo_post.created_at == "2024-05-03T02:00:00Z"
    assert weibo_post.author_display_name == "瓦尔多利亚总统府"
    assert weibo_post.author_platform_id == "7000000001"
    assert weibo_post.like_count == 20 and weibo_post.reply_count == 5


def test_jsonl_bad_line_is_unparsed_and_the_rest_go_on(tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = (FIXTURES / "tweets-0.4.jsonl").read_text(encoding="utf-8").splitlines()
    truncated = '{"_type": "snscrape.modules.twitter.Tweet", "id": 1'
    lines = [good[0], truncated, "", "[1, 2]", good[2]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(file_reader("snscrape-jsonl")(str(path), "import:snscrape"))
    unparsed = [i for i in items if isinstance(i, Unparsed)]
    assert [u.location for u in unparsed] == [f"{path}:2", f"{path}:4"]
    assert [normalise(i).native_id for i in items if isinstance(i, RawItem)] == [
        "1500000000000000011", "1500000000000000123"
    ]


def test_big_integer_ids_stay_exact_including_the_str_escape(tmp_path):
    path = tmp_path / "big.jsonl"
    record = {"_type": "snscrape.modules.twitter.Tweet", "url": "https://twitter.com/valdoria_pres/status/9",
              "date": "2024-01-01T00:00:00+00:00", "rawContent": "x", "links": None,
              "id": 1800000000000000001, "user": {"username": "valdoria_pres", "id": 12},
              "inReplyToTweetId": 1799999999999999999,
              # A float id is lossy; snscrape's forBuggyIntParser escape gives the exact one.
              "quotedTweet": {"id": 1.7e18, "id.str": "1700000000000000003"}}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    [item] = list(file_reader("snscrape-jsonl")(str(path), "s"))
    assert '"id": 1800000000000000001' in item.payload
    post = normalise(item)
    assert post.native_id == "1800000000000000001"
    assert post.reply_to == "x:1799999999999999999"
    assert post.quote_of == "x:1700000000000000003"

