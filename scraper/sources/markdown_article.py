"""Articles written in Markdown or MDX (blogs, newsroom repositories, static
site generators): turned into HTML so that the article reader finds their
embeds and paragraphs as it does in any page.

An embed in Markdown is raw HTML (the embed code pasted between paragraphs);
CommonMark passes raw HTML blocks and inline HTML through unchanged, so the
rendered page holds the embed exactly as written. The rendering is done by
markdown-it-py (CommonMark compliant, maintained by the Executable Books
project, and already installed as a dependency of rich). MDX adds
``import``/``export`` lines, which are dropped, and components such as
``<Tweet id="..." />``, which pass through as tags the article reader knows.
A YAML front matter block gives the title and date.

Pure: text in, HTML and metadata out.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from html import escape
from urllib.parse import urlsplit

import yaml
from markdown_it import MarkdownIt

SUFFIXES = (".md", ".markdown", ".mdx", ".mdown", ".mkd")
CONTENT_TYPES = ("text/markdown", "text/x-markdown", "text/mdx")

_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_MDX_ESM = re.compile(r"^(?:import|export)\s[^\n]*(?:\n|$)", re.MULTILINE)
_TITLE_KEYS = ("title", "headline")
_DATE_KEYS = ("date", "published", "published_at", "pubDate", "publishDate", "created")


def is_markdown(location: str, content_type: str | None = None) -> bool:
    """By the file's (or URL path's) suffix, or a Markdown content type."""
    if content_type and content_type.split(";", 1)[0].strip().lower() in CONTENT_TYPES:
        return True
    path = urlsplit(location).path if re.match(r"^https?://", location) else location
    return path.lower().endswith(SUFFIXES)


def to_html(text: str, mdx: bool = False) -> tuple[str, dict]:
    """(an HTML page, front matter) for a Markdown document. The page's
    ``<title>`` and ``article:published_time`` come from the front matter."""
    meta, body = front_matter(text)
    if mdx:
        body = _MDX_ESM.sub("", body)
    rendered = MarkdownIt("commonmark").render(body)
    head = []
    title = _first_text(meta, _TITLE_KEYS)
    if title:
        head.append(f"<title>{escape(title)}</title>")
    published = _first_date(meta)
    if published:
        head.append(f'<meta property="article:published_time" content="{escape(published)}">')
    return f"<html><head>{''.join(head)}</head><body>{rendered}</body></html>", meta


def front_matter(text: str) -> tuple[dict, str]:
    """The YAML front matter (``---`` ... ``---``) and the text after it. A
    block that is not a YAML mapping is left in the text."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}, text
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[match.end():]


def _first_text(meta: dict, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _first_date(meta: dict) -> str | None:
    for key in _DATE_KEYS:
        value = meta.get(key)
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value.strip()):
            return value.strip()
    return None
