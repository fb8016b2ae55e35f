"""Build or update a roster file from Wikidata: the library behind
``reactions roster wikidata`` (the command only parses options and prints).

The roster file remembers how it was built (its ``wikidata:`` block), so
``reactions roster wikidata FILE`` alone updates it; options given again
replace what the file says. Nothing is written unless every query answered
and the new text loads as a roster; the file is replaced atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..config import RosterFile, load_roster_file
from ..errors import ConfigError, InputError
from .atomic import write_atomically
from .merge import MergeResult, merge_roster
from .queries import OFFICE_KINDS
from .wikidata import (
    DEFAULT_ENDPOINT,
    QueryService,
    Selection,
    WikidataRoster,
    parse_countries,
    parse_languages,
    parse_position,
    roster_from_wikidata,
)


@dataclass
class Request:
    """What the command line asked for; None means "as the file says"."""

    countries: list[str] | None = None
    offices: list[str] | None = None
    positions: list[str] | None = None
    since: str | None = None
    languages: list[str] | None = None
    endpoint: str | None = None


@dataclass
class Update:
    path: Path
    selection: Selection
    endpoint: str
    wikidata: WikidataRoster
    merge: MergeResult
    written: bool


def read_existing(path: Path) -> tuple[str, RosterFile | None]:
    """The roster file's text and contents ("", None for a file not there
    yet). A file that does not load stops here, with the loader's FILE:LINE
    message: fix it first."""
    if not path.exists():
        return "", None
    roster = load_roster_file(path)
    return path.read_text(encoding="utf-8"), roster


def resolve_selection(request: Request, roster: RosterFile | None, path: Path) -> tuple[Selection, str]:
    """Options first, then the file's ``wikidata:`` settings, then the defaults."""
    settings = roster.settings if roster else {}

    def choose(option, name: str, parse, default=None):
        if option:
            return parse(option)
        value = settings.get(name)
        if value is None:
            return parse(default) if default is not None else None
        try:
            return parse(value if isinstance(value, list) or name == "since" else [value])
        except InputError as exc:
            key = f"wikidata.{name}"
            raise ConfigError(str(exc).split(": ", 1)[-1], path=path, key=key, line=roster.line_of(key)) from None

    countries = choose(request.countries, "countries", parse_countries, []) or []
    offices = choose(request.offices, "offices", _offices, list(OFFICE_KINDS))
    positions = choose(request.positions, "positions", lambda items: dict(parse_position(str(i)) for i in items), [])
    since = choose(request.since, "since", _a_date)
    languages = choose(request.languages, "languages", parse_languages, ["en"])
    if not countries and not positions:
        raise InputError("say which countries (--countries PE,BO, a group such as latin-america or un) "
                         "or positions (--position Q...) to build the roster from")
    endpoint = request.endpoint or settings.get("endpoint") or DEFAULT_ENDPOINT
    selection = Selection(countries=countries, offices=offices, positions=positions, since=since,
                          languages=languages)
    return selection, str(endpoint)


def _offices(values) -> tuple[str, ...]:
    unknown = [str(v) for v in values if v not in OFFICE_KINDS]
    if unknown:
        raise InputError(f"--office: {unknown[0]!r} is not one of {', '.join(OFFICE_KINDS)}")
    return tuple(kind for kind in OFFICE_KINDS if kind in values)


def _a_date(value) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"--since: {value!r} is not a date (YYYY-MM-DD)") from None


def settings_of(selection: Selection, endpoint: str) -> dict[str, Any]:
    """The ``wikidata:`` block written back to the file."""
    settings: dict[str, Any] = {"countries": list(selection.countries)}
    settings["offices"] = list(selection.offices)
    if selection.positions:
        settings["positions"] = [qid if kind == "other" else f"{qid}={kind}"
                                 for qid, kind in selection.positions.items()]
    if selection.since:
        settings["since"] = selection.since
    settings["languages"] = list(selection.languages)
    if endpoint != DEFAULT_ENDPOINT:
        settings["endpoint"] = endpoint
    return settings


def update_roster(path: str | Path, request: Request, service_for, *, today: date, take_wikidata=(),
                  dry_run: bool = False) -> Update:
    """Ask Wikidata and merge the answer into the roster file at ``path``.

    ``service_for(endpoint)`` gives the :class:`QueryService` to ask (the
    caller owns the HTTP client). Raises, writing nothing, when the file does
    not load, an option is wrong, a query fails or the answers make no
    roster."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"{path}: the folder {path.parent} does not exist")
    old_text, roster = read_existing(path)
    selection, endpoint = resolve_selection(request, roster, path)
    ids = {leader.id for leader in roster.leaders} if roster else set()
    unknown = sorted({item.split(".", 1)[0] for item in take_wikidata} - ids)
    if unknown:
        raise InputError(f"--take-wikidata: no leader with id {', '.join(unknown)} in {path}")
    service: QueryService = service_for(endpoint)
    found = roster_from_wikidata(service, selection, today)
    merged = merge_roster(old_text, found.people, settings=settings_of(selection, endpoint), queried=found.queried,
                          take_wikidata=set(take_wikidata))
    written = False
    if not dry_run and merged.changed:
        write_atomically(path, merged.text, check=load_roster_file)
        written = True
    return Update(path=path, selection=selection, endpoint=endpoint, wikidata=found, merge=merged, written=written)
