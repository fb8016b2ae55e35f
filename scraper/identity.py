"""What makes two sightings the same post: its key, and for a post quoted
without an id, its match hash.

A post with a platform id is ``platform:native_id``. A post quoted as plain
text in an article has no id: it gets a derived key from its match hash
(same platform, same account, same day, same text once links, case, accents
and spacing are folded), under which the archive merges it later with the
same post arriving with its id. Dates read from embeds are the author's
local day, platform times are UTC, so a quote is looked for a day either
side (:func:`nearby_match_hashes`).

Pure functions. The preparing step (:mod:`scraper.prepare`) computes a
post's hashes; the archive's identity room computes those of archived
posts a bulk import stored without them (:func:`stored_match_hash`).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from .model import Post, post_key
from .normalise import match_text


def key_of(post: Post, match_hash: str) -> str:
    if post.native_id:
        return post_key(post.platform, post.native_id)
    return derived_key(post.platform, match_hash)


def derived_key(platform: str, match_hash: str) -> str:
    return f"{platform}:derived:{match_hash}"


class MatchHasher:
    """Match hashes of one post, its folded text computed once."""

    __slots__ = ("basis",)

    def __init__(self, post: Post):
        self.basis = _basis(post.platform, post.author_handle, post.text)

    def on(self, day: str) -> str:
        platform, handle, text = self.basis
        return hashlib.sha256("\x1f".join([platform, handle, day, text]).encode("utf-8")).hexdigest()[:20]


def _basis(platform: str, handle: str | None, text: str) -> tuple[str, str, str]:
    return (platform, (handle or "").lower().lstrip("@"), match_text(text))


def stored_match_hash(platform: str, handle: str | None, created_at: str | None, text: str) -> str:
    """The match hash of an archived post, from its stored columns (what
    :class:`MatchHasher` gave the post when it was prepared)."""
    platform, handle, folded = _basis(platform, handle, text)
    day = (created_at or "")[:10]
    return hashlib.sha256("\x1f".join([platform, handle, day, folded]).encode("utf-8")).hexdigest()[:20]


def match_hash(post: Post) -> str:
    """Same account, same day, same normalised text: the same post."""
    return MatchHasher(post).on((post.created_at or "")[:10])


def nearby_match_hashes(post: Post, hasher: MatchHasher | None = None) -> list[str]:
    """match_hash for the day before, the day itself and the day after: an
    embed shows the author's local date, a platform gives UTC."""
    hasher = hasher or MatchHasher(post)
    day = (post.created_at or "")[:10]
    if len(day) != 10:
        return [hasher.on(day)]
    try:
        moment = date.fromisoformat(day)
    except ValueError:
        return [hasher.on(day)]
    return [hasher.on((moment + timedelta(days=offset)).isoformat()) for offset in (-1, 0, 1)]
