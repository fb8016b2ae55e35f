"""Which code reads which format: the one registry, written out.

Four tables, each a mapping from a format name to ``"module:function"``:

* :data:`TRANSFORMS`: a raw item's ``format`` -> the pure function that
  turns one :class:`~scraper.model.RawItem` into one
  :class:`~scraper.model.Post` (see :func:`scraper.normalise.normalise`);
* :data:`FILE_READERS`: ``reactions import FORMAT PATH`` -> the function
  ``(path_or_url, source_id) -> items`` that reads a saved file;
* :data:`LINE_READERS`: line-based file formats -> ``(line, source_id,
  location) -> items`` for one line, so that worker processes can read
  lines of a large file (:mod:`scraper.parallel`);
* :data:`PAGE_READERS`: formats whose pages are stored whole
  (:class:`~scraper.model.RawPage`) -> ``(text, source_id, location) ->
  {pointer: item}``, to cut a stored page up again (``reactions reprocess``);

and :data:`ADAPTERS`: a config source ``kind`` -> the module whose
``scrape_account(client, request)`` fetches an account live.

A module is imported the first time one of its functions is asked for, so
``reactions import twarc2-jsonl`` never loads the HTML parsers, and nothing
here imports a source module at import time: the registry is data, not the
side effect of importing every source. A new format is one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType

_S = "scraper.sources."

TRANSFORMS: dict[str, str] = {
    "article-x-embed": _S + "article:transform_x_embed",
    "article-bluesky-embed": _S + "article:transform_bluesky_embed",
    "article-x-id-embed": _S + "article:transform_x_id_embed",
    "article-link-embed": _S + "article:transform_link_embed",
    "article-text-embed": _S + "article:transform_text_embed",
    "bluesky-feed-item": _S + "bluesky:transform_feed_item",
    "mastodon-status": _S + "mastodon:transform_status",
    "mastodon-activity": _S + "mastodon_export:transform_activity",
    "pending-url": _S + "urls:transform_pending_url",
    "rss-entry": _S + "rss:transform_entry",
    "snscrape-item": _S + "snscrape_backend:transform_item",
    "telegram-message": _S + "telegram:transform_message",
    "tombstone": "scraper.normalise:transform_tombstone",
    "x-v1-tweet": _S + "x_v1:transform_v1_tweet",
    "x-v2-tweet": _S + "x:transform_v2_tweet",
    "x-syndication-tweet": _S + "x:transform_syndication_tweet",
    "x-oembed": _S + "x:transform_oembed",
}

FILE_READERS: dict[str, str] = {
    "article": _S + "article:read_article_items",
    "bluesky-feed": _S + "bluesky:read_bluesky_feed",
    "mastodon-outbox": _S + "mastodon_export:read_outbox",
    "mastodon-statuses": _S + "mastodon:read_statuses_file",
    "rss": _S + "rss:read_feed",
    "snscrape-jsonl": _S + "snscrape_backend:read_jsonl",
    "telegram-html": _S + "telegram:read_saved_page",
    "twarc2-jsonl": _S + "twarc:read_twarc2_jsonl",
    "urls": _S + "urls:read_url_list",
    "x-archive": _S + "x_archive:read_x_archive",
    "x-oembed": _S + "x:read_x_oembed",
    "x-syndication": _S + "x:read_x_syndication",
    "x-v1-json": _S + "x_v1:read_v1_json",
    "x-v2": _S + "x:read_x_v2",
}

LINE_READERS: dict[str, str] = {
    "snscrape-jsonl": _S + "snscrape_backend:item_from_line",
    "twarc2-jsonl": _S + "twarc:items_from_line",
}

PAGE_READERS: dict[str, str] = {
    "twarc2-jsonl": _S + "twarc:items_in_stored_line",
}

ADAPTERS: dict[str, str] = {
    "bluesky": _S + "bluesky",
    "mastodon": _S + "mastodon",
    "telegram": _S + "telegram",
    "x": _S + "x",
    "x-hydrate": _S + "x",
    "snscrape": _S + "snscrape_backend",
    "rss": _S + "rss",
}

_resolved: dict[str, Callable] = {}


def resolve(target: str) -> Callable:
    """The function a ``"module:function"`` entry names (imported once)."""
    fn = _resolved.get(target)
    if fn is None:
        module_name, _, name = target.partition(":")
        fn = _resolved[target] = getattr(importlib.import_module(module_name), name)
    return fn


def transform_for(format_name: str) -> Callable | None:
    target = TRANSFORMS.get(format_name)
    return resolve(target) if target else None


def file_reader(format_name: str) -> Callable | None:
    target = FILE_READERS.get(format_name)
    return resolve(target) if target else None


def line_reader(format_name: str) -> Callable | None:
    target = LINE_READERS.get(format_name)
    return resolve(target) if target else None


def page_reader(format_name: str) -> Callable | None:
    target = PAGE_READERS.get(format_name)
    return resolve(target) if target else None


def adapter(kind: str) -> ModuleType:
    return importlib.import_module(ADAPTERS[kind])
