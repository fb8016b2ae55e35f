"""The preparing step: everything about storing an item that can be known
without the archive. Pure.

Reading -> normalising -> preparing -> writing: a raw item is normalised
into a post (:func:`scraper.normalise.normalise`), and here the post
becomes a :class:`~scraper.model.PreparedPost` (its row, its identity
candidates, its relevance to the elections and, for a stream of items
(:func:`read_items`), its reaction type for each, by the classifier the
election's matcher carries) and the item becomes what the archive keeps
of it (its raw payload or page, compressed). The archive's
writer takes the result and never calls back: what it needs from the
archive itself (is the post there, the account's id, the roster's names)
it looks up in batches.

A large file import runs this in worker processes (:mod:`scraper.parallel`);
everything else runs it in the process that writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from . import compression, jsonio
from .errors import ParseFailure
from .identity import MatchHasher, derived_key, nearby_match_hashes
from .model import (
    COUNT_COLUMNS, POST_CONTENT_COLUMNS, FetchedPage, Post, PreparedPost, RawItem, ReadItem, StoredRaw,
    classified_values, post_key,
)
from .normalise import normalise
from .relevance import ElectionMatcher

PLACEHOLDER_FLAGS = ("pending", "link_only")
# Posts read before their reaction types are made: classifying each post
# between normalising the next ones cost 10% more CPU than a group at a
# time (the classifier's and the normaliser's data evicting each other from
# the CPU's caches; 3.55 against 3.20 CPU s for 20k posts, measured).
CLASSIFY_GROUP = 500


def read_items(items: Iterable, matchers: list[ElectionMatcher], match_quotes: bool = True) -> Iterator:
    """:func:`read_item` over a stream (what is not a :class:`RawItem`
    passes as it is, in its place), with the reaction types of the posts
    read (:func:`add_reaction_types`): a group of CLASSIFY_GROUP items of a
    file at a time; an item of a fetched page at once (the writer stores a
    page as soon as the next one has arrived: nothing of it may wait)."""
    group: list = []  # in order: items read, and what came between them
    read: list[ReadItem] = []
    for item in items:
        live = False
        if isinstance(item, RawItem):
            live = item.page is not None
            item = read_item(item, matchers, match_quotes)
            read.append(item)
        group.append(item)
        if live or not read or len(read) >= CLASSIFY_GROUP:
            add_reaction_types(read, matchers)
            yield from group
            group, read = [], []
    add_reaction_types(read, matchers)
    yield from group


def read_item(item: RawItem, matchers: list[ElectionMatcher], match_quotes: bool = True) -> ReadItem:
    """Normalise one raw item and prepare its post and its payload (its
    reaction types are added by :func:`add_reaction_types`; the archive
    classifies a post that has none when it stores it).

    ``match_quotes``: compute the match hashes a day either side, which the
    archive needs to merge a post with a quote of it that has no id. Bulk
    imports of platform files leave it off when the archive holds no such
    quotes (their own items always have ids)."""
    try:
        post = normalise(item)
    except ParseFailure as exc:
        return ReadItem(item, None, str(exc), compression.stored(stored_payload(item), item.format),
                        response_of(item.page))
    item.decoded = None  # read: what follows need not hold the parsed JSON
    return ReadItem(item, prepare_post(post, matchers, match_quotes), None, raw_of(item), response_of(item.page))


def prepare_post(post: Post, matchers: list[ElectionMatcher], match_quotes: bool = True) -> PreparedPost:
    """``match_quotes=False``: no match hashes for a post with an id (a bulk
    import into an archive that holds no quotes without an id)."""
    derived = not post.native_id
    if match_quotes or derived:
        hasher = MatchHasher(post)
        match_hash = hasher.on((post.created_at or "")[:10])
        nearby = tuple(nearby_match_hashes(post, hasher))
    else:
        match_hash = nearby = None
    key = derived_key(post.platform, match_hash) if derived else post_key(post.platform, post.native_id)
    return PreparedPost(
        key=key,
        platform=post.platform,
        derived=derived,
        match_hash=match_hash,
        nearby_hashes=nearby,
        author=(post.author_handle, post.author_platform_id, post.author_display_name),
        mentions=post.mentions,
        placeholder=not post.text and any(post.extra.get(flag) for flag in PLACEHOLDER_FLAGS),
        # (only a quote without an id keeps its match hash: it is looked up by it)
        row=content_row(post, key, match_hash if derived else None),
        relevance=relevance(post, matchers),
    )


def content_row(post: Post, key: str, match_hash: str) -> tuple:
    """The POST_CONTENT_COLUMNS of the post (counts not given stay None)."""
    return (
        key,
        post.platform,
        post.native_id,
        0 if post.native_id else 1,
        match_hash,
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
        *[getattr(post, name) for name in COUNT_COLUMNS],
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


def add_reaction_types(read: list[ReadItem], matchers: list[ElectionMatcher]) -> None:
    """The reaction type of each post read for each election it is relevant
    to whose matcher carries a classifier (``PreparedPost.classes``): made
    from the row's text, mentions and language, as the archive would make
    it from the stored post (scraper/classify_store.py)."""
    classifiers = {matcher.election_id: matcher.classifier for matcher in matchers if matcher.classifier is not None}
    if not classifiers:
        return
    for entry in read:
        prepared = entry.prepared
        if prepared is None or not prepared.relevance:
            continue
        values = classified_values(prepared.row)
        prepared.classes = tuple(
            (election_id, *classifiers[election_id].classify_post(*values))
            for election_id, _, _ in prepared.relevance if election_id in classifiers
        )


# --- what the archive keeps of the item -----------------------------------------


def raw_of(item: RawItem) -> StoredRaw:
    """The item's own payload, or the page it was cut from (stored once for
    all its items: ``item.pointer`` says where the item sits in it)."""
    page = item.raw_page
    if page is None:
        return compression.stored(stored_payload(item), item.format)
    if page.stored is None:
        page.stored = compression.stored(page.text, page.format)
        # The text is read (the gate checked it before this, its items hold
        # their own parsed parts): held until the batch is written, the
        # pages of a batch of 5000 posts cost about 130 MB with every field
        # twarc2 asks for.
        page.text = None
    return page.stored


def response_of(page: FetchedPage | None) -> StoredRaw | None:
    """The HTTP answer items came in, stored once per page."""
    if page is None:
        return None
    if page.stored is None:
        page.stored = compression.stored(page.to_payload(), "response")
    return page.stored


def stored_payload(item: RawItem) -> str:
    """What the archive keeps of an item of its own: payload and context,
    enough to normalise it again."""
    payload = item.payload if item.payload is not None else jsonio.dumps(item.decoded, sort_keys=True)
    return jsonio.dumps({"format": item.format, "payload": payload, "context": item.context}, sort_keys=True)


def precision(created_at: str | None) -> str | None:
    if not created_at:
        return None
    return "day" if len(created_at) == 10 else "second"


def to_json(value) -> str:
    if not value and isinstance(value, list):
        return "[]"  # most posts have no media, many no links
    return jsonio.dumps(value)
