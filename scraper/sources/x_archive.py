"""X's own account archive ("Download an archive of your data"), given as
the unzipped folder or the ``.zip``.

The posts are in ``data/tweets.js`` (``tweet.js`` in archives from 2019 to
2022, at the top level before 2020; ``tweets-part1.js``... when the archive
is large). Each file is JavaScript, ``window.YTD.tweets.part0 = [ ... ]``,
around a JSON array of ``{"tweet": {...}}`` (bare tweet objects in the
oldest archives). The tweets are API v1.1 objects with every number written
as a string and no ``user``: the author is the archive's owner, read from
``data/account.js`` (``username``, ``accountId``, ``accountDisplayName``).
They are read with the v1.1 transform of :mod:`x_v1`, the owner in the
item's context.

Not read: ``deleted-tweets.js`` (posts the owner deleted: not public),
``note-tweet.js`` (the full text of long posts, which names no post id to
join on; a long post keeps its first 280 characters, marked in extra by the
v1.1 transform when X set ``truncated``), likes, direct messages.
"""

from __future__ import annotations

import json
import re

from ..errors import InputError, ParseFailure
from ..model import RawItem
from . import ItemStream, Unparsed
from .decoding import loads, read_element, unreadable
from .filestream import Bundle, JsonArrayItems
from .x import raw_item
from .x_v1 import check_tweet

FILE_FORMAT = "x-archive"

_TWEETS_FILE = re.compile(r"(?:^|/)(?:data/)?tweets?(?:-part(\d+))?\.js$")
_ACCOUNT_FILE = re.compile(r"(?:^|/)(?:data/)?account\.js$")


def read_x_archive(path: str, source_id: str) -> ItemStream:
    """Every post of the archive's tweets files, in part order."""
    with Bundle(path) as bundle:
        files = sorted(bundle.find(_TWEETS_FILE), key=_part_number)
        if not files:
            raise InputError(f"{path}: no data/tweets.js (or tweet.js) in this X archive")
        account = read_account(bundle)
        context = {"account": account, "via": FILE_FORMAT} if account else {"via": FILE_FORMAT}
        for name in files:
            yield from _tweets_of(bundle, name, source_id, context)


def _tweet(text: str, source_id: str, location: str, context: dict) -> list[RawItem | Unparsed]:
    try:
        value = loads(text)
    except json.JSONDecodeError as exc:
        return [Unparsed(f"not JSON: {exc}", location, text, source_id)]
    tweet = value.get("tweet", value) if isinstance(value, dict) else value
    try:
        return [raw_item(check_tweet(tweet, location), source_id, location, context)]
    except ParseFailure as exc:
        return [Unparsed(str(exc), location, text, source_id)]


def _part_number(name: str) -> int:
    match = _TWEETS_FILE.search(name)
    return int(match.group(1)) if match and match.group(1) else 0


def read_account(bundle: Bundle) -> dict | None:
    """{handle, user_id, display_name} of the archive's owner, if account.js is there."""
    names = bundle.find(_ACCOUNT_FILE)
    if not names:
        return None
    with bundle.open(names[0]) as stream:
        for _line, text in JsonArrayItems(stream):
            try:
                value = loads(text) if not unreadable(text, "", "") else None
            except json.JSONDecodeError:
                return None
            account = value.get("account", value) if isinstance(value, dict) else {}
            found = {
                "handle": account.get("username"),
                "user_id": str(account["accountId"]) if account.get("accountId") else None,
                "display_name": account.get("accountDisplayName"),
            }
            return {k: v for k, v in found.items() if v} or None
    return None


def _tweets_of(bundle: Bundle, name: str, source_id: str, context: dict) -> ItemStream:
    where = bundle.where(name)
    with bundle.open(name) as stream:
        items = JsonArrayItems(stream)
        for line, text in items:
            yield from read_element(text, source_id, f"{where}:{line}", lambda text, source_id, location: _tweet(
                text, source_id, location, context))
        if not items.found:
            yield Unparsed("no JSON array after the window.YTD assignment", where, "", source_id)
