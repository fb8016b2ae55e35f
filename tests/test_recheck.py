"""Re-check pass: each platform's recheck_posts on a local server.

For every platform: one post edited since it was archived, one whose counts
changed, one deleted, and a server that fails every time (SourceError, and
no tombstone). All accounts are fictional; fixtures are under
tests/fixtures/<platform>/recheck-*.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug import Response

from scraper.errors import SourceError
from scraper.http import PoliteClient
from scraper.model import RawItem
from scraper.normalise import normalise
from scraper.sources import RecheckTarget, Unparsed
from scraper.sources import bluesky, mastodon, telegram, x

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(platform: str, name: str) -> str:
    return (FIXTURES / platform / name).read_text(encoding="utf-8")


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    with PoliteClient(sleep=sleeps.append, max_retries=2) as polite:
        yield polite


def base(httpserver) -> str:
    return httpserver.url_for("/").rstrip("/")


def collect(stream) -> tuple[list, Exception | None]:
    """Items yielded before the stream ended or raised, and what it raised."""
    items = []
    try:
        for item in stream:
            items.append(item)
    except SourceError as exc:
        return items, exc
    return items, None


def by_id(items) -> dict[str, object]:
    return {normalise(item).native_id: item for item in items if isinstance(item, RawItem)}


def assert_unreachable(items, error, httpserver, at_least: int):
    assert error is not None
    assert not any(isinstance(i, RawItem) and i.format == "tombstone" for i in items)
    assert len(httpserver.log) >= at_least  # retried, not given up at once


# --- Bluesky -------------------------------------------------------------------------

BSKY_DID = "did:plc:rnhszylksqjrjk3linirujs3"
BSKY_OTHER = "did:plc:y4522pgrw66wuiw3p2do4iir"
B_EDITED = f"at://{BSKY_DID}/app.bsky.feed.post/3mp2cfj4gs22b"
B_COUNTS = f"at://{BSKY_DID}/app.bsky.feed.post/3mp2bk7tdc22b"
B_DELETED = f"at://{BSKY_DID}/app.bsky.feed.post/3mp26qhvxk22b"
B_TAKEN = f"at://{BSKY_OTHER}/app.bsky.feed.post/3mozlvd2ai22b"
B_REPOST = f"at://{BSKY_DID}/app.bsky.feed.repost/3mp1zk2zrc22b"


def bsky_target(uri: str) -> RecheckTarget:
    return RecheckTarget(uri, bluesky.web_url(uri, None), {})


class FakeAppView:
    def __init__(self, httpserver, profiles=None, posts_status=200):
        self.uris: list[list[str]] = []
        self.profiles = profiles or {BSKY_DID: (200, fixture("bluesky", "recheck-profile.json"))}
        self.posts_status = posts_status
        httpserver.expect_request("/xrpc/app.bsky.feed.getPosts").respond_with_handler(self.posts)
        httpserver.expect_request("/xrpc/app.bsky.actor.getProfile").respond_with_handler(self.profile)

    def posts(self, request):
        if self.posts_status != 200:
            return Response('{"error":"InternalServerError"}', status=self.posts_status, content_type="application/json")
        asked = request.args.getlist("uris")
        self.uris.append(asked)
        answer = json.loads(fixture("bluesky", "recheck-posts.json"))
        answer["posts"] = [view for view in answer["posts"] if view["uri"] in asked]
        return Response(json.dumps(answer), content_type="application/json")

    def profile(self, request):
        status, body = self.profiles[request.args["actor"]]
        return Response(body, status=status, content_type="application/json")


def test_bluesky_recheck_edit_counts_and_deletion_in_one_request(httpserver, client):
    appview = FakeAppView(httpserver)
    targets = [bsky_target(u) for u in (B_EDITED, B_COUNTS, B_DELETED)]
    items = list(bluesky.recheck_posts(client, targets, "bsky-live", {"base_url": base(httpserver)}))

    assert appview.uris == [[B_EDITED, B_COUNTS, B_DELETED]]  # one getPosts for all three
    found = by_id(items)
    assert found[B_EDITED].format == found[B_COUNTS].format == bluesky.FORMAT
    edited = normalise(found[B_EDITED])
    assert edited.text.endswith("(hora corregida).")
    assert edited.edited_at is None  # Bluesky records carry no edit time
    counts = normalise(found[B_COUNTS])
    assert (counts.reply_count, counts.repost_count, counts.like_count, counts.quote_count) == (96, 512, 4210, 27)
    gone = normalise(found[B_DELETED])
    assert found[B_DELETED].format == "tombstone"
    assert (gone.unavailable, gone.text, gone.platform) == ("deleted", "", "bluesky")


def test_bluesky_recheck_asks_25_uris_at_a_time_and_skips_reposts(httpserver, client):
    appview = FakeAppView(httpserver)
    uris = [f"at://{BSKY_DID}/app.bsky.feed.post/3mp{n:02d}aaaaaa22b" for n in range(30)]
    targets = [bsky_target(u) for u in uris] + [bsky_target(B_REPOST)]
    items = list(bluesky.recheck_posts(client, targets, "bsky-live", {"base_url": base(httpserver)}))
    assert [len(asked) for asked in appview.uris] == [25, 5]
    assert len(items) == 30 and all(normalise(i).unavailable == "deleted" for i in items)
    # one getProfile for the one author, not one per post
    assert sum(1 for r, _ in httpserver.log if r.path.endswith("getProfile")) == 1


@pytest.mark.parametrize(
    "fixture_name, reason",
    [("recheck-profile-takedown.json", "suspended"), ("recheck-profile-deactivated.json", "protected")],
)
def test_bluesky_missing_post_of_an_account_taken_down_or_deactivated(httpserver, client, fixture_name, reason):
    FakeAppView(httpserver, profiles={BSKY_OTHER: (400, fixture("bluesky", fixture_name))})
    (item,) = bluesky.recheck_posts(client, [bsky_target(B_TAKEN)], "bsky-live", {"base_url": base(httpserver)})
    post = normalise(item)
    assert post.unavailable == reason
    assert post.extra["tombstone"]["account_error"] in ("AccountTakedown", "AccountDeactivated")


def test_bluesky_unreachable_appview_raises_and_marks_nothing(httpserver, client, sleeps):
    FakeAppView(httpserver, posts_status=500)
    targets = [bsky_target(u) for u in (B_EDITED, B_COUNTS, B_DELETED)]
    items, error = collect(bluesky.recheck_posts(client, targets, "bsky-live", {"base_url": base(httpserver)}))
    assert items == []
    assert_unreachable(items, error, httpserver, at_least=3)
    assert len(sleeps) == 2


# --- Mastodon ------------------------------------------------------------------------

M_EDITED, M_COUNTS, M_DELETED = "116730118224183296", "116724690311839744", "116718204176384000"
M_SUSPENDED = "116711802217799680"
M_ACCOUNT, M_SUSPENDED_ACCOUNT = "113423912337412127", "113423912337412999"


def m_url(local: str, user: str = "presidencia") -> str:
    return f"https://social.valdoria.example/@{user}/{local}"


def m_target(httpserver, local: str, account: str = M_ACCOUNT, user: str = "presidencia") -> RecheckTarget:
    host = urlsplit(base(httpserver)).netloc
    return RecheckTarget(m_url(local, user), m_url(local, user), {"local_id": local, "account_local_id": account, "api_host": host})


def serve_mastodon(httpserver):
    answers = {
        M_EDITED: (200, "recheck-status-edited.json"),
        M_COUNTS: (200, "recheck-status-counts.json"),
        M_DELETED: (404, "recheck-not-found.json"),
        M_SUSPENDED: (404, "recheck-not-found.json"),
    }
    for local, (status, name) in answers.items():
        httpserver.expect_request(f"/api/v1/statuses/{local}").respond_with_data(
            fixture("mastodon", name), status=status, content_type="application/json"
        )
    httpserver.expect_request(f"/api/v1/accounts/{M_ACCOUNT}").respond_with_data(
        fixture("mastodon", "recheck-account.json"), content_type="application/json"
    )
    httpserver.expect_request(f"/api/v1/accounts/{M_SUSPENDED_ACCOUNT}").respond_with_data(
        fixture("mastodon", "recheck-account-suspended.json"), content_type="application/json"
    )


def test_mastodon_recheck_edit_counts_and_deletion(httpserver, client):
    serve_mastodon(httpserver)
    targets = [m_target(httpserver, local) for local in (M_EDITED, M_COUNTS, M_DELETED)]
    items = list(mastodon.recheck_posts(client, targets, "masto-live", {"base_url": base(httpserver)}))

    found = by_id(items)
    edited = normalise(found[m_url(M_EDITED)])
    assert found[m_url(M_EDITED)].format == mastodon.STATUS_FORMAT
    assert edited.text.endswith("salón Lirio (corregido).")
    assert edited.edited_at == "2026-06-20T09:02:41Z"
    counts = normalise(found[m_url(M_COUNTS)])
    assert (counts.reply_count, counts.repost_count, counts.like_count, counts.quote_count) == (41, 233, 1904, 9)
    gone = found[m_url(M_DELETED)]
    assert gone.format == "tombstone"
    post = normalise(gone)
    assert (post.unavailable, post.native_id, post.url) == ("deleted", m_url(M_DELETED), m_url(M_DELETED))
    assert post.extra["tombstone"]["http_status"] == 404


def test_mastodon_404_of_a_suspended_account_is_suspended(httpserver, client):
    serve_mastodon(httpserver)
    target = m_target(httpserver, M_SUSPENDED, M_SUSPENDED_ACCOUNT, "ministerio_ficticio")
    (item,) = mastodon.recheck_posts(client, [target], "masto-live", {"base_url": base(httpserver)})
    assert normalise(item).unavailable == "suspended"


def test_mastodon_410_is_suspended(httpserver, client):
    httpserver.expect_request(f"/api/v1/statuses/{M_DELETED}").respond_with_data(
        '{"error":"Account is suspended"}', status=410, content_type="application/json"
    )
    (item,) = mastodon.recheck_posts(client, [m_target(httpserver, M_DELETED)], "m", {"base_url": base(httpserver)})
    assert normalise(item).unavailable == "suspended"


def test_mastodon_without_local_id_uses_the_id_in_the_status_url(httpserver):
    target = RecheckTarget(m_url(M_COUNTS), m_url(M_COUNTS), {})
    assert mastodon.recheck_address(target, {}) == ("https://social.valdoria.example", M_COUNTS)
    # a local id from another server is not used on this one
    foreign = RecheckTarget(m_url(M_COUNTS), m_url(M_COUNTS), {"local_id": "999", "api_host": "other.example"})
    assert mastodon.recheck_address(foreign, {}) == ("https://other.example", "999")
    assert mastodon.recheck_address(foreign, {"base_url": "http://127.0.0.1:9"}) == ("http://127.0.0.1:9", M_COUNTS)


def test_mastodon_unreachable_server_raises_and_marks_nothing(httpserver, client, sleeps):
    httpserver.expect_request("/api/v1/statuses/" + M_DELETED).respond_with_data("oops", status=500)
    targets = [m_target(httpserver, M_DELETED), m_target(httpserver, M_EDITED)]
    items, error = collect(mastodon.recheck_posts(client, targets, "masto-live", {"base_url": base(httpserver)}))
    assert items == []
    assert_unreachable(items, error, httpserver, at_least=3)


def test_mastodon_recheck_versions_and_deletion_in_the_archive(httpserver, client, archive):
    """End to end: night 1 archived two statuses; the re-check stores the
    edit as a second version and marks the deleted one, text kept."""
    serve_mastodon(httpserver)
    archive.register_source("masto-live", "mastodon", "test")
    run = archive.start_run("test")
    night1 = json.loads(fixture("mastodon", "recheck-status-edited.json"))
    night1.update(content="<p>Mañana a las 10:00 firmamos el acuerdo.</p>", edited_at=None)
    doomed = json.loads(fixture("mastodon", "recheck-status-counts.json"))
    doomed.update(id=M_DELETED, url=m_url(M_DELETED), uri=m_url(M_DELETED), content="<p>Texto que luego se borró.</p>")
    archive.store([mastodon.raw_item(s, "masto-live", "night1", {}) for s in (night1, doomed)], run)

    targets = [m_target(httpserver, local) for local in (M_EDITED, M_DELETED)]
    archive.store(mastodon.recheck_posts(client, targets, "masto-live", {"base_url": base(httpserver)}), run)

    rows = {
        row[0]: row[1:]
        for row in archive.db.execute("SELECT native_id, text, version_count, edited_at, deleted_at FROM posts")
    }
    text, versions, edited_at, deleted_at = rows[m_url(M_EDITED)]
    assert versions == 2 and text.endswith("(corregido).") and edited_at == "2026-06-20T09:02:41Z" and deleted_at is None
    text, versions, _edited, deleted_at = rows[m_url(M_DELETED)]
    assert text == "Texto que luego se borró." and versions == 1 and deleted_at


# --- Telegram -----------------------------------------------------------------------

T_EDITED, T_COUNTS, T_DELETED, T_PRIVATE = "valdoria_vocero/208", "valdoria_vocero/205", "valdoria_vocero/203", "valdoria_vocero/201"


def t_target(native_id: str) -> RecheckTarget:
    return RecheckTarget(native_id, f"https://t.me/{native_id}", {})


def serve_telegram(httpserver):
    pages = {
        T_EDITED: "recheck-embed-edited.html",
        T_COUNTS: "recheck-embed-counts.html",
        T_DELETED: "recheck-embed-not-found.html",
        T_PRIVATE: "recheck-embed-private.html",
    }
    for native_id, name in pages.items():
        httpserver.expect_request(f"/{native_id}", query_string="embed=1").respond_with_data(
            fixture("telegram", name), content_type="text/html; charset=utf-8"
        )


def test_telegram_recheck_edit_counts_and_deletion(httpserver, client):
    serve_telegram(httpserver)
    targets = [t_target(n) for n in (T_EDITED, T_COUNTS, T_DELETED)]
    items = list(telegram.recheck_posts(client, targets, "tg-live", {"base_url": base(httpserver)}))

    found = by_id(items)
    assert found[T_EDITED].format == telegram.FORMAT
    edited = normalise(found[T_EDITED])
    assert edited.text.endswith("Lugar: Casa de Gobierno, salón Lirio (corregido).")
    assert "\n\n" in edited.text  # <br/><br/> kept as a blank line
    assert edited.extra["edited"] is True and edited.edited_at is None  # the page gives no edit time
    assert edited.created_at == "2026-06-20T08:15:00Z"
    assert normalise(found[T_COUNTS]).view_count == 1_200_000
    gone = normalise(found[T_DELETED])
    assert found[T_DELETED].format == "tombstone"
    assert (gone.unavailable, gone.native_id, gone.url) == ("deleted", T_DELETED, f"https://t.me/{T_DELETED}")
    assert gone.extra["tombstone"]["error_text"] == "Post not found"


def test_telegram_private_channel_is_protected_not_deleted(httpserver, client):
    serve_telegram(httpserver)
    (item,) = telegram.recheck_posts(client, [t_target(T_PRIVATE)], "tg-live", {"base_url": base(httpserver)})
    assert normalise(item).unavailable == "protected"


def test_telegram_unknown_page_is_unparsed_not_a_tombstone(httpserver, client):
    httpserver.expect_request(f"/{T_EDITED}").respond_with_data("<html><body>Please wait…</body></html>", content_type="text/html")
    (item,) = telegram.recheck_posts(client, [t_target(T_EDITED)], "tg-live", {"base_url": base(httpserver)})
    assert isinstance(item, Unparsed)


def test_telegram_unreachable_raises_and_marks_nothing(httpserver, client):
    httpserver.expect_request(f"/{T_DELETED}").respond_with_data("Bad gateway", status=502)
    items, error = collect(
        telegram.recheck_posts(client, [t_target(T_DELETED), t_target(T_EDITED)], "tg", {"base_url": base(httpserver)})
    )
    assert items == []
    assert_unreachable(items, error, httpserver, at_least=3)


# --- X ------------------------------------------------------------------------------

X_ORIGINAL, X_LATEST, X_COUNTS = "2068246221419553719", "2068250298282984478", "2068026020459638993"
X_DELETED, X_SUSPENDED = "2067578068792318546", "2067170382443477811"


def x_target(tweet_id: str) -> RecheckTarget:
    return RecheckTarget(tweet_id, f"https://x.com/valdoria_pres/status/{tweet_id}", {})


class FakeEmbeds:
    """tweet-result by id; oEmbed answers 500 unless told otherwise."""

    def __init__(self, httpserver, syndication_status=200, oembed=(500, "")):
        self.answers = {
            X_ORIGINAL: "recheck-syndication-edited-original.json",
            X_LATEST: "recheck-syndication-edited-latest.json",
            X_COUNTS: "recheck-syndication-counts.json",
            X_DELETED: "recheck-syndication-deleted.json",
            X_SUSPENDED: "recheck-syndication-suspended.json",
        }
        self.syndication_status = syndication_status
        self.oembed = oembed
        self.asked: list[str] = []
        httpserver.expect_request("/tweet-result").respond_with_handler(self.tweet_result)
        httpserver.expect_request("/oembed").respond_with_handler(self.oembed_answer)

    def tweet_result(self, request):
        tweet_id = request.args["id"]
        self.asked.append(tweet_id)
        assert request.args["token"] == x.syndication_token(tweet_id)
        if self.syndication_status != 200:
            return Response("upstream error", status=self.syndication_status)
        return Response(fixture("x", self.answers[tweet_id]), content_type="application/json")

    def oembed_answer(self, request):
        status, body = self.oembed
        return Response(body, status=status, content_type="application/json")


def test_x_recheck_edit_counts_and_deletion(httpserver, client):
    embeds = FakeEmbeds(httpserver)
    targets = [x_target(i) for i in (X_ORIGINAL, X_COUNTS, X_DELETED)]
    items = list(x.recheck_posts(client, targets, "x-hydrate", {"base_url": base(httpserver)}))

    # The edit is a new post id on X: the archived id and its latest version both come back.
    assert embeds.asked == [X_ORIGINAL, X_LATEST, X_COUNTS, X_DELETED]
    found = by_id(items)
    assert set(found) == {X_ORIGINAL, X_LATEST, X_COUNTS, X_DELETED}
    original = normalise(found[X_ORIGINAL])
    assert original.extra["edit_history_tweet_ids"] == [X_ORIGINAL, X_LATEST]
    latest = normalise(found[X_LATEST])
    assert found[X_LATEST].format == x.SYNDICATION_FORMAT
    assert latest.text.endswith("salón Lirio (corregido).")
    assert latest.edited_at == "2026-06-20T08:31:12Z"
    assert latest.created_at == "2026-06-20T08:15:00Z"  # the original's time, from its id
    counts = normalise(found[X_COUNTS])
    assert (counts.like_count, counts.reply_count) == (1904, 41)
    gone = normalise(found[X_DELETED])
    assert found[X_DELETED].format == "tombstone"
    assert gone.unavailable == "deleted"
    assert "deleted by the Post author" in gone.extra["tombstone"]["tombstone_text"]


def test_x_tombstone_of_a_suspended_account(httpserver, client):
    FakeEmbeds(httpserver)
    (item,) = x.recheck_posts(client, [x_target(X_SUSPENDED)], "x-hydrate", {"base_url": base(httpserver)})
    assert normalise(item).unavailable == "suspended"


def test_x_syndication_down_but_oembed_404_is_deleted(httpserver, client):
    FakeEmbeds(httpserver, syndication_status=503, oembed=(404, ""))
    (item,) = x.recheck_posts(client, [x_target(X_DELETED)], "x-hydrate", {"base_url": base(httpserver)})
    assert item.format == "tombstone" and normalise(item).unavailable == "deleted"


def test_x_unreachable_raises_and_marks_nothing(httpserver, client):
    FakeEmbeds(httpserver, syndication_status=500, oembed=(500, ""))
    items, error = collect(
        x.recheck_posts(client, [x_target(X_DELETED), x_target(X_COUNTS)], "x-hydrate", {"base_url": base(httpserver)})
    )
    assert items == []
    assert_unreachable(items, error, httpserver, at_least=6)  # both endpoints tried, with retries
