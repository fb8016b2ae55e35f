"""What an input looked like, in words: for the errors that say why nothing
was read from a file ("a JSON object with keys cursor, posts; expected a
Bluesky feed ...") and for the readers that meet a shape they do not take.

:func:`describe_value` and :func:`describe_text` say what a JSON value or
a text is, :func:`guess_shape` recognises the shapes of every platform and
tool the archive reads (so a file given to the wrong reader is named for
what it is, with the format that reads it), and :data:`EXPECTED` says what
each ``reactions import`` format accepts. All pure; :func:`describe_location`
alone reads (at most the first :data:`HEAD_BYTES` of a file).
"""

from __future__ import annotations

import json
import re
import tarfile
import zipfile
from pathlib import Path
from typing import Any

MAX_KEYS = 8  # keys named in a description; the rest are counted
HEAD_BYTES = 1 << 20  # what is read of a file to describe it (and kept with the error)

EXPECTED: dict[str, str] = {
    "article": "an HTML page, a Markdown file or plain text with embedded posts or reported reactions",
    "bluesky-feed": (
        "a Bluesky feed page, feedViewPost, postView, getPosts or searchPosts answer, or a getPostThread "
        "answer (reposts in a feed page are skipped)"
    ),
    "mastodon-outbox": "a Mastodon account export (outbox.json, its folder, .zip or .tar.gz)",
    "mastodon-statuses": (
        "Mastodon statuses: one Status, a JSON array of them, a statuses/:id/context answer or a v2 search answer"
    ),
    "rss": "an RSS or Atom feed",
    "snscrape-jsonl": "snscrape --jsonl output, one item a line",
    "telegram-html": "a saved t.me/s/<channel> page with message blocks",
    "twarc2-jsonl": "twarc2 output: X API v2 response pages or flattened posts, one a line",
    "urls": "a CSV or text list of post URLs",
    "x-archive": "X's own account archive (data/tweets.js), a folder or .zip",
    "x-oembed": "saved X oEmbed answers",
    "x-syndication": "saved X syndication tweet-result answers",
    "x-v1-json": "X API v1.1 statuses: one status, a JSON array, JSONL or search pages",
    "x-v2": "X API v2 answers: timeline or search pages, or a single post lookup ({data, includes})",
}


def expected(format_name: str) -> str:
    return EXPECTED.get(format_name, f"input for the {format_name} reader")


# --- describing -------------------------------------------------------------------


def describe_value(value: Any) -> str:
    """A JSON value in a few words: its type, its keys, the length of its lists."""
    if isinstance(value, dict):
        if not value:
            return "an empty JSON object"
        lists = [f"{key}: {_count(len(item), 'entry', 'entries')}"
                 for key, item in sorted(value.items(), key=lambda pair: str(pair[0])) if isinstance(item, list)]
        described = f"a JSON object with keys {_keys(value)}"
        # The lengths of its lists say most about an answer's envelope
        # ({"feed": [], "cursor": ...}); a record's many lists say little.
        return described + (f" ({'; '.join(lists[:3])})" if lists and len(value) <= 4 else "")
    if isinstance(value, list):
        if not value:
            return "an empty JSON array"
        if all(isinstance(item, dict) for item in value):
            return f"a JSON array of {_count(len(value), 'object', 'objects')}, the first with keys {_keys(value[0])}"
        kinds = sorted({_json_type(item) for item in value})
        return f"a JSON array of {_count(len(value), 'value', 'values')} ({', '.join(kinds)})"
    return f"a JSON {_json_type(value)} ({_snippet(json.dumps(value, ensure_ascii=False))})"


def _keys(mapping: dict) -> str:
    keys = sorted(str(key) for key in mapping)
    shown = ", ".join(_snippet(key, 40) for key in keys[:MAX_KEYS])
    return shown + (f" and {len(keys) - MAX_KEYS} more" if len(keys) > MAX_KEYS else "")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _snippet(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_text(text: str, complete: bool = True) -> str:
    """A document in a few words: JSON (with :func:`describe_value`), JSON
    lines, an HTML page (its title) or text (its first words). ``complete``
    is False when ``text`` is only the head of a larger file."""
    stripped = text.strip()
    if not stripped:
        return "an empty document"
    if complete:
        value = parse_json_or_none(stripped)
        if value is not _NOT_JSON:
            return describe_value(value)
    lines = [line for line in stripped.splitlines() if line.strip()]
    first = parse_json_or_none(lines[0])
    if first is not _NOT_JSON and (len(lines) > 1 or not complete):
        return f"JSON lines ({_count(len(lines), 'line', 'lines')}{'' if complete else ' at least'}), the first " \
               f"{describe_value(first)}"
    if stripped[:1] in "[{":
        return f"JSON that does not parse ({'cut short or ' if not complete else ''}malformed), beginning " \
               f"{_snippet(stripped)!r}"
    if _looks_like_html(stripped):
        title = re.search(r"<title[^>]*>(.*?)</title>", stripped[:20000], re.IGNORECASE | re.DOTALL)
        named = f" titled {_snippet(title.group(1), 80)!r}" if title and title.group(1).strip() else ""
        return f"an HTML page{named}"
    return f"{_count(len(lines), 'line', 'lines')} of text beginning {_snippet(lines[0])!r}"


def _looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    return head.startswith("<") or any(tag in head for tag in ("<html", "<body", "<div", "<p>"))


_NOT_JSON = object()


def parse_json_or_none(text: str) -> Any:
    """The JSON value of ``text``, or ``_NOT_JSON`` (never raises: too deep
    a nesting is not JSON we can read either)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NOT_JSON


def describe_location(location: str) -> tuple[str, str]:
    """(description, the text kept as the raw payload) of a file or folder
    given to ``reactions import``. Reads at most HEAD_BYTES."""
    path = Path(location)
    if path.is_dir():
        names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
        return f"a folder with {_count(len(names), 'file', 'files')}{_names(names)}", "\n".join(names)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
        return f"a zip archive with {_count(len(names), 'file', 'files')}{_names(names)}", "\n".join(names)
    if _is_tar(path):
        with tarfile.open(path, "r:*") as archive:
            names = [m.name for m in archive.getmembers() if m.isfile()]
        return f"a tar archive with {_count(len(names), 'file', 'files')}{_names(names)}", "\n".join(names)
    size = path.stat().st_size
    with open(path, "rb") as stream:
        head = stream.read(HEAD_BYTES)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    complete = size <= HEAD_BYTES
    described = describe_text(text, complete)
    if not complete:
        described += f" (a file of {size:,} bytes; its first {HEAD_BYTES:,} are kept)"
    return described, text


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _names(names: list[str]) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:MAX_KEYS])
    return f" ({shown}{', …' if len(names) > MAX_KEYS else ''})"


# --- recognising shapes -------------------------------------------------------------


def guess_shape(value: Any) -> tuple[str, str] | None:
    """(format that reads it, what it is) for a JSON value of a platform or
    tool the archive knows, else None. Never raises."""
    if isinstance(value, list):
        first = next((item for item in value if isinstance(item, dict)), None)
        found = guess_shape(first) if first is not None else None
        return (found[0], f"a list of {found[1].removeprefix('a ').removeprefix('an ')}") if found else None
    if not isinstance(value, dict):
        return None
    for test, answer in _SHAPES:
        try:
            if test(value):
                return answer
        except (AttributeError, TypeError, KeyError):
            continue
    return None


def _at_uri(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("at://")


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else None


_SHAPES = (
    (lambda v: isinstance(v.get("__twarc"), dict), ("twarc2-jsonl", "a twarc2 line")),
    (lambda v: str(v.get("_type", "")).startswith("snscrape."), ("snscrape-jsonl", "an snscrape item")),
    (lambda v: "orderedItems" in v or v.get("type") in ("OrderedCollection", "OrderedCollectionPage"),
     ("mastodon-outbox", "an ActivityPub outbox (a Mastodon export)")),
    (lambda v: isinstance(v.get("feed"), list), ("bluesky-feed", "a Bluesky feed page")),
    (lambda v: isinstance(v.get("thread"), (dict, list)), ("bluesky-feed", "a Bluesky getPostThread answer")),
    (lambda v: isinstance(v.get("posts"), list) and (not v["posts"] or _at_uri((_first(v["posts"]) or {}).get("uri"))),
     ("bluesky-feed", "a Bluesky getPosts or searchPosts answer")),
    (lambda v: _at_uri(v.get("uri")) and isinstance(v.get("record"), dict), ("bluesky-feed", "a Bluesky postView")),
    (lambda v: isinstance(v.get("post"), dict) and _at_uri(v["post"].get("uri")),
     ("bluesky-feed", "a Bluesky feedViewPost")),
    (lambda v: "ancestors" in v and "descendants" in v, ("mastodon-statuses", "a Mastodon statuses/:id/context answer")),
    (lambda v: isinstance(v.get("statuses"), list) and ("accounts" in v or "hashtags" in v),
     ("mastodon-statuses", "a Mastodon v2 search answer")),
    (lambda v: isinstance(v.get("statuses"), list), ("x-v1-json", "an X API v1.1 search page")),
    (lambda v: isinstance(v.get("account"), dict) and "content" in v and ("uri" in v or "url" in v),
     ("mastodon-statuses", "a Mastodon status")),
    (lambda v: isinstance(v.get("data"), (dict, list)) and ("includes" in v or "meta" in v or _v2_post(v["data"])),
     ("x-v2", "an X API v2 answer")),
    (lambda v: v.get("__typename") in ("Tweet", "TweetTombstone"), ("x-syndication", "an X syndication tweet-result")),
    (lambda v: "html" in v and "author_name" in v and "twitter" in str(v.get("provider_url", "")).lower(),
     ("x-oembed", "an X oEmbed answer")),
    (lambda v: isinstance(v.get("tweet"), dict), ("x-archive", "an item of an X account archive")),
    (lambda v: "id_str" in v and ("text" in v or "full_text" in v), ("x-v1-json", "an X API v1.1 status")),
    (lambda v: "id" in v and "text" in v and ("author_id" in v or "edit_history_tweet_ids" in v),
     ("x-v2", "an X API v2 post")),
    (lambda v: isinstance(v.get("errors"), list) and "data" not in v, ("", "an API answer holding only errors")),
    (lambda v: isinstance(v.get("error"), str) and len(v) <= 3, ("", "an API error answer")),
)


def _v2_post(data: Any) -> bool:
    post = data if isinstance(data, dict) else _first(data)
    return isinstance(post, dict) and "id" in post and "text" in post


def not_this_shape(value: Any, format_name: str) -> str:
    """Why ``value`` is not read by ``format_name``: what it is, what it
    looks like (and which format reads that), what was expected."""
    message = describe_value(value)
    found = guess_shape(value)
    if found:
        reader, what = found
        if reader and reader != format_name:
            message += f"; it looks like {what}, read by 'reactions import {reader}'"
        elif not reader:
            message += f"; it looks like {what}{_errors_said(value)}"
    return f"{message}; expected {expected(format_name)}"


def _errors_said(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("error"), str):
        said = [value["error"], value.get("message") or value.get("error_description")]
        return f" ({_snippet(': '.join(str(s) for s in said if s), 120)})"
    errors = value.get("errors") if isinstance(value, dict) else None
    said = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            text = error.get("detail") or error.get("message") or error.get("title")
            if text:
                said.append(_snippet(text, 120))
    return f" ({'; '.join(said[:3])})" if said else ""
