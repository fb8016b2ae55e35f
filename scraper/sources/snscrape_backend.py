"""snscrape as an optional backend, and snscrape's ``--jsonl`` files.

snscrape (last release 0.7.0.20230622, unmaintained since) still reads a few
sites without login; its Twitter and Mastodon modules no longer work
(docs/platforms/snscrape.md). This module runs one named snscrape scraper
(``telegram-channel``, ``vkontakte-user``, ``weibo-user`` ...) through its
Python API and keeps each item's own JSON as the raw payload, and it reads the
JSONL files that ``snscrape --jsonl`` wrote, old (schema 0.4: ``content``,
``outlinks``) or new (0.5+: ``rawContent``, ``links``).

snscrape does its own HTTP (``requests``, its own retries), so PoliteClient's
budgets and waits do not apply to this backend.
"""

from __future__ import annotations

import html

import dataclasses
import json
import re
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from ..errors import SourceError
from ..model import PLATFORMS, Post, RawItem, post_key
from ..normalise import loads_json, to_utc_iso
from . import ScrapeRequest, Unparsed
from .decoding import loads, read_element
from .filestream import numbered_lines, open_text

FORMAT = "snscrape-item"

# snscrape module (first word of a scraper name or of an item's _type) -> our platform.
_PLATFORM_OF_MODULE = {
    "telegram": "telegram",
    "twitter": "x",
    "mastodon": "mastodon",
    "instagram": "instagram",
    "facebook": "facebook",
}
_PLATFORM_OF_HOST = {
    "t.me": "telegram",
    "twitter.com": "x",
    "x.com": "x",
    "instagram.com": "instagram",
    "facebook.com": "facebook",
}
_TELEGRAM_POST = re.compile(r"^https?://t\.me/(?:s/)?([A-Za-z0-9_]+)/(\d+)")


# --- running a scraper ------------------------------------------------------------


def find_scraper(name: str):
    """The snscrape scraper class registered under ``name`` (``telegram-channel``)."""
    try:
        with warnings.catch_warnings():
            # snscrape loads its modules with find_module(), deprecated in 3.11
            # and gone in 3.12, where this import fails.
            warnings.simplefilter("ignore", DeprecationWarning)
            import snscrape.base
            import snscrape.modules
    except (ImportError, AttributeError) as exc:
        raise SourceError(f"snscrape cannot be loaded: {exc}") from exc
    for module_name in snscrape.modules.__all__:
        module = getattr(snscrape.modules, module_name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, snscrape.base.Scraper)
                and getattr(value, "name", None) == name
            ):
                return value
    raise SourceError(f"snscrape has no scraper named {name!r}")


def platform_of(scraper_or_module: str | None) -> str:
    """``telegram-channel`` -> telegram; ``vkontakte-user``, ``weibo-user`` -> web."""
    module = (scraper_or_module or "").split("-")[0].lower()
    platform = _PLATFORM_OF_MODULE.get(module, "web")
    return platform if platform in PLATFORMS else "web"


def item_payload(item: Any) -> str:
    """An snscrape item as sorted JSON; big integer ids stay exact integers."""
    if hasattr(item, "json"):
        value = json.loads(item.json())
    else:
        value = dataclasses.asdict(item)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def scrape_account(client, request: ScrapeRequest) -> Iterator[RawItem | Unparsed]:
    """Run ``request.options["scraper"]`` on the account's handle.

    ``client`` is unused: snscrape fetches by itself. Items come newest first
    from the scrapers this backend is for, so paging stops at the first item
    older than the window or at ``since_id``.
    """
    scraper_name = request.options.get("scraper")
    if not scraper_name:
        raise SourceError(f"{request.source_id}: options.scraper (an snscrape scraper name) is not set")
    target = request.account.handle or request.account.platform_id
    if not target:
        raise SourceError(f"{request.source_id}: account has no handle for snscrape {scraper_name}")
    scraper = find_scraper(scraper_name)(target)
    window_start = _moment(request.window_start)
    window_end = _moment(request.window_end)
    for index, payload in _payloads(scraper, f"snscrape {scraper_name} {target!r}"):
        location = f"snscrape {scraper_name} {target} #{index}"
        if isinstance(payload, Exception):
            reason = f"{type(payload).__name__}: {payload}"
            yield Unparsed(reason, location, "", request.source_id)
            return
        raw = _raw_item(payload, request.source_id, location, scraper_name)
        record = json.loads(payload)
        moment = _moment(_created_at(record))
        if request.since_id and _at_or_before(native_id(record, scraper_name), request.since_id):
            return
        if window_start and moment and moment < window_start:
            return
        if window_end and moment and moment > window_end:
            continue
        yield raw


def _payloads(scraper, what: str) -> Iterator[tuple[int, str | Exception]]:
    """(index, payload) per item; a failure ends the run: snscrape's own
    ScraperException (refusal, unknown account) as SourceError, anything else
    (a site's markup changed under the parser) as the last value."""
    items = iter(scraper.get_items())
    index = 0
    while True:
        try:
            payload = item_payload(next(items))
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - snscrape raises anything when a site changes
            if _is_scraper_exception(exc):
                raise SourceError(f"{what} failed: {exc}") from exc
            yield index, exc
            return
        yield index, payload
        index += 1


def _is_scraper_exception(exc: Exception) -> bool:
    try:
        import snscrape.base
    except ImportError:
        return False
    return isinstance(exc, snscrape.base.ScraperException)


def _raw_item(payload: str, source_id: str, location: str, scraper: str | None) -> RawItem:
    record = json.loads(payload)
    return RawItem(
        format=FORMAT,
        payload=payload,
        source_id=source_id,
        location=location,
        fetched_url=record.get("url") if isinstance(record.get("url"), str) else None,
        context={"scraper": scraper} if scraper else {},
    )


def _at_or_before(item_id: str | None, since_id: str) -> bool:
    """True when ``item_id`` is the archived newest post or older than it."""
    if not item_id:
        return False
    if item_id == since_id:
        return True
    mine, theirs = re.search(r"(\d+)$", item_id), re.search(r"(\d+)$", since_id)
    same_prefix = item_id[: mine.start()] == since_id[: theirs.start()] if mine and theirs else False
    return same_prefix and int(mine.group(1)) <= int(theirs.group(1))


def _moment(value: str | None) -> datetime | None:
    try:
        iso = to_utc_iso(value)
    except (ValueError, TypeError):
        return None
    if not iso:
        return None
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --- snscrape --jsonl files ------------------------------------------------------------


def read_jsonl(path: str, source_id: str) -> Iterator[RawItem | Unparsed]:
    """One item per line of ``snscrape --jsonl`` output; a bad line is Unparsed."""
    with open_text(path) as stream:
        for number, line in numbered_lines(stream):
            yield from item_from_line(line, source_id, f"{path}:{number}")


def item_from_line(line: str, source_id: str, location: str) -> list[RawItem | Unparsed]:
    """One line of ``snscrape --jsonl`` output (large files are read by
    worker processes a line at a time: scraper.parallel); a line that cannot
    be read is one Unparsed (scraper.sources.decoding)."""
    return read_element(line, source_id, location, _line_item)


def _line_item(line: str, source_id: str, location: str) -> Iterator[RawItem | Unparsed]:
    line = line.rstrip("\r\n")
    try:
        record = loads(line)
    except json.JSONDecodeError as exc:
        yield Unparsed(f"line {location.rsplit(':', 1)[-1]} is not JSON: {exc}", location, line, source_id)
        return
    if not isinstance(record, dict):
        yield Unparsed(f"line {location.rsplit(':', 1)[-1]} is a JSON {type(record).__name__}, not an object",
                       location, line, source_id)
        return
    payload = json.dumps(record, ensure_ascii=False, sort_keys=True)
    yield _raw_item(payload, source_id, location, None)


# --- raw item -> post (pure) -------------------------------------------------------------


def _module_of(record: dict, scraper: str | None) -> str | None:
    """snscrape module name from the scraper name, the item's ``_type`` or its URL host."""
    if scraper:
        return scraper.split("-")[0]
    kind = record.get("_type") or ""
    if kind.startswith("snscrape.modules."):
        return kind.split(".")[2]
    host = urlsplit(record.get("url") or "").netloc.lower().removeprefix("www.")
    platform = _PLATFORM_OF_HOST.get(host)
    return {"x": "twitter"}.get(platform, platform)


def native_id(record: dict, scraper: str | None) -> str | None:
    """Telegram ``channel/123`` (as our own adapter), X status id, else the URL."""
    platform = platform_of(_module_of(record, scraper))
    url = record.get("url")
    if platform == "telegram":
        match = _TELEGRAM_POST.match(url or "")
        return f"{match.group(1)}/{match.group(2)}" if match else url
    if platform == "x":
        return _id_text(record, "id") or url
    return url or _id_text(record, "id")


def _id_text(record: dict | None, key: str) -> str | None:
    """An id as exact text: ``x.str`` (snscrape's big-int escape) or the integer."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get(f"{key}.str"), str):
        return record[f"{key}.str"]
    value = record.get(key)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):  # a lossy writer turned it into a double: unusable
        return None
    return str(value)


def _created_at(record: dict) -> str | None:
    return record.get("date") or record.get("createdAt")


def transform_item(item: RawItem) -> Post:
    record = loads_json(item.payload, item.location)
    scraper = item.context.get("scraper")
    module = _module_of(record, scraper)
    platform = platform_of(module)
    user = record.get("user") if isinstance(record.get("user"), dict) else {}
    links = _links(record)
    post = Post(
        platform=platform,
        native_id=native_id(record, scraper),
        url=_web_url(record, platform),
        # X's text comes HTML-escaped (&amp;) as the API sent it; decode it once.
        text=html.unescape(_text(record, links)) if platform == "x" else _text(record, links),
        author_handle=_author_handle(record, user, platform),
        author_display_name=user.get("displayname") or user.get("screenname"),
        author_platform_id=_id_text(user, "id") or _id_text(user, "uid"),
        created_at=_time(record),
        language=record.get("lang"),
        hashtags=list(record.get("hashtags") or []),
        mentions=[u.get("username") for u in record.get("mentionedUsers") or [] if isinstance(u, dict)],
        links=[link["url"] for link in links if link.get("url")],
        media=_media(record),
        reply_count=_count(record, "replyCount", "commentsCount"),
        repost_count=_count(record, "retweetCount", "repostsCount"),
        like_count=_count(record, "likeCount", "likesCount"),
        quote_count=_count(record, "quoteCount"),
        view_count=_count(record, "viewCount", "views"),
        extra=_extra(record, module, scraper),
    )
    _set_references(post, record, platform)
    return post


def _links(record: dict) -> list[dict]:
    """Links as {url, tcourl}: 0.5+ ``links`` objects, or 0.4 ``outlinks`` with
    ``tcooutlinks`` beside them (same order)."""
    if isinstance(record.get("links"), list):
        return [link for link in record["links"] if isinstance(link, dict)]
    outlinks = record.get("outlinks") or []
    short = record.get("tcooutlinks") or []
    return [
        {"url": url, "tcourl": short[i] if i < len(short) else None}
        for i, url in enumerate(outlinks)
        if isinstance(url, str)
    ]


def _text(record: dict, links: list[dict]) -> str:
    text = record.get("rawContent")
    if text is None:
        text = record.get("content")
    if text is None:
        text = record.get("text") or ""
    # X's raw text holds t.co links; the item gives the full URL beside each.
    for link in links:
        if link.get("tcourl") and link.get("url"):
            text = text.replace(link["tcourl"], link["url"])
    return text


def _web_url(record: dict, platform: str) -> str | None:
    url = record.get("url")
    if platform == "telegram" and url:
        return url.replace("//t.me/s/", "//t.me/")  # snscrape links to the preview page
    return url


def _author_handle(record: dict, user: dict, platform: str) -> str | None:
    handle = user.get("username") or record.get("username")
    if handle:
        return handle
    if platform == "telegram":
        match = _TELEGRAM_POST.match(record.get("url") or "")
        return match.group(1) if match else None
    return None


def _time(record: dict) -> str | None:
    try:
        return to_utc_iso(_created_at(record))
    except (ValueError, TypeError):
        return None  # weibo's createdAt comes in several loose forms; kept in extra


def _count(record: dict, *keys: str) -> int | None:
    for key in keys:
        value = record.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _media(record: dict) -> list[dict]:
    media = []
    for medium in record.get("media") or []:  # X: Photo, Video, Gif
        if not isinstance(medium, dict):
            continue
        kind = (medium.get("_type") or "").rsplit(".", 1)[-1].lower() or "media"
        url = medium.get("fullUrl") or _best_variant(medium.get("variants")) or medium.get("url")
        entry = {"type": "photo" if kind == "photo" else kind, "url": url}
        if medium.get("thumbnailUrl") or medium.get("previewUrl"):
            entry["thumbnail"] = medium.get("thumbnailUrl") or medium.get("previewUrl")
        media.append(entry)
    for photo in record.get("photos") or []:  # VKontakte
        if isinstance(photo, dict):
            media.append({"type": "photo", "url": photo.get("url") or _best_variant(photo.get("variants"))})
    for picture in record.get("pictures") or []:  # Weibo
        media.append({"type": "photo", "url": picture})
    video = record.get("video")
    if isinstance(video, dict):
        media.append({"type": "video", "url": video.get("url"), "thumbnail": video.get("thumbUrl")})
    elif isinstance(video, str):
        media.append({"type": "video", "url": video})
    preview = record.get("linkPreview")
    if isinstance(preview, dict) and preview.get("href"):
        media.append({"type": "link_preview", "url": preview["href"], "title": preview.get("title"),
                      "image": preview.get("image")})
    return [m for m in media if m.get("url")]


def _best_variant(variants) -> str | None:
    """The widest (or highest-bitrate) variant's URL."""
    if not variants:
        return None
    ranked = sorted(
        (v for v in variants if isinstance(v, dict) and v.get("url")),
        key=lambda v: (v.get("bitrate") or 0, v.get("width") or 0),
    )
    return ranked[-1]["url"] if ranked else None


def _set_references(post: Post, record: dict, platform: str) -> None:
    if platform == "x":
        reply = _id_text(record, "inReplyToTweetId")
        quoted = _id_text(record.get("quotedTweet"), "id")
        retweeted = _id_text(record.get("retweetedTweet"), "id")
        post.reply_to = post_key("x", reply) if reply else None
        post.quote_of = post_key("x", quoted) if quoted else None
        post.repost_of = post_key("x", retweeted) if retweeted else None
        return
    for field, key in (("quotedPost", "quote_of"), ("repostedPost", "repost_of")):
        nested = record.get(field)
        if isinstance(nested, dict) and nested.get("url"):
            setattr(post, key, post_key(platform, native_id(nested, None) or nested["url"]))


def _extra(record: dict, module: str | None, scraper: str | None) -> dict:
    extra = {
        "snscrape_type": record.get("_type"),
        "snscrape_version": record.get("_snscrape"),
        "snscrape_module": module,
        "scraper": scraper,
    }
    if platform_of(module) == "web" and module:
        extra["site"] = module  # vkontakte, weibo, reddit: not one of our platforms
    if record.get("renderedContent"):
        extra["rendered_content"] = record["renderedContent"]
    if isinstance(record.get("linkPreview"), dict):
        extra["link_preview"] = {k: v for k, v in record["linkPreview"].items() if k != "_type"}
    if record.get("createdAt") and not _time(record):
        extra["created_at_text"] = record["createdAt"]
    return {key: value for key, value in extra.items() if value is not None}
