"""RSS and Atom feeds of official statements (a ministry's press releases,
a party's news), read with feedparser, as posts of the account that
publishes the feed.

* platform ``rss``; the account is the feed: its own URL when the feed
  names it (Atom ``<link rel="self">``, ``atom:link`` in RSS), else the
  site's link; the display name is the feed's title;
* ``native_id`` is the entry's ``id``/``guid``, else its link;
* text is the title, a blank line, and the summary as plain text (HTML
  summaries lose their markup, keep their line breaks).

feedparser reads a whole feed at once; feeds are small. A feed that is not
well-formed still gives the entries before the fault, and the fault is
recorded as a parse error with its line number.
"""

from __future__ import annotations

import calendar
import json
from typing import Any

from ..errors import InputError, ParseFailure, SourceError
from ..model import FetchedPage, Post, RawItem
from ..normalise import clean_text, html_to_text, loads_json, to_utc_iso
from . import ItemStream, ScrapeRequest, Unparsed

PLATFORM = "rss"
FILE_FORMAT = "rss"
FORMAT = "rss-entry"
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def read_feed(path: str, source_id: str) -> ItemStream:
    """A saved feed file. (Feeds on the web are a config source of kind
    ``rss``, fetched through the project's polite client, never by
    feedparser itself.)"""
    if path.startswith(("http://", "https://")):
        raise InputError(f"{path}: import reads saved feed files; scrape a feed on the web with a source of kind rss")
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read feed ({exc.strerror or exc})") from None
    yield from items_from_feed(data, source_id, path)


def items_from_feed(data: bytes | str, source_id: str, location: str, page: FetchedPage | None = None) -> ItemStream:
    import feedparser

    parsed = feedparser.parse(data)
    feed = feed_context(parsed.feed, location)
    if page is not None:
        feed["url"] = page.url  # the URL the roster names, which links the posts to the leader
    for index, entry in enumerate(parsed.entries):
        where = f"{location}#entry[{index}]"
        payload = entry_payload(entry)
        if not (payload.get("id") or payload.get("link")):
            yield Unparsed("feed entry without id or link", where, json.dumps(payload, ensure_ascii=False), source_id)
            continue
        yield RawItem(
            format=FORMAT,
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
            source_id=source_id,
            location=where,
            fetched_url=feed.get("url") if page is None else page.url,
            retrieved_at=page.retrieved_at if page else None,
            context={"feed": feed},
            page=page,
        )
    if parsed.get("bozo") and not _harmless(parsed.get("bozo_exception")):
        error = parsed.get("bozo_exception")
        line = getattr(error, "getLineNumber", lambda: None)()
        where = f"{location}:{line}" if line else str(location)
        yield Unparsed(f"feed is not well-formed: {error}", where, "", source_id, page.url if page else None, page)
    elif page is not None and not parsed.entries and not parsed.get("version"):
        # A well-formed answer that is no RSS or Atom at all (an HTML page, an
        # empty body): said, never a silent zero. (An import of such a file
        # is described by scraper/nothing_read.py.)
        from ..shapes import describe_text

        yield Unparsed(f"the answer is not an RSS or Atom feed: {describe_text(page.body)}", str(location), "",
                       source_id, page.url, page)


def scrape_account(client, request: ScrapeRequest) -> ItemStream:
    """The roster account's feed (``accounts.rss: {url: ...}``), fetched
    through the polite client. Feeds are short: one request, every entry."""
    url = request.account.url or request.account.handle
    if not url or not url.startswith(("http://", "https://")):
        raise SourceError(f"rss account of {request.account.leader_id}: needs a feed url (accounts.rss.url)")
    page = client.get(url, kind="rss")
    yield from items_from_feed(page.body, request.source_id, url, page)


def _harmless(error: Any) -> bool:
    # A feed declared in one encoding and served in another is read anyway.
    return type(error).__name__ in ("CharacterEncodingOverride", "NonXMLContentType")


def feed_context(feed: Any, path: str) -> dict:
    """The publishing account: {url, link, title, language}."""
    self_link = next(
        (link.get("href") for link in feed.get("links", []) if link.get("rel") == "self" and link.get("href")), None
    )
    found = {
        "url": self_link,
        "link": feed.get("link"),
        "title": feed.get("title"),
        "language": feed.get("language"),
        "file": str(path),
    }
    return {k: v for k, v in found.items() if v}


def entry_payload(entry: Any) -> dict:
    """The entry's fields that matter, JSON-safe, times already in UTC."""
    # dict.get: FeedParserDict.get would answer "updated" with "published".
    payload: dict[str, Any] = {}
    for key in ("id", "link", "title", "summary", "author", "published", "updated"):
        if dict.get(entry, key):
            payload[key] = dict.get(entry, key)
    for key in ("title", "summary"):
        detail = dict.get(entry, f"{key}_detail") or {}
        if detail.get("type"):
            payload[f"{key}_type"] = detail["type"]
        if detail.get("language"):
            payload[f"{key}_language"] = detail["language"]
    for key in ("published", "updated"):
        moment = dict.get(entry, f"{key}_parsed")
        if moment:
            payload[f"{key}_utc"] = to_utc_iso(calendar.timegm(moment))
    tags = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
    if tags:
        payload["tags"] = tags
    links = [link.get("href") for link in entry.get("links", []) if link.get("href")]
    if links:
        payload["links"] = links
    return payload


def transform_entry(item: RawItem) -> Post:
    entry = loads_json(item.payload, "feed entry")
    feed = item.context.get("feed") or {}
    native_id = entry.get("id") or entry.get("link")
    if not native_id:
        raise ParseFailure("feed entry without id or link")
    account = feed.get("url") or feed.get("link") or feed.get("file")
    title = _plain(entry.get("title"), entry.get("title_type"))
    summary = _plain(entry.get("summary"), entry.get("summary_type"))
    parts = [title] if summary == title else [title, summary]  # some feeds repeat the title
    published, updated = entry.get("published_utc"), entry.get("updated_utc")
    return Post(
        platform=PLATFORM,
        native_id=native_id,
        text="\n\n".join(part for part in parts if part),
        author_handle=account,
        author_display_name=feed.get("title"),
        author_platform_id=account,
        url=entry.get("link"),
        created_at=published or updated,
        edited_at=updated if published and updated and updated != published else None,
        language=_language(entry.get("summary_language") or entry.get("title_language") or feed.get("language")),
        links=[link for link in entry.get("links", []) if link != entry.get("link")],
        extra={k: v for k, v in {"tags": entry.get("tags"), "entry_author": entry.get("author"),
                                 "feed_title": feed.get("title"), "via": FILE_FORMAT}.items() if v},
    )


def _plain(value: str | None, kind: str | None) -> str:
    if not value:
        return ""
    return html_to_text(value) if kind in _HTML_TYPES else clean_text(value)


def _language(code: str | None) -> str | None:
    """``es-ES`` -> ``es``: the archive keeps ISO 639-1 codes."""
    return code.split("-")[0].split("_")[0].lower() if code else None
