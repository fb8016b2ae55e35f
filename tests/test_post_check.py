"""scraper/post_check.py: the fast path for ordinary posts agrees with the
full check on every value, hostile or not."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper import post_check
from scraper.errors import ParseFailure
from scraper.model import Post


def ordinary(**changes) -> Post:
    post = Post(
        platform="x", native_id="1400000000000000001", text="Felicito al pueblo de Valdoria #Elecciones",
        author_handle="lider_0001", author_display_name="Líder Ficticio", author_platform_id="1300000000000000001",
        url="https://x.com/lider_0001/status/1400000000000000001", created_at="2021-06-07T21:00:00Z",
        language="es", hashtags=["Elecciones"], mentions=["lider_0002"], links=["https://example.org/a"],
        media=[{"type": "photo", "url": "https://example.org/a.jpg", "width": 1200}],
        reply_count=3, repost_count=10, like_count=250, quote_count=1, view_count=9000,
        extra={"bookmark_count": 0, "conversation_id": "1400000000000000001"},
    )
    return dataclasses.replace(post, **changes)


def full_check(post: Post) -> str | None:
    """What the full check says (None: accepted)."""
    try:
        post_check._check_types(post)
        post_check._check_values(post)
    except ParseFailure as exc:
        return str(exc)
    return None


def fast_check(post: Post) -> str | None:
    try:
        assert post_check.check_post(post) is post
    except ParseFailure as exc:
        return str(exc)
    return None


class Text(str):
    pass


def deep(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


HOSTILE = st.one_of(
    st.sampled_from([None, True, False, 0, -1, 2**53 + 1, 2**63 - 1, 2**63, 2**70, -(2**63) - 1, 1.5, float("nan"),
                     "", "x", Text("a str subclass"), [], {}, ["a"], [1], [None], [{}], [["a"]], {"a": "b"},
                     {"a": 2**70}, {1: "int key"}, {"a": {"b": [1, 2, {"c": None}]}}, [{"type": "photo"}, "x"]]),
    st.sampled_from([200, 300, 1200]).map(deep),
    st.text(max_size=20),
    st.lists(st.text(max_size=5), max_size=3),
)
FIELDS = [f.name for f in dataclasses.fields(Post)]


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(FIELDS), value=HOSTILE, again=st.booleans())
def test_the_fast_path_says_what_the_full_check_says(name, value, again):
    post = ordinary(**{name: value})
    if again:  # the second time, its combination of types is one already found good
        fast_check(post)
    assert fast_check(post) == full_check(post)


@pytest.mark.parametrize("changes,message", [
    ({"author_handle": ["a", "list"]}, "field author_handle is a list, not str or nothing"),
    ({"like_count": 2**70}, "beyond the 64-bit integers SQLite stores"),
    ({"hashtags": ["ok", 5]}, "field hashtags holds int, not str"),
    ({"media": ["not a mapping"]}, "field media holds text, not dict"),
    ({"extra": {"deep": deep(5000)}}, "field extra is nested too deeply to store"),
])
def test_hostile_values_are_refused_with_the_field_named(changes, message):
    post = ordinary(**changes)
    for _ in range(2):
        with pytest.raises(ParseFailure, match=message):
            post_check.check_post(post)


@pytest.mark.parametrize("changes", [
    {}, {"like_count": 2**60}, {"extra": {"id": 2**70}}, {"author_handle": Text("x")}, {"like_count": True},
    {"media": [], "extra": {}}, {"extra": {"a": deep(300)}},
])
def test_unusual_but_storable_values_are_accepted(changes):
    post = ordinary(**changes)
    for _ in range(2):
        assert post_check.check_post(post) is post
