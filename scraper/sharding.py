"""Splitting one roster across machines: ``reactions scrape --shard K/N``.

Each machine scrapes its share of the roster's accounts into its own
archive; ``reactions merge`` (:mod:`scraper.combine`) joins the archives.
Which shard an account belongs to is decided by rendezvous hashing
(highest random weight): every shard scores the account's stable key,
and the highest score wins. So the assignment

- depends on the account alone, never on its place in the roster: adding
  or removing leaders moves no other account;
- moves only about 1/N of the accounts when a shard is added (those the
  new shard now wins), and only the removed shard's accounts when one is
  taken away;
- needs no coordination: every machine computes the same answer from the
  same config.

An account's key is its platform and the platform's stable id when the
roster gives one (a Bluesky DID, an X user id, a Mastodon profile URL),
else its handle (case-folded, without ``@``), else its URL. (A roster that
later adds the platform id of an account moves that account once.)
Sources without accounts (articles, ``x-hydrate`` lists) are assigned by
their source id the same way, so each runs on exactly one shard.

The shard an archive holds is recorded: in the run's options
(``scrape_runs.options``) and in ``archive_info`` (key ``shard``), which
``reactions status`` shows.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .errors import InputError


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def takes(self, key: str) -> bool:
        return shard_of(key, self.count) == self.index


def parse_shard(text: str) -> Shard:
    """``"2/3"`` -> Shard(2, 3); a clear error for anything else."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match:
        raise InputError(f"--shard {text!r}: expected K/N, e.g. 2/3 (shard 2 of 3)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise InputError(f"--shard {text!r}: K must be between 1 and N (shards are numbered 1 to N)")
    return Shard(index, count)


def weight(key: str, index: int) -> int:
    """The score shard ``index`` gives ``key``: the first 8 bytes of a SHA-256."""
    return int.from_bytes(hashlib.sha256(f"{index}\x1f{key}".encode("utf-8")).digest()[:8], "big")


def shard_of(key: str, count: int) -> int:
    """The shard (1..count) that wins ``key``; ties (never seen) go to the lower number."""
    return max(range(1, count + 1), key=lambda index: (weight(key, index), -index))


def account_key(platform: str, platform_id: str | None = None, handle: str | None = None,
                url: str | None = None) -> str:
    """The stable key an account is sharded by (see the module's docstring)."""
    if platform_id:
        return f"{platform}:id:{platform_id}"
    if handle:
        return f"{platform}:handle:{handle.lstrip('@').casefold()}"
    return f"{platform}:url:{url or ''}"


def source_key(source_id: str) -> str:
    return f"source:{source_id}"


def takes_account(shard: Shard | None, account) -> bool:
    """Does this shard scrape this roster account (a WatchedAccount, as the config gives it)?"""
    if shard is None:
        return True
    return shard.takes(account_key(account.platform, account.platform_id, account.handle, account.url))


# Source kinds that scrape the roster's accounts: they run on every shard,
# each shard taking its own accounts. Every other source runs on one shard.
_ACCOUNTLESS_LIVE_KINDS = ("x-hydrate",)


def runs_source(shard: Shard | None, source) -> bool:
    """Does this shard run this source (a SourceConfig) at all?"""
    from .formats import ADAPTERS

    if shard is None or (source.kind in ADAPTERS and source.kind not in _ACCOUNTLESS_LIVE_KINDS):
        return True
    return shard.takes(source_key(source.id))


def record_shard(archive, shard: Shard | None) -> None:
    """Say in the archive which shard it holds (``archive_info``)."""
    if shard is None:
        return
    with archive.write():
        archive.db.execute("INSERT INTO archive_info (key, value) VALUES ('shard', ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value", [str(shard)])

