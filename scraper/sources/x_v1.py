"""X API v1.1 tweets saved by other tools (twarc 1, tweepy dumps, Hydrator),
and the tweets of X's own account archive (see :mod:`x_archive`), which are
v1.1 objects with every number written as a string and no ``user``.

A v1.1 post becomes the same :class:`Post` as the same post read through
API v2 (:mod:`x`): ``id_str`` as the id (the numeric ``id`` passed through a
JavaScript double in many dumps and is wrong above 2**53), the full text
(``extended_tweet.full_text`` for a compat-mode tweet cut at 140
characters, ``full_text`` in extended mode), t.co links expanded and the
trailing media link dropped, a retweet as ``RT @original: full text`` with
``repost_of`` set, and the text HTML-unescaped once.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

from ..errors import ParseFailure
from ..model import Post, RawItem
from ..normalise import loads_json, snowflake_time, to_utc_iso, unique
from ..shapes import guess_shape, not_this_shape
from . import ItemStream, Unparsed
from .decoding import looks_like_jsonl, loads, read_element, read_whole, too_large, unreadable
from .filestream import array_on_first_line_only, first_char, json_array_items, numbered_lines, open_text
from .x import (
    _expand_urls,
    _key,
    _language,
    _media_entities,
    _syndication_media,
    id_text,
    is_v1_status,
    post_url,
    raw_item,
)

FILE_FORMAT = "x-v1-json"


# --- ids and records --------------------------------------------------------------


def check_tweet(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ParseFailure(f"{where}: a JSON {type(value).__name__}, not a tweet object")
    if id_text(value) is None:
        raise ParseFailure(f"{where}: tweet without id_str")
    if not any(isinstance(value.get(k), str) for k in ("full_text", "text")) and not value.get("extended_tweet"):
        raise ParseFailure(f"{where}: tweet {id_text(value)} has no text or full_text")
    return value


def item_or_unparsed(text: str, source_id: str, location: str, context: dict | None = None) -> list[RawItem | Unparsed]:
    """One record's text to its items: a tweet, or a v1.1 search page whose
    ``statuses`` are tweets; Unparsed if it is neither, or cannot be read
    (scraper.sources.decoding)."""
    return read_element(text, source_id, location, lambda text, source_id, location: _record_items(
        text, source_id, location, context))


def _record_items(text: str, source_id: str, location: str, context: dict | None) -> Iterator[RawItem | Unparsed]:
    try:
        value = loads(text)
    except json.JSONDecodeError as exc:
        yield Unparsed(f"not JSON: {exc}", location, text, source_id)
        return
    other = None if is_v1_status(value) else guess_shape(value)  # (a status, the usual case, is not guessed at)
    if other and other[0] and not other[0].startswith(("x-", "twarc2")):  # another platform's answer
        yield Unparsed(not_this_shape(value, FILE_FORMAT), location, text, source_id)
        return
    if isinstance(value, dict) and "data" in value and not is_v1_status(value):
        # An API v2 answer (X too): read as the v2 reader reads it.
        from .x import x_record_items

        try:
            yield from x_record_items(text, source_id, location)
        except ParseFailure as exc:
            yield Unparsed(str(exc), location, text, source_id)
        return
    tweet_like = isinstance(value, dict) and any(k in value for k in ("id_str", "full_text", "text", "extended_tweet"))
    if isinstance(value, dict) and not tweet_like and not isinstance(value.get("statuses"), list):
        yield Unparsed(not_this_shape(value, FILE_FORMAT), location, text, source_id)
        return
    tweets = value.get("statuses") if isinstance(value, dict) and isinstance(value.get("statuses"), list) else None
    for index, tweet in enumerate(tweets if tweets is not None else [value]):
        where = f"{location}#statuses[{index}]" if tweets is not None else location
        try:
            yield raw_item(check_tweet(tweet, where), source_id, where, context)
        except ParseFailure as exc:
            yield Unparsed(str(exc), where, json.dumps(tweet, ensure_ascii=False), source_id)


def read_v1_json(path: str, source_id: str) -> ItemStream:
    """A JSON array of v1.1 tweets, or JSONL of tweets (or of search pages),
    or one pretty-printed tweet or search page. Streams any size."""
    if first_char(path) == "[" and not array_on_first_line_only(path):
        with open_text(path) as stream:
            for number, text in json_array_items(stream):
                yield from item_or_unparsed(text, source_id, f"{path}:{number}")
        return
    if not _is_jsonl(path):  # one pretty-printed object (a tweet or a search page)
        yield from item_or_unparsed(read_whole(path), source_id, f"{path}:1")
        return
    with open_text(path) as stream:
        for number, line in numbered_lines(stream):
            yield from item_or_unparsed(line, source_id, f"{path}:{number}")


def _is_jsonl(path: str) -> bool:
    """JSONL unless the whole file is one JSON value, or no line is an
    object on its own (a pretty-printed object cut short: one error)."""
    with open_text(path) as stream:
        first = next(numbered_lines(stream), None)
    if first is None:
        return True
    try:
        if not unreadable(first[1], path, "") and isinstance(loads(first[1]), dict):
            return True
    except json.JSONDecodeError:
        pass
    if too_large(path):
        return True
    text = read_whole(path)
    try:
        loads(text)
        return False
    except json.JSONDecodeError:
        return looks_like_jsonl(text.splitlines())


# --- transform (pure) ----------------------------------------------------------------


def full_text(tweet: dict) -> tuple[str, dict, list[dict]]:
    """(text, entities, media objects) of the whole post: the extended part of
    a compat-mode tweet when there is one."""
    extended = tweet.get("extended_tweet") if isinstance(tweet.get("extended_tweet"), dict) else None
    holder = extended if extended and extended.get("full_text") is not None else tweet
    text = holder.get("full_text")
    if text is None:
        text = holder.get("text") or ""
    entities = holder.get("entities") or {}
    media = (holder.get("extended_entities") or {}).get("media") or entities.get("media") or []
    return text, entities, [m for m in media if isinstance(m, dict)]


def _expanded(tweet: dict) -> tuple[str, list[str], list[str], list[str], list[dict]]:
    text, entities, media = full_text(tweet)
    text, links = _expand_urls(text, [*entities.get("urls", []), *_media_entities({"media": media})])
    hashtags = unique(h.get("text") for h in entities.get("hashtags", []) if isinstance(h, dict))
    mentions = unique(m.get("screen_name") for m in entities.get("user_mentions", []) if isinstance(m, dict))
    return text, links, hashtags, mentions, [_syndication_media(m) for m in media]


def count(value: Any) -> int | None:
    """A count as given: an integer, or (in X's archive) a string of digits."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def transform_v1_tweet(item: RawItem) -> Post:
    tweet = loads_json(item.payload, "X API v1.1 tweet")
    tweet_id = id_text(tweet)
    if tweet_id is None:
        raise ParseFailure("X API v1.1 tweet without id_str")
    account = item.context.get("account") or {}
    user = tweet.get("user") if isinstance(tweet.get("user"), dict) else {}
    handle = user.get("screen_name") or account.get("handle")
    retweeted = tweet.get("retweeted_status") if isinstance(tweet.get("retweeted_status"), dict) else None
    text, links, hashtags, mentions, media = _expanded(retweeted or tweet)
    if retweeted:  # as API v2 shows it: the original's full text, credited
        original_handle = (retweeted.get("user") or {}).get("screen_name")
        if original_handle:
            text = f"RT @{original_handle}: {text}"
            mentions = unique([original_handle, *mentions])
    created_at, edited_at, history = _times(tweet, tweet_id)
    quoted = id_text(tweet, "quoted_status_id") or id_text(tweet.get("quoted_status") or {})
    return Post(
        platform="x",
        native_id=tweet_id,
        text=html.unescape(text),
        author_handle=handle,
        author_display_name=user.get("name") or account.get("display_name"),
        author_platform_id=id_text(user) if user else account.get("user_id"),
        url=post_url(handle, tweet_id),
        created_at=created_at,
        edited_at=edited_at,
        language=_language(tweet.get("lang")),
        reply_to=_key(id_text(tweet, "in_reply_to_status_id")),
        quote_of=_key(quoted),
        repost_of=_key(id_text(retweeted)) if retweeted else None,
        hashtags=hashtags,
        mentions=mentions,
        links=links,
        media=media,
        reply_count=count(tweet.get("reply_count")),
        repost_count=count(tweet.get("retweet_count")),
        like_count=count(tweet.get("favorite_count")),
        quote_count=count(tweet.get("quote_count")),
        extra=_extra(tweet, retweeted, history, item.context),
    )


def _times(tweet: dict, tweet_id: str) -> tuple[str | None, str | None, list[str]]:
    """(created_at, edited_at, edit history). As for API v2: the newest id of
    an edited post keeps the original post's time, its own time is the edit's."""
    created = to_utc_iso(tweet.get("created_at")) if tweet.get("created_at") else None
    edit_info = tweet.get("edit_info") or {}
    control = tweet.get("edit_controls") or (edit_info.get("initial") or {}) or (
        (edit_info.get("edit") or {}).get("editControlInitial") or {}
    )
    history = [str(i) for i in control.get("edit_tweet_ids") or control.get("editTweetIds") or []]
    if len(history) > 1 and history[-1] == tweet_id:
        original = snowflake_time(history[0])
        return (to_utc_iso(original) if original else created), created, history
    return created or snowflake_time(tweet_id), None, history


def _extra(tweet: dict, retweeted: dict | None, history: list[str], context: dict) -> dict:
    extra: dict[str, Any] = {"lang": tweet.get("lang"), "via": context.get("via", "api-v1.1")}
    if tweet.get("in_reply_to_screen_name"):
        extra["reply_to_handle"] = tweet["in_reply_to_screen_name"]
    if id_text(tweet, "in_reply_to_user_id"):
        extra["in_reply_to_user_id"] = id_text(tweet, "in_reply_to_user_id")
    if len(history) > 1:
        extra["edit_history_tweet_ids"] = history
        if history[-1] != id_text(tweet):
            extra["superseded_by"] = history[-1]
    if tweet.get("truncated") and not (tweet.get("extended_tweet") or {}).get("full_text"):
        extra["text_truncated"] = True
    if retweeted:
        extra["reposted_post"] = {
            "id": id_text(retweeted),
            "author_handle": (retweeted.get("user") or {}).get("screen_name"),
            "created_at": to_utc_iso(retweeted.get("created_at")) if retweeted.get("created_at") else None,
        }
    elif context.get("via") == "x-archive" and (tweet.get("full_text") or "").startswith("RT @"):
        # The archive keeps a retweet as its own cut text, without the original.
        extra["archive_retweet"] = True
    if tweet.get("source"):
        extra["source_app"] = tweet["source"]
    return {k: v for k, v in extra.items() if v is not None}
