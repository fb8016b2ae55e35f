"""The canonical shapes that flow between sources, normaliser and archive.

A source yields :class:`RawItem` objects: one item exactly as it arrived
(a JSON object, an HTML fragment, a line of text) plus the context needed to
read it. The normaliser turns each RawItem into one :class:`Post`. The archive
stores both: the Post as rows, the RawItem as a compressed payload, so that
the archive can be rebuilt from raw when parsing improves.

Nothing in this module does I/O.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any

class _computed_once:
    """functools.cached_property without its lock: on Python 3.11 the first
    access of every instance takes one lock shared by all instances, which
    a million posts read in one thread pay for nothing."""

    def __init__(self, compute):
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


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


# zlib level for pages: level 1 takes half the time of level 6 on a twarc2
# line (100 posts) for 1.26 times the bytes.
PAGE_COMPRESSION_LEVEL = 1


@dataclass
class RawPage:
    """One stored unit that holds many items, kept once for all of them: a
    line of a twarc2 file is one X API response page of up to 100 posts.

    ``format`` names the page reader that cuts it into items again
    (:func:`scraper.normalise.page_reader`); each item says where it sits
    with a JSON Pointer (``RawItem.pointer``). Storing the page instead of
    each item re-serialised with its context is what a collection tool
    wrote, byte for byte, and costs a fifth of the space and time."""

    format: str
    text: str | None

    def __post_init__(self):
        self._stored: tuple[str, int, bytes] | None = None

    def stored(self) -> tuple[str, int, bytes]:
        """(sha256, size in bytes, zlib-compressed bytes): what the archive keeps."""
        if self._stored is None:
            data = self.text.encode("utf-8")
            self._stored = (hashlib.sha256(data).hexdigest(), len(data), zlib.compress(data, PAGE_COMPRESSION_LEVEL))
        return self._stored

    def text_again(self) -> str:
        """The text, from the compressed bytes if it was dropped."""
        if self.text is not None:
            return self.text
        return zlib.decompress(self.stored()[2]).decode("utf-8")

    def drop_text(self) -> None:
        """Keep only what storing needs (a worker process does this before
        handing its items over: the text would cross for nothing)."""
        self.stored()
        self.text = None


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

    def payload_text(self) -> str:
        """The payload as text. A reader that parsed a JSON object may leave
        ``payload`` None and keep only ``decoded``: it is serialised here,
        compactly with sorted keys, when needed (rarely: such items are
        stored as pointers into their page)."""
        if self.payload is not None:
            return self.payload
        from .jsonio import dumps

        return dumps(self.decoded, sort_keys=True)

    def stored_payload(self) -> str:
        """What the archive keeps: payload and context, enough to re-normalise."""
        from .jsonio import dumps

        return dumps({"format": self.format, "payload": self.payload_text(), "context": self.context}, sort_keys=True)


@dataclass
class Post:
    """One post in canonical form, whatever the platform.

    ``native_id`` is the platform's own id (X status id, Bluesky at:// URI,
    Mastodon status URL or id, Telegram ``channel/123``). It is None when the
    source gave none (a post quoted as plain text in an article); the archive
    then derives a key and merges the post later with the same post arriving
    with its id.

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

    @property
    def key(self) -> str:
        if self.native_id:
            return post_key(self.platform, self.native_id)
        return f"{self.platform}:derived:{self.match_hash}"

    @property
    def has_native_id(self) -> bool:
        return bool(self.native_id)

    @_computed_once
    def match_hash(self) -> str:
        """Same account, same day, same normalised text: the same post.
        (Computed once, after normalisation has finished the text.)"""
        return self._match_hash_for((self.created_at or "")[:10])

    def nearby_match_hashes(self) -> list[str]:
        """match_hash for the day before, the day itself and the day after:
        an embed shows the author's local date, a platform gives UTC."""
        day = (self.created_at or "")[:10]
        if len(day) != 10:
            return [self.match_hash]
        from datetime import date, timedelta

        try:
            moment = date.fromisoformat(day)
        except ValueError:
            return [self.match_hash]
        days = [(moment + timedelta(days=offset)).isoformat() for offset in (-1, 0, 1)]
        return [self._match_hash_for(d) for d in days]

    @_computed_once
    def _match_text(self) -> str:
        return _match_text(self.text)

    def _match_hash_for(self, day: str) -> str:
        handle = (self.author_handle or "").lower().lstrip("@")
        basis = "\x1f".join([self.platform, handle, day, self._match_text])
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:20]

    def counts(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in self.COUNT_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _match_text(text: str) -> str:
    """scraper.normalise.match_text (that module imports this one, so it is
    looked up at the first call, then kept)."""
    global _match_text
    from .normalise import match_text

    _match_text = match_text
    return match_text(text)


def post_key(platform: str, native_id: str) -> str:
    return f"{platform}:{native_id}"

