"""Telegram public channels, read from the web preview ``t.me/s/<channel>``.

No token and no Telegram account: the preview is the HTML page Telegram
serves to browsers. Each page holds about twenty messages, oldest at the top;
``?before=<id>`` gives the page of messages with ids below ``id``. A channel
whose owner turned the preview off redirects ``t.me/s/<channel>`` to
``t.me/<channel>``; a name that is no channel answers with a redirect too.

The preview has no documentation and its markup may change, so everything
read from it goes through the few helpers below, and parsing ignores how the
HTML is indented (whitespace with a line break in it is source formatting:
Telegram writes the line breaks of a post as ``<br/>``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from ..errors import ParseFailure, SourceError
from ..http import HTTPStatusError, PoliteClient
from ..model import FetchedPage, Post, RawItem, post_key
from ..normalise import clean_text, to_utc_iso, tombstone_item, unique
from ..shapes import describe_text, expected
from . import RecheckTarget, ScrapeRequest, Unparsed
from .decoding import read_whole

FORMAT = "telegram-message"
WEB_BASE = "https://t.me"
_POST_URL = re.compile(r"^https?://(?:www\.)?t\.me/(?:s/)?([A-Za-z0-9_]{3,})/(\d+)(?:[?#].*)?$")
_MENTION_URL = re.compile(r"^https?://(?:www\.)?t\.me/([A-Za-z0-9_]{3,})/?$")
_BACKGROUND_URL = re.compile(r"background-image\s*:\s*url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


# --- fetch (network only) ----------------------------------------------------


def fetch_channel_page(
    client: PoliteClient, channel: str, before: int | None = None, base_url: str = WEB_BASE
) -> FetchedPage:
    """One page of the channel's preview; a 404 or refusal is a SourceError."""
    url = f"{base_url.rstrip('/')}/s/{channel}"
    params = {"before": str(before)} if before else None
    try:
        return client.get(url, params=params, kind="t.me")
    except HTTPStatusError as exc:
        if exc.status == 404:
            raise SourceError(f"Telegram channel {channel!r}: not found ({url}, HTTP 404)") from exc
        if exc.status in (401, 403):
            raise SourceError(
                f"Telegram channel {channel!r}: preview refused ({url}, HTTP {exc.status})"
            ) from exc
        raise


# --- pages -> raw items (pure) -------------------------------------------------


@dataclass
class _Message:
    """One message block of a page, with what paging needs to know about it."""

    block: Tag
    channel: str
    post_id: int
    created_at: str

    @property
    def native_id(self) -> str:
        return f"{self.channel}/{self.post_id}"


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html or "", "html.parser")


def _message_blocks(soup: BeautifulSoup | Tag) -> list[Tag]:
    return soup.find_all("div", class_="tgme_widget_message", attrs={"data-post": True})


def _read_block(block: Tag) -> _Message:
    """Id and time of a message block; ParseFailure when either is missing."""
    data_post = block.get("data-post", "")
    match = re.fullmatch(r"([A-Za-z0-9_]+)/(\d+)", data_post.strip())
    if not match:
        raise ParseFailure(f"message block with data-post={data_post!r}, not 'channel/123'")
    time_tag = block.select_one(".tgme_widget_message_date time[datetime]") or block.find(
        "time", attrs={"datetime": True}
    )
    if time_tag is None:
        raise ParseFailure(f"message {data_post} has no time[datetime]")
    return _Message(block, match.group(1), int(match.group(2)), to_utc_iso(time_tag["datetime"]))


def _is_service(block: Tag) -> bool:
    # "Channel created", "pinned a message": Telegram's notices, not posts.
    return "service_message" in (block.get("class") or [])


def check_public_preview(page: FetchedPage, channel: str) -> None:
    """Raise SourceError unless ``page`` is a channel's public preview."""
    if not urlsplit(page.url).path.startswith("/s/"):
        raise SourceError(
            f"Telegram channel {channel!r} has no public web preview: "
            f"t.me/s/{channel} redirected to {page.url}"
        )
    soup = _soup(page.body)
    if not _message_blocks(soup) and soup.select_one(".tgme_channel_info") is None:
        raise SourceError(
            f"Telegram channel {channel!r} has no public web preview: "
            f"{page.url} shows no messages and no channel information"
        )


def _page_messages(page: FetchedPage) -> list[_Message]:
    """The page's messages (service notices left out), or ParseFailure."""
    soup = _soup(page.body)
    blocks = _message_blocks(soup)
    if not blocks and not _is_known_empty(soup):
        raise ParseFailure(f"{page.url}: no message blocks and no 'No posts found' marker")
    messages = [_read_block(block) for block in blocks]
    return [m for m in messages if not _is_service(m.block)]


def _is_known_empty(soup: BeautifulSoup) -> bool:
    # Past the channel's first post the history section says "No posts found".
    return bool(soup.select_one(".tme_no_messages_found, .tgme_channel_history"))


def _smallest_id(page: FetchedPage) -> int | None:
    # Service notices count for paging: they hold ids like any message.
    ids = []
    for block in _message_blocks(_soup(page.body)):
        match = re.search(r"/(\d+)$", block.get("data-post", ""))
        if match:
            ids.append(int(match.group(1)))
    return min(ids) if ids else None


def _raw_item(message: _Message, page: FetchedPage, source_id: str, location: str) -> RawItem:
    return RawItem(
        format=FORMAT,
        payload=str(message.block),
        source_id=source_id,
        location=location,
        fetched_url=page.url,
        retrieved_at=page.retrieved_at,
        context={"page_url": page.url},
        page=page,
    )


def items_from_page(page: FetchedPage, source_id: str) -> list[RawItem]:
    """Every post of a preview page, newest first. ParseFailure if malformed."""
    messages = sorted(_page_messages(page), key=lambda m: m.post_id, reverse=True)
    return [_raw_item(m, page, source_id, f"{page.url}#{m.native_id}") for m in messages]


# --- scrape ------------------------------------------------------------------------


def channel_name(request: ScrapeRequest) -> str:
    account = request.account
    name = account.handle or ""
    if not name and account.url:
        name = urlsplit(account.url).path.strip("/").removeprefix("s/").split("/")[0]
    name = name.lstrip("@")
    if not name:
        raise SourceError(f"Telegram account of {account.leader_id!r} has no channel name")
    return name


def _since_number(since_id: str | None) -> int | None:
    if not since_id:
        return None
    match = re.search(r"(\d+)$", since_id)
    return int(match.group(1)) if match else None


def _moment(iso: str | None) -> datetime | None:
    if not iso:
        return None
    moment = datetime.fromisoformat(to_utc_iso(iso).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def scrape_account(client: PoliteClient, request: ScrapeRequest) -> Iterator[RawItem | Unparsed]:
    """Page back through the channel, newest first, until the window's start,
    the newest archived post (``since_id``) or the channel's first post."""
    channel = channel_name(request)
    base_url = request.options.get("base_url", WEB_BASE)
    window_start, window_end = _moment(request.window_start), _moment(request.window_end)
    since = _since_number(request.since_id)
    before: int | None = None
    while True:
        page = fetch_channel_page(client, channel, before, base_url)
        if before is None:
            check_public_preview(page, channel)
        try:
            messages = sorted(_page_messages(page), key=lambda m: m.post_id, reverse=True)
        except ParseFailure as exc:
            yield Unparsed(str(exc), page.url, page.body, request.source_id, page.url, page)
            return
        done = False
        for message in messages:
            moment = _moment(message.created_at)
            if since is not None and message.post_id <= since:
                done = True
                break
            if window_start and moment < window_start:
                done = True
                break
            if window_end and moment > window_end:
                continue
            yield _raw_item(message, page, request.source_id, f"{page.url}#{message.native_id}")
        smallest = _smallest_id(page)
        if done or smallest is None or smallest <= 1 or (before and smallest >= before):
            return
        before = smallest


def read_saved_page(path: str, source_id: str) -> Iterator[RawItem | Unparsed]:
    """A saved ``t.me/s/<channel>`` page: one item per message; a message
    without id or time becomes Unparsed and the others go on. A page with
    no message (an empty channel, a page that is not a channel's) is
    Unparsed, saying what it is, rather than nothing."""
    body = read_whole(path)
    page = FetchedPage(url=str(path), body=body)
    soup = _soup(body)
    blocks = _message_blocks(soup)
    services = 0
    for index, block in enumerate(blocks):
        location = f"{path}#message-{index}"
        try:
            message = _read_block(block)
        except ParseFailure as exc:
            yield Unparsed(str(exc), location, str(block), source_id, None, page)
            continue
        if _is_service(block):
            services += 1
        else:
            yield _raw_item(message, page, source_id, f"{location}({message.native_id})")
    if services == len(blocks) and body.strip():
        yield Unparsed(_why_no_messages(soup, services, body), str(path), body, source_id, None, page)


def _why_no_messages(soup: BeautifulSoup, services: int, body: str) -> str:
    if services:
        return f"a Telegram page whose {services} message block(s) are all service notices (no post)"
    info = soup.select_one(".tgme_channel_info_header_title, .tgme_page_title")
    if info is not None or soup.select_one(".tgme_channel_history, .tme_no_messages_found"):
        name = f" of {_inline_text(info)!r}" if info is not None else ""
        return (f"a Telegram channel page{name} with no messages (div.tgme_widget_message): the channel "
                "is empty, or its preview shows none")
    return f"a page with no Telegram message: {describe_text(body)}; expected {expected('telegram-html')}"


# --- raw item -> post (pure) -------------------------------------------------------


def transform_message(item: RawItem) -> Post:
    blocks = _message_blocks(_soup(item.payload))
    if not blocks:
        raise ParseFailure(f"{item.location}: payload holds no message block")
    block = blocks[0]
    message = _read_block(block)
    text_div = _text_div(block)
    forwarded = _forwarded_from(block)
    preview = _link_preview(block)
    views_text = _views_text(block)
    owner = block.select_one(".tgme_widget_message_owner_name")
    links = _text_links(text_div) + ([preview["url"]] if preview else [])
    text = message_text(text_div) if text_div is not None else ""
    kind, kind_media, kind_extra = _message_kind(block)
    if kind == "poll":
        # A poll has no text of its own: its question and options are what it says.
        text = "\n\n".join(part for part in (text, poll_text(kind_extra["poll"])) if part)
    extra = _extra(block, views_text, forwarded, preview)
    if kind:
        extra.update(kind=kind, **kind_extra)
    return Post(
        platform="telegram",
        native_id=message.native_id,
        url=f"{WEB_BASE}/{message.native_id}",
        text=text,
        author_handle=message.channel,
        author_display_name=_inline_text(owner) if owner is not None else None,
        created_at=message.created_at,
        reply_to=_reply_to(block),
        repost_of=_post_key_of(forwarded.get("url")) if forwarded else None,
        hashtags=_anchor_words(text_div, "#"),
        mentions=_anchor_words(text_div, "@"),
        links=unique(links),
        media=_photos(block) + _videos(block) + kind_media + ([_preview_media(preview)] if preview else []),
        view_count=parse_count(views_text),
        extra=extra,
    )


def _extra(block: Tag, views_text: str | None, forwarded: dict | None, preview: dict | None) -> dict:
    """What the preview shows beyond the canonical fields, kept as shown."""
    extra: dict = {}
    if views_text is not None:
        extra["views_text"] = views_text
    if forwarded:
        extra["forwarded_from"] = forwarded
    if preview:
        extra["link_preview"] = preview
    if _is_edited(block):
        extra["edited"] = True  # the preview gives no edit time
    signature = block.select_one(".tgme_widget_message_from_author")
    if signature is not None:
        extra["signature"] = _inline_text(signature)
    if block.select_one(".message_media_not_supported"):
        extra["media_not_in_preview"] = True
    return extra


def _outside(tag: Tag, *classes: str) -> bool:
    """True unless ``tag`` sits inside a quoted reply or a link preview."""
    return not any(tag.find_parent(class_=name) for name in classes)


def _text_div(block: Tag) -> Tag | None:
    # The quoted reply reuses the text class; an album caption nests a second
    # text div inside the first; the outer one is the post's text.
    for div in block.select(".tgme_widget_message_text"):
        if "js-message_reply_text" in (div.get("class") or []):
            continue
        if _outside(div, "tgme_widget_message_reply", "tgme_widget_message_link_preview"):
            return div
    return None


# --- text ---------------------------------------------------------------------------

_SOURCE_BREAK = "\x00"  # whitespace with a line break in the HTML source: formatting
_BLOCK_EDGE = "\x01"  # the edge of a block element: a line break unless one is there
_SOURCE_WHITESPACE = re.compile(r"[ \t\f]*[\r\n][ \t\f\r\n]*")
_BLOCK_TAGS = {"blockquote", "pre", "div", "p", "ul", "ol", "li"}


def message_text(div: Tag) -> str:
    """The post's text as plain text: <br> is a line break, entities decoded,
    the page's own indentation ignored, posted spaces kept."""
    parts: list[str] = []
    _collect_text(div, parts, in_pre=False)
    return clean_text(_resolve_markers("".join(parts)))


def _collect_text(node: Tag, parts: list[str], in_pre: bool) -> None:
    for child in node.children:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            text = str(child)
            parts.append(text if in_pre else _SOURCE_WHITESPACE.sub(_SOURCE_BREAK, text))
        elif child.name == "br":
            parts.append("\n")
        elif child.name == "a" and _is_shortened(child):
            parts.append(child["href"])
        elif child.name in _BLOCK_TAGS:
            parts.append(_BLOCK_EDGE)
            _collect_text(child, parts, in_pre or child.name == "pre")
            parts.append(_BLOCK_EDGE)
        else:
            _collect_text(child, parts, in_pre)


def _is_shortened(anchor: Tag) -> bool:
    # A long URL may be shown cut with an ellipsis; the href has it whole.
    shown = anchor.get_text().strip()
    href = anchor.get("href", "")
    return shown.startswith("http") and shown.endswith(("…", "...")) and href.startswith("http")


def _resolve_markers(text: str) -> str:
    text = re.sub(
        r"[\x00\x01]+", lambda m: _BLOCK_EDGE if _BLOCK_EDGE in m.group() else _SOURCE_BREAK, text
    )
    text = text.strip("\x00\x01")
    text = re.sub(r"\x01(?=\n)|(?<=\n)\x01", "", text).replace(_BLOCK_EDGE, "\n")
    text = re.sub(r"\x00(?=[\n ])|(?<=[\n ])\x00", "", text)
    return text.replace(_SOURCE_BREAK, " ")


def _inline_text(tag: Tag) -> str:
    return " ".join(tag.get_text().split())


# --- entities, media, counts ------------------------------------------------------


def _text_links(div: Tag | None) -> list[str]:
    """Full hrefs of the post's links; hashtag searches and @mentions are not links."""
    if div is None:
        return []
    links = []
    for anchor in div.find_all("a", href=True):
        href, shown = anchor["href"], anchor.get_text().strip()
        if not href.startswith(("http://", "https://")):
            continue
        if shown.startswith("@") and _MENTION_URL.match(href):
            continue
        links.append(href)
    return unique(links)


def _anchor_words(div: Tag | None, sign: str) -> list[str]:
    if div is None:
        return []
    words = []
    for anchor in div.find_all("a"):
        shown = anchor.get_text().strip()
        if shown.startswith(sign) and len(shown) > 1:
            words.append(shown[1:])
    return unique(words)


def _background_url(tag: Tag | None) -> str | None:
    if tag is None:
        return None
    match = _BACKGROUND_URL.search(tag.get("style", ""))
    return urljoin("https:", match.group(1)) if match else None


def _photos(block: Tag) -> list[dict]:
    photos = []
    for wrap in block.select(".tgme_widget_message_photo_wrap"):
        url = _background_url(wrap)
        if url and _outside(wrap, "tgme_widget_message_reply"):
            photos.append({"type": "photo", "url": url, "post_url": wrap.get("href")})
    return photos


def _videos(block: Tag) -> list[dict]:
    videos = []
    for player in block.select(".tgme_widget_message_video_player"):
        video = player.find("video", src=True)
        thumb = _background_url(player.select_one(".tgme_widget_message_video_thumb"))
        duration = player.select_one(".message_video_duration")
        videos.append(
            {
                "type": "video",
                "url": video["src"] if video else player.get("href"),
                "thumbnail": thumb,
                "duration": _inline_text(duration) if duration else None,
            }
        )
    return videos


def _link_preview(block: Tag) -> dict | None:
    anchor = block.select_one("a.tgme_widget_message_link_preview")
    if anchor is None or not anchor.get("href"):
        return None
    fields = {"url": anchor["href"]}
    for key, css in (
        ("site_name", ".link_preview_site_name"),
        ("title", ".link_preview_title"),
    ):
        tag = anchor.select_one(css)
        if tag is not None:
            fields[key] = _inline_text(tag)
    description = anchor.select_one(".link_preview_description")
    if description is not None:
        fields["description"] = message_text(description)
    image = _background_url(anchor.select_one(".link_preview_image, .link_preview_right_image"))
    if image:
        fields["image"] = image
    return fields


def _preview_media(preview: dict) -> dict:
    media = {"type": "link_preview", "url": preview["url"]}
    for key in ("title", "site_name", "image"):
        if key in preview:
            media[key] = preview[key]
    return media


def _forwarded_from(block: Tag) -> dict | None:
    """Where a forwarded message came from, as the preview names it: a
    channel's post (a link to it, which is also ``repost_of``), a channel
    (a link to the channel only), or a person (a name without a link)."""
    box = block.select_one(".tgme_widget_message_forwarded_from")
    if box is None:
        return None
    name_tag = box.select_one(".tgme_widget_message_forwarded_from_name")
    author = box.select_one(".tgme_widget_message_forwarded_from_author")
    name = _inline_text(name_tag) if name_tag is not None else _inline_text(box)
    if name_tag is None and author is not None:
        name = name.replace(_inline_text(author), "")
    forwarded = {"name": re.sub(r"^Forwarded from\s*", "", name).strip()}
    href = name_tag.get("href") if name_tag is not None else None
    if href:
        forwarded["url"] = href
        post = _POST_URL.match(href)
        channel = post or _MENTION_URL.match(href)
        if channel:
            forwarded["channel"] = channel.group(1)
        if post:
            forwarded["message_id"] = int(post.group(2))
    if author is not None:
        forwarded["author"] = _inline_text(author).strip(" ()")
    return forwarded


# --- what a message is when it is not text: poll, voice, sticker ... ---------------


def _message_kind(block: Tag) -> tuple[str | None, list[dict], dict]:
    """(kind, media, extra) for a message whose content is not (only) text:
    a poll, a voice message, a sticker, a round video, a document. The
    kind is kept in ``extra["kind"]``; a plain text or photo post has none."""
    poll = block.select_one(".tgme_widget_message_poll")
    if poll is not None and _outside(poll, "tgme_widget_message_reply"):
        return "poll", [], {"poll": _poll(poll)}
    voice = block.select_one("audio.tgme_widget_message_voice, .tgme_widget_message_voice")
    if voice is not None:
        duration = block.select_one(".tgme_widget_message_voice_duration")
        media = {"type": "voice", "url": voice.get("src") or voice.get("data-src")}
        if duration is not None:
            media["duration"] = _inline_text(duration)
        return "voice", [media], {}
    sticker = block.select_one(
        ".tgme_widget_message_sticker, .tgme_widget_message_tgsticker, .tgme_widget_message_videosticker")
    if sticker is not None:
        video = sticker if sticker.name == "video" else sticker.find("video", src=True)
        url = sticker.get("data-webp") or (video.get("src") if video is not None else None) or _background_url(sticker)
        return "sticker", [{"type": "sticker", "url": url}], {}
    round_video = block.select_one(".tgme_widget_message_roundvideo_player, .tgme_widget_message_roundvideo")
    if round_video is not None:
        video = round_video.find("video", src=True)
        return "round_video", [{"type": "round_video", "url": video["src"] if video is not None else None}], {}
    document = block.select_one(".tgme_widget_message_document")
    if document is not None:
        title = document.select_one(".tgme_widget_message_document_title")
        size = document.select_one(".tgme_widget_message_document_extra")
        return "document", [{"type": "document", "title": _inline_text(title) if title is not None else None,
                             "size": _inline_text(size) if size is not None else None}], {}
    return None, [], {}


def _poll(poll: Tag) -> dict:
    question = poll.select_one(".tgme_widget_message_poll_question")
    kind = poll.select_one(".tgme_widget_message_poll_type")
    options = []
    for option in poll.select(".tgme_widget_message_poll_option"):
        label = option.select_one(".tgme_widget_message_poll_option_text")
        percent = option.select_one(".tgme_widget_message_poll_option_percent")
        if label is not None:
            options.append({"text": _inline_text(label), "percent": _inline_text(percent) if percent is not None else None})
    if not options:  # markup without the option wrapper: the labels alone
        options = [{"text": _inline_text(label), "percent": None}
                   for label in poll.select(".tgme_widget_message_poll_option_text")]
    message = poll.find_parent(class_="tgme_widget_message")
    voters = (message or poll).select_one(".tgme_widget_message_voters")
    return {
        "question": _inline_text(question) if question is not None else "",
        "type": _inline_text(kind) if kind is not None else None,
        "options": options,
        "voters": _inline_text(voters) if voters is not None else None,
    }


def poll_text(poll: dict) -> str:
    """The question, then one line per option."""
    lines = [poll.get("question") or ""] + [f"- {option['text']}" for option in poll.get("options") or []]
    return "\n".join(line for line in lines if line)


def _post_key_of(url: str | None) -> str | None:
    """``telegram:channel/123`` for a link to a Telegram post, else None."""
    match = _POST_URL.match(url or "")
    return post_key("telegram", f"{match.group(1)}/{match.group(2)}") if match else None


def _reply_to(block: Tag) -> str | None:
    reply = block.select_one("a.tgme_widget_message_reply")
    return _post_key_of(reply.get("href")) if reply is not None else None


def _views_text(block: Tag) -> str | None:
    views = block.select_one(".tgme_widget_message_views")
    return _inline_text(views) if views is not None else None


def parse_count(text: str | None) -> int | None:
    """Telegram's rounded counts: "987" -> 987, "214.4K" -> 214400, "1.2M" -> 1200000."""
    if not text:
        return None
    match = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*([KkMmBb]?)", text.strip())
    if not match:
        return None
    number, suffix = match.group(1).replace(",", "."), match.group(2).upper()
    scale = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}[suffix]
    whole, _, fraction = number.partition(".")
    # Integer arithmetic: float("214.4") * 1000 is 214399.99...
    return (int(whole) * scale) + (int(fraction) * scale // 10 ** len(fraction) if fraction else 0)


def _is_edited(block: Tag) -> bool:
    meta = block.select_one(".tgme_widget_message_meta")
    return meta is not None and "edited" in meta.get_text().lower()




# --- re-check archived posts --------------------------------------------------------

# What the widget page of a missing message says, in its
# .tgme_widget_message_error, and what that means for the post.
_EMBED_ERRORS = (
    (re.compile(r"\bpost not found\b", re.I), "deleted"),
    (re.compile(r"\bchannel\b.*\bnot found\b|\busername\b.*\bnot found\b", re.I), "deleted"),
    (re.compile(r"\bprivate\b", re.I), "protected"),
    (re.compile(r"\blocal laws\b|\bnot available in your (?:country|region)\b", re.I), "withheld"),
    (re.compile(r"\bterms of service\b|\bviolat", re.I), "suspended"),
)
_NATIVE_ID = re.compile(r"^(?:telegram:)?([A-Za-z0-9_]{3,})/(\d+)$")


def fetch_embed_page(client: PoliteClient, channel: str, post_id: int, base_url: str = WEB_BASE) -> FetchedPage:
    """The widget page of one message, ``t.me/<channel>/<id>?embed=1``."""
    url = f"{base_url.rstrip('/')}/{channel}/{post_id}"
    return client.get(url, params={"embed": "1"}, kind="t.me", ok_statuses=(404,))


def recheck_address(target: RecheckTarget) -> tuple[str, int] | None:
    """(channel, message id) of an archived post: from its native id
    ``channel/123``, else its t.me URL, else ``extra["channel"]``."""
    for value in (target.native_id, target.url):
        match = _NATIVE_ID.match(value or "") or _POST_URL.match(value or "")
        if match:
            return match.group(1), int(match.group(2))
    channel = (target.extra or {}).get("channel")
    number = re.search(r"(\d+)$", target.native_id or "")
    if channel and number:
        return str(channel).lstrip("@"), int(number.group(1))
    return None


def embed_error_reason(text: str) -> str | None:
    """The unavailable reason an error text of the widget page means, or None."""
    for pattern, reason in _EMBED_ERRORS:
        if pattern.search(text or ""):
            return reason
    return None


def recheck_posts(
    client: PoliteClient, targets: list[RecheckTarget], source_id: str, options: dict
) -> Iterator[RawItem | Unparsed]:
    """Fetch archived messages again, one widget page each (t.me has no batch
    lookup; a preview page's silence about an id is no proof of deletion).

    A message that shows comes back as a telegram-message item, as in a
    scrape. A page whose error says "Post not found" (or that the channel is
    gone) is a "deleted" tombstone; a private channel is "protected". An
    error text not known here is Unparsed, never a tombstone; a network
    error or a 5xx raises SourceError."""
    base_url = options.get("base_url", WEB_BASE)
    for target in targets:
        address = recheck_address(target)
        if address is None:
            yield Unparsed(
                f"Telegram post {target.native_id!r}: no channel and message id to re-check it by",
                target.native_id,
                target.native_id,
                source_id,
            )
            continue
        channel, post_id = address
        page = fetch_embed_page(client, channel, post_id, base_url)
        soup = _soup(page.body)
        error = soup.select_one(".tgme_widget_message_error")
        if error is not None:
            said = _inline_text(error)
            reason = embed_error_reason(said)
            if reason is None:
                yield Unparsed(
                    f"{page.url}: unknown error on the widget page: {said!r}", page.url, page.body, source_id, page.url, page
                )
                continue
            yield tombstone_item(
                "telegram",
                target.native_id,
                reason,
                source_id=source_id,
                location=page.url,
                url=target.url or f"{WEB_BASE}/{channel}/{post_id}",
                page=page,
                detail={"error_text": said, "via": "embed", "http_status": page.status},
            )
            continue
        if page.status == 404:
            raise SourceError(f"Telegram post {channel}/{post_id}: HTTP 404 without an error text from {page.url}")
        wanted = f"{channel}/{post_id}".lower()
        blocks = [b for b in _message_blocks(soup) if b.get("data-post", "").strip().lower() == wanted]
        if not blocks:
            yield Unparsed(
                f"{page.url}: no message block for {channel}/{post_id} and no error text",
                page.url,
                page.body,
                source_id,
                page.url,
                page,
            )
            continue
        try:
            message = _read_block(blocks[0])
        except ParseFailure as exc:
            yield Unparsed(f"{page.url}: {exc}", page.url, str(blocks[0]), source_id, page.url, page)
            continue
        yield _raw_item(message, page, source_id, f"{page.url}#{message.native_id}")
