"""Wikidata answers into people with dated roles and accounts (pure: rows
in, records out; no network, no files).

Decisions, each one visible in the notes a run prints:

- **Rows are grouped by QID.** The service sends one row per combination of
  values (a person with two terms and three accounts is several rows);
  variables an OPTIONAL did not match are absent.
- **Terms.** A term without a start date is left out (we never invent a
  date); a date known only to the month or the year widens the term to the
  whole month or year. An unknown end keeps the role open. Terms of the same
  office that touch or overlap (a re-election, the same term stated through
  P39 and P35) become one role.
- **Former roles.** A head of state or government whose term ended is a
  former head of state or government from the next day until their next term
  of that kind, or their death; so a post gets the right role for its day.
- **Death** ends every role.
- **Accounts.** Deprecated statements and accounts with an end time (P582)
  on or before today are left out. Of several, the preferred rank wins, then
  the first by value; the others are named in a note.
"""

from __future__ import annotations

import calendar
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..config import Account, Role
from ..countries import is_country_code
from ..schema import ROLE_PRECEDENCE
from .sparql import Term, wikidata_time

WIKIBASE = "http://wikiba.se/ontology#"
FORMER = {"head_of_state": "former_head_of_state", "head_of_government": "former_head_of_government"}


@dataclass(frozen=True)
class Office:
    qid: str
    kind: str
    label: str
    country: str | None  # ISO code of the country it serves


@dataclass
class Country:
    code: str
    qids: list[str]
    label: str
    offices: list[Office] = field(default_factory=list)
    one_office_heads: bool = False  # the head of state's office is the head of government's too


@dataclass(frozen=True)
class Tenure:
    kind: str
    country: str | None
    title: str
    start: tuple[date, int] | None
    end: tuple[date, int] | None
    source: str  # P39, P35 or P6


@dataclass
class Holder:
    qid: str
    label: str | None
    tenures: list[Tenure] = field(default_factory=list)


@dataclass(frozen=True)
class AccountClaim:
    platform: str
    value: str
    rank: str  # preferred, normal or deprecated
    end: date | None
    x_user_id: str | None


@dataclass
class Details:
    qid: str
    label: str | None = None
    names: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # language -> labels
    aliases: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    died: date | None = None
    citizenship: set[str] = field(default_factory=set)
    accounts: list[AccountClaim] = field(default_factory=list)


@dataclass
class WikidataPerson:
    qid: str
    name: str
    country: str
    aliases: list[str]
    roles: list[Role]
    accounts: list[Account]


# --- small helpers --------------------------------------------------------------


def _text(row: dict[str, Term], name: str) -> str | None:
    term = row.get(name)
    if term is None or term.type != "literal":
        return None
    value = term.value.strip()
    return value or None


def _label(row: dict[str, Term], name: str, qid: str | None) -> str | None:
    """A label from the label service, which answers with the QID itself when
    the item has no label in the languages asked for."""
    value = _text(row, name)
    if value is None or value == qid or (value[:1] == "Q" and value[1:].isdigit()):
        return None
    return value


def _qid(row: dict[str, Term], name: str) -> str | None:
    term = row.get(name)
    return term.qid if term is not None else None


def _rank(term: Term | None) -> str:
    if term is None or not term.value.startswith(WIKIBASE):
        return "normal"
    return {"PreferredRank": "preferred", "DeprecatedRank": "deprecated"}.get(term.value[len(WIKIBASE):], "normal")


def _first_day(moment: tuple[date, int]) -> date:
    return moment[0]


def _last_day(moment: tuple[date, int]) -> date:
    day, precision = moment
    if precision == 9:
        return date(day.year, 12, 31)
    if precision == 10:
        return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
    return day


def _capitalised(title: str) -> str:
    return title[:1].upper() + title[1:]


def slug(name: str) -> str:
    """A roster id from a name: ``Rosa Ficticia Pérez`` -> ``rosa-ficticia-perez``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    pieces = "".join(c.lower() if c.isalnum() else " " for c in ascii_name).split()
    return "-".join(pieces)


# --- countries and positions ----------------------------------------------------------


def transform_countries(rows, offices: tuple[str, ...]) -> tuple[dict[str, Country], list[str]]:
    """Countries by ISO code, with the offices they name. An office named
    both as head of state and head of government (a presidential system)
    counts as head of state."""
    countries: dict[str, Country] = {}
    notes: list[str] = []
    skipped: set[str] = set()
    for row in rows:
        qid = _qid(row, "country")
        code = (_text(row, "iso") or "").upper()
        if qid is None or not code:
            continue
        if not is_country_code(code):
            if code not in skipped:
                notes.append(f"Wikidata item {qid} has ISO code {code!r}, which is not in our countries table; left out")
                skipped.add(code)
            continue
        country = countries.setdefault(code, Country(code, [], _label(row, "countryLabel", qid) or code))
        if qid not in country.qids:
            country.qids.append(qid)
        office_qid, kind = _qid(row, "office"), _text(row, "kind")
        if office_qid and kind in offices:
            label = _label(row, "officeLabel", office_qid)
            office = Office(office_qid, kind, _capitalised(label) if label else _default_title(kind, country.label),
                            code)
            if not any(o.qid == office.qid and o.kind == office.kind for o in country.offices):
                country.offices.append(office)
    for country in countries.values():
        heads = {o.qid for o in country.offices if o.kind == "head_of_state"}
        country.one_office_heads = any(o.kind == "head_of_government" and o.qid in heads for o in country.offices)
        country.offices = sorted(
            (o for o in country.offices if not (o.kind == "head_of_government" and o.qid in heads)),
            key=lambda o: (o.kind, o.qid),
        )
        country.qids.sort()
    return countries, notes


def transform_positions(rows, kinds: dict[str, str]) -> dict[str, Office]:
    """Positions asked for by QID, with the country they serve (when one is
    in our countries table)."""
    positions: dict[str, Office] = {}
    for row in rows:
        qid = _qid(row, "office")
        if qid is None or qid not in kinds:
            continue
        code = (_text(row, "iso") or "").upper()
        country = code if is_country_code(code) else None
        label = _label(row, "officeLabel", qid) or qid
        known = positions.get(qid)
        if known is None or (known.country is None and country) or (country and known.country and country < known.country):
            positions[qid] = Office(qid, kinds[qid], _capitalised(label), country)
    for qid, kind in kinds.items():
        positions.setdefault(qid, Office(qid, kind, qid, None))
    return positions


def held_offices(rows, since: date) -> set[str]:
    """The offices that some answer row of the holders' query names a
    holder of (P39 statements) on or after ``since``."""
    held = set()
    for row in rows:
        if _text(row, "source") != "P39" or _qid(row, "person") is None:
            continue
        end = wikidata_time(row.get("end"), row.get("endPrecision"))
        if end is None or _last_day(end) >= since:
            held.add(_qid(row, "office"))
    return held


def _default_title(kind: str, country_label: str) -> str:
    return {
        "head_of_state": f"Head of state of {country_label}",
        "head_of_government": f"Head of government of {country_label}",
        "foreign_minister": f"Foreign minister of {country_label}",
    }.get(kind, country_label)


# --- holders ------------------------------------------------------------------------


def transform_holders(rows, offices: dict[str, Office], countries: dict[str, Country], since: date) -> dict[str, Holder]:
    """People holding the offices (P39) or named by the countries' P35/P6
    statements, who held one on or after ``since``, with every term."""
    by_country_qid = {qid: country for country in countries.values() for qid in country.qids}
    holders: dict[str, Holder] = {}
    for row in rows:
        person = _qid(row, "person")
        source = _text(row, "source")
        if person is None:
            continue
        tenure = None
        start = wikidata_time(row.get("start"), row.get("startPrecision"))
        end = wikidata_time(row.get("end"), row.get("endPrecision"))
        if source == "P39":
            office = offices.get(_qid(row, "office") or "")
            if office is not None:
                tenure = Tenure(office.kind, office.country, office.label, start, end, "P39")
        elif source in ("P35", "P6"):
            country = by_country_qid.get(_qid(row, "country") or "")
            kind = "head_of_state" if source == "P35" else "head_of_government"
            if country is not None:
                named = [o for o in country.offices if o.kind == kind]
                if kind == "head_of_government" and country.one_office_heads:
                    # a presidential system: the head of state's office serves as both
                    kind = "head_of_state"
                    named = [o for o in country.offices if o.kind == kind]
                title = named[0].label if named else _default_title(kind, country.label)
                tenure = Tenure(kind, country.code, title, start, end, source)
        if tenure is None:
            continue
        holder = holders.setdefault(person, Holder(person, None))
        holder.label = holder.label or _label(row, "personLabel", person)
        if tenure not in holder.tenures:
            holder.tenures.append(tenure)
    return {
        qid: holder for qid, holder in sorted(holders.items())
        if any(t.end is None or _last_day(t.end) >= since for t in holder.tenures)
    }


# --- people: names, death, accounts -------------------------------------------------------------


def transform_people(rows) -> dict[str, Details]:
    people: dict[str, Details] = {}
    for row in rows:
        qid = _qid(row, "person")
        if qid is None:
            continue
        details = people.setdefault(qid, Details(qid))
        details.label = details.label or _label(row, "personLabel", qid)
        for variable, bucket in (("name", details.names), ("alias", details.aliases)):
            term = row.get(variable)
            if term is not None and term.type == "literal" and term.value.strip():
                bucket[term.lang or ""].add(" ".join(term.value.split()))
        died = wikidata_time(row.get("died"))
        if died and (details.died is None or died[0] < details.died):
            details.died = died[0]
        code = (_text(row, "citizenship") or "").upper()
        if is_country_code(code):
            details.citizenship.add(code)
        platform, value = _text(row, "platform"), _text(row, "account")
        if platform and value:
            ended = wikidata_time(row.get("accountEnd"))
            claim = AccountClaim(platform, value, _rank(row.get("rank")), ended[0] if ended else None,
                                 _text(row, "xUserId"))
            if claim not in details.accounts:
                details.accounts.append(claim)
    return people


# --- people with roles and accounts ---------------------------------------------------------------


def build_people(holders: dict[str, Holder], details: dict[str, Details], today: date,
                 languages: list[str]) -> tuple[list[WikidataPerson], list[str]]:
    people: list[WikidataPerson] = []
    notes: list[str] = []
    for qid, holder in holders.items():
        person_details = details.get(qid) or Details(qid)
        name = person_details.label or holder.label or _first_name(person_details, languages)
        who = f"{qid} ({name or 'no name'})"
        if not name:
            name = qid
            notes.append(f"{who}: no label in {', '.join(languages)}; named by its QID")
        roles = _roles(holder.tenures, person_details.died, who, notes)
        if not roles:
            notes.append(f"{who}: no usable term (a start date, an end after it, before their death); left out")
            continue
        country = _leader_country(roles, person_details)
        if country is None:
            notes.append(f"{who}: no country for the roles (position without a country, no citizenship); left out")
            continue
        for role in roles:
            role.country = role.country if role.country != country else None
        people.append(WikidataPerson(
            qid=qid,
            name=name,
            country=country,
            aliases=_aliases(person_details, name, languages),
            roles=roles,
            accounts=_accounts(person_details.accounts, today, who, notes),
        ))
    return people, notes


def _first_name(details: Details, languages: list[str]) -> str | None:
    for language in (*languages, "mul", *sorted(details.names)):
        if details.names.get(language):
            return sorted(details.names[language])[0]
    return None


def _aliases(details: Details, name: str, languages: list[str]) -> list[str]:
    seen = {name.casefold()}
    aliases = []
    order = list(dict.fromkeys([*languages, "mul", *sorted(details.names), *sorted(details.aliases)]))
    for bucket in (details.names, details.aliases):
        for language in order:
            for alias in sorted(bucket.get(language, ())):
                if alias.casefold() not in seen:
                    seen.add(alias.casefold())
                    aliases.append(alias)
    return aliases


def _roles(tenures: list[Tenure], died: date | None, who: str, notes: list[str]) -> list[Role]:
    intervals: dict[tuple[str, str | None], list[tuple[date, date | None, str, str]]] = defaultdict(list)
    for tenure in tenures:
        if tenure.start is None:
            notes.append(f"{who}: a term as {tenure.title} ({tenure.source}) has no start date on Wikidata; left out")
            continue
        start = _first_day(tenure.start)
        end = _last_day(tenure.end) if tenure.end else None
        for moment, which in ((tenure.start, "start"), (tenure.end, "end")):
            if moment and moment[1] < 11:
                notes.append(f"{who}: the {which} of the term as {tenure.title} is known only to the "
                             f"{'month' if moment[1] == 10 else 'year'}; the role covers the whole of it")
        if end is not None and end < start:
            notes.append(f"{who}: a term as {tenure.title} ends before it starts on Wikidata; left out")
            continue
        intervals[(tenure.kind, tenure.country)].append((start, end, tenure.title, tenure.source))
    roles: list[Role] = []
    for (kind, country), spans in intervals.items():
        merged = _merge_spans(spans)
        for index, (start, end, title) in enumerate(merged):
            roles.append(Role(title=title, kind=kind, start=start, end=end, country=country))
            if kind in FORMER and end is not None:
                following = merged[index + 1][0] - timedelta(days=1) if index + 1 < len(merged) else None
                if following is None or following > end:
                    roles.append(Role(title=f"Former {title}", kind=FORMER[kind], start=end + timedelta(days=1),
                                      end=following, country=country))
    if died is not None:
        kept = []
        for role in roles:
            if role.start > died:
                continue
            if role.end is None or role.end > died:
                role.end = died
            kept.append(role)
        roles = kept
    return sorted(roles, key=lambda r: (r.start, ROLE_PRECEDENCE.get(r.kind, 20), r.title, r.country or ""))


def _merge_spans(spans: list[tuple[date, date | None, str, str]]) -> list[tuple[date, date | None, str]]:
    """Terms that overlap or follow each other the next day become one; the
    title comes from a P39 statement when there is one."""
    spans = sorted(spans, key=lambda s: (s[0], s[1] or date.max, s[3] != "P39", s[2]))
    merged: list[list] = []
    for start, end, title, source in spans:
        if merged:
            last = merged[-1]
            last_end = last[1]
            if last_end is None or start <= last_end + timedelta(days=1):
                if last_end is not None and (end is None or end > last_end):
                    last[1] = end
                if last[3] != "P39" and source == "P39":
                    last[2], last[3] = title, source
                continue
        merged.append([start, end, title, source])
    return [(start, end, title) for start, end, title, _ in merged]


def _leader_country(roles: list[Role], details: Details) -> str | None:
    current = [r for r in roles if r.country and not r.kind.startswith("former_")]
    if current:
        return max(current, key=lambda r: (r.start, -ROLE_PRECEDENCE.get(r.kind, 20))).country
    if any(r.country for r in roles):
        return next(r.country for r in reversed(roles) if r.country)
    return min(details.citizenship) if details.citizenship else None


def _accounts(claims: list[AccountClaim], today: date, who: str, notes: list[str]) -> list[Account]:
    by_platform: dict[str, list[AccountClaim]] = defaultdict(list)
    for claim in claims:
        if claim.rank == "deprecated" or (claim.end is not None and claim.end <= today):
            continue
        value = _account_value(claim.platform, claim.value)
        if value:
            by_platform[claim.platform].append(claim)
    accounts = []
    for platform in sorted(by_platform):
        values = sorted(by_platform[platform],
                        key=lambda c: (c.rank != "preferred", c.x_user_id is None, _account_value(platform, c.value).casefold()))
        chosen = values[0]
        others = sorted({_account_value(platform, c.value) for c in values[1:]} - {_account_value(platform, chosen.value)})
        if others:
            notes.append(f"{who}: several {platform} accounts on Wikidata; kept {_account_value(platform, chosen.value)}"
                         f"{' (preferred rank)' if chosen.rank == 'preferred' else ''}, not {', '.join(others)}")
        value = _account_value(platform, chosen.value)
        if platform == "youtube":
            accounts.append(Account(platform, platform_id=value, url=f"https://www.youtube.com/channel/{value}"))
        else:
            x_id = chosen.x_user_id if platform == "x" and (chosen.x_user_id or "").isdigit() else None
            accounts.append(Account(platform, handle=value, platform_id=x_id))
    return accounts


def _account_value(platform: str, value: str) -> str:
    value = value.strip()
    if platform == "mastodon":
        return "@" + value.lstrip("@") if value.strip("@") else ""
    if platform == "bluesky":
        return value.lstrip("@").lower()
    return value.lstrip("@")
