"""X/Twitter: timelines through the paid API v2, known posts without a token.

Two ways in, because X gives nothing else (see docs/platforms/x.md):

* with ``X_BEARER_TOKEN`` set, :func:`scrape_account` pages an account's
  timeline through API v2 (``/2/users/:id/tweets``, pay-per-use);
* without a token, :func:`hydrate_posts` reads posts whose ids or URLs are
  already known (from articles, other archives) through the embed endpoints:
  the syndication ``tweet-result`` JSON first, oEmbed as the fallback.

The token is read from the environment at call time and only ever put in a
request header; PoliteClient never copies request headers into a FetchedPage.

X sends post text HTML-escaped (``&amp;``, ``&lt;``, ``&gt;``). Links are
expanded while the text is still escaped (the expanded URL escaped too), and
the text is unescaped exactly once, when the Post is built: decoding twice
would break ``&amp;lt;`` typed as text or ``&region=`` in an expanded URL.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from .. import jsonio
from ..errors import ParseFailure, SourceError
from ..http import HTTPStatusError, PoliteClient
from ..model import FetchedPage, Post, RawItem, post_key
from ..normalise import (
    item_json,
    loads_json,
    parse_embed_date,
    snowflake_time,
    to_utc_iso,
    tombstone_item,
    unique,
)
from ..shapes import describe_text, not_this_shape
from . import ItemStream, RecheckTarget, ScrapeRequest, Unparsed
from .decoding import looks_like_jsonl, loads, read_element, read_whole, too_large
from .filestream import numbered_lines, open_text

TOKEN_ENV = "X_BEARER_TOKEN"
API_BASE = "https://api.x.com"
SYNDICATION_BASE = "https://cdn.syndication.twimg.com"
OEMBED_BASE = "https://publish.twitter.com"

V2_FORMAT = "x-v2-tweet"
SYNDICATION_FORMAT = "x-syndication-tweet"
OEMBED_FORMAT = "x-oembed"

TIMELINE_FIELDS = {
    "max_results": "100",
    "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id,attachments.media_keys",
    "tweet.fields": (
        "created_at,lang,entities,public_metrics,edit_history_tweet_ids,conversation_id,"
        "in_reply_to_user_id,referenced_tweets,note_tweet,attachments,author_id"
    ),
    "user.fields": "username,name",
    "media.fields": "url,preview_image_url,type",
}

# X's codes for "no language": undetermined, no linguistic content, and the
# q* pseudo-codes (qme media only, qht hashtags only, qam mentions only ...).
_NO_LANGUAGE = re.compile(r"^(und|zxx|q[a-z]{2})$")
_STATUS_ID = re.compile(r"/status(?:es)?/(\d{1,25})(?:\D|$)")
_BARE_ID = re.compile(r"^\d{1,25}$")
_MEDIA_PAGE = re.compile(r"/status/\d+/(?:photo|video)/\d+/?$")


# --- the syndication token ---------------------------------------------------

_RADIX_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def syndication_token(tweet_id: str | int) -> str:
    """The ``token`` the syndication endpoint asks for, as react-tweet makes it:
    ``((Number(id) / 1e15) * Math.PI).toString(36).replace(/(0+|\\.)/g, '')``.

    Python's int -> float is correctly rounded like JS ``Number(string)``,
    and ``/`` and ``*`` are the same IEEE operations; only ``toString(36)``
    needs care (see :func:`js_radix_string`)."""
    value = (int(tweet_id) / 1e15) * math.pi
    return re.sub(r"(0+|\.)", "", js_radix_string(value, 36))


def js_radix_string(value: float, radix: int) -> str:
    """``Number.prototype.toString(radix)`` as V8 computes it (its
    ``DoubleToRadixCString``): fraction digits only while they are still
    significant against half the gap to the next double, rounding half to
    even with carry. The spec leaves these digits to the engine, so matching
    the browser means matching V8, not producing the shortest digits."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    negative = value < 0
    value = abs(value)
    integer = math.floor(value)
    fraction = value - integer
    delta = max(math.nextafter(0.0, 1.0), 0.5 * (math.nextafter(value, math.inf) - value))
    fraction_digits: list[int] = []
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            fraction_digits.append(digit)
            fraction -= digit
            if (fraction > 0.5 or (fraction == 0.5 and digit & 1)) and fraction + delta > 1:
                integer += _round_up(fraction_digits, radix)
                break
            if fraction < delta:
                break
    return ("-" if negative else "") + _js_integer_digits(integer, radix) + (
        "." + "".join(_RADIX_DIGITS[d] for d in fraction_digits) if fraction_digits else ""
    )


def _round_up(digits: list[int], radix: int) -> int:
    """Add one in the last place; return 1 if the carry reaches the integer part."""
    while digits:
        last = digits.pop()
        if last + 1 < radix:
            digits.append(last + 1)
            return 0
    return 1


def _js_integer_digits(integer: float, radix: int) -> str:
    digits = []
    # Beyond 2**53 a double has no units digit: V8 writes zeros there.
    while integer / radix >= 2.0**53:
        integer /= radix
        digits.append("0")
    while True:
        remainder = math.fmod(integer, radix)
        digits.append(_RADIX_DIGITS[int(remainder)])
        integer = (integer - remainder) / radix
        if not integer > 0:
            break
    return "".join(reversed(digits))


# --- ids and times -------------------------------------------------------------


def tweet_id_from(value: str | int) -> str | None:
    """A status id from an id or a post URL (x.com, twitter.com, mobile, /i/web/status)."""
    text = str(value).strip()
    if _BARE_ID.match(text):
        return text
    match = _STATUS_ID.search(text)
    return match.group(1) if match else None


def post_url(handle: str | None, tweet_id: str) -> str:
    return f"https://x.com/{handle or 'i'}/status/{tweet_id}"


def _moment(value: str | None) -> datetime | None:
    iso = to_utc_iso(value)
    if not iso:
        return None
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _api_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_payload(value: Any) -> str:
    return jsonio.dumps(value, sort_keys=True)


# --- fetch (network only) -------------------------------------------------------


def bearer_headers() -> dict[str, str] | None:
    """Authorization header from the environment, read now, never stored."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    return {"Authorization": f"Bearer {token}"} if token else None


def fetch_user(client: PoliteClient, base_url: str, username: str, headers: dict) -> FetchedPage:
    return client.get(f"{base_url}/2/users/by/username/{username}", params={"user.fields": "username,name"}, headers=headers)


def fetch_timeline_page(client: PoliteClient, base_url: str, user_id: str, params: dict, headers: dict) -> FetchedPage:
    return client.get(f"{base_url}/2/users/{user_id}/tweets", params=params, headers=headers)


def fetch_syndication(client: PoliteClient, base_url: str, tweet_id: str) -> FetchedPage:
    params = {"id": tweet_id, "token": syndication_token(tweet_id), "lang": "en"}
    return client.get(f"{base_url}/tweet-result", params=params, ok_statuses=(404,))


def fetch_oembed(client: PoliteClient, base_url: str, tweet_id: str) -> FetchedPage:
    params = {"url": f"https://twitter.com/i/status/{tweet_id}", "omit_script": "1", "dnt": "1"}
    return client.get(f"{base_url}/oembed", params=params, ok_statuses=(403, 404))


# --- items from API v2 pages (pure) ----------------------------------------------


def parse_v2_page(body: str | dict) -> dict:
    """A timeline page as JSON (or already parsed), checked enough that a
    changed format fails loudly."""
    page = body if isinstance(body, dict) else loads_json(body, "X API v2 page")
    data = page.get("data", [])
    if not isinstance(data, list):
        raise ParseFailure(f"X API v2 page: 'data' is a {type(data).__name__}, not a list")
    if "data" not in page and "meta" not in page:
        raise ParseFailure("X API v2 page has neither 'data' nor 'meta'")
    for index, tweet in enumerate(data):
        if not isinstance(tweet, dict) or not tweet.get("id") or "text" not in tweet:
            raise ParseFailure(f"X API v2 page: data[{index}] is not a post (no id or text)")
    if not isinstance(page.get("includes", {}), dict) or not isinstance(page.get("meta", {}), dict):
        raise ParseFailure("X API v2 page: 'includes' or 'meta' is not an object")
    return page


def items_from_v2_page(
    body: str | dict,
    source_id: str,
    location: str,
    page: FetchedPage | None = None,
    account_handle: str | None = None,
    text_payloads: bool = True,
) -> list[RawItem]:
    """One RawItem per post in ``data``, each with the ``includes`` it refers
    to. ``text_payloads=False`` leaves each item's payload as the parsed post
    only (``decoded``), for readers that store the whole page instead."""
    parsed = parse_v2_page(body)
    includes = _IncludesIndex(parsed.get("includes", {}))
    items = []
    for index, tweet in enumerate(parsed.get("data", [])):
        context: dict[str, Any] = {"includes": includes.for_post(tweet)}
        if account_handle:
            context["account_handle"] = account_handle
        payload = _json_payload(tweet) if text_payloads else None
        item = RawItem.from_page(V2_FORMAT, payload, source_id, f"{location}#data[{index}]", page, context)
        item.decoded = tweet
        items.append(item)
    return items


def v2_next_token(body: str) -> str | None:
    return parse_v2_page(body).get("meta", {}).get("next_token")


class _IncludesIndex:
    """A page's ``includes`` indexed once, so each post picks its own
    expansions without scanning the lists again."""

    def __init__(self, includes: dict):
        self.tweets = {t.get("id"): t for t in includes.get("tweets", []) if isinstance(t, dict)}
        self.users = {}
        for user in includes.get("users", []):
            self.users.setdefault(user.get("id"), user)
        self.media = {}
        for media in includes.get("media", []):
            self.media.setdefault(media.get("media_key"), media)
        self._user_order = {id(u): n for n, u in enumerate(includes.get("users", []))}
        self._media_order = {id(m): n for n, m in enumerate(includes.get("media", []))}

    def for_post(self, tweet: dict) -> dict:
        """Only the expansions this post refers to, so the item stands alone
        (in the page's order)."""
        if "referenced_tweets" not in tweet and "attachments" not in tweet:
            # Most posts quote, repost or answer no post and attach no media:
            # of the expansions, they refer to users only (what follows, minus
            # the empty lists).
            users = [self.users[i] for i in {tweet.get("author_id"), tweet.get("in_reply_to_user_id")} if i in self.users]
            if len(users) > 1:
                users.sort(key=lambda u: self._user_order[id(u)])
            return {"users": users} if users else {}
        tweets = self.tweets
        referenced = [tweets[r.get("id")] for r in tweet.get("referenced_tweets", []) if r.get("id") in tweets]
        user_ids = {tweet.get("author_id"), tweet.get("in_reply_to_user_id")}
        user_ids.update(t.get("author_id") for t in referenced)
        media_keys = set()
        for post in [tweet, *referenced]:
            media_keys.update(post.get("attachments", {}).get("media_keys", []))
        users = [self.users[i] for i in user_ids if i in self.users]
        if len(users) > 1:
            users.sort(key=lambda u: self._user_order[id(u)])
        media = [self.media[k] for k in media_keys if k in self.media]
        if len(media) > 1:
            media.sort(key=lambda m: self._media_order[id(m)])
        selected = {"users": users, "tweets": referenced, "media": media}
        return {name: value for name, value in selected.items() if value}


def _v2_errors(body: str) -> list[dict] | None:
    """The ``errors`` of a 200 answer that carries no data (unknown or suspended user)."""
    try:
        parsed = loads(body)
    except json.JSONDecodeError:
        return None
    if isinstance(parsed, dict) and "data" not in parsed and parsed.get("errors"):
        return [e for e in parsed["errors"] if isinstance(e, dict)]
    return None


def user_id_from_lookup(page: FetchedPage, username: str) -> str:
    errors = _v2_errors(page.body)
    if errors:
        detail = errors[0].get("detail") or errors[0].get("title") or "unknown error"
        raise SourceError(f"X account @{username} not available ({page.url}): {detail}")
    user = loads_json(page.body, f"X user lookup for @{username}").get("data")
    if not isinstance(user, dict) or not user.get("id"):
        raise SourceError(f"X user lookup for @{username} ({page.url}) returned no user id")
    return str(user["id"])


# --- scrape an account (API v2, token required) ----------------------------------


def scrape_account(client: PoliteClient, request: ScrapeRequest) -> ItemStream:
    """Yield the account's posts newest first, inside the window, newer than since_id."""
    handle = (request.account.handle or "").lstrip("@") or None
    who = f"@{handle}" if handle else f"user id {request.account.platform_id}"
    headers = bearer_headers()
    if headers is None:
        raise SourceError(
            f"X timelines need an API token: set {TOKEN_ENV} (X API v2 is pay-per-use) to scrape {who}; "
            "without a token only known posts can be read (hydrate_posts)."
        )
    base_url = str(request.options.get("base_url", API_BASE)).rstrip("/")
    user_id = request.account.platform_id
    if not user_id:
        if not handle:
            raise SourceError("X account has neither a handle nor a user id")
        page = _get_or_explain(lambda: fetch_user(client, base_url, handle, headers), who)
        user_id = user_id_from_lookup(page, handle)
    yield from _timeline(client, request, base_url, user_id, headers, who, handle)


def _timeline(client, request, base_url, user_id, headers, who, handle) -> ItemStream:
    window_start, window_end = _moment(request.window_start), _moment(request.window_end)
    since_id = int(request.since_id) if request.since_id else None
    params = dict(TIMELINE_FIELDS)
    if window_start:
        params["start_time"] = _api_time(window_start)
    if window_end:
        params["end_time"] = _api_time(window_end)
    if since_id:
        params["since_id"] = str(since_id)
    while True:
        page = _get_or_explain(lambda: fetch_timeline_page(client, base_url, user_id, params, headers), who)
        errors = _v2_errors(page.body)
        if errors and "meta" not in loads(page.body):
            detail = errors[0].get("detail") or errors[0].get("title") or "unknown error"
            raise SourceError(f"X timeline of {who} not available ({page.url}): {detail}")
        try:
            items = items_from_v2_page(page.body, request.source_id, page.url, page, handle)
            next_token = v2_next_token(page.body)
        except ParseFailure as exc:
            yield Unparsed(str(exc), page.url, page.body, request.source_id, page.url, page)
            return
        for item in items:
            tweet = json.loads(item.payload)
            created = _moment(tweet.get("created_at")) or _moment(snowflake_time(tweet["id"]))
            # The API filters too; checking here keeps a lax or replayed answer honest.
            if since_id is not None and int(tweet["id"]) <= since_id:
                return
            if window_start and created and created < window_start:
                return
            if window_end and created and created > window_end:
                continue
            yield item
        if not next_token:
            return
        params = {**params, "pagination_token": next_token}


def _get_or_explain(get, who: str) -> FetchedPage:
    """Run a request; turn refusals and unknown accounts into clear SourceErrors."""
    try:
        return get()
    except HTTPStatusError as exc:
        url, status = exc.page.url, exc.status
        if status in (401, 403):
            raise SourceError(
                f"X refused the request for {who} ({url}): HTTP {status}; "
                f"check that {TOKEN_ENV} holds a valid bearer token with read access"
            ) from exc
        if status == 404:
            raise SourceError(f"X account {who} not found ({url}): HTTP 404") from exc
        raise SourceError(f"X request for {who} failed ({url}): {exc}") from exc


# --- hydrate known posts without a token ----------------------------------------------


def hydrate_posts(
    client: PoliteClient,
    ids_or_urls: Iterable[str | int],
    source_id: str,
    options: dict | None = None,
) -> ItemStream:
    """One RawItem per known post: syndication JSON, else oEmbed; tombstones and
    404s become items whose Post is marked unavailable. An input that is no
    post id, or a post neither endpoint would serve, is yielded as Unparsed."""
    options = options or {}
    common = options.get("base_url")
    syndication_base = str(options.get("syndication_base_url") or common or SYNDICATION_BASE).rstrip("/")
    oembed_base = str(options.get("oembed_base_url") or common or OEMBED_BASE).rstrip("/")
    for value in ids_or_urls:
        tweet_id = tweet_id_from(value)
        if tweet_id is None:
            yield Unparsed(f"not an X post id or URL: {value!r}", str(value), str(value), source_id)
            continue
        item = _hydrate_from_syndication(client, syndication_base, tweet_id, source_id)
        if item is None:
            item = _hydrate_from_oembed(client, oembed_base, tweet_id, source_id)
        yield item


def _hydrate_from_syndication(client, base_url, tweet_id, source_id) -> RawItem | None:
    """The syndication item, or None when the answer is no use (then try oEmbed)."""
    try:
        page = fetch_syndication(client, base_url, tweet_id)
    except SourceError:
        return None
    try:
        return item_from_syndication(page.body, tweet_id, source_id, page.url, page, page.status)
    except ParseFailure:
        return None


def _hydrate_from_oembed(client, base_url, tweet_id, source_id) -> RawItem | Unparsed:
    try:
        page = fetch_oembed(client, base_url, tweet_id)
    except SourceError as exc:
        return Unparsed(f"X post {tweet_id}: syndication and oEmbed both failed: {exc}", tweet_id, "", source_id)
    try:
        return item_from_oembed(page.body, tweet_id, source_id, page.url, page, page.status)
    except ParseFailure as exc:
        return Unparsed(f"X post {tweet_id}: {exc}", page.url, page.body, source_id, page.url, page)


def item_from_syndication(
    body: str,
    tweet_id: str | None,
    source_id: str,
    location: str,
    page: FetchedPage | None = None,
    status: int | None = 200,
) -> RawItem:
    """A tweet-result answer as a RawItem. A 404 keeps its body as received;
    an empty object (what a wrong token gets) or a tweet without its user
    (seen for suspended accounts) is no answer and raises ParseFailure."""
    context = {"tweet_id": tweet_id, "http_status": status}
    if status == 404:
        return _raw(SYNDICATION_FORMAT, body, source_id, location, page, context)
    data = loads_json(body, "syndication tweet-result")
    if isinstance(data.get("data"), dict) and ("id_str" in data["data"] or "__typename" in data["data"]):
        data = data["data"]  # saved from an endpoint that wraps the answer ({"data": {...}})
    if data.get("__typename") == "TweetTombstone":
        return _raw(SYNDICATION_FORMAT, _json_payload(data), source_id, location, page, context)
    if not data.get("id_str") or not isinstance(data.get("user"), dict):
        raise ParseFailure("syndication tweet-result is neither a tweet with its user nor a tombstone")
    context["tweet_id"] = data["id_str"]
    return _raw(SYNDICATION_FORMAT, _json_payload(data), source_id, location, page, context)


def item_from_oembed(
    body: str,
    tweet_id: str | None,
    source_id: str,
    location: str,
    page: FetchedPage | None = None,
    status: int | None = 200,
) -> RawItem:
    context = {"tweet_id": tweet_id, "http_status": status}
    if status in (403, 404):
        return _raw(OEMBED_FORMAT, body, source_id, location, page, context)
    data = loads_json(body, "oEmbed answer")
    if "<blockquote" not in str(data.get("html", "")):
        raise ParseFailure("oEmbed answer has no blockquote in 'html'")
    return _raw(OEMBED_FORMAT, _json_payload(data), source_id, location, page, context)


def _raw(fmt, payload, source_id, location, page, context) -> RawItem:
    return RawItem.from_page(fmt, payload, source_id, location, page, context)


# --- text helpers (pure) --------------------------------------------------------------


def _expand_urls(text: str, url_entities: Iterable[dict]) -> tuple[str, list[str]]:
    """Replace t.co links by their full URLs; drop the trailing media link.

    The t.co link X appends for attached photos/videos says nothing the
    ``media`` list does not, so it goes when it ends the text; anywhere else
    it is replaced by its expanded URL like any link. Text and inserted URLs
    stay HTML-escaped until the Post is built (see the module docstring)."""
    links: list[str] = []
    for entity in url_entities:
        short = entity.get("url")
        if not short:
            continue
        full = entity.get("expanded_url") or entity.get("unwound_url") or short
        is_media = bool(entity.get("media_key")) or bool(_MEDIA_PAGE.search(full))
        stripped = text.rstrip()
        if is_media and stripped.endswith(short):
            text = stripped[: -len(short)].rstrip()
            continue
        text = text.replace(short, html.escape(full, quote=False))
        if not is_media and full not in links:
            links.append(full)
    return text, links


def _unavailable_reason(tombstone_text: str | None) -> str:
    text = (tombstone_text or "").lower()
    if "suspended" in text:
        return "suspended"
    if "protected" in text or "limits who can view" in text or "not authorized" in text:
        return "protected"
    if "withheld" in text:
        return "withheld"
    return "deleted"


def _language(code: str | None) -> str | None:
    return None if not code or _NO_LANGUAGE.match(code) else code



def _unavailable_post(tweet_id: str | None, reason: str, extra: dict) -> Post:
    return Post(
        platform="x",
        native_id=tweet_id,
        text="",
        url=post_url(None, tweet_id) if tweet_id else None,
        created_at=snowflake_time(tweet_id) if tweet_id else None,
        unavailable=reason,
        extra=extra,
    )


# --- transform: API v2 ---------------------------------------------------------------


def transform_v2_tweet(item: RawItem) -> Post:
    tweet = item_json(item, "X API v2 post")
    includes = item.context.get("includes", {})
    users = {u["id"]: u for u in includes.get("users", [])}
    # (most posts refer to no other post and attach no media)
    tweets = {t["id"]: t for t in includes["tweets"]} if "tweets" in includes else {}
    media_by_key = {m["media_key"]: m for m in includes["media"]} if "media" in includes else {}
    refs = {r["type"]: r["id"] for r in tweet["referenced_tweets"]} if "referenced_tweets" in tweet else {}
    author = users.get(tweet.get("author_id"), {})
    handle = author.get("username") or item.context.get("account_handle")

    source = tweets.get(refs.get("retweeted")) or tweet  # a retweet's own text is cut
    text, links, hashtags, mentions = _v2_text(source)
    if source is not tweet:
        original_handle = users.get(source.get("author_id"), {}).get("username")
        if original_handle:
            text = f"RT @{original_handle}: {text}"
            mentions = unique([original_handle, *mentions])
    media = [_v2_media(media_by_key[k]) for k in _media_keys(tweet, source) if k in media_by_key] if media_by_key else []

    metrics = tweet.get("public_metrics", {})
    created_at, edited_at = _v2_times(tweet)
    return Post(
        platform="x",
        native_id=str(tweet["id"]),
        text=html.unescape(text),
        author_handle=handle,
        author_display_name=author.get("name"),
        author_platform_id=tweet.get("author_id"),
        url=post_url(handle, tweet["id"]),
        created_at=created_at,
        language=_language(tweet.get("lang")),
        reply_to=_key(refs.get("replied_to")),
        quote_of=_key(refs.get("quoted")),
        repost_of=_key(refs.get("retweeted")),
        hashtags=hashtags,
        mentions=mentions,
        links=links,
        media=media,
        reply_count=metrics.get("reply_count"),
        repost_count=metrics.get("retweet_count"),
        like_count=metrics.get("like_count"),
        quote_count=metrics.get("quote_count"),
        view_count=metrics.get("impression_count"),
        edited_at=edited_at,
        extra=_v2_extra(tweet, users, tweets, refs),
    )


def _key(tweet_id: str | None) -> str | None:
    return post_key("x", str(tweet_id)) if tweet_id else None


def _v2_text(tweet: dict) -> tuple[str, list[str], list[str], list[str]]:
    """Full text (a long post's note_tweet when present) with links expanded."""
    note = tweet.get("note_tweet") or {}
    note_text = note.get("text")
    text = note_text or tweet.get("text", "")
    entities = (note.get("entities") if note_text else tweet.get("entities")) or {}
    # The media link of a long post sits in the short text's entities only.
    media_links = [u for u in tweet.get("entities", {}).get("urls", []) if u.get("media_key")]
    text, links = _expand_urls(text, [*entities.get("urls", []), *media_links])
    hashtags = unique([h.get("tag") for h in entities.get("hashtags", [])])
    mentions = unique([m.get("username") for m in entities.get("mentions", [])])
    return text, links, hashtags, mentions


def _media_keys(tweet: dict, source: dict) -> list[str]:
    keys = tweet.get("attachments", {}).get("media_keys") or source.get("attachments", {}).get("media_keys") or []
    return list(keys)


def _v2_media(media: dict) -> dict:
    best_video = max(
        (v for v in media.get("variants", []) if v.get("content_type") == "video/mp4"),
        key=lambda v: v.get("bit_rate", 0),
        default=None,
    )
    url = media.get("url") or (best_video or {}).get("url") or media.get("preview_image_url")
    entry = {"type": media.get("type"), "url": url, "media_key": media.get("media_key")}
    if media.get("preview_image_url"):
        entry["preview_url"] = media["preview_image_url"]
    if media.get("alt_text"):
        entry["alt_text"] = media["alt_text"]
    return entry


def _v2_times(tweet: dict) -> tuple[str | None, str | None]:
    """(created_at, edited_at). An edit is a new post id whose created_at is the
    time of the edit; the first id in the history carries the original time."""
    # A page saved without tweet.fields has no created_at: the id knows the time.
    created = to_utc_iso(tweet.get("created_at")) or to_utc_iso(snowflake_time(tweet["id"]))
    return _edit_times(tweet["id"], created, tweet.get("edit_history_tweet_ids") or [])


def _edit_times(post_id, created: str | None, history: list) -> tuple[str | None, str | None]:
    """(created_at, edited_at) of the latest version of an edited post: its
    own time is the edit's; the first id in the history carries the original's."""
    if len(history) > 1 and str(history[-1]) == str(post_id):
        original = snowflake_time(history[0])
        return (to_utc_iso(original) if original else created), created
    return created, None


def _v2_extra(tweet: dict, users: dict, tweets: dict, refs: dict) -> dict:
    # What the post's columns do not say already (the raw payload keeps the rest):
    # the raw language code when it is not the post's language, the
    # conversation when it is another post's, the edit history when there was an edit.
    lang, own_id = tweet.get("lang"), str(tweet["id"])
    extra: dict[str, Any] = {"lang": lang} if lang and _language(lang) != lang else {}
    history = tweet.get("edit_history_tweet_ids") or []
    if tweet.get("conversation_id") and str(tweet["conversation_id"]) != own_id:
        extra["conversation_id"] = tweet["conversation_id"]
    if len(history) > 1 or (history and str(history[0]) != own_id):
        extra["edit_history_tweet_ids"] = history
    if tweet.get("in_reply_to_user_id"):
        extra["in_reply_to_user_id"] = tweet["in_reply_to_user_id"]
    if history and str(history[-1]) != str(tweet["id"]):
        extra["superseded_by"] = str(history[-1])  # an older version of an edited post
    if tweet.get("note_tweet"):
        extra["long_post"] = True
    bookmarks = tweet.get("public_metrics", {}).get("bookmark_count")
    if bookmarks is not None:
        extra["bookmark_count"] = bookmarks
    if tweets:  # (the page's expansions hold a post this one refers to)
        for kind, name in (("replied_to", "reply_to_post"), ("quoted", "quoted_post"), ("retweeted", "reposted_post")):
            referenced = tweets.get(refs.get(kind))
            if referenced:
                extra[name] = _v2_summary(referenced, users)
    if "reply_to_post" not in extra and tweet.get("in_reply_to_user_id") in users:
        handle = users[tweet["in_reply_to_user_id"]].get("username")
        if handle is not None:  # (the one value above that may be missing)
            extra["reply_to_handle"] = handle
    return extra


def _v2_summary(tweet: dict, users: dict) -> dict:
    text, _links, _tags, _mentions = _v2_text(tweet)
    author = users.get(tweet.get("author_id"), {})
    return {
        "id": str(tweet["id"]),
        "author_handle": author.get("username"),
        "author_platform_id": tweet.get("author_id"),
        "created_at": to_utc_iso(tweet.get("created_at")),
        "text": html.unescape(text),
    }


# --- transform: syndication tweet-result -------------------------------------------------


def transform_syndication_tweet(item: RawItem) -> Post:
    tweet_id = item.context.get("tweet_id")
    if item.context.get("http_status") == 404:
        return _unavailable_post(tweet_id, "deleted", {"http_status": 404, "via": "syndication"})
    data = loads_json(item.payload, "syndication tweet-result")
    if data.get("__typename") == "TweetTombstone":
        tombstone_text = ((data.get("tombstone") or {}).get("text") or {}).get("text")
        extra = {"tombstone_text": tombstone_text, "via": "syndication"}
        return _unavailable_post(tweet_id, _unavailable_reason(tombstone_text), extra)
    return _syndication_post(data)


def _syndication_post(data: dict) -> Post:
    user = data.get("user") or {}
    entities = data.get("entities") or {}
    text, links = _expand_urls(data.get("text", ""), [*entities.get("urls", []), *_media_entities(entities)])
    handle = user.get("screen_name")
    edits = syndication_edit_ids(data)
    extra: dict[str, Any] = {"lang": data.get("lang"), "via": "syndication"}
    if len(edits) > 1:
        extra["edit_history_tweet_ids"] = edits
    if data.get("note_tweet"):
        extra["text_truncated"] = True  # the endpoint gives a long post's first part only
    if data.get("in_reply_to_screen_name"):
        extra["reply_to_handle"] = data["in_reply_to_screen_name"]
    if data.get("conversation_count") is not None:
        extra["conversation_count"] = data["conversation_count"]
    created_at, edited_at = _edit_times(data["id_str"], to_utc_iso(data.get("created_at")), edits)
    return Post(
        platform="x",
        native_id=str(data["id_str"]),
        text=html.unescape(text),
        author_handle=handle,
        author_display_name=user.get("name"),
        author_platform_id=user.get("id_str"),
        url=post_url(handle, data["id_str"]),
        created_at=created_at,
        language=_language(data.get("lang")),
        reply_to=_key(data.get("in_reply_to_status_id_str")),
        quote_of=_key((data.get("quoted_tweet") or {}).get("id_str")),
        hashtags=unique(h.get("text") for h in entities.get("hashtags", [])),
        mentions=unique(m.get("screen_name") for m in entities.get("user_mentions", [])),
        links=links,
        media=[_syndication_media(m) for m in data.get("mediaDetails", [])],
        # The embed shows conversation_count as the reply count.
        reply_count=data.get("reply_count", data.get("conversation_count")),
        repost_count=data.get("retweet_count"),
        like_count=data.get("favorite_count"),
        quote_count=data.get("quote_count"),
        edited_at=edited_at,
        extra={k: v for k, v in extra.items() if v is not None},
    )


def syndication_edit_ids(data: dict) -> list[str]:
    """The edit history of a tweet-result (oldest first): ``edit_control``
    holds it directly, or, on a later version, under ``edit_control_initial``."""
    control = data.get("edit_control") or {}
    ids = control.get("edit_tweet_ids") or (control.get("edit_control_initial") or {}).get("edit_tweet_ids") or []
    return [str(i) for i in ids]


def _media_entities(entities: dict) -> list[dict]:
    # Media entities are always media links, whatever their expanded URL says.
    return [{**m, "media_key": m.get("media_key") or "media"} for m in entities.get("media", [])]


def _syndication_media(media: dict) -> dict:
    variants = (media.get("video_info") or {}).get("variants", [])
    mp4s = [v for v in variants if v.get("content_type") == "video/mp4"]
    best = max(mp4s, key=lambda v: v.get("bitrate", 0), default=None)
    entry = {"type": media.get("type"), "url": (best or {}).get("url") or media.get("media_url_https")}
    if best:
        entry["preview_url"] = media.get("media_url_https")
    if media.get("ext_alt_text"):
        entry["alt_text"] = media["ext_alt_text"]
    return entry


# --- transform: oEmbed -------------------------------------------------------------------


def transform_oembed(item: RawItem) -> Post:
    tweet_id = item.context.get("tweet_id")
    status = item.context.get("http_status")
    if status in (403, 404):
        reason = "protected" if status == 403 else "deleted"
        return _unavailable_post(tweet_id, reason, {"http_status": status, "via": "oembed"})
    data = loads_json(item.payload, "oEmbed answer")
    return _oembed_post(data, tweet_id)


_BYLINE = re.compile(r"^\W*(?P<name>.*?)\s*\(@(?P<handle>\w{1,30})\)\s*$", re.DOTALL)


def _oembed_post(data: dict, tweet_id: str | None) -> Post:
    from bs4 import BeautifulSoup

    quote = BeautifulSoup(data.get("html", ""), "html.parser").find("blockquote")
    if quote is None:
        raise ParseFailure("oEmbed html has no blockquote")
    paragraph = quote.find("p")
    outer_links = quote.find_all("a", recursive=False)
    date_link = outer_links[-1] if outer_links else None  # "June 7, 2021" -> the status URL
    status_url = (date_link.get("href") if date_link else None) or data.get("url", "")
    native_id = tweet_id_from(status_url) or tweet_id
    text, links, hashtags, mentions, media = _oembed_paragraph(paragraph)
    byline = _oembed_byline(quote, paragraph, date_link)
    author_path = (data.get("author_url") or "").rstrip("/").rsplit("/", 1)[-1]
    handle = byline.group("handle") if byline else (author_path or None)
    return Post(
        platform="x",
        native_id=native_id,
        text=text,
        author_handle=handle,
        author_display_name=data.get("author_name") or (byline.group("name") if byline else None),
        url=post_url(handle, native_id) if native_id else data.get("url"),
        # The embed shows the day only; the id knows the second.
        created_at=(to_utc_iso(snowflake_time(native_id)) if native_id else None)
        or parse_embed_date(date_link.get_text() if date_link else ""),
        language=_language(paragraph.get("lang") if paragraph else None),
        hashtags=hashtags,
        mentions=mentions,
        links=links,
        media=media,
        extra={"via": "oembed", "embed_date": date_link.get_text(strip=True) if date_link else None},
    )


def _oembed_paragraph(paragraph) -> tuple[str, list[str], list[str], list[str], list[dict]]:
    if paragraph is None:
        return "", [], [], [], []
    links, hashtags, mentions, media = [], [], [], []
    anchors = paragraph.find_all("a")
    for anchor in anchors:
        label = anchor.get_text(strip=True)
        if label.startswith("#"):
            hashtags.append(label[1:])
        elif label.startswith("@"):
            mentions.append(label[1:])
        elif label.startswith("pic.twitter.com/"):
            media.append({"type": "unknown", "url": "https://" + label, "link": anchor.get("href")})
        elif anchor.get("href"):
            links.append(anchor["href"])
    # Same choice as for the API: the media link that ends the text goes.
    if anchors and anchors[-1].get_text(strip=True).startswith("pic.twitter.com/"):
        anchors[-1].decompose()
    for br in paragraph.find_all("br"):
        br.replace_with("\n")
    text = paragraph.get_text()  # entities decoded once, by the HTML parser
    return text, unique(links), unique(hashtags), unique(mentions), media


def _oembed_byline(quote, paragraph, date_link):
    """'— Name (@handle)' between the paragraph and the date link."""
    parts = []
    for node in quote.children:
        if node is paragraph or node is date_link:
            continue
        parts.append(node.get_text() if hasattr(node, "get_text") else str(node))
    return _BYLINE.match(" ".join("".join(parts).split()))


# --- file formats ---------------------------------------------------------------------


def _json_records(path: str) -> Iterator[tuple[str, str]]:
    """(location, text) per record: a whole-file JSON object, each element of a
    JSON array, or else each non-empty line (JSONL). A file too large to
    read whole is read as JSONL, a line at a time. A file that is neither
    (a pretty-printed answer cut short) is one record, so one parse error,
    not one per line of its indentation."""
    if too_large(path):
        with open_text(path) as stream:
            for number, line in numbered_lines(stream):
                yield f"{path}:{number}", line
        return
    text = read_whole(path)
    try:
        whole = loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        yield path, text
        return
    if isinstance(whole, list):
        for index, record in enumerate(whole):
            yield f"{path}[{index}]", _json_payload(record)
        return
    lines = text.splitlines()
    if whole is None and text.strip() and not looks_like_jsonl(lines):
        yield path, text
        return
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield f"{path}:{number}", line


def read_x_v2(path: str, source_id: str) -> ItemStream:
    """Saved API v2 answers, one file, a JSON array or JSONL: timeline and
    search pages ({data: [...], includes, meta}), a single post lookup
    ({data: {...}, includes}), and, being X too, v1.1 statuses."""
    yield from _read_saved(path, source_id, lambda record, location: x_record_items(record, source_id, location))


def x_record_items(record: str, source_id: str, location: str) -> list[RawItem]:
    """The posts of one saved X answer, whichever API gave it; ParseFailure
    saying what the record is when it holds none an X reader takes."""
    try:
        value = json.loads(record)
    except (json.JSONDecodeError, RecursionError) as exc:
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ParseFailure(f"not JSON ({problem}): {describe_text(record)}") from None
    if isinstance(value, dict) and isinstance(value.get("data"), dict) and "meta" not in value:
        # A single post lookup (GET /2/tweets/:id): one post, no meta.
        items = items_from_v2_page({**value, "data": [value["data"]]}, source_id, location)
        for item in items:
            item.location = f"{location}#data"
        return items
    if isinstance(value, dict) and "data" not in value and "meta" not in value:
        if is_v1_status(value):
            return [raw_item(value, source_id, location)]
        if "id" in value and "text" in value:  # a bare v2 post
            return items_from_v2_page({"data": [value]}, source_id, location)
        raise ParseFailure(not_this_shape(value, "x-v2"))
    if not isinstance(value, dict):
        raise ParseFailure(not_this_shape(value, "x-v2"))
    return items_from_v2_page(value, source_id, location)


# --- v1.1 statuses met by the v2 reader (the v1.1 reader, x_v1, builds on these) ---

V1_FORMAT = "x-v1-tweet"


def id_text(record: dict, key: str = "id") -> str | None:
    """``<key>_str``, else ``<key>`` if it is an integer or a string of
    digits; a float (a rounded id) is never used."""
    value = record.get(f"{key}_str")
    if value is None:
        value = record.get(key)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return None
    text = str(value).strip()
    return text if text.isdigit() else None


def is_v1_status(value: Any) -> bool:
    """A v1.1 status object (not a v2 post, not a syndication answer)."""
    return (
        isinstance(value, dict)
        and "id_str" in value
        and ("full_text" in value or "text" in value or "extended_tweet" in value)
        and id_text(value) is not None
    )


def raw_item(tweet: dict, source_id: str, location: str, context: dict | None = None) -> RawItem:
    return RawItem(
        format=V1_FORMAT,
        payload=json.dumps(tweet, ensure_ascii=False, sort_keys=True),
        source_id=source_id,
        location=location,
        context=context or {},
    )


def read_x_syndication(path: str, source_id: str) -> ItemStream:
    """Saved syndication tweet-result answers (one JSON, an array or JSONL)."""
    yield from _read_saved(path, source_id, lambda record, location: [item_from_syndication(record, None, source_id, location)])


def read_x_oembed(path: str, source_id: str) -> ItemStream:
    """Saved oEmbed answers (one JSON, an array or JSONL)."""
    yield from _read_saved(path, source_id, lambda record, location: [item_from_oembed(record, None, source_id, location)])


def _read_saved(path: str, source_id: str, items_of) -> ItemStream:
    """Each saved record's items; a record that does not parse is Unparsed."""
    for location, record in _json_records(path):
        yield from read_element(record, source_id, location, lambda record, source_id, location: items_of(
            record, location))


# --- re-check archived posts ---------------------------------------------------------


def recheck_posts(client: PoliteClient, targets: list[RecheckTarget], source_id: str, options: dict) -> ItemStream:
    """Fetch archived posts again without a token, the way hydrate_posts reads
    them (syndication tweet-result, oEmbed as the fallback), one request each.

    A live post comes back as its syndication (or oEmbed) item; when it was
    edited since, the latest version is fetched too and yielded after it (an
    edit on X is a new post id). A syndication tombstone or 404, or an oEmbed
    403/404, becomes a tombstone item with the reason the tombstone text
    gives (deleted, suspended, protected, withheld). Unlike hydrate_posts, an
    unreachable service is not an Unparsed item: when oEmbed, the last
    resort, fails with a network error, 429 or 5xx, SourceError propagates."""
    options = options or {}
    common = options.get("base_url")
    syndication_base = str(options.get("syndication_base_url") or common or SYNDICATION_BASE).rstrip("/")
    oembed_base = str(options.get("oembed_base_url") or common or OEMBED_BASE).rstrip("/")
    done: set[str] = set()
    for target in targets:
        tweet_id = tweet_id_from(target.native_id) or tweet_id_from(target.url or "")
        if tweet_id is None:
            yield Unparsed(f"not an X post id or URL: {target.native_id!r}", target.native_id, target.native_id, source_id)
            continue
        if tweet_id in done:
            continue
        done.add(tweet_id)
        item = _recheck_one(client, syndication_base, oembed_base, tweet_id, source_id)
        gone = _gone(item)
        if gone is not None:
            reason, detail = gone
            yield tombstone_item(
                "x",
                target.native_id,
                reason,
                source_id=source_id,
                location=item.location,
                url=target.url or post_url(None, tweet_id),
                page=item.page,
                detail=detail,
            )
            continue
        yield item
        newer = _newer_version(item)
        if newer and newer not in done:
            done.add(newer)
            latest = _recheck_one(client, syndication_base, oembed_base, newer, source_id)
            if _gone(latest) is None:  # a gone newer version says nothing of this one
                yield latest


def _recheck_one(client, syndication_base: str, oembed_base: str, tweet_id: str, source_id: str) -> RawItem | Unparsed:
    """As hydrate_posts for one id, but an unreachable oEmbed raises."""
    try:
        page = fetch_syndication(client, syndication_base, tweet_id)
    except SourceError:
        page = None  # unreachable or refused: oEmbed decides
    if page is not None:
        try:
            return item_from_syndication(page.body, tweet_id, source_id, page.url, page, page.status)
        except ParseFailure:
            pass
    try:
        page = fetch_oembed(client, oembed_base, tweet_id)
    except HTTPStatusError as exc:
        if exc.status == 429 or (exc.status or 0) >= 500:
            raise
        # Another 4xx is an answer, but not about the post: no tombstone.
        return Unparsed(f"X post {tweet_id}: oEmbed answered {exc}", exc.page.url, exc.page.body, source_id, exc.page.url, exc.page)
    try:
        return item_from_oembed(page.body, tweet_id, source_id, page.url, page, page.status)
    except ParseFailure as exc:
        return Unparsed(f"X post {tweet_id}: {exc}", page.url, page.body, source_id, page.url, page)


def _gone(item: RawItem | Unparsed) -> tuple[str, dict] | None:
    """(reason, detail) when the item says the post is unavailable."""
    if not isinstance(item, RawItem):
        return None
    status = item.context.get("http_status")
    if item.format == SYNDICATION_FORMAT:
        if status != 404 and '"TweetTombstone"' not in item.payload:
            return None
        post = transform_syndication_tweet(item)
    elif item.format == OEMBED_FORMAT:
        if status not in (403, 404):
            return None
        post = transform_oembed(item)
    else:
        return None
    return (post.unavailable, post.extra) if post.unavailable else None


def _newer_version(item: RawItem | Unparsed) -> str | None:
    """The id of the latest version when the post was edited since."""
    if not isinstance(item, RawItem) or item.format != SYNDICATION_FORMAT:
        return None
    try:
        data = json.loads(item.payload)
    except json.JSONDecodeError:
        return None
    edits = syndication_edit_ids(data) if isinstance(data, dict) else []
    own = str(data.get("id_str") or item.context.get("tweet_id") or "")
    return edits[-1] if len(edits) > 1 and edits[-1] != own else None
