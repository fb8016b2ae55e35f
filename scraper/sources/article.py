"""News articles: the posts they embed, and the reactions they report.

An article is a saved HTML page, a URL, or plain text (a report copied from
a page, where an embedded post is rendered as
``TEXT — Display Name (@handle) Month D, YYYY``). We extract:

* X/Twitter embeds (``blockquote.twitter-tweet``) with text, display name,
  handle, status id (from the status link) and date, in the variants sites
  produce (name line in its own paragraph, literal em dash, numeric entities);
* Bluesky embeds (``blockquote.bluesky-embed`` with ``data-bluesky-uri``);
* Mastodon, Telegram, Instagram and Facebook embeds (link only: the post's URL);
* plain-text renderings of embeds, in text files and in HTML paragraphs;
* sentences reporting that a roster leader reacted without quoting a post.

An embed that names its post but shows none of it (a site stripped an X or
Bluesky embed to its link, a page saved after the widget ran, a Mastodon or
Telegram embed, which never carry the text) becomes a *pending* post exactly
as ``reactions import urls`` records one (:func:`scraper.sources.urls.pending_post`),
with the article and the embed's position in it, for ``reactions hydrate``
or a later sighting to fill.

Markdown and MDX articles are rendered to HTML first
(:mod:`scraper.sources.markdown_article`): their embeds are raw HTML blocks.

Reading the article (``fetch_article``/``read_article``) is the only I/O;
everything else here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from bs4 import BeautifulSoup, Tag

from ..errors import InputError, ParseFailure
from ..http import utc_now
from ..model import FetchedPage, Post, RawItem
from ..normalise import clean_text, extract_links, fold, parse_embed_date, snowflake_time
from . import Unparsed
from . import markdown_article
from .urls import NOT_A_HANDLE, parse_post_url, pending_post

DASHES = "\u2014\u2013"  # em dash, en dash; "--" is handled in the patterns
_HANDLE = r"@(?P<handle>[A-Za-z0-9_]{1,15})"
# "June 10, 2021", "10 de junio de 2021", "10 juin 2021", "10. Juni 2021"
_DATE_TEXT = r"(?P<date>[A-Z][a-z]{2,9}\.? \d{1,2}, \d{4}|\d{1,2}\.? (?:de )?[A-Za-zçéû]+\.? (?:de )?\d{4})"
TEXT_EMBED = re.compile(
    r"^(?P<text>.+?)\s+(?:[" + DASHES + r"]|--)\s*(?P<name>[^" + DASHES + r"\n]+?)\s*\(" + _HANDLE + r"\)\s*" + _DATE_TEXT + r"\s*$",
    re.DOTALL,
)
STATUS_URL = re.compile(r"(?:https?:)?//(?:www\.|mobile\.)?(?:twitter|x)\.com/(?P<handle>\w+|i/web)/status(?:es)?/(?P<id>\d+)")
REACTION_WORDS = (
    "congratulat", "felicit", "parabeniz", "rejoic", "celebrat", "saluted", "saludo", "saludó", "hailed",
    "welcomed", "greeted", "praised", "cumpriment", "sent messages", "congratulatory",
)


@dataclass
class Article:
    """An article as read: its page (provenance), metadata and content."""

    page: FetchedPage
    source_id: str
    location: str
    is_html: bool
    title: str | None = None
    outlet: str | None = None
    published_at: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    soup: BeautifulSoup | None = None
    markdown: bool = False  # written in Markdown or MDX, read as its rendered HTML


# --- reading (I/O) -------------------------------------------------------------


def read_article(location: str, source_id: str, client=None) -> Article:
    """Read an article from a file path or an http(s) URL."""
    if re.match(r"^https?://", location):
        if client is None:
            raise InputError(f"{location}: reading an article from a URL needs the network client")
        page = client.get(location, kind="article")
    else:
        path = Path(location)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{location}: article file not found") from None
        except OSError as exc:
            raise InputError(f"{location}: cannot read article ({exc})") from None
        page = FetchedPage(url=path.resolve().as_uri(), body=decode_saved_page(data, location), retrieved_at=utc_now())
    return parse_article(page, source_id, location)


# --- parsing (pure) -------------------------------------------------------------

# Control characters (not tab, line ends, form feed) in a text: more than this
# share of its start and it is binary data, whatever an encoding makes of it.
_BINARY_SHARE = 0.01
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_saved_page(data: bytes, location: str) -> str:
    """A saved page's text: UTF-8 (a byte-order mark dropped), else the
    encoding the page declares (``<meta charset>``, an XML declaration, a
    UTF-16 byte-order mark), else Windows-1252: pages saved from older news
    sites in Latin-1 or Windows-1252 read right. Binary data is refused."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        from bs4 import UnicodeDammit

        text = UnicodeDammit(data, user_encodings=["windows-1252"], is_html=True).unicode_markup
        if text is None:
            raise InputError(f"{location}: not UTF-8 text ({exc}), nor in any encoding it declares") from None
    head = text[:8192]
    controls = len(_CONTROL.findall(head))
    if controls > _BINARY_SHARE * len(head):
        raise InputError(f"{location}: not UTF-8 text, nor any text: binary data "
                         f"({controls:,} control characters in its first {len(head):,})")
    return text



def looks_like_html(text: str) -> bool:
    head = text.lstrip()[:2000].lower()
    return head.startswith("<") or any(tag in head for tag in ("<html", "<body", "<p>", "<p ", "<blockquote", "<div"))


def parse_article(page: FetchedPage, source_id: str, location: str) -> Article:
    if markdown_article.is_markdown(location, page.headers.get("content-type")):
        html, _meta_data = markdown_article.to_html(page.body, mdx=location.lower().endswith(".mdx"))
        article = _parse_html(page, html, source_id, location)
        article.markdown = True
        heading = article.soup.find("h1")
        article.title = article.title or (clean_text(heading.get_text(" ")) if heading else None)
    elif looks_like_html(page.body):
        article = _parse_html(page, page.body, source_id, location)
    else:
        article = Article(page, source_id, location, False)
        body = page.body.replace("\r\n", "\n")
        header = re.match(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b", body)
        if header:
            article.published_at = header.group(1)
            body = body[header.end():]
        article.paragraphs = [clean_text(p) for p in re.split(r"\n\s*\n", body) if p.strip()]
    return article


def _parse_html(page: FetchedPage, html: str, source_id: str, location: str) -> Article:
    soup = BeautifulSoup(html, "html.parser")
    article = Article(page, source_id, location, True, soup=soup)
    article.title = _meta(soup, "og:title") or (soup.title.get_text(strip=True) if soup.title else None)
    article.outlet = _meta(soup, "og:site_name")
    article.published_at = _meta(soup, "article:published_time") or _time_attribute(soup)
    article.paragraphs = [
        clean_text(p.get_text(" "))
        for p in soup.find_all(["p", "h1", "h2", "li"])
        if not p.find_parent("blockquote")
    ]
    return article


def _meta(soup: BeautifulSoup, name: str) -> str | None:
    tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
    return tag.get("content") if tag and tag.get("content") else None


def _time_attribute(soup: BeautifulSoup) -> str | None:
    tag = soup.find("time", attrs={"datetime": True})
    return tag["datetime"] if tag else None


def items_from_article(article: Article) -> Iterator[RawItem | Unparsed]:
    """One raw item per embedded post, in document order."""
    context = {"article_url": article.page.url, "article_published_at": article.published_at}
    index = 0

    def item(format_name: str, payload: str) -> RawItem:
        nonlocal index
        index += 1
        return RawItem(
            format=format_name,
            payload=payload,
            source_id=article.source_id,
            location=f"{article.location}#embed-{index}",
            fetched_url=article.page.url,
            retrieved_at=article.page.retrieved_at,
            context={**context, "embed_position": index},
            page=article.page,
        )

    if article.soup is not None:
        for tag in _embed_tags(article.soup):
            format_name = _embed_format(tag)
            yield item(format_name, str(tag))
    for paragraph in article.paragraphs:
        if TEXT_EMBED.match(paragraph):
            yield item("article-text-embed", paragraph)


def _embed_tags(soup: BeautifulSoup) -> list[Tag]:
    found = []
    for tag in soup.find_all(["blockquote", "iframe", "div", "amp-twitter", "script", "tweet"]):
        if _embed_format(tag) and not any(tag in parent.descendants for parent in found):
            found.append(tag)
    return found


def _embed_format(tag: Tag) -> str | None:
    classes = set(tag.get("class") or [])
    if tag.name == "blockquote" and classes & {"twitter-tweet", "twitter-video"}:
        return "article-x-embed"
    if _rendered_tweet_id(tag):
        # A page saved after widgets.js ran: the text sits inside the iframe,
        # only the id is in the page.
        return "article-x-id-embed"
    if tag.name == "blockquote" and "bluesky-embed" in classes:
        return "article-bluesky-embed"
    if classes & {"mastodon-embed", "instagram-media", "fb-post", "telegram-post"}:
        return "article-link-embed"
    if tag.name == "script" and tag.get("data-telegram-post"):
        return "article-link-embed"  # Telegram's widget: the post's channel/number only
    src = tag.get("src") or ""
    if tag.name == "iframe" and (
        "facebook.com/plugins/post" in src or re.search(r"/@[\w.]+/\d+/embed", src) or _TELEGRAM_IFRAME.match(src)
    ):
        return "article-link-embed"
    return None


_TELEGRAM_IFRAME = re.compile(r"^(?:https?:)?//(?:www\.)?t\.me/[A-Za-z0-9_]{3,}/\d+\?(?:.*&)?embed=1")


def reported_reactions(article: Article, leaders, candidates: set[str], quoted_handles: set[str]):
    """(leader_id, sentence, reported_on) for roster leaders that a sentence
    reports as reacting, except the election's candidates and leaders whose
    post the article quotes."""
    found = {}
    for paragraph in article.paragraphs:
        if TEXT_EMBED.match(paragraph):
            continue
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", paragraph):
            folded = fold(sentence)
            if not any(word in folded for word in REACTION_WORDS):
                continue
            for leader in leaders:
                if leader.id in candidates or leader.id in found:
                    continue
                if {a.handle.lower() for a in leader.accounts if a.handle} & quoted_handles:
                    continue
                if _mentions_leader(folded, leader):
                    found[leader.id] = (leader.id, sentence.strip(), (article.published_at or "")[:10] or None)
    return list(found.values())


def _mentions_leader(folded_sentence: str, leader) -> bool:
    for name in [leader.name, *leader.aliases]:
        if re.search(r"(?<!\w)" + re.escape(fold(name)) + r"(?!\w)", folded_sentence):
            return True
    return False


def read_article_items(location: str, source_id: str, client=None) -> Iterator[RawItem | Unparsed]:
    yield from items_from_article(read_article(location, source_id, client))


# --- transforms (pure) ------------------------------------------------------------


def _embed_text_and_signature(block: Tag) -> tuple[str, str]:
    """Split an embed into the post's text and its signature line
    ("— Name (@handle) Date"), whatever paragraphs and dashes it uses."""
    block = BeautifulSoup(str(block), "html.parser")
    for br in block.find_all("br"):
        br.replace_with("\n")
    for p in block.find_all("p"):
        p.insert_after("\n\n")
    text = clean_text(block.get_text())
    match = re.search(r"(?:^|\s)(?:[" + DASHES + r"]|--)\s*([^" + DASHES + r"]*\(@?[\w.:-]+\)[^\n]*)\s*$", text)
    if not match:
        raise ParseFailure("embed has no signature line ('— Name (@handle) Date')")
    return clean_text(text[: match.start()]), match.group(1).strip()


_TRAILING_MEDIA = re.compile(r"\s*(?<![\w.#@-])(?:https?://)?(?:www\.)?(pic\.(?:twitter|x)\.com/\w+)\s*$")


def split_media_link(text: str) -> tuple[str, list[dict]]:
    """X shows an attached photo or video as a pic.twitter.com link at the end
    of the text. It is an attachment, not words: it goes to media, as the
    API readers drop the trailing t.co media link (so the same post read from
    an embed and from the API has the same text)."""
    match = _TRAILING_MEDIA.search(text)
    if not match:
        return text, []
    return text[: match.start()].rstrip(), [{"type": "media", "url": "https://" + match.group(1)}]


# "Name (@handle) Date"; the @ form first, so a name with a word in
# brackets ("Luis (Lucho) Arce (@x)") is not cut at the brackets.
_SIGNATURES = (
    re.compile(r"^(?P<name>.*?)\s*\(@(?P<handle>[\w.:-]+)\)\s*(?P<date>.*)$"),
    re.compile(r"^(?P<name>.*?)\s*\((?P<handle>[\w.:-]+)\)\s*(?P<date>.*)$"),
)


def _signed(signature: str):
    return next((m for m in (p.match(signature) for p in _SIGNATURES) if m), None)


def transform_x_embed(item: RawItem) -> Post:
    block = BeautifulSoup(item.payload, "html.parser").find("blockquote")
    try:
        text, signature = _embed_text_and_signature(block)
    except ParseFailure:
        # Stripped to its link ("<a href=.../status/ID></a>", "&nbsp;", "Tweet
        # may have been deleted"): the post is named, not shown.
        pending = _link_only(block, item, "x")
        if pending is None:
            raise
        return pending
    signed = _signed(signature)
    if not signed:
        raise ParseFailure(f"cannot read the signature line {signature!r}")
    handle = signed.group("handle").lstrip("@")
    status_id, url = None, None
    for anchor in block.find_all("a", href=True):
        status = STATUS_URL.match(anchor["href"])
        if status:
            status_id = status.group("id")
            if status.group("handle").lower() not in NOT_A_HANDLE and status.group("handle") != "i/web":
                handle = status.group("handle")
            url = f"https://x.com/{handle}/status/{status_id}"
    created_at = snowflake_time(status_id) if status_id else None
    if created_at is None:
        created_at = parse_embed_date(signed.group("date"))
    paragraph = block.find("p")
    language = paragraph.get("lang") if paragraph is not None else None
    text, media = split_media_link(text)
    return Post(
        platform="x",
        native_id=status_id,
        text=text,
        media=media,
        author_handle=handle,
        author_display_name=signed.group("name") or None,
        url=url,
        created_at=created_at,
        language=language if language and language not in ("und", "qme", "zxx") else None,
        links=_embed_links(paragraph),
        extra={"embed_date_text": signed.group("date") or None, "article_url": item.context.get("article_url")},
    )


def _embed_links(paragraph: Tag | None) -> list[str]:
    """Links in an embed's text: the expanded form where the anchor shows it,
    hashtag, mention and media links left out."""
    if paragraph is None:
        return []
    links = []
    for anchor in paragraph.find_all("a", href=True):
        href, shown = anchor["href"], anchor.get_text(strip=True)
        if "/hashtag/" in href or shown.startswith(("#", "@", "pic.twitter.com")):
            continue
        if shown.startswith("http") and not shown.endswith("…"):
            links.append(shown)
        else:
            links.append(href)
    return links


def transform_bluesky_embed(item: RawItem) -> Post:
    block = BeautifulSoup(item.payload, "html.parser").find("blockquote")
    uri = block.get("data-bluesky-uri")
    try:
        text, signature = _embed_text_and_signature(block)
    except ParseFailure:
        pending = _link_only(block, item, "bluesky", uri)
        if pending is None:
            raise ParseFailure("Bluesky embed with neither a signature line nor a post link") from None
        return pending
    if not uri or not uri.startswith("at://"):
        raise ParseFailure("Bluesky embed without a data-bluesky-uri")
    did, _, rkey = uri[len("at://"):].partition("/app.bsky.feed.post/")
    signed = _signed(signature)
    handle = signed.group("handle").lstrip("@") if signed else None
    paragraph = block.find("p")
    text = re.sub(r"\s*\[(?:image or embed|contains quote post or other embedded content)\]\s*$", "", text)
    return Post(
        platform="bluesky",
        native_id=uri,
        text=text,
        author_handle=handle,
        author_display_name=(signed.group("name") or None) if signed else None,
        author_platform_id=did or None,
        url=f"https://bsky.app/profile/{did}/post/{rkey}" if rkey else None,
        created_at=parse_embed_date(signed.group("date")) if signed else None,
        language=paragraph.get("lang") if paragraph is not None else None,
        extra={"article_url": item.context.get("article_url")},
    )


def _link_only(block: Tag, item: RawItem, platform: str, named: str | None = None) -> Post | None:
    """The pending post an embed without its text names (``named``, else
    the last link to a post of ``platform`` in it), or None."""
    urls = [named] if named else []
    urls += [anchor["href"].strip() for anchor in block.find_all("a", href=True)]
    for url in reversed(urls):
        url = "https:" + url if url.startswith("//") else url
        try:
            found = parse_post_url(url)
        except ParseFailure:
            continue
        if found["platform"] == platform:
            shown = clean_text(re.sub(r"(?:https?:)?//\S+", " ", block.get_text(" ")))
            return _pending(url, item, embed_text=" ".join(shown.split()))
    return None


def _pending(url: str, item: RawItem, **more) -> Post:
    """A link-only embed as a pending post (see scraper.sources.urls): the
    article it was found in and its place there kept in extra."""
    extra = {
        "link_only": True,
        "article_url": item.context.get("article_url"),
        "embed_position": item.context.get("embed_position"),
        **{key: value for key, value in more.items() if value},
    }
    return pending_post(url, {key: value for key, value in extra.items() if value is not None})


def _rendered_tweet_id(tag: Tag) -> str | None:
    if tag.name == "tweet":  # an MDX component: <Tweet id="..." /> (react-tweet), <Tweet tweetLink="user/status/ID" />
        for name in ("id", "tweetid", "tweet-id", "tweetlink"):
            found = re.search(r"(\d{5,25})\D*$", tag.get(name) or "")
            if found:
                return found.group(1)
        return None
    if tag.name == "amp-twitter" and not tag.find("blockquote"):
        return tag.get("data-tweetid")
    if tag.name == "iframe":
        if tag.get("data-tweet-id"):
            return tag["data-tweet-id"]
        src = tag.get("src") or ""
        if "platform.twitter.com/embed/Tweet.html" in src:
            return (parse_qs(urlsplit(src).query).get("id") or [None])[0]
    return None


def transform_x_id_embed(item: RawItem) -> Post:
    tag = BeautifulSoup(item.payload, "html.parser").find(["iframe", "amp-twitter", "tweet"])
    status_id = _rendered_tweet_id(tag) if tag else None
    if not status_id or not status_id.isdigit():
        raise ParseFailure("rendered tweet embed without a numeric tweet id")
    return _pending(f"https://x.com/i/status/{status_id}", item)


def transform_link_embed(item: RawItem) -> Post:
    tag = BeautifulSoup(item.payload, "html.parser").find(["blockquote", "iframe", "div", "script"])
    url = _embed_url(tag) if tag is not None else None
    if not url:
        raise ParseFailure("embed without a post link")
    try:
        parse_post_url(url)
    except ParseFailure:
        pass
    else:  # Mastodon, Telegram (and X or Bluesky) posts can be hydrated
        return _pending(url, item)
    platform, native_id, handle = _identify_link(url)
    return Post(
        platform=platform,
        native_id=native_id,
        text="",
        author_handle=handle,
        url=url,
        extra={"link_only": True, "article_url": item.context.get("article_url")},
    )


def _embed_url(tag: Tag) -> str | None:
    if tag.get("data-telegram-post"):
        return f"https://t.me/{tag['data-telegram-post'].strip()}"
    for attribute in ("data-instgrm-permalink", "data-href", "data-embed-url", "cite"):
        if tag.get(attribute):
            return re.sub(r"/embed/?$", "", tag[attribute].strip())
    src = tag.get("src") or ""
    if _TELEGRAM_IFRAME.match(src):
        return "https:" + src.split("?", 1)[0] if src.startswith("//") else src.split("?", 1)[0]
    if "facebook.com/plugins/post" in src:
        href = parse_qs(urlsplit(src).query).get("href")
        return unquote(href[0]) if href else None
    if src:
        return re.sub(r"/embed/?$", "", src)
    anchor = tag.find("a", href=True)
    return anchor["href"] if anchor else None


def _identify_link(url: str) -> tuple[str, str, str | None]:
    parts = urlsplit(url)
    host = parts.netloc.lower()
    path = re.sub(r"/embed/?$", "", parts.path).rstrip("/")
    if "instagram.com" in host:
        match = re.search(r"/(?:p|reel|tv)/([\w-]+)", path)
        return "instagram", match.group(1) if match else path, None
    if "facebook.com" in host:
        return "facebook", f"{host}{path}", None
    mastodon = re.match(r"^/@([\w.]+)/(\d+)$", path)
    if mastodon:
        canonical = f"https://{host}/@{mastodon.group(1)}/{mastodon.group(2)}"
        return "mastodon", canonical, f"@{mastodon.group(1)}@{host}"
    return "web", url, None


def transform_text_embed(item: RawItem) -> Post:
    match = TEXT_EMBED.match(item.payload)
    if not match:
        raise ParseFailure("not a 'TEXT — Name (@handle) Date' rendering")
    text, media = split_media_link(match.group("text").strip())
    return Post(
        platform="x",
        native_id=None,
        text=text,
        media=media,
        author_handle=match.group("handle"),
        author_display_name=match.group("name").strip(),
        created_at=parse_embed_date(match.group("date")),
        links=extract_links(text),
        extra={"embed_date_text": match.group("date"), "article_url": item.context.get("article_url")},
    )

