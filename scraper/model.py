"""The canonical shapes that flow between sources, normaliser and archive.

A source yields :class:`RawItem` objects: one item exactly as it arrived
(a JSON object, an HTML fragment, a line of text) plus the context needed to
read it. The normaliser turns each RawItem into one :class:`Post`. The archive
stores both: the Post as rows, the RawItem as a compressed payload, so that
the archive can be rebuilt from raw when parsing improves.

Nothing in this module does I/O.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

PLATFORMS = (
    "x",
    "bluesky",
    "mastodon",
    "telegram",
    "instagram",
    "facebook",
    "threads",
    "rss",
    "web",
)


@dataclass
class FetchedPage:
    """One HTTP response (or one file read), kept as provenance."""

    url: str
    body: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retrieved_at: str | None = None
    stored: StoredRaw | None = field(default=None, repr=False, compare=False)  # see prepare.response_of

    def to_payload(self) -> str:
        return json.dumps(
            {
                "url": self.url,
                "status": self.status,
                "headers": self.headers,
                "body": self.body,
            },
            ensure_ascii=False,
            sort_keys=True,
        )


@dataclass
class RawPage:
    """One stored unit that holds many items, kept once for all of them: a
    line of a twarc2 file is one X API response page of up to 100 posts.

    ``format`` names the page reader that cuts it into items again
    (:data:`scraper.formats.PAGE_READERS`); each item says where it sits
    with a JSON Pointer (``RawItem.pointer``). Storing the page instead of
    each item re-serialised with its context is what a collection tool
    wrote, byte for byte, and costs a fifth of the space and time.
    ``stored``: what the archive keeps of it, once the preparing step has
    compressed it (then ``text`` may be dropped: a worker process hands
    over only the compressed bytes)."""

    format: str
    text: str | None
    stored: StoredRaw | None = None


class StoredRaw(NamedTuple):
    """What the archive keeps of one raw payload (``raw_payloads``): its
    SHA-256 and size before compression, and the compressed bytes."""

    sha256: str
    format: str
    size: int
    content: bytes


@dataclass
class RawItem:
    """One item as a source delivered it, before normalisation.

    ``format`` names the transform that reads it (``article-x-embed``,
    ``bluesky-feed-item``, ``mastodon-status`` ...). ``payload`` is the item's
    own text exactly as received (a JSON object serialised, an HTML fragment).
    ``context`` holds what the transform needs besides the payload (the X
    ``includes`` of the page, the article's date ...); it must be JSON
    serialisable because it is stored with the payload.
    ``location`` says where the item was found, for error messages
    (``page.html#embed-3``, ``tweets.jsonl:17``).
    ``raw_page`` and ``pointer``: the stored page the item was cut from and
    where in it (then the archive keeps the page, not the item).
    ``decoded``: the payload already parsed, when the reader had it, so the
    transform need not parse it again (never stored; the payload is the record).
    """

    format: str
    payload: str | None
    source_id: str
    location: str
    fetched_url: str | None = None
    retrieved_at: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    page: FetchedPage | None = None
    raw_page: RawPage | None = None
    pointer: str | None = None
    decoded: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_page(
        cls, format: str, payload: str, source_id: str, location: str,
        page: FetchedPage | None = None, context: dict[str, Any] | None = None,
    ) -> "RawItem":
        """An item cut from a fetched page, which it names as provenance."""
        return cls(
            format=format,
            payload=payload,
            source_id=source_id,
            location=location,
            fetched_url=page.url if page else None,
            retrieved_at=page.retrieved_at if page else None,
            context=context or {},
            page=page,
        )


@dataclass
class Post:
    """One post in canonical form, whatever the platform.

    ``native_id`` is the platform's own id (X status id, Bluesky at:// URI,
    Mastodon status URL or id, Telegram ``channel/123``). It is None when the
    source gave none (a post quoted as plain text in an article); the archive
    then derives a key (:mod:`scraper.identity`) and merges the post later
    with the same post arriving with its id.

    ``created_at`` is UTC ISO-8601 (``2021-06-10T14:03:07Z``), or a plain date
    (``2021-06-10``) when only the day is known.
    """

    platform: str
    native_id: str | None
    text: str
    author_handle: str | None = None
    author_display_name: str | None = None
    author_platform_id: str | None = None
    url: str | None = None
    created_at: str | None = None
    language: str | None = None
    language_detected: bool = False
    reply_to: str | None = None
    quote_of: str | None = None
    repost_of: str | None = None
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    reply_count: int | None = None
    repost_count: int | None = None
    like_count: int | None = None
    quote_count: int | None = None
    view_count: int | None = None
    edited_at: str | None = None
    unavailable: str | None = None  # deleted | suspended | protected | withheld
    extra: dict[str, Any] = field(default_factory=dict)

    COUNT_FIELDS = ("reply_count", "repost_count", "like_count", "quote_count", "view_count")

    def counts(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in self.COUNT_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def post_key(platform: str, native_id: str) -> str:
    return f"{platform}:{native_id}"



# --- what the preparing step hands the archive -----------------------------------

COUNT_COLUMNS = Post.COUNT_FIELDS

# posts columns known from the post alone, in the order of PreparedPost.row ...
POST_CONTENT_COLUMNS = (
    "id", "platform", "native_id", "id_is_derived", "match_hash", "url", "handle", "display_name",
    "created_at", "created_at_precision", "text", "language", "language_detected", "reply_to", "quote_of",
    "repost_of", "hashtags", "mentions", "links", "media", *COUNT_COLUMNS, "edited_at", "is_edited",
    "version_count", "unavailable_reason", "extra",
)
# ... and those the archive adds when it stores the sighting.
POST_SIGHTING_COLUMNS = (
    "account_id", "author_name", "mentioned_names", "deleted_at", "first_captured_at", "last_captured_at",
)
POST_COLUMNS = (*POST_CONTENT_COLUMNS, *POST_SIGHTING_COLUMNS)
_TEXT, _MENTIONS, _LANGUAGE = (POST_CONTENT_COLUMNS.index(name) for name in ("text", "mentions", "language"))


def classified_values(row: tuple) -> tuple:
    """(text, mentions as JSON, language) of a prepared post's row: what its
    reaction type is made from (scraper.reaction_types.ElectionClassifier)."""
    return row[_TEXT], row[_MENTIONS], row[_LANGUAGE]


@dataclass(slots=True)
class PreparedPost:
    """A normalised post ready to be stored: everything about it that can be
    known without the archive (:mod:`scraper.prepare` makes it, pure), so the
    archive only looks up and writes.

    ``row``: the values of POST_CONTENT_COLUMNS, counts the source did not
    give left None. ``match_hash``: the key a quote without an id is matched
    by; ``nearby_hashes``: the same a day either side (embeds show the
    author's local day); both None for a post with an id when the archive
    holds no quotes (see :func:`scraper.prepare.prepare_post`).
    ``relevance``: (election id, matched terms as JSON, score) per election
    the post is relevant to. ``classes``: (election id, *class) per election
    the post is relevant to and whose matcher carries a classifier, the
    class made from the row's text, mentions and language (see
    :class:`scraper.reaction_types.ElectionClassifier`; the archive stores it
    where it holds for the post as stored, scraper/classify_store.py)."""

    key: str
    platform: str
    derived: bool  # no platform id: the key is derived from the match hash
    match_hash: str | None
    nearby_hashes: tuple[str, ...] | None
    author: tuple[str | None, str | None, str | None]  # handle, platform id, display name
    mentions: list[str]
    placeholder: bool  # a link or a pending URL: names a post, says nothing of its content
    row: tuple
    relevance: list[tuple[str, str, float]]
    classes: tuple[tuple, ...] = ()


class ReadItem(NamedTuple):
    """A raw item read and prepared: a post (``prepared``), or the reason it
    could not be read (``failure``; it becomes a parse error). ``raw`` is
    what the archive keeps of the item: its own payload, or the page it was
    cut from (``item.pointer`` says where); ``response``: the HTTP answer it
    came in, when it came over HTTP. ``capture_id``: set by a reprocess,
    which rebuilds a post from a capture the archive already has."""

    item: RawItem
    prepared: PreparedPost | None
    failure: str | None
    raw: StoredRaw
    response: StoredRaw | None = None
    capture_id: int | None = None
