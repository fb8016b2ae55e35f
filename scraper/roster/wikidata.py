"""Ask the Wikidata Query Service who held which office, and their accounts.

Network I/O lives here and nowhere else in the package; what the answers
mean is :mod:`.transform` (pure), the queries are :mod:`.queries`.

Polite by construction (https://meta.wikimedia.org/wiki/User-Agent_policy and
the query service's limits):

- every request goes through :class:`~scraper.http.PoliteClient`, with a
  User-Agent naming the contact from the config;
- one query at a time, at most 30 a minute, and never one per person:
  countries go 20 to a query, people 50 (fewer when the query text would
  pass 6,000 characters: queries go as GET, which the service caches);
- 429 and 5xx answers are waited out as ``Retry-After`` says (or with a
  backoff of 10, 20, 40 s), at most four retries; the service bans clients
  that ignore its 429s;
- the service stops any query after 60 s. A query that runs out of time
  (a 500 naming ``TimeoutException``, or an answer cut off by one) is split
  in two and asked again, down to a single item; our own timeout is 65 s so
  that the service's answer arrives first;
- answers are cached on disk for an hour (:mod:`.cache`), so running again
  soon after, or after a failed batch, does not ask again.

A query that fails raises :class:`WikidataError` naming the batch (which
countries or people) and why; the caller writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlsplit

from ..config import QID, ROLE_KINDS
from ..countries import is_country_code
from ..errors import InputError, SourceError
from .cache import AnswerCache, CachedAnswer
from .queries import (
    CODE_GROUPS,
    OFFICE_KINDS,
    WIKIDATA_GROUPS,
    countries_query,
    holders_query,
    people_query,
    positions_query,
)
from .sparql import QueryTimeout, SparqlFormatError, SparqlResult, looks_like_timeout, parse_results
from .transform import (
    WikidataPerson,
    build_people,
    held_offices,
    transform_countries,
    transform_holders,
    transform_people,
    transform_positions,
)

DEFAULT_ENDPOINT = "https://query.wikidata.org/sparql"
COUNTRIES_PER_QUERY = 20
PEOPLE_PER_QUERY = 50
CODES_PER_QUERY = 100
MAX_QUERY_CHARS = 6000  # queries go as GET (cacheable by the service); longer batches are halved first
REQUESTS_PER_MINUTE = 30
CLIENT_TIMEOUT = 65.0  # the service stops queries at 60 s and says so; let its answer arrive
BACKOFF = 10.0  # seconds, doubled at each retry, when no Retry-After says otherwise


OFFICE_NAMES = {
    "head_of_state": "office held by head of state (P1906)",
    "head_of_government": "office held by head of government (P1313)",
    "foreign_minister": "minister of foreign affairs position (P1001 of a subclass of Q7330070)",
}
OFFICE_STATEMENTS = {"head_of_state": "head of state (P35)", "head_of_government": "head of government (P6)"}


class WikidataError(SourceError):
    """A query failed or the answers cannot make a roster; nothing is written."""


@dataclass
class Selection:
    """What to ask for: countries (ISO codes and group names), the kinds of
    office, positions by QID (with the role kind each gives), the date from
    which holders count (None: today, the current holders) and the label
    languages (the first names the leader)."""

    countries: list[str] = field(default_factory=list)
    offices: tuple[str, ...] = OFFICE_KINDS
    positions: dict[str, str] = field(default_factory=dict)
    since: date | None = None
    languages: list[str] = field(default_factory=lambda: ["en"])


# --- options ---------------------------------------------------------------------


def parse_countries(values: Iterable[str]) -> list[str]:
    """ISO codes and group names, comma- or space-separated, checked."""
    groups = sorted([*WIKIDATA_GROUPS, *CODE_GROUPS])
    chosen: list[str] = []
    for value in values:
        for item in value.replace(",", " ").split():
            name = item.lower() if item.lower() in groups else item.upper()
            if name not in groups and not is_country_code(name):
                raise InputError(
                    f"--countries: {item!r} is neither an ISO 3166-1 alpha-2 country code nor a group "
                    f"({', '.join(groups)})"
                )
            if name not in chosen:
                chosen.append(name)
    return chosen


def parse_position(value: str) -> tuple[str, str]:
    """``Q123`` (role kind ``other``) or ``Q123=international_official``."""
    qid, _, kind = value.strip().partition("=")
    qid, kind = qid.strip().upper(), (kind.strip() or "other")
    if not QID.match(qid):
        raise InputError(f"--position: {value!r} is not a Wikidata item id such as Q99990001 (optionally =KIND)")
    if kind not in ROLE_KINDS:
        raise InputError(f"--position: {kind!r} is not a role kind ({', '.join(ROLE_KINDS)})")
    return qid, kind


def parse_languages(value: str | Iterable[str]) -> list[str]:
    values = [value] if isinstance(value, str) else [str(v) for v in value]
    items = [item for text in values for item in text.replace(",", " ").split()]
    languages = list(dict.fromkeys(item.strip().lower() for item in items if item.strip()))
    for language in languages:
        if not (language.replace("-", "").isalpha() and language.isascii() and len(language) <= 12):
            raise InputError(f"--language: {language!r} is not a language code such as en, es or pt-br")
    if not languages:
        raise InputError("--language: give at least one language code, such as en")
    return languages


# --- fetch: the query service ------------------------------------------------------------


def polite_client(contact: str | None, *, endpoint: str = DEFAULT_ENDPOINT, sleep=None, transport=None,
                  timeout: float = CLIENT_TIMEOUT):
    """The shared polite client, set for the query service's limits."""
    from ..http import PoliteClient

    host = urlsplit(endpoint).netloc.lower()
    return PoliteClient(contact=contact, timeout=timeout, max_retries=4, backoff=BACKOFF,
                        budgets={host: (REQUESTS_PER_MINUTE, 60.0)}, sleep=sleep, transport=transport)


@dataclass(frozen=True)
class Answer:
    result: SparqlResult
    retrieved_at: str
    cached: bool


class QueryService:
    """One SPARQL endpoint behind the polite client and the answer cache."""

    def __init__(self, client, endpoint: str = DEFAULT_ENDPOINT, cache: AnswerCache | None = None,
                 on_progress: Callable[[str], None] | None = None, refresh: bool = False):
        self.client = client
        self.endpoint = endpoint
        self.cache = cache
        self.refresh = refresh  # ask again even when the cache has an answer (and cache the new one)
        self.on_progress = on_progress or (lambda message: None)
        self.sent = 0
        self.from_cache = 0

    def ask(self, query: str, label: str) -> Answer:
        cached = self.cache.get(self.endpoint, query) if self.cache and not self.refresh else None
        if cached is not None:
            try:
                answer = Answer(parse_results(cached.body), cached.retrieved_at, cached=True)
            except SparqlFormatError:
                answer = None  # a damaged cache entry: ask again
            if answer is not None:
                self.from_cache += 1
                self.on_progress(f"{label}: {len(answer.result.rows)} rows (cached {cached.retrieved_at[:16]})")
                return answer
        page = self._get(query, label)
        try:
            result = parse_results(page.body)
        except QueryTimeout:
            raise
        except SparqlFormatError as exc:
            raise WikidataError(f"{label}: the answer from {self.endpoint} is not SPARQL JSON results: {exc}") from None
        if self.cache is not None:
            self.cache.put(self.endpoint, query, CachedAnswer(page.body, page.retrieved_at))
        self.on_progress(f"{label}: {len(result.rows)} rows")
        return Answer(result, page.retrieved_at, cached=False)

    def _get(self, query: str, label: str):
        from ..http import HTTPStatusError

        self.sent += 1
        try:
            page = self.client.get(
                self.endpoint,
                params={"query": query, "format": "json"},
                headers={"Accept": "application/sparql-results+json"},
                ok_statuses=(500,),
            )
        except HTTPStatusError as exc:
            raise WikidataError(f"{label}: {exc}{_hint(exc.status, exc.page.body)}") from None
        except SourceError as exc:
            raise WikidataError(f"{label}: {exc}") from None
        if page.status == 500:
            if looks_like_timeout(page.body):
                raise QueryTimeout("the query ran out of time on the server (60 s limit)")
            raise WikidataError(f"{label}: HTTP 500 from {self.endpoint}: {_first_line(page.body)}")
        return page


def _hint(status: int, body: str) -> str:
    if status == 429:
        return " (the service limits each client's query time per minute; try again later)"
    if status == 403:
        return (" (the service refused the client: Wikimedia blocks requests without a descriptive User-Agent; "
                "set contact: in the config or --contact)")
    if status == 400:
        return f": {_first_line(body)}"
    return ""


def _first_line(body: str) -> str:
    for line in body.splitlines():
        if line.strip():
            return line.strip()[:200]
    return "(empty body)"


def fetch_batched(service: QueryService, items: list, size: int, build: Callable[[list], str], what: str,
                  describe: Callable[[list], str]) -> list[Answer]:
    """Ask ``build(batch)`` for each batch of ``items``; a batch that runs
    out of time is split in two and asked again, down to one item."""
    batches = [items[i:i + size] for i in range(0, len(items), size)]
    answers: list[Answer] = []
    for number, batch in enumerate(batches, 1):
        answers += _ask_splitting(service, batch, build, f"{what} {number}/{len(batches)}", describe)
    return answers


def _ask_splitting(service, batch, build, label, describe) -> list[Answer]:
    named = f"{label} ({describe(batch)})"
    query = build(batch)
    if len(query) > MAX_QUERY_CHARS and len(batch) > 1:  # a GET that long risks a 414 on the way
        half = len(batch) // 2
        return (_ask_splitting(service, batch[:half], build, f"{label}a", describe)
                + _ask_splitting(service, batch[half:], build, f"{label}b", describe))
    try:
        return [service.ask(query, named)]
    except QueryTimeout:
        if len(batch) == 1:
            raise WikidataError(f"{named}: the query ran out of time on the service (60 s) even for one item") from None
        service.on_progress(f"{named}: ran out of time on the service; asking in two halves")
        half = len(batch) // 2
        return (_ask_splitting(service, batch[:half], build, f"{label}a", describe)
                + _ask_splitting(service, batch[half:], build, f"{label}b", describe))


def _rows(answers: list[Answer]):
    for answer in answers:
        yield from answer.result.rows


def _describe(items: list[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# --- the whole roster -------------------------------------------------------------------


@dataclass
class WikidataRoster:
    people: list[WikidataPerson]
    notes: list[str]
    queried: date  # the day of the oldest answer used
    countries: list[str]  # ISO codes covered


def roster_from_wikidata(service: QueryService, selection: Selection, today: date) -> WikidataRoster:
    """Countries, then their office holders, then the holders' names and
    accounts: three batched rounds of queries, then the pure transforms."""
    since = selection.since or today
    languages = selection.languages
    answers: list[Answer] = []
    notes: list[str] = []

    countries = {}
    if selection.countries:
        codes = _expand_codes(selection.countries)
        groups = [name for name in selection.countries if name in WIKIDATA_GROUPS]
        found = []
        if codes:
            found += fetch_batched(service, codes, CODES_PER_QUERY,
                                   lambda batch: countries_query(selection.offices, languages, codes=batch),
                                   "countries", _describe)
        for group in groups:
            found += fetch_batched(service, [group], 1,
                                   lambda batch: countries_query(selection.offices, languages, group=batch[0]),
                                   "countries", lambda batch: WIKIDATA_GROUPS[batch[0]][2])
        answers += found
        countries, country_notes = transform_countries(_rows(found), selection.offices)
        notes += country_notes
        missing = [code for code in codes if code not in countries]
        if not countries:
            raise WikidataError(f"Wikidata returned no country for {_describe(selection.countries)}; nothing written")
        if missing:
            notes.append(f"Wikidata has no current country item with ISO code {', '.join(missing)}; left out")
        for code, country in sorted(countries.items()):
            for kind in selection.offices:
                if any(o.kind == kind for o in country.offices) or (
                    kind == "head_of_government" and country.one_office_heads
                ):
                    continue
                notes.append(f"{code} ({country.label}): Wikidata names no {OFFICE_NAMES[kind]}"
                             + ("" if kind == "foreign_minister" else f"; only the country's {OFFICE_STATEMENTS[kind]} statements count"))

    positions = {}
    if selection.positions:
        found = fetch_batched(service, sorted(selection.positions), PEOPLE_PER_QUERY,
                              lambda batch: positions_query(batch, languages), "positions", _describe)
        answers += found
        positions = transform_positions(_rows(found), selection.positions)

    offices = {office.qid: office for country in countries.values() for office in country.offices}
    offices.update(positions)
    statements = tuple(prop for prop, kind in (("P35", "head_of_state"), ("P6", "head_of_government"))
                       if kind in selection.offices)
    targets = [(code, [o.qid for o in country.offices], country.qids) for code, country in sorted(countries.items())]
    targets += [(qid, [qid], []) for qid in sorted(positions)]

    def holders_for(batch) -> str:
        office_qids = sorted({qid for _, qids, _ in batch for qid in qids})
        country_qids = sorted({qid for _, _, qids in batch for qid in qids})
        return holders_query(office_qids, country_qids, since, languages, statements)

    found = fetch_batched(service, targets, COUNTRIES_PER_QUERY, holders_for, "holders",
                          lambda batch: _describe([name for name, _, _ in batch]))
    answers += found
    holders = transform_holders(_rows(found), offices, countries, since)
    held = held_offices(_rows(found), since)
    for qid, office in sorted(positions.items()):
        if qid not in held:  # (never a silent nothing: a mistyped QID, or a position vacant since the date)
            unlabelled = office.label == qid
            notes.append(f"position {qid}" + ("" if unlabelled else f" ({office.label})")
                         + f": Wikidata names no holder (P39) since {since.isoformat()}"
                         + ("; it has no label either: is the QID right?" if unlabelled else ""))
    scope = _describe([name for name, _, _ in targets])
    if not holders:
        raise WikidataError(f"Wikidata returned no office holders for {scope} since {since.isoformat()}; nothing written")

    people_qids = sorted(holders)
    found = fetch_batched(service, people_qids, PEOPLE_PER_QUERY, lambda batch: people_query(batch, languages),
                          "people", lambda batch: _describe(batch, 3) + f" ({len(batch)})")
    answers += found
    details = transform_people(_rows(found))
    if not details:
        raise WikidataError(
            f"Wikidata returned no names, accounts or dates for any of the {len(people_qids)} office holders; "
            "the answer looks wrong; nothing written"
        )
    people, people_notes = build_people(holders, details, today, languages)
    notes += people_notes
    if not people:
        raise WikidataError(f"none of the {len(holders)} office holders Wikidata returned has a dated role; nothing written")
    return WikidataRoster(people=people, notes=notes, queried=_oldest(answers, today),
                          countries=sorted(countries))


def _expand_codes(names: list[str]) -> list[str]:
    codes: list[str] = []
    for name in names:
        for code in CODE_GROUPS.get(name, (name,) if name not in WIKIDATA_GROUPS else ()):
            if code not in codes:
                codes.append(code)
    return codes


def _oldest(answers: list[Answer], today: date) -> date:
    days = []
    for answer in answers:
        try:
            days.append(datetime.fromisoformat(answer.retrieved_at.replace("Z", "+00:00")).date())
        except ValueError:
            continue
    return min(days) if days else today
