"""Property tests for shape detection (hypothesis): whatever JSON a reader
is given, it never raises, every item it yields normalises or fails as a
ParseFailure, a post reads the same whichever answer wraps it, and any cut
of a saved answer gives a parse error or posts, never nothing."""

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.errors import ParseFailure
from scraper.formats import file_reader
from scraper.model import RawItem
from scraper.normalise import normalise
from scraper.shapes import describe_text, describe_value, guess_shape, not_this_shape
from scraper.sources import Unparsed

from .conftest import FIXTURES

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # each reads several files
JSON_READERS = ("bluesky-feed", "mastodon-statuses", "x-v2", "x-v1-json")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["uri", "post", "posts", "feed", "thread", "replies", "parent", "record", "data", "id",
                         "text", "account", "content", "ancestors", "descendants", "statuses", "id_str", "notFound",
                         "blocked", "$type", "created_at", "errors", "includes", "meta"]) | st.text(max_size=6),
        children, max_size=5),
    max_leaves=20,
)


def read_all(format_name: str, text: str) -> list:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.json"
        path.write_text(text, encoding="utf-8")
        return list(file_reader(format_name)(str(path), "prop"))


def assert_well_behaved(results: list) -> None:
    for result in results:
        assert isinstance(result, (RawItem, Unparsed))
        if isinstance(result, Unparsed):
            assert result.reason
            continue
        try:
            normalise(result)
        except ParseFailure:
            pass


@SETTINGS
@given(json_values)
def test_descriptions_are_total(value):
    assert describe_value(value)
    assert describe_text(json.dumps(value))
    guess_shape(value)
    for format_name in JSON_READERS:
        assert not_this_shape(value, format_name).count("expected") >= 1


@SETTINGS
@given(json_values, st.sampled_from(JSON_READERS))
def test_readers_never_raise_on_any_json(value, format_name):
    assert_well_behaved(read_all(format_name, json.dumps(value)))


@SETTINGS
@given(st.integers(min_value=1, max_value=3000), st.sampled_from(JSON_READERS))
def test_deep_nesting_is_a_parse_error_not_a_crash(depth, format_name):
    results = read_all(format_name, "[" * depth + "]" * depth)
    assert_well_behaved(results)
    results = read_all(format_name, '{"thread": ' * depth + "{}" + "}" * depth)
    assert_well_behaved(results)


# --- the same post whichever Bluesky answer wraps it ------------------------------------

TID = st.text(alphabet="234567abcdefghij", min_size=1, max_size=1).flatmap(
    lambda first: st.text(alphabet="234567abcdefghijklmnopqrstuvwxyz", min_size=12, max_size=12).map(
        lambda rest: first + rest))
DID = st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567", min_size=24, max_size=24).map(lambda s: f"did:plc:{s}")


@st.composite
def post_views(draw):
    did, rkey = draw(DID), draw(TID)
    view = {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": "bafyreifictional",
        "author": {"did": did, "handle": f"{rkey}.bsky.social"},
        "record": {"$type": "app.bsky.feed.post", "text": draw(st.text(max_size=40)),
                   "createdAt": "2021-06-08T12:00:00.000Z"},
        "indexedAt": "2021-06-08T12:00:00.512Z",
    }
    view.update(draw(st.fixed_dictionaries({}, optional={
        "likeCount": st.integers(0, 9), "labels": st.just([]), "viewer": st.just({"threadMuted": False})})))
    return view


def bluesky_uris(results) -> set:
    uris = set()
    for result in results:
        assert isinstance(result, RawItem), getattr(result, "reason", result)
        uris.add(normalise(result).native_id)
    return uris


@FEWER
@given(st.lists(post_views(), min_size=1, max_size=4, unique_by=lambda v: v["uri"]))
def test_a_bluesky_post_reads_the_same_in_every_answer(views):
    expected = {view["uri"] for view in views}
    thread = {"post": views[0], "replies": [{"post": view} for view in views[1:]]}
    wrappings = [
        json.dumps({"posts": views}),
        json.dumps({"feed": [{"post": view} for view in views]}),
        json.dumps({"thread": thread}),
        json.dumps({"thread": [{"uri": v["uri"], "depth": 0, "value": {"$type": "app.bsky.unspecced.defs#threadItemPost",
                                                                      "post": v}} for v in views]}),
        json.dumps(views),
        "\n".join(json.dumps(view) for view in views),
        "\n".join(json.dumps({"posts": [view], "cursor": "x"}) for view in views),
    ]
    if len(views) == 1:
        wrappings.append(json.dumps(views[0]))
    for text in wrappings:
        assert bluesky_uris(read_all("bluesky-feed", text)) == expected, text[:80]


@st.composite
def statuses(draw):
    local_id = str(draw(st.integers(10**15, 10**18)))
    user = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10))
    return {
        "id": local_id, "created_at": "2021-06-08T14:00:00.000Z", "visibility": "public",
        "uri": f"https://social.valdoria.example/users/{user}/statuses/{local_id}",
        "url": f"https://social.valdoria.example/@{user}/{local_id}",
        "content": f"<p>{draw(st.text(max_size=30))}</p>",
        "account": {"id": "1", "username": user, "acct": user, "url": f"https://social.valdoria.example/@{user}"},
    }


@FEWER
@given(st.lists(statuses(), min_size=1, max_size=4, unique_by=lambda s: s["id"]))
def test_a_mastodon_status_reads_the_same_in_every_answer(found):
    expected = {status["url"] for status in found}
    wrappings = [json.dumps(found), json.dumps({"ancestors": found[:1], "descendants": found[1:]}),
                 json.dumps({"accounts": [], "statuses": found, "hashtags": []})]
    if len(found) == 1:
        wrappings.append(json.dumps(found[0]))
    for text in wrappings:
        results = read_all("mastodon-statuses", text)
        assert all(isinstance(r, RawItem) for r in results)
        assert {normalise(r).native_id for r in results} == expected


@FEWER
@given(st.integers(10**17, 10**19), st.text(max_size=40))
def test_an_x_post_reads_the_same_looked_up_or_in_a_page(post_id, text):
    post = {"id": str(post_id), "text": text, "author_id": "12", "created_at": "2021-06-09T18:42:07.000Z"}
    includes = {"users": [{"id": "12", "username": "lucia_inventada", "name": "Lucía"}]}
    for reader in ("x-v2", "x-v1-json"):
        looked_up = read_all(reader, json.dumps({"data": post, "includes": includes}))
        paged = read_all(reader, json.dumps({"data": [post], "includes": includes, "meta": {"result_count": 1}}))
        assert [normalise(r).native_id for r in looked_up] == [normalise(r).native_id for r in paged] == [str(post_id)]


# --- any cut of a saved answer ----------------------------------------------------------

SAVED = [
    ("bluesky-feed", FIXTURES / "bluesky" / "post-thread.json"),
    ("bluesky-feed", FIXTURES / "bluesky" / "search-posts-pages.jsonl"),
    ("bluesky-feed", FIXTURES / "bluesky" / "feed-view-post-repost-of-quote.json"),
    ("mastodon-statuses", FIXTURES / "mastodon" / "status-context.json"),
    ("x-v2", FIXTURES / "x" / "lookup-single.json"),
    ("x-v1-json", FIXTURES / "x" / "v1-status-single.json"),
]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAVED), st.floats(min_value=0.0, max_value=1.0))
def test_any_cut_of_a_saved_answer_gives_an_error_or_posts(saved, fraction):
    format_name, path = saved
    text = path.read_text(encoding="utf-8")
    cut = text[: int(len(text) * fraction)]
    results = read_all(format_name, cut)
    assert_well_behaved(results)
    if cut.strip():
        assert results, f"nothing at all from {len(cut)} characters of {path.name}"
