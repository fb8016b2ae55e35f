"""The part of storing a post that needs no archive: its row, its first
version, its match hashes, its relevance to the elections.

These are pure functions of the post (and of the elections' matchers), so a
large file import can run them in worker processes while the archive
writes (see :mod:`scraper.parallel`); a live scrape runs them in the same
process. What does need the archive (the account's row id, the leaders'
names, whether the post is already there) is added by
:class:`scraper.archive.Archive` when it stores the result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple

from . import jsonio
from .errors import ParseFailure
from .model import Post, RawItem
from .normalise import normalise
from .relevance import ElectionMatcher
from .schema import POST_COUNT_COLUMNS

# posts columns known from the post alone, in the order of PreparedPost.row ...
POST_CONTENT_COLUMNS = (
    "id", "platform", "native_id", "id_is_derived", "match_hash", "url", "handle", "display_name",
    "created_at", "created_at_precision", "text", "language", "language_detected", "reply_to", "quote_of",
    "repost_of", "hashtags", "mentions", "links", "media", *POST_COUNT_COLUMNS, "edited_at", "is_edited",
    "version_count", "unavailable_reason", "extra",
)
# ... and those the archive adds when it stores the sighting.
POST_SIGHTING_COLUMNS = (
    "account_id", "author_name", "mentioned_names", "deleted_at", "first_captured_at", "last_captured_at",
)
# post_versions columns of a first version known from the post alone.
VERSION_CONTENT_COLUMNS = ("text", *POST_COUNT_COLUMNS, "edited_at", "content_hash")


@dataclass(slots=True)
class PreparedPost:
    """A normalised post ready to be stored: what the archive needs to
    decide whether it is new, and, when it is, the values of its rows.

    ``post`` is the Post itself when it was prepared in this process; from a
    worker it is None (the archive normalises the item again in the rare
    case it needs the whole post: a post seen before, a merge)."""

    key: str
    platform: str
    has_native_id: bool
    match_hash: str
    author: tuple[str | None, str | None, str | None]  # handle, platform id, display name
    mentions: list[str]
    row: tuple  # POST_CONTENT_COLUMNS
    first_version: tuple  # VERSION_CONTENT_COLUMNS
    relevance: list[tuple[str, str, float]]  # (election id, matched terms as JSON, score)
    nearby_hashes: list[str] | None = None
    post: Post | None = field(default=None, repr=False)


_PREPARED_FIELDS = tuple(PreparedPost.__dataclass_fields__)


def astuple_prepared(prepared: PreparedPost) -> tuple:
    """The fields in order, shallow (``PreparedPost(*fields)`` makes it again)."""
    return tuple(getattr(prepared, name) for name in _PREPARED_FIELDS)


class ReadItem(NamedTuple):
    """A raw item read and prepared: a post, or the reason it could not be
    read (then it becomes a parse error with its raw payload)."""

    item: RawItem
    prepared: PreparedPost | None
    failure: str | None


def read_item(item: RawItem, matchers: list[ElectionMatcher], keep_post: bool = True,
              nearby: bool = False) -> ReadItem:
    """Normalise one raw item and prepare its post. ``keep_post=False`` when
    the result crosses a process boundary (only the prepared values go);
    ``nearby``: compute the match hashes a day either side too (needed only
    when the archive holds quotes without an id)."""
    try:
        post = normalise(item)
    except ParseFailure as exc:
        return ReadItem(item, None, str(exc))  # (decoded kept: the payload may exist only there)
    item.decoded = None  # read: what follows need not hold the parsed JSON
    return ReadItem(item, prepare_post(post, matchers, keep_post=keep_post, nearby=nearby), None)


def prepare_post(post: Post, matchers: list[ElectionMatcher], keep_post: bool = True,
                 nearby: bool = False) -> PreparedPost:
    version = version_state(post, None)
    return PreparedPost(
        key=post.key,
        platform=post.platform,
        has_native_id=post.has_native_id,
        match_hash=post.match_hash,
        author=(post.author_handle, post.author_platform_id, post.author_display_name),
        mentions=post.mentions,
        row=content_row(post, version),
        first_version=tuple(version[name] for name in VERSION_CONTENT_COLUMNS),
        relevance=relevance(post, matchers),
        nearby_hashes=post.nearby_match_hashes() if nearby else None,
        post=post if keep_post else None,
    )


def content_row(post: Post, version: dict) -> tuple:
    """The POST_CONTENT_COLUMNS of a new post."""
    return (
        post.key,
        post.platform,
        post.native_id,
        0 if post.has_native_id else 1,
        post.match_hash,
        post.url,
        post.author_handle,
        post.author_display_name,
        post.created_at,
        precision(post.created_at),
        post.text,
        post.language,
        int(post.language_detected),
        post.reply_to,
        post.quote_of,
        post.repost_of,
        to_json(post.hashtags),
        to_json(post.mentions),
        to_json(post.links),
        to_json(post.media),
        *[version[name] for name in POST_COUNT_COLUMNS],
        post.edited_at,
        1 if post.edited_at else 0,
        1,
        post.unavailable,
        to_json(post.extra) if post.extra else None,
    )


def relevance(post: Post, matchers: list[ElectionMatcher]) -> list[tuple[str, str, float]]:
    found = []
    for matcher in matchers:
        result = matcher.match(post)
        if result is not None:
            terms, score = result
            found.append((matcher.election_id, to_json(terms), score))
    return found


def version_state(post: Post, latest: dict | None) -> dict:
    """The state a version records: text and counts. Counts a source did not
    give (None) carry over from the latest version, so a sighting without
    counts (an article embed) is not a change."""
    state = {"text": post.text, "edited_at": post.edited_at}
    for name in POST_COUNT_COLUMNS:
        value = getattr(post, name)
        state[name] = value if value is not None or latest is None else latest[name]
    basis = jsonio.dumps([state["text"], *[state[n] for n in POST_COUNT_COLUMNS]])
    state["content_hash"] = hashlib.sha256(basis.encode("utf-8")).hexdigest()
    return state


def precision(created_at: str | None) -> str | None:
    if not created_at:
        return None
    return "day" if len(created_at) == 10 else "second"


def to_json(value) -> str:
    if not value and isinstance(value, list):
        return "[]"  # most posts have no media, many no links
    return jsonio.dumps(value)
