"""Bluesky: an account's posts from the public AppView, without login.

``app.bsky.feed.getAuthorFeed`` on ``https://public.api.bsky.app`` pages
through an account's posts, replies and reposts, newest first. The account is
keyed by its DID (handles change): a handle is resolved once with
``com.atproto.identity.resolveHandle``.

One raw item is one entry of the response's ``feed`` array (a
``feedViewPost``: ``post`` plus the optional ``reply`` and ``reason``), exactly
as received. Raw JSON is read directly, not through the atproto SDK, whose
strict models break on new lexicon types.

Incremental scrapes: ``since_id`` is the at:// URI of the newest archived
post. Paging stops at that URI, or at the first item whose record key (a TID,
a timestamp assigned when the record was written to the account's
repository) is older than the since_id's, which also covers a since post
that has been deleted since. Pinned posts never stop paging.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, NamedTuple

from ..errors import ParseFailure, SourceError
from ..http import HTTPStatusError, PoliteClient
from ..model import FetchedPage, Post, RawItem
from ..normalise import loads_json, to_utc_iso, tombstone_item, unique
from ..shapes import describe_text, not_this_shape
from . import RecheckTarget, ScrapeRequest, Unparsed
from .decoding import looks_like_jsonl, loads, read_whole, too_large, unreadable
from .filestream import numbered_lines, open_text

PLATFORM = "bluesky"
FORMAT = "bluesky-feed-item"
FILE_FORMAT = "bluesky-feed"
DEFAULT_BASE_URL = "https://public.api.bsky.app"
WEB_BASE_URL = "https://bsky.app"
PAGE_LIMIT = 100  # the lexicon's maximum
DEFAULT_FILTER = "posts_with_replies"

REASON_REPOST = "app.bsky.feed.defs#reasonRepost"
REASON_PIN = "app.bsky.feed.defs#reasonPin"
POST_COLLECTION = "app.bsky.feed.post"

# A TID: 13 characters of base32-sortable, so string order is time order.
_TID = re.compile(r"[234567a-j][234567a-z]{12}")


# --- fetch (network only) -----------------------------------------------------


def fetch_resolve_handle(client: PoliteClient, base_url: str, handle: str) -> FetchedPage:
    return client.get(
        f"{base_url}/xrpc/com.atproto.identity.resolveHandle",
        params={"handle": handle},
        kind=PLATFORM,
    )


def fetch_author_feed(
    client: PoliteClient,
    base_url: str,
    actor: str,
    cursor: str | None = None,
    *,
    limit: int = PAGE_LIMIT,
    feed_filter: str = DEFAULT_FILTER,
) -> FetchedPage:
    params: dict[str, Any] = {"actor": actor, "limit": limit, "filter": feed_filter}
    if cursor:
        params["cursor"] = cursor
    return client.get(f"{base_url}/xrpc/app.bsky.feed.getAuthorFeed", params=params, kind=PLATFORM)


# --- pages and files to raw items (pure) ------------------------------------------


def parse_feed_response(body: str, where: str) -> tuple[list[dict], str | None]:
    """The ``feed`` entries and the next ``cursor`` of a getAuthorFeed
    response, or ParseFailure when the page is not one."""
    response = loads_json(body, f"Bluesky feed page {where}")
    feed = response.get("feed")
    if not isinstance(feed, list):
        raise ParseFailure(f"Bluesky feed page {where} has no 'feed' list")
    for index, entry in enumerate(feed):
        check_entry(entry, f"{where}#feed[{index}]")
    cursor = response.get("cursor")
    return feed, cursor if isinstance(cursor, str) and cursor else None


def check_entry(value: Any, where: str) -> dict:
    """A feed entry (or a bare postView) with what every transform needs."""
    entry = as_feed_entry(value)
    view = entry.get("post") if isinstance(entry, dict) else None
    if not isinstance(view, dict):
        raise ParseFailure(f"Bluesky feed item {where} is not a post: {not_this_shape(value, FILE_FORMAT)}")
    uri = view.get("uri")
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise ParseFailure(f"Bluesky feed item {where} has no at:// uri")
    if not isinstance(view.get("record"), dict):
        raise ParseFailure(f"Bluesky feed item {where} has no record")
    return entry


def as_feed_entry(value: Any) -> Any:
    """Saved files may hold bare postViews; read them as feed entries."""
    if isinstance(value, dict) and "post" not in value and "uri" in value:
        return {"post": value}
    return value


def raw_item(value: dict, source_id: str, location: str, page: FetchedPage | None = None) -> RawItem:
    return RawItem.from_page(FORMAT, json.dumps(value, ensure_ascii=False, sort_keys=True), source_id, location, page)


def items_from_feed_page(page: FetchedPage, source_id: str) -> list[RawItem]:
    """Every entry of a fetched getAuthorFeed page (reposts and pins too)."""
    feed, _cursor = parse_feed_response(page.body, page.url)
    return [
        raw_item(entry, source_id, f"{page.url}#feed[{index}]", page)
        for index, entry in enumerate(feed)
    ]


# --- scraping ---------------------------------------------------------------


def scrape_account(client: PoliteClient, request: ScrapeRequest) -> Iterator[RawItem | Unparsed]:
    base_url = (request.options.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
    actor = resolve_actor(client, request, base_url)
    walk = FeedWalk(request)
    max_pages = request.options.get("max_pages")
    cursor, pages = None, 0
    while True:
        page = _fetch_feed_page(client, request, base_url, actor, cursor)
        pages += 1
        try:
            feed, next_cursor = parse_feed_response(page.body, page.url)
        except ParseFailure as exc:
            yield Unparsed(str(exc), page.url, page.body, request.source_id, page.url, page)
            return
        for index, entry in enumerate(feed):
            verdict = walk.judge(entry)
            if verdict == "stop":
                return
            if verdict == "keep":
                yield raw_item(entry, request.source_id, f"{page.url}#feed[{index}]", page)
        # An unchanged cursor would loop forever; an empty page ends the feed.
        if not feed or not next_cursor or next_cursor == cursor:
            return
        if max_pages and pages >= max_pages:
            return
        cursor = next_cursor


def resolve_actor(client: PoliteClient, request: ScrapeRequest, base_url: str) -> str:
    """The account's DID. A resolved handle's DID is written back to
    ``request.account.platform_id`` so that the caller can keep it."""
    account = request.account
    if account.platform_id and account.platform_id.startswith("did:"):
        return account.platform_id
    handle = (account.handle or "").strip().lstrip("@")
    if handle.startswith("did:"):
        return handle
    if not handle:
        raise SourceError(f"Bluesky account {account_label(request)} has neither a DID nor a handle")
    try:
        page = fetch_resolve_handle(client, base_url, handle)
    except HTTPStatusError as exc:
        raise _account_error(request, exc, "cannot resolve handle") from exc
    did = _did_from(page)
    account.platform_id = did
    return did


def _did_from(page: FetchedPage) -> str:
    try:
        did = loads(page.body).get("did")
    except (json.JSONDecodeError, AttributeError):
        did = None
    if not isinstance(did, str) or not did.startswith("did:"):
        raise SourceError(f"Bluesky resolveHandle answered without a DID: {page.url}")
    return did


def _fetch_feed_page(client, request, base_url, actor, cursor) -> FetchedPage:
    try:
        return fetch_author_feed(
            client,
            base_url,
            actor,
            cursor,
            limit=int(request.options.get("page_limit", PAGE_LIMIT)),
            feed_filter=request.options.get("filter", DEFAULT_FILTER),
        )
    except HTTPStatusError as exc:
        raise _account_error(request, exc, "cannot read author feed") from exc


def account_label(request: ScrapeRequest) -> str:
    account = request.account
    handle = f"@{account.handle.lstrip('@')}" if account.handle else None
    return " ".join(part for part in (handle, account.platform_id) if part) or "(unnamed)"


def _account_error(request: ScrapeRequest, exc: HTTPStatusError, what: str) -> SourceError:
    status = exc.status
    if status in (401, 403):
        meaning = "refused (the public AppView needs no login; is base_url right?)"
    elif status == 404 or status == 400:
        # The AppView answers an unknown account with 400 InvalidRequest.
        meaning = "account not found or not readable"
    else:
        meaning = "server error"
    detail = _xrpc_error(exc.page.body)
    return SourceError(
        f"Bluesky account {account_label(request)}: {what}: {meaning}: "
        f"HTTP {status} from {exc.page.url}" + (f" ({detail})" if detail else "")
    )


def _xrpc_error(body: str) -> str | None:
    try:
        error = loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(error, dict):
        return None
    parts = [str(error[k]) for k in ("error", "message") if error.get(k)]
    return ": ".join(parts) or None


class FeedWalk:
    """Decides for each feed entry, newest first: keep, skip, or stop paging.

    The AppView orders an author feed by the earlier of createdAt and
    indexedAt (createdAt is set by the client and may be anything), so that is
    the time that decides when paging has gone past the window. Whether a post
    is inside the window is decided by its createdAt, as the author dated it.
    """

    def __init__(self, request: ScrapeRequest):
        self.window_start = _moment(request.window_start)
        self.window_end = _moment(request.window_end)
        self.since_id = request.since_id
        self.since_tid = record_tid(request.since_id)
        self.include_reposts = bool(request.options.get("include_reposts"))
        self.seen: set[str] = set()

    def judge(self, entry: dict) -> str:
        pinned = reason_type(entry) == REASON_PIN
        item_id = entry_native_id(entry)
        if item_id in self.seen:
            return "skip"  # a pinned post shows up again in its place
        if self._already_archived(entry, item_id):
            return "skip" if pinned else "stop"
        sorted_at = _sort_time(entry)
        if not pinned and self.window_start and sorted_at and sorted_at < self.window_start:
            return "stop"
        if reason_type(entry) == REASON_REPOST and not self.include_reposts:
            return "skip"
        if not self._inside_window(_entry_time(entry)):
            return "skip"
        self.seen.add(item_id)
        return "keep"

    def _already_archived(self, entry: dict, item_id: str) -> bool:
        if not self.since_id:
            return False
        if item_id == self.since_id:
            return True
        tid = record_tid(item_id)
        return bool(self.since_tid and tid and tid <= self.since_tid)

    def _inside_window(self, moment: datetime | None) -> bool:
        if moment is None:
            return True  # undated: let the archive decide rather than lose it
        if self.window_start and moment < self.window_start:
            return False
        return not (self.window_end and moment > self.window_end)


def reason_type(entry: dict) -> str | None:
    reason = entry.get("reason")
    return reason.get("$type") if isinstance(reason, dict) else None


def entry_native_id(entry: dict) -> str:
    """The post's at:// URI; for a repost, the repost record's."""
    if reason_type(entry) == REASON_REPOST:
        return repost_native_id(entry)
    return entry["post"]["uri"]


def repost_native_id(entry: dict) -> str:
    reason = entry["reason"]
    if reason.get("uri"):
        return reason["uri"]
    # Older AppViews gave no repost URI: an id stable for one repost.
    by = (reason.get("by") or {}).get("did", "")
    return f"repost:{by}:{entry['post']['uri']}"


def record_tid(uri: str | None) -> str | None:
    """The record key of an at:// URI when it is a TID."""
    if not uri or not uri.startswith("at://"):
        return None
    rkey = uri.rstrip("/").rsplit("/", 1)[-1]
    return rkey if _TID.fullmatch(rkey) else None


def _entry_time(entry: dict) -> datetime | None:
    if reason_type(entry) == REASON_REPOST:
        return _moment(entry["reason"].get("indexedAt"))
    view = entry["post"]
    return _moment(view["record"].get("createdAt")) or _moment(view.get("indexedAt"))


def _sort_time(entry: dict) -> datetime | None:
    if reason_type(entry) == REASON_REPOST:
        return _moment(entry["reason"].get("indexedAt"))
    view = entry["post"]
    times = [t for t in (_moment(view["record"].get("createdAt")), _moment(view.get("indexedAt"))) if t]
    return min(times) if times else None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        iso = to_utc_iso(value)
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except (ValueError, TypeError, AttributeError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --- saved files ------------------------------------------------------------------
#
# What people save from the AppView is often not a timeline page. Each
# shape is recognised by its keys (the lexicons' own names):
#
# * ``{"feed": [feedViewPost]}``: getAuthorFeed, getTimeline, getFeed ...;
# * ``{"posts": [postView]}``: getPosts, searchPosts (with cursor, hitsTotal), getQuotes;
# * ``{"thread": threadViewPost}``: getPostThread, walked up through ``parent``
#   and down through ``replies``; ``#notFoundPost`` and ``#blockedPost``
#   nodes are kept as unavailable references;
# * ``{"thread": [{uri, depth, value}]}``: the flat getPostThreadV2;
# * one feedViewPost, one postView, one thread node;
# * a JSON array or JSON lines of any of these.


def read_bluesky_feed(
    path: str, source_id: str, *, include_reposts: bool = False
) -> Iterator[RawItem | Unparsed]:
    """Every post of a saved Bluesky answer (any shape above). In a feed,
    reposts are skipped unless ``include_reposts``, as in a scrape; a file
    that is one feedViewPost of a repost gives the repost and the reposted
    post. A post that appears twice (a pinned post) is read once."""
    seen: set[str] = set()
    for location, value, single in _file_values(path):
        if isinstance(value, _BadPart):
            yield Unparsed(value.reason, location, value.text, source_id)
            continue
        if unavailable_kind(value):
            uri = value.get("uri")
            if isinstance(uri, str) and uri not in seen:
                seen.add(uri)
                yield raw_item(value, source_id, location)
            continue
        try:
            entry = check_entry(value, location)
        except ParseFailure as exc:
            yield Unparsed(str(exc), location, json.dumps(value, ensure_ascii=False), source_id)
            continue
        repost = reason_type(entry) == REASON_REPOST
        if repost and not (include_reposts or single):
            continue
        native_id = entry_native_id(entry)
        if native_id not in seen:
            seen.add(native_id)
            yield raw_item(value, source_id, location)
        if repost and single and entry["post"]["uri"] not in seen:
            seen.add(entry["post"]["uri"])
            yield raw_item({"post": entry["post"]}, source_id, _joined(location, "post"))


class _BadPart(NamedTuple):
    reason: str
    text: str


def _file_values(path: str) -> Iterator[tuple[str, Any, bool]]:
    """(location, entry, alone) triples, or (location, _BadPart, False) for
    what cannot be read; ``alone`` when the file is that one entry. A file
    too large to read whole is read as JSONL, a line at a time."""
    if too_large(path):
        with open_text(path) as stream:
            yield from _jsonl_values(path, numbered_lines(stream))
        return
    text = read_whole(path)
    try:
        whole = loads(text)
    except json.JSONDecodeError as exc:
        if not text.strip():
            return
        if _looks_like_jsonl(text):
            yield from _jsonl_values(path, enumerate(text.splitlines(), start=1))
        else:  # a saved response cut short: one error, not one per line
            yield path, _BadPart(f"file is neither JSON nor JSONL ({_json_error(exc)}): {describe_text(text)}", text), False
        return
    if isinstance(whole, list):
        if not whole:
            yield path, _BadPart(not_this_shape(whole, FILE_FORMAT), text), False
        for index, value in enumerate(whole):
            yield from _entries_in(value, f"{path}#[{index}]")
    else:
        yield from _entries_in(whole, path, alone=True)


def _json_error(exc: Exception) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def _looks_like_jsonl(text: str) -> bool:
    return looks_like_jsonl(text.splitlines())


def _jsonl_values(path: str, lines: Iterator[tuple[int, str]]) -> Iterator[tuple[str, Any, bool]]:
    for number, line in lines:
        if not line.strip():
            continue
        where = f"{path}:{number}"
        bad = unreadable(line, where, "")
        if bad is not None:
            yield where, _BadPart(bad.reason, bad.payload), False
            continue
        try:
            value = loads(line)
        except json.JSONDecodeError as exc:
            yield where, _BadPart(f"line is not JSON: {_json_error(exc)}", line), False
            continue
        yield from _entries_in(value, where)


def _joined(where: str, step: str) -> str:
    return f"{where}{'.' if '#' in where else '#'}{step}"


def _entries_in(value: Any, where: str, alone: bool = False) -> Iterator[tuple[str, Any, bool]]:
    """The feed entries (or thread nodes) a document holds, by its shape."""
    if not isinstance(value, dict):
        yield where, _BadPart(f"{not_this_shape(value, FILE_FORMAT)}", json.dumps(value, ensure_ascii=False)), False
        return
    if isinstance(value.get("feed"), list):
        for index, entry in enumerate(value["feed"]):
            yield _joined(where, f"feed[{index}]"), entry, False
    elif isinstance(value.get("posts"), list):
        for index, view in enumerate(value["posts"]):
            yield _joined(where, f"posts[{index}]"), as_feed_entry(view), False
    elif isinstance(value.get("thread"), dict):
        yield from ((loc, node, False) for loc, node in thread_entries(value["thread"], _joined(where, "thread")))
    elif isinstance(value.get("thread"), list):
        yield from ((loc, node, False) for loc, node in thread_v2_entries(value["thread"], _joined(where, "thread")))
    elif _is_thread_node(value):
        yield from ((loc, node, False) for loc, node in thread_entries(value, where))
    elif unavailable_kind(value) or isinstance(value.get("post"), dict) or _at_uri(value.get("uri")):
        yield where, value, alone
    else:
        yield where, _BadPart(not_this_shape(value, FILE_FORMAT), json.dumps(value, ensure_ascii=False)), False


def _at_uri(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("at://")


def _is_thread_node(value: dict) -> bool:
    kind = str(value.get("$type", ""))
    if kind.endswith("#threadViewPost"):
        return True
    return isinstance(value.get("post"), dict) and ("replies" in value or "parent" in value)


def thread_entries(node: Any, where: str) -> Iterator[tuple[str, Any]]:
    """A getPostThread tree as entries: the parents from the top of the
    thread down, the anchor, then its replies depth first. Walked with a
    list, not recursion: a thread may be any depth."""
    chain = []
    parent, at = (node.get("parent") if isinstance(node, dict) else None), f"{where}.parent"
    while isinstance(parent, dict):
        chain.append((at, parent))
        parent, at = parent.get("parent"), f"{at}.parent"
    for at, ancestor in reversed(chain):
        yield at, _node_entry(ancestor)
    stack = [(where, node)]
    while stack:
        at, current = stack.pop()
        yield at, _node_entry(current)
        replies = current.get("replies") if isinstance(current, dict) else None
        if isinstance(replies, list):
            stack.extend((f"{at}.replies[{index}]", replies[index]) for index in reversed(range(len(replies))))


def thread_v2_entries(items: list, where: str) -> Iterator[tuple[str, Any]]:
    """getPostThreadV2's flat list: ``{uri, depth, value}`` items in thread order."""
    for index, item in enumerate(items):
        value = item.get("value") if isinstance(item, dict) else None
        if isinstance(value, dict) and isinstance(value.get("post"), dict):
            yield f"{where}[{index}]", {"post": value["post"]}
        else:
            yield f"{where}[{index}]", item


def _node_entry(node: Any) -> Any:
    """A thread node as a feed entry; unavailable nodes as they are."""
    if isinstance(node, dict) and not unavailable_kind(node) and isinstance(node.get("post"), dict):
        return {"post": node["post"]}
    return node


# A thread node the AppView could not show: (type suffix, why).
UNAVAILABLE_NODES = (
    ("#notFoundPost", "not_found"),
    ("#blockedPost", "blocked"),
    ("#threadItemNotFound", "not_found"),
    ("#threadItemBlocked", "blocked"),
    ("#threadItemNoUnauthenticated", "login_required"),
)


def unavailable_kind(value: Any) -> str | None:
    """Why a thread node holds no post ("not_found", "blocked",
    "login_required"), or None when it is not such a node."""
    if not isinstance(value, dict):
        return None
    inner = value.get("value") if isinstance(value.get("value"), dict) else {}
    kind = str(value.get("$type") or inner.get("$type") or "")
    for suffix, reason in UNAVAILABLE_NODES:
        if kind.endswith(suffix):
            return reason
    if _at_uri(value.get("uri")) and "post" not in value and "record" not in value:
        if value.get("notFound") is True:
            return "not_found"
        if value.get("blocked") is True:
            return "blocked"
    return None


# --- transform (pure) -------------------------------------------------------------


def transform_feed_item(item: RawItem) -> Post:
    value = loads_json(item.payload, f"Bluesky feed item {item.location}")
    if unavailable_kind(value):
        return unavailable_reference(value)
    entry = as_feed_entry(value)
    if reason_type(entry) == REASON_REPOST:
        return repost_to_post(entry)
    post = post_view_to_post(entry["post"])
    if reason_type(entry) == REASON_PIN:
        post.extra["pinned"] = True
    return post


def post_view_to_post(view: dict) -> Post:
    record = view["record"]
    author = view.get("author") or {}
    did = author.get("did") or uri_authority(view["uri"])
    text = record.get("text") or ""
    entities = facet_entities(text, record.get("facets") or [])
    embed = EmbedParts.read(view.get("embed"), record.get("embed"), did)
    tags = [t for t in record.get("tags") or [] if isinstance(t, str)]
    langs = record.get("langs") or []
    return Post(
        platform=PLATFORM,
        native_id=view["uri"],
        text=text,
        author_handle=author.get("handle"),
        author_display_name=author.get("displayName") or None,
        author_platform_id=did,
        url=web_url(view["uri"], author.get("handle")),
        created_at=_created_at(record, view),
        language=langs[0] if langs else None,
        reply_to=_post_key(((record.get("reply") or {}).get("parent") or {}).get("uri")),
        quote_of=_post_key(embed.quoted_uri),
        hashtags=unique(entities["hashtags"] + tags),
        mentions=unique(entities["mentions"]),
        links=unique(entities["links"] + embed.links),
        media=embed.media,
        reply_count=view.get("replyCount"),
        repost_count=view.get("repostCount"),
        like_count=view.get("likeCount"),
        quote_count=view.get("quoteCount"),
        extra=_post_extra(view, record, embed),
    )


def _created_at(record: dict, view: dict) -> str | None:
    # createdAt is client-set; when it is not a date at all, fall back to
    # when the AppView saw the post (the raw value stays in extra).
    try:
        return to_utc_iso(record.get("createdAt"))
    except (ValueError, TypeError):
        return to_utc_iso(view.get("indexedAt"))


def _post_extra(view: dict, record: dict, embed: EmbedParts) -> dict[str, Any]:
    extra: dict[str, Any] = {"indexedAt": view.get("indexedAt"), "cid": view.get("cid")}
    if record.get("createdAt") and _moment(record.get("createdAt")) is None:
        extra["createdAt_raw"] = record["createdAt"]
    root = ((record.get("reply") or {}).get("root") or {}).get("uri")
    if root:
        extra["reply_root"] = root
    if len(record.get("langs") or []) > 1:
        extra["langs"] = record["langs"]
    labels = [label.get("val") for label in view.get("labels") or [] if isinstance(label, dict)]
    if labels:
        extra["labels"] = labels
    if view.get("bookmarkCount") is not None:
        extra["bookmark_count"] = view["bookmarkCount"]
    extra.update(embed.extra)
    return extra


def unavailable_reference(node: dict) -> Post:
    """A thread node the AppView could not show (not found, blocked, or
    shown only to a logged-in viewer): the post it names, kept as a pending
    reference (no text; ``reactions hydrate`` asks for it again). It never
    changes an archived post's content, and says nothing about deletion."""
    uri = node.get("uri")
    if not _at_uri(uri):
        raise ParseFailure("unavailable thread node without an at:// uri")
    inner = node.get("value") if isinstance(node.get("value"), dict) else {}
    author = node.get("author") or inner.get("author") or {}
    did = author.get("did") if isinstance(author, dict) else None
    authority = uri_authority(uri)
    return Post(
        platform=PLATFORM,
        native_id=uri,
        text="",
        author_platform_id=did or (authority if authority.startswith("did:") else None),
        url=web_url(uri, None),
        extra={"pending": True, "pending_url": uri, "unavailable_reference": unavailable_kind(node)},
    )


def repost_to_post(entry: dict) -> Post:
    """A repost is the reposter's act: no text of its own, dated when the
    AppView indexed it, pointing at the original with repost_of."""
    original = entry["post"]
    reason = entry["reason"]
    by = reason.get("by") or {}
    indexed_at = reason.get("indexedAt")
    return Post(
        platform=PLATFORM,
        native_id=repost_native_id(entry),
        text="",
        author_handle=by.get("handle"),
        author_display_name=by.get("displayName") or None,
        author_platform_id=by.get("did"),
        url=web_url(original["uri"], (original.get("author") or {}).get("handle")),
        created_at=to_utc_iso(indexed_at),
        repost_of=_post_key(original["uri"]),
        extra={"indexedAt": indexed_at, "reposted_post": _post_summary(original, original["record"])},
    )


def web_url(uri: str, handle: str | None) -> str:
    """https://bsky.app/profile/<handle>/post/<rkey>; the DID when the handle
    is unknown or marked invalid."""
    profile = handle if handle and handle != "handle.invalid" else uri_authority(uri)
    rkey = uri.rstrip("/").rsplit("/", 1)[-1]
    return f"{WEB_BASE_URL}/profile/{profile}/post/{rkey}"


def uri_authority(uri: str) -> str:
    return uri.removeprefix("at://").split("/", 1)[0]


def uri_collection(uri: str) -> str | None:
    parts = uri.removeprefix("at://").split("/")
    return parts[1] if len(parts) > 2 else None


def _post_key(uri: str | None) -> str | None:
    return f"{PLATFORM}:{uri}" if uri else None



# --- facets -------------------------------------------------------------------------


def facet_entities(text: str, facets: list) -> dict[str, list[str]]:
    """Mentions, hashtags and full link URLs from the record's facets.

    Facet offsets count UTF-8 bytes, not characters: an emoji or an accent
    before a facet moves a character index but not a byte index."""
    data = text.encode("utf-8")
    found: dict[str, list[str]] = {"mentions": [], "hashtags": [], "links": []}
    for facet in facets:
        if not isinstance(facet, dict):
            continue
        shown = _facet_text(data, facet.get("index") or {})
        for feature in facet.get("features") or []:
            _read_feature(feature, shown, found)
    return found


def _facet_text(data: bytes, index: dict) -> str:
    start, end = index.get("byteStart"), index.get("byteEnd")
    if not isinstance(start, int) or not isinstance(end, int):
        return ""
    return data[start:end].decode("utf-8", errors="replace")


def _read_feature(feature: Any, shown: str, found: dict[str, list[str]]) -> None:
    if not isinstance(feature, dict):
        return
    kind = feature.get("$type", "")
    if kind.endswith("#mention"):
        handle = shown.strip().lstrip("@") if shown.strip().startswith("@") else ""
        found["mentions"].append(handle or feature.get("did", ""))
    elif kind.endswith("#tag") and feature.get("tag"):
        found["hashtags"].append(str(feature["tag"]).lstrip("#"))
    elif kind.endswith("#link") and feature.get("uri"):
        found["links"].append(feature["uri"])


# --- embeds -------------------------------------------------------------------------


class EmbedParts:
    """What a post's embed contributes: media, links, the quoted post, and
    raw details in extra. The view (postView.embed) has the CDN URLs; the
    record's embed is what was posted and is used when there is no view."""

    def __init__(self, did: str):
        self.did = did
        self.media: list[dict[str, Any]] = []
        self.links: list[str] = []
        self.quoted_uri: str | None = None
        self.extra: dict[str, Any] = {}

    @classmethod
    def read(cls, view: Any, record_embed: Any, did: str) -> EmbedParts:
        parts = cls(did)
        parts.add(_as_dict(view), _as_dict(record_embed))
        return parts

    def add(self, view: dict | None, posted: dict | None) -> None:
        if not view and not posted:
            return
        kind = embed_kind(view or posted)
        handler = {
            "app.bsky.embed.images": self._images,
            "app.bsky.embed.video": self._video,
            "app.bsky.embed.external": self._external,
            "app.bsky.embed.record": self._record,
            "app.bsky.embed.recordWithMedia": self._record_with_media,
        }.get(kind, self._unknown)
        handler(view or {}, posted or {})

    def _images(self, view: dict, posted: dict) -> None:
        if view.get("images"):
            for image in view["images"]:
                self.media.append(
                    {"type": "image", "url": image.get("fullsize"), "thumb": image.get("thumb"),
                     "alt": image.get("alt") or None, "aspect_ratio": image.get("aspectRatio")}
                )
            return
        for image in posted.get("images") or []:
            url = _cdn_image(self.did, _blob_cid(image.get("image")))
            self.media.append({"type": "image", "url": url, "alt": image.get("alt") or None})

    def _video(self, view: dict, posted: dict) -> None:
        if view.get("playlist"):
            self.media.append(
                {"type": "video", "url": view["playlist"], "thumb": view.get("thumbnail"),
                 "alt": view.get("alt") or None, "aspect_ratio": view.get("aspectRatio")}
            )
            return
        cid = _blob_cid(posted.get("video"))
        url = f"https://video.bsky.app/watch/{self.did}/{cid}/playlist.m3u8" if cid else None
        self.media.append({"type": "video", "url": url, "alt": posted.get("alt") or None})

    def _external(self, view: dict, posted: dict) -> None:
        card = view.get("external") or posted.get("external") or {}
        if not card.get("uri"):
            return
        self.links.append(card["uri"])
        thumb = card.get("thumb")
        self.media.append(
            {"type": "link_card", "url": card["uri"], "title": card.get("title") or None,
             "description": card.get("description") or None,
             "thumb": thumb if isinstance(thumb, str) else None}
        )

    def _record(self, view: dict, posted: dict) -> None:
        shown = view.get("record") if isinstance(view.get("record"), dict) else {}
        uri = (posted.get("record") or {}).get("uri") or shown.get("uri")
        if not uri:
            return
        if uri_collection(uri) == POST_COLLECTION:
            self.quoted_uri = uri
            self.extra["quoted_post"] = _quoted_summary(shown, uri)
        else:  # a feed generator, list or starter pack shared in a post
            self.extra["embedded_record"] = {"uri": uri, "type": shown.get("$type")}

    def _record_with_media(self, view: dict, posted: dict) -> None:
        self._record(view.get("record") or {}, posted.get("record") or {})
        self.add(view.get("media"), posted.get("media"))

    def _unknown(self, view: dict, posted: dict) -> None:
        # A type this code does not know yet (lexicons grow): keep it whole.
        raw = view or posted
        self.media.append({"type": "unknown", "embed_type": raw.get("$type"), "url": None, "raw": raw})


def _as_dict(value: Any) -> dict | None:
    return value if isinstance(value, dict) else None


def embed_kind(embed: dict) -> str:
    """``app.bsky.embed.images#view`` and ``app.bsky.embed.images`` alike."""
    return str(embed.get("$type", "")).split("#", 1)[0]


def _blob_cid(blob: Any) -> str | None:
    if not isinstance(blob, dict):
        return None
    ref = blob.get("ref")
    if isinstance(ref, dict):
        return ref.get("$link")
    return blob.get("cid")  # legacy blob form


def _cdn_image(did: str, cid: str | None) -> str | None:
    return f"https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid}@jpeg" if cid else None


def _quoted_summary(shown: dict, uri: str) -> dict[str, Any]:
    kind = shown.get("$type", "")
    if kind.endswith("#viewRecord") and isinstance(shown.get("value"), dict):
        return _post_summary(shown, shown["value"])
    # viewNotFound, viewBlocked, viewDetached: the quoted post is not shown.
    status = kind.split("#view", 1)[-1].lower() if "#view" in kind else None
    return {"uri": uri, "unavailable": status or None}


def _post_summary(view: dict, record: dict) -> dict[str, Any]:
    author = view.get("author") or {}
    return {
        "uri": view.get("uri"),
        "author_did": author.get("did"),
        "author_handle": author.get("handle"),
        "text": record.get("text"),
        "created_at": record.get("createdAt"),
    }


# --- re-check archived posts --------------------------------------------------------

GET_POSTS_LIMIT = 25  # app.bsky.feed.getPosts takes at most 25 uris
ACCOUNT_ERRORS = {
    # getProfile's error names (bsky AppView, actor/getProfile.ts)
    "AccountTakedown": "suspended",  # "Account has been suspended"
    # The owner hid the account; reversible, so not a deletion: like a
    # protected account, the posts exist but are not shown.
    "AccountDeactivated": "protected",
}


def fetch_posts(client: PoliteClient, base_url: str, uris: list[str]) -> FetchedPage:
    # An XRPC array parameter is the name repeated: uris=a&uris=b.
    return client.get(f"{base_url}/xrpc/app.bsky.feed.getPosts", params={"uris": list(uris)}, kind=PLATFORM)


def fetch_profile(client: PoliteClient, base_url: str, actor: str) -> FetchedPage:
    # 400 is an answer here: the AppView says why it will not show the account.
    return client.get(
        f"{base_url}/xrpc/app.bsky.actor.getProfile", params={"actor": actor}, kind=PLATFORM, ok_statuses=(400,)
    )


def parse_posts_response(body: str, where: str) -> list[dict]:
    """The postViews of a getPosts answer, or ParseFailure."""
    response = loads_json(body, f"Bluesky getPosts answer {where}")
    posts = response.get("posts")
    if not isinstance(posts, list):
        raise ParseFailure(f"Bluesky getPosts answer {where} has no 'posts' list")
    for index, view in enumerate(posts):
        check_entry(view, f"{where}#posts[{index}]")
    return posts


def recheck_posts(client, targets: list[RecheckTarget], source_id: str, options: dict) -> Iterator[RawItem | Unparsed]:
    """Fetch archived posts again, 25 to a request (getPosts).

    A post in the answer comes back as a feed item, as in a scrape. A post
    missing from a successful answer is gone: a tombstone, "suspended" or
    "protected" when getProfile says the author's account was taken down or
    deactivated, else "deleted". Reposts (app.bsky.feed.repost records) are
    not posts getPosts can return and are skipped. Errors raise SourceError
    and no tombstone is made."""
    base_url = (options.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
    posts = [t for t in _unique_targets(targets) if uri_collection(t.native_id) == POST_COLLECTION]
    accounts: dict[str, tuple[str, dict]] = {}
    for start in range(0, len(posts), GET_POSTS_LIMIT):
        batch = posts[start : start + GET_POSTS_LIMIT]
        page = fetch_posts(client, base_url, [t.native_id for t in batch])
        try:
            views = parse_posts_response(page.body, page.url)
        except ParseFailure as exc:
            # Not an answer about the posts: no tombstones.
            yield Unparsed(str(exc), page.url, page.body, source_id, page.url, page)
            continue
        found = _views_by_key(views)
        for target in batch:
            match = found.get(_target_key(target.native_id))
            if match is not None:
                index, view = match
                yield raw_item({"post": view}, source_id, f"{page.url}#posts[{index}]", page)
                continue
            author = uri_authority(target.native_id)
            if author not in accounts:
                accounts[author] = _account_state(client, base_url, author)
            reason, detail = accounts[author]
            yield tombstone_item(
                PLATFORM,
                target.native_id,
                reason,
                source_id=source_id,
                location=f"{page.url}#missing:{target.native_id}",
                url=target.url,
                page=page,
                detail={"via": "app.bsky.feed.getPosts", **detail},
            )


def _unique_targets(targets: list[RecheckTarget]) -> list[RecheckTarget]:
    seen: dict[str, RecheckTarget] = {}
    for target in targets:
        seen.setdefault(target.native_id, target)
    return list(seen.values())


def _target_key(uri: str) -> tuple[str, str, str]:
    """(authority, collection, rkey), the authority lower-cased when it is a
    handle: an archived URI may name the author by handle, an answer always
    by DID, which :func:`_views_by_key` indexes both ways."""
    authority = uri_authority(uri)
    rkey = uri.rstrip("/").rsplit("/", 1)[-1]
    return (authority if authority.startswith("did:") else authority.lower(), uri_collection(uri) or "", rkey)


def _views_by_key(views: list[dict]) -> dict[tuple[str, str, str], tuple[int, dict]]:
    found: dict[tuple[str, str, str], tuple[int, dict]] = {}
    for index, view in enumerate(views):
        did_key = _target_key(view["uri"])
        found[did_key] = (index, view)
        handle = (view.get("author") or {}).get("handle")
        if handle and handle != "handle.invalid":
            found[(handle.lower(), did_key[1], did_key[2])] = (index, view)
    return found


def _account_state(client, base_url: str, actor: str) -> tuple[str, dict]:
    """Why an author's posts are missing: ("suspended"|"protected", detail)
    when the AppView refuses the account, else ("deleted", detail)."""
    page = fetch_profile(client, base_url, actor)
    if page.status == 200:
        return "deleted", {}
    try:
        error = loads(page.body)
    except json.JSONDecodeError:
        error = {}
    error = error if isinstance(error, dict) else {}
    name, message = error.get("error"), error.get("message")
    detail = {"account_error": name, "account_message": message}
    detail = {k: v for k, v in detail.items() if v}
    if name in ACCOUNT_ERRORS:
        return ACCOUNT_ERRORS[name], detail
    # "Profile not found": the account itself is gone, and its posts with it.
    return "deleted", detail
