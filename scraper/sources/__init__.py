"""Sources: one module per platform or input format.

A source module has three kinds of function, never mixed (as in the
dogsheep tools):

* ``fetch_*`` does network I/O through :class:`scraper.http.PoliteClient` and
  returns :class:`~scraper.model.FetchedPage` objects, nothing else;
* ``items_from_*`` splits a page or file into :class:`~scraper.model.RawItem`
  objects (pure);
* ``transform_*`` turns one RawItem into one :class:`~scraper.model.Post`
  (pure), registered with :func:`scraper.normalise.transform`.

Live platform adapters also offer ``scrape_account(client, request)``, a
generator of RawItem and :class:`Unparsed` values. Which function reads
which format is written out in :mod:`scraper.formats`; importing this
package imports none of its modules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..model import FetchedPage, RawItem


@dataclass
class WatchedAccount:
    """A roster account to scrape on one platform."""

    leader_id: str | None
    platform: str
    handle: str | None = None
    platform_id: str | None = None  # X user id, Bluesky DID, Mastodon account URL
    url: str | None = None


@dataclass
class RecheckTarget:
    """An archived post to fetch again (edits, counts, deletion)."""

    native_id: str  # posts.native_id
    url: str | None  # posts.url
    extra: dict  # posts.extra (e.g. Mastodon local_id, Telegram channel)


@dataclass
class ScrapeRequest:
    """What one adapter run over one account should fetch."""

    account: WatchedAccount
    source_id: str
    window_start: str | None = None  # UTC ISO-8601: stop paging before this
    window_end: str | None = None
    since_id: str | None = None  # newest native id already archived
    options: dict[str, Any] = field(default_factory=dict)  # base_url, include_reposts ...


@dataclass
class Unparsed:
    """A page or record that could not be read. The archive records it as a
    parse error with its raw payload; the items before it are kept."""

    reason: str
    location: str
    payload: str
    source_id: str
    fetched_url: str | None = None
    page: FetchedPage | None = None


ItemStream = Iterator["RawItem | Unparsed"]


def article_source_id(location: str) -> str:
    """A stable source id for a file or URL read as one source: its name,
    and a short hash of the whole location (the same file imported again
    is the same source)."""
    stem = re.sub(r"[^a-z0-9]+", "-", Path(urlsplit(location).path).stem.lower()).strip("-") or "article"
    digest = hashlib.sha1(location.encode("utf-8")).hexdigest()[:8]
    return f"article-{stem[:40]}-{digest}"
