"""Lists of post URLs (a CSV with a ``url`` column, or its first column;
or a text file, one URL a line, ``#`` comments): the shape in which many
studies share their collections.

Importing reads no network: each URL is recorded as a *pending* post, a
placeholder with the platform's id taken from the URL (X status id, Bluesky
``at://`` URI, Mastodon status URL, Telegram ``channel/123``), the handle
the URL names, no text, and ``extra["pending"] = True``. A later hydration
(``x-hydrate`` for X, the live adapters for the others) or any other
sighting of the same post fills it, as one post with several captures.
Every pending capture also records that this list named the post.

What a URL cannot tell offline is kept as it is and said in extra: a
Bluesky URL that names a handle instead of a DID gives an ``at://handle/...``
id that the hydration must resolve (``extra["authority_is_handle"]``).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import ParseFailure
from ..model import Post, RawItem
from ..normalise import loads_json, snowflake_time
from . import ItemStream
from .decoding import read_element
from .filestream import open_text
from .x import post_url as x_post_url

FILE_FORMAT = "urls"
FORMAT = "pending-url"

_X_HOSTS = {"twitter.com", "x.com", "mobile.twitter.com", "mobile.x.com", "fxtwitter.com", "vxtwitter.com"}
# Path segments that stand where the author's handle goes but name nobody:
# X answers /<anything>/status/ID with the post, so sites write /i/web/,
# /x/ or /twitter/ when they do not know (or care about) the author.
NOT_A_HANDLE = {"i", "x", "twitter", "web", "user", "anyuser", "_"}
_X_STATUS = re.compile(r"^/(?:(\w{1,30})|i(?:/web)?)/status(?:es)?/(\d{1,25})(?:/|$)")
_BSKY_POST = re.compile(r"^/profile/([^/]+)/post/([A-Za-z0-9._~:-]+)/?$")
_AT_POST = re.compile(r"^at://([^/]+)/app\.bsky\.feed\.post/([A-Za-z0-9._~:-]+)$")
_TELEGRAM = re.compile(r"^/(?:s/)?([A-Za-z0-9_]{3,})/(\d+)/?$")
_MASTODON_WEB = re.compile(r"^/@([^/@]+)(@[^/]+)?/([0-9A-Za-z]+)/?$")
_MASTODON_URI = re.compile(r"^/users/([^/]+)/statuses/([0-9A-Za-z]+)/?$")
_URL_COLUMNS = ("url", "urls", "link", "post_url", "tweet_url", "status_url")


# --- reading the list -----------------------------------------------------------


def read_url_list(path: str, source_id: str) -> ItemStream:
    """One pending item per post URL; a line that is no post URL (or cannot
    be read at all) is Unparsed."""
    for location, url in _urls(path):
        yield from read_element(url, source_id, location, _pending_item)


def _pending_item(url: str, source_id: str, location: str) -> list[RawItem]:
    parse_post_url(url)
    return [RawItem(
        format=FORMAT,
        payload=json.dumps({"url": url}, ensure_ascii=False),
        source_id=source_id,
        location=location,
        fetched_url=None,
    )]


def _urls(path: str) -> Iterator[tuple[str, str]]:
    """(location, URL) for each row of a CSV or line of a text file."""
    if Path(path).suffix.lower() in (".csv", ".tsv"):
        yield from _csv_urls(path)
        return
    with open_text(path) as stream:
        for number, line in enumerate(stream, start=1):
            text = line.strip()
            if text and not text.startswith("#"):
                yield f"{path}:{number}", text


def _csv_urls(path: str) -> Iterator[tuple[str, str]]:
    """The ``url`` column (or another usual name for it), else the first;
    a first row that names no URL is a header and skipped."""
    delimiter = "\t" if Path(path).suffix.lower() == ".tsv" else ","
    with open_text(path) as stream:
        rows = csv.reader(stream, delimiter=delimiter)
        column, first = 0, True
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue
            if first:
                first = False
                names = [cell.strip().lower() for cell in row]
                named = next((names.index(n) for n in _URL_COLUMNS if n in names), None)
                if named is not None or not _looks_like_url(row[0]):
                    column = named or 0
                    continue
            cell = row[column].strip() if column < len(row) else ""
            yield f"{path}:{rows.line_num}", cell


def _looks_like_url(text: str) -> bool:
    return text.strip().lower().startswith(("http://", "https://", "at://", "twitter.com/", "x.com/", "t.me/"))


# --- URL -> platform and id (pure) ------------------------------------------------------


def parse_post_url(url: str) -> dict:
    """{platform, native_id, handle, url, ...} from a post URL, or ParseFailure."""
    text = url.strip()
    match = _AT_POST.match(text)
    if match:
        return _bluesky(match.group(1), match.group(2))
    if not re.match(r"^https?://", text, re.IGNORECASE):
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:  # (a bracketed host that is no IP address: a JSON line, say)
        raise ParseFailure(f"not a post URL of X, Bluesky, Mastodon or Telegram: {url[:200]!r}") from None
    host = parts.netloc.lower().removeprefix("www.")
    path = parts.path
    if host in _X_HOSTS:
        match = _X_STATUS.match(path)
        if match:
            handle, status_id = match.group(1), match.group(2)
            if handle and handle.lower() in NOT_A_HANDLE:
                handle = None
            return {"platform": "x", "native_id": status_id, "handle": handle, "url": x_post_url(handle, status_id)}
    elif host in ("bsky.app", "staging.bsky.app"):
        match = _BSKY_POST.match(path)
        if match:
            return _bluesky(match.group(1), match.group(2))
    elif host in ("t.me", "telegram.me"):
        match = _TELEGRAM.match(path)
        if match:
            channel, number = match.group(1), match.group(2)
            return {"platform": "telegram", "native_id": f"{channel}/{number}", "handle": channel,
                    "url": f"https://t.me/{channel}/{number}"}
    else:
        found = _mastodon(host, path)
        if found:
            return found
    raise ParseFailure(f"not a post URL of X, Bluesky, Mastodon or Telegram: {url[:200]!r}")


def _bluesky(authority: str, rkey: str) -> dict:
    found = {
        "platform": "bluesky",
        "native_id": f"at://{authority}/app.bsky.feed.post/{rkey}",
        "handle": None if authority.startswith("did:") else authority,
        "platform_id": authority if authority.startswith("did:") else None,
        "url": f"https://bsky.app/profile/{authority}/post/{rkey}",
    }
    if not authority.startswith("did:"):
        found["authority_is_handle"] = True
    return found


def _mastodon(host: str, path: str) -> dict | None:
    """``/@user/ID`` (the status URL, the API adapter's id) or ``/users/user/statuses/ID``.
    ``/@user@other.server/ID`` is this server's copy of a remote status: its
    id here is local, so the URL is kept as it is and marked."""
    match = _MASTODON_WEB.match(path)
    if match:
        user, remote, status = match.group(1), match.group(2), match.group(3)
        found = {"platform": "mastodon", "native_id": f"https://{host}/@{user}{remote or ''}/{status}",
                 "handle": f"{user}{remote or '@' + host}"}
        if remote:
            found["remote_copy"] = True
        found["url"] = found["native_id"]
        return found
    match = _MASTODON_URI.match(path)
    if match:
        user, status = match.group(1), match.group(2)
        native = f"https://{host}/@{user}/{status}"
        return {"platform": "mastodon", "native_id": native, "handle": f"{user}@{host}", "url": native}
    return None


def transform_pending_url(item: RawItem) -> Post:
    url = loads_json(item.payload, "pending URL")["url"]
    return pending_post(url)


def pending_post(url: str, extra: dict | None = None) -> Post:
    """A post known only by its URL, as this importer and the link-only
    embeds of articles record it: platform, id and the handle the URL names,
    no text, ``extra["pending"]``, and for X the time the id encodes (to
    the second, as X's own answers give it, so the full sighting agrees)."""
    found = parse_post_url(url)
    flags = {"pending": True, "pending_url": url}
    flags.update({k: True for k in ("authority_is_handle", "remote_copy") if found.get(k)})
    return Post(
        platform=found["platform"],
        native_id=found["native_id"],
        text="",
        author_handle=found.get("handle"),
        author_platform_id=found.get("platform_id"),
        url=found["url"],
        # An X id carries its time; the other platforms' URLs do not.
        created_at=snowflake_second(found["native_id"]) if found["platform"] == "x" else None,
        extra={**flags, **(extra or {})},
    )


def snowflake_second(status_id: str) -> str | None:
    """The creation time an X status id encodes, to the second (an API
    answer says ``...:07.000Z`` for a post the id dates ``...:07.412Z``)."""
    moment = snowflake_time(status_id)
    return moment[:19] + "Z" if moment else None
