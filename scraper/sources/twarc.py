"""twarc2 JSONL: X API v2 collections made with twarc2 (DocNow).

``twarc2 search``, ``timeline``, ``hydrate``... write one API response page
per line, as X sent it (``data``, ``includes``, ``meta``) plus twarc's own
``__twarc`` key (the request URL, twarc's version, ``retrieved_at``).
``twarc2 flatten`` rewrites them as one post per line with the expansions
copied inline (``author``, ``in_reply_to_user``, ``attachments.media``,
mentions merged with their users, ``referenced_tweets`` holding the whole
referenced posts) and ``__twarc`` copied onto every post.

Both become the raw format of a live API v2 scrape (``x-v2-tweet``, the
post with the ``includes`` it refers to), so an imported post is the same
Post as the one :mod:`x` fetches itself: a flattened line is folded back
into a one-post page first.

The archive keeps each line once, as twarc wrote it (a :class:`RawPage`),
and each capture points into it: ``/data/3`` for the fourth post of a
page, ``/data`` for a single-post lookup, the empty pointer for a
flattened line. :func:`items_in_stored_line` cuts a stored line up again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..errors import ParseFailure
from ..model import RawItem, RawPage
from ..normalise import to_utc_iso
from . import ItemStream, Unparsed
from .decoding import loads, read_element
from .filestream import numbered_lines, open_text
from .x import items_from_v2_page

FILE_FORMAT = "twarc2-jsonl"
METADATA_KEY = "__twarc"

# What twarc's flatten adds to a post; the API never sends these keys.
_ADDED_TO_POST = ("author", "in_reply_to_user", "pinned_tweet", "matching_rules", METADATA_KEY)
_MENTION_KEYS = ("start", "end", "username", "id")


def read_twarc2_jsonl(path: str, source_id: str) -> ItemStream:
    """Response pages or flattened posts, one per line; a bad line is Unparsed."""
    with open_text(path) as stream:
        for number, line in numbered_lines(stream):
            yield from items_from_line(line, source_id, f"{path}:{number}")


def items_from_line(line: str, source_id: str, location: str) -> list[RawItem | Unparsed]:
    """One line's items; a line that cannot be read is one Unparsed (scraper.sources.decoding)."""
    return read_element(line, source_id, location, _line_items)


def _line_items(line: str, source_id: str, location: str) -> Iterator[RawItem | Unparsed]:
    text = line.rstrip("\r\n")
    try:
        value = loads(text, fast=True)
    except json.JSONDecodeError as exc:
        yield Unparsed(f"not JSON: {exc}", location, text, source_id)
        return
    if not isinstance(value, dict):
        yield Unparsed(f"a JSON {type(value).__name__}, not a page or a post", location, text, source_id)
        return
    metadata = value.get(METADATA_KEY) if isinstance(value.get(METADATA_KEY), dict) else {}
    try:
        if "data" in value or "meta" in value or "errors" in value:
            items = _page_items(value, source_id, location)
        elif "id" in value and "text" in value:
            page = unflatten(value)
            items = items_from_v2_page(page, source_id, location, text_payloads=False)
            for item in items:
                item.location = location  # one post per line: the line says it
                item.pointer = ""  # the whole line is the post
        else:
            raise ParseFailure("neither an API v2 page (data/includes/meta) nor a flattened post (id/text)")
    except ParseFailure as exc:
        yield Unparsed(str(exc), location, text, source_id)
        return
    raw_page = RawPage(FILE_FORMAT, text)
    fetched_url, retrieved_at = metadata.get("url"), _retrieved_at(metadata)
    for item in items:
        item.raw_page = raw_page
        item.fetched_url = fetched_url or item.fetched_url
        item.retrieved_at = retrieved_at or item.retrieved_at
        yield item


def items_in_stored_line(text: str, source_id: str, location: str) -> dict[str, RawItem]:
    """A stored twarc2 line cut into its posts again, by pointer; a line that
    no longer reads as a page or a post raises with the reason."""
    items = {}
    for item in items_from_line(text, source_id, location):
        if isinstance(item, Unparsed):
            raise ParseFailure(item.reason)
        items[item.pointer] = item
    return items


def _page_items(page: dict, source_id: str, location: str) -> list[RawItem]:
    """The posts of a response page, each with its pointer into the line. A
    page with no posts (an empty search, an errors-only answer for deleted
    ids) gives none; ``tweet`` lookups put a single post in ``data``."""
    data = page.get("data")
    if data is None:
        return []
    if isinstance(data, dict):
        items = items_from_v2_page({**page, "data": [data]}, source_id, location, text_payloads=False)
        pointers = ["/data"]
    else:
        items = items_from_v2_page(page, source_id, location, text_payloads=False)
        pointers = [f"/data/{index}" for index in range(len(data))]
    for item, pointer in zip(items, pointers):
        item.pointer = pointer
    return items


def _retrieved_at(metadata: dict) -> str | None:
    try:
        return to_utc_iso(metadata.get("retrieved_at"))
    except (ValueError, TypeError):
        return None


# --- flattened post -> one-post page (pure) ---------------------------------------------


def unflatten(post: dict) -> dict:
    """A flattened post back to ``{data: [post], includes}``: the inline
    expansions moved to ``includes``, the post as the API sent it."""
    includes: dict[str, dict[str, dict]] = {"users": {}, "tweets": {}, "media": {}}
    tweet = _strip(post, includes)
    for ref in post.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("id") and "text" in ref:
            referenced = {k: v for k, v in ref.items() if k != "type"}
            includes["tweets"].setdefault(str(ref["id"]), _strip(referenced, includes))
    return {
        "data": [tweet],
        "includes": {name: list(found.values()) for name, found in includes.items() if found},
    }


def _strip(post: dict, includes: dict[str, dict[str, dict]]) -> dict:
    """The post without twarc's additions, which are collected into ``includes``."""
    for key in ("author", "in_reply_to_user"):
        user = post.get(key)
        if isinstance(user, dict) and user.get("id"):
            includes["users"].setdefault(str(user["id"]), user)
    tweet: dict[str, Any] = {k: v for k, v in post.items() if k not in _ADDED_TO_POST}
    attachments = post.get("attachments")
    if isinstance(attachments, dict) and "media" in attachments:
        for medium in attachments.get("media") or []:
            if isinstance(medium, dict) and medium.get("media_key"):
                includes["media"].setdefault(medium["media_key"], medium)
        tweet["attachments"] = {k: v for k, v in attachments.items() if k != "media"}
    entities = post.get("entities")
    if isinstance(entities, dict) and isinstance(entities.get("mentions"), list):
        mentions = [
            {k: m[k] for k in _MENTION_KEYS if k in m} if isinstance(m, dict) else m for m in entities["mentions"]
        ]
        tweet["entities"] = {**entities, "mentions": mentions}
    if isinstance(post.get("referenced_tweets"), list):
        tweet["referenced_tweets"] = [
            {"type": r.get("type"), "id": r.get("id")} if isinstance(r, dict) else r for r in post["referenced_tweets"]
        ]
    geo = post.get("geo")
    if isinstance(geo, dict) and geo.get("place_id"):
        tweet["geo"] = {k: geo[k] for k in ("place_id", "coordinates") if k in geo}
    return tweet
