"""A Mastodon account export ("Request your archive"): the folder, the
``.zip`` (Mastodon 4.x) or the ``.tar.gz`` (older servers), or its
``outbox.json`` alone.

``outbox.json`` is an ActivityPub OrderedCollection, written minified on one
line, whose ``orderedItems`` are the account's activities: ``Create`` with
the whole ``Note`` (``content`` HTML, ``published``, ``url``, ``tag``
hashtags and mentions, ``attachment``, ``inReplyTo``, ``updated`` when
edited) and ``Announce`` (a boost) whose ``object`` is the boosted status's
URI. ``actor.json`` beside it is the account (``preferredUsername``,
``name``, ``url``); without it the author comes from the activity's actor URI.

A status becomes the same Post as through the REST API (:mod:`mastodon`):
the status's ``url`` as its id, the account as ``user@server``, the profile
URL as its platform id, a boost as a post by the booster with empty text and
``repost_of``. ActivityPub names statuses and accounts by URI
(``/users/NAME/statuses/ID``) where the API gives URLs (``/@NAME/ID``);
Mastodon-shaped URIs are turned into the URL form so both meet.

The export holds every status, followers-only and direct ones too; only
public and unlisted statuses are imported (the archive is of public posts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from ..errors import InputError, ParseFailure
from ..model import Post, RawItem
from ..normalise import html_to_text, loads_json, to_utc_iso
from ..limits import current as current_limits
from . import ItemStream, Unparsed
from .decoding import loads, read_element, unreadable
from .filestream import Bundle, JsonArrayItems
from .mastodon import PLATFORM, content_links, full_acct

FILE_FORMAT = "mastodon-outbox"
FORMAT = "mastodon-activity"
PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}
POST_TYPES = {"Note", "Question", "Article", "Page"}

_OUTBOX_FILE = re.compile(r"(?:^|/)outbox\.json$")
_ACTOR_FILE = re.compile(r"(?:^|/)actor\.json$")
_STATUS_URI = re.compile(r"^(https?://[^/]+)/users/([^/]+)/statuses/([^/]+)(/activity)?$")
_ACTOR_URI = re.compile(r"^(https?://[^/]+)/users/([^/]+)$")


# --- URIs to the URLs the API uses ---------------------------------------------


def status_url_from_uri(uri: str | None) -> str | None:
    """``https://s/users/NAME/statuses/ID`` -> ``https://s/@NAME/ID``; a boost's
    ``.../activity`` URI and other servers' URIs stay as they are."""
    if not uri:
        return None
    match = _STATUS_URI.match(uri)
    if match and not match.group(4):
        return f"{match.group(1)}/@{match.group(2)}/{match.group(3)}"
    return uri


def actor_from_uri(uri: str) -> dict:
    """What an actor URI alone tells: the handle and profile URL, Mastodon-shaped."""
    match = _ACTOR_URI.match(uri or "")
    if not match:
        host = urlsplit(uri or "").netloc
        name = (uri or "").rstrip("/").rsplit("/", 1)[-1]
        return {"id": uri, "handle": f"{name}@{host}" if name and host else None, "url": uri}
    host = urlsplit(uri).netloc
    return {"id": uri, "handle": f"{match.group(2)}@{host}", "url": f"{match.group(1)}/@{match.group(2)}"}


def actor_summary(actor: dict) -> dict:
    """{id, handle, name, url} from an actor.json."""
    uri = actor.get("id") or ""
    derived = actor_from_uri(uri)
    host = urlsplit(uri).netloc
    username = actor.get("preferredUsername")
    summary = {
        "id": uri or None,
        "handle": f"{username}@{host}" if username and host else derived.get("handle"),
        "name": actor.get("name") or None,
        "url": actor.get("url") if isinstance(actor.get("url"), str) else derived.get("url"),
    }
    return {k: v for k, v in summary.items() if v}


# --- reading the export -------------------------------------------------------------


def read_outbox(path: str, source_id: str) -> ItemStream:
    """The public statuses and boosts of the export's outbox.json, streamed."""
    with Bundle(path) as bundle:
        outboxes = bundle.find(_OUTBOX_FILE)
        if not outboxes:
            raise InputError(f"{path}: no outbox.json in this Mastodon export")
        actor = _read_actor(bundle)
        where = bundle.where(outboxes[0])
        with bundle.open(outboxes[0]) as stream:
            items = JsonArrayItems(stream, key="orderedItems")
            # The export is one minified line: the item's index says more than the line.
            for index, (line, text) in enumerate(items):
                yield from _activity_items(text, actor, source_id, f"{where}:{line}#orderedItems[{index}]")
            if not items.found:
                yield Unparsed("outbox.json has no orderedItems array", where, "", source_id)


def _read_actor(bundle: Bundle) -> dict | None:
    names = bundle.find(_ACTOR_FILE)
    if not names:
        return None
    with bundle.open(names[0]) as stream:
        text = stream.read(current_limits().max_element_bytes + 1)
    try:
        actor = loads(text) if not unreadable(text, "", "") else None
    except json.JSONDecodeError:
        return None
    return actor_summary(actor) if isinstance(actor, dict) else None


def _activity_items(text: str, actor: dict | None, source_id: str, location: str) -> list[RawItem | Unparsed]:
    return read_element(text, source_id, location, lambda text, source_id, location: _activity(
        text, actor, source_id, location))


def _activity(text: str, actor: dict | None, source_id: str, location: str) -> Iterator[RawItem | Unparsed]:
    try:
        activity = check_activity(loads(text), location)
    except json.JSONDecodeError as exc:
        yield Unparsed(f"not JSON: {exc}", location, text, source_id)
        return
    except ParseFailure as exc:
        yield Unparsed(str(exc), location, text, source_id)
        return
    if visibility(activity) not in ("public", "unlisted"):
        return
    context = {"actor": actor} if actor else {}
    yield RawItem(
        format=FORMAT,
        payload=json.dumps(activity, ensure_ascii=False, sort_keys=True),
        source_id=source_id,
        location=location,
        context=context,
    )


def check_activity(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ParseFailure(f"{where}: a JSON {type(value).__name__}, not an activity")
    kind = value.get("type")
    if kind == "Announce":
        if not value.get("id") or not value.get("object"):
            raise ParseFailure(f"{where}: Announce without id or object")
        return value
    if kind != "Create":
        raise ParseFailure(f"{where}: activity type {kind!r} is neither Create nor Announce")
    note = value.get("object")
    if not isinstance(note, dict) or note.get("type") not in POST_TYPES:
        raise ParseFailure(f"{where}: Create whose object is not a Note")
    if not (note.get("url") or note.get("id")) or not (note.get("published") or value.get("published")):
        raise ParseFailure(f"{where}: Note without id/url or published")
    return value


def visibility(activity: dict) -> str:
    """public (Public in to), unlisted (Public in cc), private or direct."""
    obj = activity.get("object") if isinstance(activity.get("object"), dict) else {}
    to = _as_list(activity.get("to")) + _as_list(obj.get("to"))
    cc = _as_list(activity.get("cc")) + _as_list(obj.get("cc"))
    if PUBLIC & set(to):
        return "public"
    if PUBLIC & set(cc):
        return "unlisted"
    if any(str(address).endswith("/followers") for address in to + cc):
        return "private"
    return "direct"


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- transform (pure) ----------------------------------------------------------------


def transform_activity(item: RawItem) -> Post:
    activity = loads_json(item.payload, "ActivityPub activity")
    actor_uri = activity.get("actor") if isinstance(activity.get("actor"), str) else None
    actor = item.context.get("actor") or actor_from_uri(actor_uri or "")
    if activity.get("type") == "Announce":
        return _boost(activity, actor)
    return _note(activity, activity["object"], actor)


def _note(activity: dict, note: dict, actor: dict) -> Post:
    local_domain = urlsplit(actor.get("id") or note.get("id") or "").netloc or None
    url = note.get("url") if isinstance(note.get("url"), str) else None
    native_id = url or status_url_from_uri(note.get("id"))
    tags = [t for t in note.get("tag") or [] if isinstance(t, dict)]
    hashtag_tags = [t for t in tags if t.get("type") == "Hashtag"]
    mention_tags = [t for t in tags if t.get("type") == "Mention"]
    content = note.get("content") or ""
    languages = list((note.get("contentMap") or {}).keys())
    return Post(
        platform=PLATFORM,
        native_id=native_id,
        url=native_id,
        text=html_to_text(content),
        author_handle=actor.get("handle"),
        author_display_name=actor.get("name"),
        author_platform_id=actor.get("url") or actor.get("id"),
        created_at=to_utc_iso(note.get("published") or activity.get("published")),
        edited_at=to_utc_iso(note.get("updated")) if note.get("updated") else None,
        language=languages[0] if len(languages) == 1 else None,
        reply_to=_key(status_url_from_uri(note.get("inReplyTo"))),
        quote_of=_key(status_url_from_uri(_quote_uri(note))),
        hashtags=[str(t.get("name") or "").lstrip("#") for t in hashtag_tags if t.get("name")],
        mentions=[full_acct(str(t["name"]), local_domain) for t in mention_tags if t.get("name")],
        links=content_links(
            {"content": content, "mentions": [{"url": t.get("href")} for t in mention_tags],
             "tags": [{"url": t.get("href")} for t in hashtag_tags]}
        ),
        media=[_media(a) for a in note.get("attachment") or [] if isinstance(a, dict)],
        extra=_extra(activity, note, languages),
    )


def _boost(activity: dict, actor: dict) -> Post:
    target = activity["object"]
    target_uri = target.get("id") if isinstance(target, dict) else target
    return Post(
        platform=PLATFORM,
        native_id=activity["id"],
        url=activity["id"],
        text="",  # a boost is a reference, as in the API adapter
        author_handle=actor.get("handle"),
        author_display_name=actor.get("name"),
        author_platform_id=actor.get("url") or actor.get("id"),
        created_at=to_utc_iso(activity.get("published")),
        repost_of=_key(status_url_from_uri(target_uri)),
        extra={"visibility": visibility(activity), "via": FILE_FORMAT, "reposted_uri": target_uri},
    )


def _quote_uri(note: dict) -> str | None:
    for key in ("quote", "quoteUri", "quoteUrl", "_misskey_quote"):
        value = note.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            return value["id"]
    return None


def _media(attachment: dict) -> dict:
    media_type = str(attachment.get("mediaType") or "")
    kind = media_type.split("/", 1)[0] if "/" in media_type else (attachment.get("type") or "").lower()
    entry: dict[str, Any] = {"type": kind or None, "url": attachment.get("url")}
    if attachment.get("name"):
        entry["alt"] = attachment["name"]
    for key in ("width", "height", "mediaType"):
        if attachment.get(key) is not None:
            entry[key] = attachment[key]
    return entry


def _extra(activity: dict, note: dict, languages: list[str]) -> dict:
    extra: dict[str, Any] = {
        "uri": note.get("id") if note.get("id") != note.get("url") else None,
        "visibility": visibility(activity),
        "content_warning": note.get("summary") or None,
        "sensitive": note.get("sensitive") or None,
        "in_reply_to_uri": note.get("inReplyTo"),
        "conversation": note.get("conversation"),
        "languages": languages if len(languages) > 1 else None,
        "via": FILE_FORMAT,
    }
    if note.get("type") == "Question":
        extra["poll"] = {"oneOf": note.get("oneOf"), "anyOf": note.get("anyOf"), "endTime": note.get("endTime")}
    return {k: v for k, v in extra.items() if v is not None}


def _key(url: str | None) -> str | None:
    return f"{PLATFORM}:{url}" if url else None
