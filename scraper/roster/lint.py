"""``reactions roster check``: find what is wrong in a roster, all at once.

A roster file, or an election config with its inline roster and roster
files, is read leniently (every entry that loads is checked; every entry
that does not is a finding with the loader's message), then checked as a
whole:

- ``invalid``: an entry the config loader refuses (bad date, unknown key ...);
- ``unknown-country``: a country code not in our countries table;
- ``duplicate-id``, ``duplicate-qid``: one id, or one Wikidata item, twice;
- ``overlap``: two roles of a kind one person holds at a time (head of
  state, head of government, foreign minister, vice head of state, head of
  state elect) in one country overlapping by more than the handover day
  (Wikidata ends a term on the day the next one starts). Countries with a
  collegial head of state (Switzerland 7, Bosnia and Herzegovina 3, San
  Marino and Andorra 2) may have that many at once;
- ``shared-account``: one account (platform and handle, or id) claimed by
  two leaders;
- ``no-account``: a leader with no account at all, so nothing of theirs can
  be scraped;
- ``bad-handle``: a handle, id or URL that does not look like its
  platform's.

One line per finding, ``FILE:LINE: [code] leader: message``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..config import Leader, RosterEntries, read_rosters
from ..countries import is_country_code

CODES = ("invalid", "unknown-country", "duplicate-id", "duplicate-qid", "overlap", "shared-account", "no-account",
         "bad-handle")
ONE_AT_A_TIME = ("head_of_state", "head_of_government", "foreign_minister", "vice_head_of_state",
                 "head_of_state_elect")
COLLEGIAL_HEADS = {"CH": 7, "BA": 3, "SM": 2, "AD": 2}

_DOMAIN = r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
HANDLES: dict[str, tuple[re.Pattern, str]] = {
    "x": (re.compile(r"^[A-Za-z0-9_]{1,15}$"), "an X username (1-15 letters, digits or _)"),
    "bluesky": (re.compile(rf"^{_DOMAIN}$", re.IGNORECASE), "a Bluesky handle (a domain name, e.g. name.bsky.social)"),
    "mastodon": (re.compile(r"^@?[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?@" + _DOMAIN + "$", re.IGNORECASE),
                 "a Mastodon address (@user@server.example)"),
    "telegram": (re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$"), "a Telegram username (5-32 letters, digits or _, "
                                                              "starting with a letter)"),
    "instagram": (re.compile(r"^[A-Za-z0-9._]{1,30}$"), "an Instagram username (1-30 letters, digits, . or _)"),
    "threads": (re.compile(r"^[A-Za-z0-9._]{1,30}$"), "a Threads username (1-30 letters, digits, . or _)"),
    "facebook": (re.compile(r"^(?:[A-Za-z0-9.\-]{5,80}|[0-9]+)$"), "a Facebook username (5 or more letters, "
                                                                   "digits or .) or page id"),
    "youtube": (re.compile(r"^@?[A-Za-z0-9._-]{3,30}$"), "a YouTube handle (@name)"),
    "rss": (re.compile(r"^https?://\S+$"), "a feed URL (http:// or https://)"),
}
IDS: dict[str, tuple[re.Pattern, str]] = {
    "x": (re.compile(r"^[0-9]{1,20}$"), "an X user id (digits)"),
    "bluesky": (re.compile(r"^did:(?:plc:[a-z2-7]{24}|web:\S+)$"), "a Bluesky DID (did:plc:... or did:web:...)"),
    "youtube": (re.compile(r"^UC[A-Za-z0-9_-]{22}$"), "a YouTube channel id (UC and 22 characters)"),
}


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int | None
    code: str
    leader: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        who = f"{self.leader}: " if self.leader else ""
        return f"{where}: [{self.code}] {who}{self.message}"


@dataclass
class _Entry:
    leader: Leader
    key: str
    roster: RosterEntries

    def line(self, suffix: str = "") -> int | None:
        lines = self.roster.lines
        return lines.get(self.key + suffix) or lines.get(self.key)

    def where(self) -> str:
        return f"{self.roster.path}:{self.line()}"


def check_roster(path: str | Path, ignore: tuple[str, ...] = ()) -> tuple[list[Finding], int]:
    """Every finding in the roster(s) ``path`` names, and how many leaders
    were checked. A file that cannot be read at all raises ConfigError."""
    rosters = read_rosters(path)
    findings: list[Finding] = []
    entries: list[_Entry] = []
    for roster in rosters:
        for error in roster.errors:
            findings.append(_invalid(roster.path, error))
        entries += [_Entry(leader, key, roster) for key, leader in roster.leaders]
    findings += _duplicates(entries)
    findings += _overlaps(entries)
    findings += _shared_accounts(entries)
    for entry in entries:
        findings += _entry_findings(entry)
    findings = [f for f in findings if f.code not in ignore]
    findings.sort(key=lambda f: (str(f.path), f.line or 0, f.code, f.message))
    return findings, len(entries)


def _invalid(path: Path, error) -> Finding:
    message = f"{error.key}: {error.message}" if error.key else error.message
    code = "unknown-country" if "ISO 3166-1 alpha-2" in error.message else "invalid"
    return Finding(Path(error.path or path), error.line, code, None, message)


def _duplicates(entries: list[_Entry]) -> list[Finding]:
    findings = []
    by_id: dict[str, _Entry] = {}
    by_qid: dict[str, _Entry] = {}
    for entry in entries:
        leader = entry.leader
        first = by_id.setdefault(leader.id, entry)
        if first is not entry:
            findings.append(Finding(entry.roster.path, entry.line(), "duplicate-id", leader.id,
                                    f"the id is used before, at {first.where()}"))
        if leader.wikidata:
            first = by_qid.setdefault(leader.wikidata, entry)
            if first is not entry:
                findings.append(Finding(entry.roster.path, entry.line(".wikidata"), "duplicate-qid", leader.id,
                                        f"Wikidata item {leader.wikidata} is also {first.leader.id} ({first.where()})"))
    return findings


def _overlaps(entries: list[_Entry]) -> list[Finding]:
    spans: dict[tuple[str, str], list[tuple[date, date, _Entry, int]]] = defaultdict(list)
    for entry in entries:
        for index, role in enumerate(entry.leader.roles):
            if role.kind in ONE_AT_A_TIME:
                country = role.country or entry.leader.country
                spans[(role.kind, country)].append((role.start, role.end or date.max, entry, index))
    findings = []
    for (kind, country), items in spans.items():
        allowed = COLLEGIAL_HEADS.get(country, 1) if kind == "head_of_state" else 1
        items.sort(key=lambda item: (item[0], item[1]))
        active: list[tuple[date, date, _Entry, int]] = []
        for item in items:
            start, end, entry, index = item
            # a term that ends on the day the next starts does not overlap it
            active = [a for a in active if a[1] > start]
            if len(active) >= allowed:
                other = max(active, key=lambda a: a[0])
                role = entry.leader.roles[index]
                other_role = other[2].leader.roles[other[3]]
                whose = "its own" if other[2] is entry else f"{other[2].leader.id}'s"
                findings.append(Finding(
                    entry.roster.path, entry.line(f".roles[{index}]"), "overlap", entry.leader.id,
                    f"{kind} of {country} from {role.start} overlaps {whose} {other_role.kind} role "
                    f"{other_role.start} to {other_role.end or 'open'} ({other[2].where()})",
                ))
            active.append(item)
    return findings


def _account_keys(account) -> list[str]:
    keys = []
    if account.handle:
        keys.append("handle " + account.handle.lstrip("@").casefold())
    if account.platform_id:
        keys.append("id " + account.platform_id)
    return keys


def _shared_accounts(entries: list[_Entry]) -> list[Finding]:
    owners: dict[tuple[str, str], _Entry] = {}
    findings = []
    for entry in entries:
        for account in entry.leader.accounts:
            for key in _account_keys(account):
                first = owners.setdefault((account.platform, key), entry)
                if first is not entry and first.leader.id != entry.leader.id:
                    findings.append(Finding(
                        entry.roster.path, entry.line(f".accounts.{account.platform}"), "shared-account",
                        entry.leader.id, f"{account.platform} {key.split(' ', 1)[0]} '{key.split(' ', 1)[1]}' is "
                                         f"also {first.leader.id}'s ({first.where()})",
                    ))
    return findings


def _entry_findings(entry: _Entry) -> list[Finding]:
    leader = entry.leader
    findings = []
    if not leader.accounts:
        findings.append(Finding(entry.roster.path, entry.line(), "no-account", leader.id,
                                "no account on any platform, so nothing of theirs can be scraped"))
    for account in leader.accounts:
        line = entry.line(f".accounts.{account.platform}")
        pattern = HANDLES.get(account.platform)
        if account.handle and pattern and not pattern[0].match(account.handle if account.platform != "x"
                                                                else account.handle.lstrip("@")):
            findings.append(Finding(entry.roster.path, line, "bad-handle", leader.id,
                                    f"{account.platform} handle '{account.handle}' does not look like {pattern[1]}"))
        pattern = IDS.get(account.platform)
        if account.platform_id and pattern and not pattern[0].match(account.platform_id):
            findings.append(Finding(entry.roster.path, line, "bad-handle", leader.id,
                                    f"{account.platform} id '{account.platform_id}' does not look like {pattern[1]}"))
        if account.url and not re.match(r"^https?://\S+$", account.url):
            findings.append(Finding(entry.roster.path, line, "bad-handle", leader.id,
                                    f"{account.platform} url '{account.url}' is not an http(s) URL"))
    for index, role in enumerate(leader.roles):
        if role.country and not is_country_code(role.country):
            findings.append(Finding(entry.roster.path, entry.line(f".roles[{index}]"), "unknown-country", leader.id,
                                    f"role country '{role.country}' is not in the countries table"))
    return findings
