"""Election config and roster: one YAML file describes an election, the
leaders to watch and the sources to scrape.

The roster may also live in roster files of its own (``roster_files:``), so
that one roster (say, every head of state built from Wikidata by ``reactions
roster wikidata``) serves many elections. A roster file holds a ``roster:``
list like the config's, and optionally the ``wikidata:`` settings it was
built with.

Loading validates everything up front. Any problem raises
:class:`~scraper.errors.ConfigError` naming the file (the roster file, for an
entry of a roster file), the key path (``roster[3].roles[0].start``) and the
line, and the CLI exits with code 2. See docs/configuration.md for the
reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .errors import ConfigError
from .limits import DEFAULT as DEFAULT_LIMITS, KEYS as LIMIT_KEYS, SIZE_KEYS, Limits, parse_size

if TYPE_CHECKING:
    from .sources import WatchedAccount

ROLE_KINDS = (
    "head_of_state",
    "head_of_government",
    "vice_head_of_state",
    "head_of_state_elect",
    "foreign_minister",
    "minister",
    "former_head_of_state",
    "former_head_of_government",
    "legislator",
    "former_legislator",
    "party_leader",
    "candidate",
    "international_official",
    "other",
)

ACCOUNT_PLATFORMS = ("x", "bluesky", "mastodon", "telegram", "instagram", "facebook", "threads", "youtube", "rss")
SOURCE_KINDS = ("article", "bluesky", "mastodon", "telegram", "x", "x-hydrate", "snscrape", "rss")
TERM_LANGUAGES_REQUIRED = ("es", "pt", "en")
# An election's milestones, in the order they must happen (any may be absent).
MILESTONE_KINDS = ("polls_closed", "first_results", "final_count", "official_result", "inauguration")
MILESTONE_NAMES = {
    "polls_closed": "polls closed",
    "first_results": "first preliminary results",
    "final_count": "final count",
    "official_result": "official result",
    "inauguration": "inauguration",
}
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
QID = re.compile(r"^Q[1-9][0-9]*$")
LEADER_KEYS = ("id", "name", "aliases", "country", "roles", "accounts", "notes", "wikidata")
# What a roster file's ``wikidata:`` block may say (scraper/roster/ reads it).
WIKIDATA_SETTINGS = ("countries", "offices", "positions", "since", "languages", "endpoint", "queried")


@dataclass
class Role:
    title: str
    kind: str
    start: date
    end: date | None = None
    country: str | None = None  # defaults to the leader's country
    organisation: str | None = None


@dataclass
class Account:
    platform: str
    handle: str | None = None
    platform_id: str | None = None
    url: str | None = None


@dataclass
class Leader:
    id: str
    name: str
    country: str
    aliases: list[str] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    notes: str | None = None
    wikidata: str | None = None  # the Wikidata item (QID), the leader's stable id there

    def watched_accounts(self, platform: str) -> list[WatchedAccount]:
        # Imported here: loading the sources loads every importer, which
        # reading a config (or ROLE_KINDS, for an export) does not need.
        from .sources import WatchedAccount

        return [
            WatchedAccount(self.id, a.platform, a.handle, a.platform_id, a.url)
            for a in self.accounts
            if a.platform == platform
        ]


@dataclass
class Milestone:
    """A dated step of an election: when polls closed, the first results,
    the final count, the official result, the inauguration."""

    kind: str  # one of MILESTONE_KINDS
    at: str  # UTC ISO-8601
    precision: str  # 'day' (a date: the start of that day in the election's zone) or 'second'
    label: str
    source: str | None = None  # where the date comes from


@dataclass
class Election:
    id: str
    name: str
    country: str
    timezone: str
    polling_dates: list[date]
    result_announced_at: str | None  # UTC ISO-8601; the official_result milestone
    result_label: str | None
    window_start: str  # UTC ISO-8601
    window_end: str
    candidates: list[str]
    terms: dict[str, dict[str, list[str]]]  # language -> {keywords, hashtags}
    milestones: list[Milestone] = field(default_factory=list)  # in MILESTONE_KINDS order

    def milestone(self, kind: str) -> Milestone | None:
        return next((m for m in self.milestones if m.kind == kind), None)


@dataclass
class SourceConfig:
    id: str
    kind: str
    path: Path | None = None
    url: str | None = None
    accounts: list[str] | None = None  # leader ids; None means every leader with an account
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    path: Path
    election: Election
    leaders: list[Leader]
    sources: list[SourceConfig]
    contact: str | None = None
    limits: Limits = DEFAULT_LIMITS

    def leader(self, leader_id: str) -> Leader:
        return next(leader for leader in self.leaders if leader.id == leader_id)


# --- loading with line numbers ----------------------------------------------


# A config or roster file is at most a few thousand lines; these bound what
# a hostile or broken file can cost before it is refused (an alias bomb
# expands to billions of values from a few lines; a self-referring alias
# never ends). They are measured on the composed nodes, each node once
# however many aliases name it, so they hold whichever parser (libyaml or
# PyYAML's own) composed them and cost no more than the file's own size.
MAX_CONFIG_BYTES = 16 << 20
MAX_NODES = 1_000_000  # values once aliases are expanded (a roster file of 2,000 leaders has 26,000 to 100,000)
MAX_DEPTH = 64  # mappings and lists inside one another


_DEEP_FLOW = re.compile(r"(?:[\[{][ \t]*){%d}" % (MAX_DEPTH + 1))
_DEEP_BLOCK = re.compile(r"(?:-[ \t]+){%d}" % (MAX_DEPTH + 1))


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe YAML with dates left as text, so that a bad date is our error
    (with its key and line), not a crash inside the YAML library. Parsed by
    libyaml where PyYAML has it: a roster file of 2,000 leaders built from
    Wikidata loaded in 3.4 s instead of 22.7 s with the pure-Python parser
    (composed and loaded twice, as before) on the shared test machine."""


def _measure(node, known: dict[int, tuple[int, int]], open_: set[int]) -> tuple[int, int]:
    """(values, depth) of a node once aliases are expanded, each node
    measured once; a node inside itself (a self-referring alias) refused."""
    key = id(node)
    if key in known:
        return known[key]
    if key in open_:
        raise _TooLarge("a value that contains itself (a self-referring alias); refused", node.start_mark)
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    else:
        known[key] = (1, 1)
        return known[key]
    open_.add(key)
    size, depth = 1, 1
    for child in children:
        child_size, child_depth = _measure(child, known, open_)
        size += child_size
        depth = max(depth, child_depth + 1)
    open_.discard(key)
    known[key] = (size, depth)
    return known[key]


class _TooLarge(Exception):
    def __init__(self, message: str, mark=None):
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Doc:
    """The parsed YAML plus the line of every key path, for error messages."""

    def __init__(self, path: Path, what: str = "config file"):
        self.path = path
        try:
            if path.stat().st_size > MAX_CONFIG_BYTES:
                raise ConfigError(f"{what} larger than {MAX_CONFIG_BYTES >> 20} MiB; refused", path=path)
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            hint = (
                " (name one with --config; the bundled example is elections/peru-2021.yml in the repository)"
                if what == "config file" else ""
            )
            raise ConfigError(f"{what} not found{hint}", path=path) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {what}: {exc}", path=path) from None
        self.lines: dict[str, int] = {}
        deep = _DEEP_FLOW.search(text) or _DEEP_BLOCK.search(text)
        if deep:  # refused before the YAML scanner, which looks far ahead inside each bracket
            raise ConfigError(f"values nested more than {MAX_DEPTH} deep; refused", path=path,
                              line=text.count("\n", 0, deep.start()) + 1)
        try:
            loader = _Loader(text)
            try:  # parsed once: the nodes give the lines, the data is built from them
                node = loader.get_single_node()
                if node is not None:
                    # Measured first: what expands too far, or into itself,
                    # is refused before anything is built from it.
                    size, depth = _measure(node, {}, set())
                    if size > MAX_NODES:
                        raise _TooLarge(f"more than {MAX_NODES:,} values once aliases are expanded "
                                        f"({size:,}: an alias bomb?); refused", node.start_mark)
                    if depth > MAX_DEPTH:
                        raise _TooLarge(f"values nested more than {MAX_DEPTH} deep; refused", node.start_mark)
                    self._walk(node, "", set())
                    self.data = loader.construct_document(node)
                else:
                    self.data = None
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise ConfigError(
                f"not valid YAML: {getattr(exc, 'problem', exc)}",
                path=path,
                line=mark.line + 1 if mark else None,
            ) from None
        except _TooLarge as exc:
            raise ConfigError(str(exc), path=path, line=exc.line) from None
        except RecursionError:
            raise ConfigError(f"values nested more than {MAX_DEPTH} deep; refused", path=path) from None

    def _walk(self, node, path: str, walked: set[int]) -> None:
        """The line of every key path. A node an alias names again is not
        walked again: a key inside it is reported on the alias's line."""
        self.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in walked:
            return
        walked.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, value_node in node.value:
                key = key_node.value
                child = f"{path}.{key}" if path else key
                if key in seen:
                    raise ConfigError(
                        "duplicate key", path=self.path, key=child, line=key_node.start_mark.line + 1
                    )
                seen.add(key)
                self.lines[child] = key_node.start_mark.line + 1
                self._walk(value_node, child, walked)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, f"{path}[{index}]", walked)

    def error(self, key: str, message: str) -> ConfigError:
        """An error at ``key``, on its line, or on the line of the nearest
        enclosing key that is in the file (a missing top-level key: line 1)."""
        line = self.lines.get(key)
        probe = key
        while line is None and probe:
            shorter = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", probe)
            probe = shorter if shorter != probe else ""
            line = self.lines.get(probe)
        return ConfigError(message, path=self.path, key=key, line=line or 1)


class _Reader:
    """Typed access to one mapping of the document, reporting unknown keys."""

    def __init__(self, doc: _Doc, value: Any, key: str, allowed: tuple[str, ...]):
        self.doc = doc
        self.key = key
        if not isinstance(value, dict):
            raise doc.error(key, f"expected a mapping, got {_kind(value)}")
        self.value = value
        for name in value:
            if name not in allowed:
                raise doc.error(
                    self._child(str(name)),
                    f"unknown key '{name}' (expected one of: {', '.join(allowed)})",
                )

    def _child(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def raw(self, name: str, required: bool = False) -> Any:
        if name not in self.value or self.value[name] is None:
            if required:
                raise self.doc.error(self._child(name), "required key is missing")
            return None
        return self.value[name]

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.doc.error(self._child(name), f"expected text, got {_kind(value)}")
        return str(value)

    def identifier(self, name: str) -> str:
        value = self.text(name, required=True)
        if not _ID.match(value):
            raise self.doc.error(
                self._child(name),
                f"'{value}' is not a valid id (lower-case letters, digits, '-', '_', '.')",
            )
        return value

    def text_list(self, name: str) -> list[str]:
        value = self.raw(name)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            raise self.doc.error(self._child(name), "expected a list of text values")
        return [str(v) for v in value]

    def a_date(self, name: str, required: bool = False) -> date | None:
        value = self.raw(name, required)
        if value is None:
            return None
        return _parse_date(self.doc, self._child(name), value)

    def moment(self, name: str, tz: ZoneInfo, required: bool = False) -> str | None:
        """A date (the start of that day in ``tz``) or a date-time with its
        UTC offset, as UTC ISO-8601; a time without an offset is refused."""
        value = self.raw(name, required)
        if value is None:
            return None
        return _strict_moment(self.doc, self._child(name), value, tz)[0]

    def country(self, name: str, required: bool = True) -> str | None:
        from .countries import is_country_code

        value = self.text(name, required)
        if value is None:
            return None
        if not is_country_code(value):
            raise self.doc.error(
                self._child(name), f"'{value}' is not an ISO 3166-1 alpha-2 country code"
            )
        return value.upper()

    def choice(self, name: str, choices: tuple[str, ...], required: bool = True) -> str | None:
        value = self.text(name, required)
        if value is not None and value not in choices:
            raise self.doc.error(
                self._child(name), f"'{value}' is not one of: {', '.join(choices)}"
            )
        return value

    def items(self, name: str) -> list[tuple[str, Any]]:
        value = self.raw(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.doc.error(self._child(name), f"expected a list, got {_kind(value)}")
        return [(f"{self._child(name)}[{i}]", item) for i, item in enumerate(value)]

    def reader(self, name: str, allowed: tuple[str, ...], required: bool = False) -> "_Reader | None":
        value = self.raw(name, required)
        if value is None:
            return None
        return _Reader(self.doc, value, self._child(name), allowed)


def _parse_date(doc: _Doc, key: str, value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise doc.error(key, f"'{value}' is not a date (expected YYYY-MM-DD)") from None


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


# --- the config ---------------------------------------------------------------


def load_config(path: str | Path) -> Config:
    path = Path(path)
    doc = _Doc(path)
    if doc.data is None:
        raise ConfigError("config file is empty", path=path)
    top = _Reader(doc, doc.data, "", ("election", "roster", "roster_files", "sources", "contact", "limits"))
    election = _election(doc, top)
    leaders = _all_leaders(doc, top, path.parent)
    leader_ids = {leader.id for leader in leaders}
    for index, candidate in enumerate(election.candidates):
        if candidate not in leader_ids:
            raise doc.error(
                f"election.candidates[{index}]", f"candidate '{candidate}' is not a roster leader id"
            )
    sources = _sources(doc, top, path.parent, leader_ids)
    return Config(path=path, election=election, leaders=leaders, sources=sources, contact=top.text("contact"),
                  limits=_limits(doc, top))


def _limits(doc: _Doc, top: _Reader) -> Limits:
    """``limits:``: what one request and one input element may cost
    (scraper/limits.py has the defaults)."""
    section = top.reader("limits", LIMIT_KEYS)
    if section is None:
        return DEFAULT_LIMITS
    values = {}
    for name in LIMIT_KEYS:
        value = section.raw(name)
        if value is None:
            continue
        if name in SIZE_KEYS:
            number = parse_size(value)
            if number is None or number <= 0:
                raise doc.error(f"limits.{name}", f"{value!r} is not a size (bytes, or like '64 MiB')")
        else:
            number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
            if number is None or number <= 0:
                raise doc.error(f"limits.{name}", f"{value!r} is not a number of seconds")
        values[name] = number
    limits = Limits(**{**DEFAULT_LIMITS.__dict__, **values})
    if limits.kept_error_bytes > limits.max_element_bytes:
        if "kept_error_bytes" in values:
            raise doc.error("limits.kept_error_bytes", "cannot be larger than limits.max_element_bytes")
        limits = Limits(**{**limits.__dict__, "kept_error_bytes": limits.max_element_bytes})
    return limits


def _election(doc: _Doc, top: _Reader) -> Election:
    section = top.reader(
        "election",
        (
            "id", "name", "country", "timezone", "polling_dates", "result_announced_at",
            "result_label", "milestones", "window", "candidates", "terms",
        ),
        required=True,
    )
    tz_name = section.text("timezone") or "UTC"
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise doc.error("election.timezone", f"'{tz_name}' is not an IANA time zone") from None
    polling = [_parse_date(doc, key, value) for key, value in section.items("polling_dates")]
    if not polling:
        raise doc.error("election.polling_dates", "at least one polling date is required")
    window = section.reader("window", ("start", "end"), required=True)
    start = window.moment("start", tz, required=True)
    end = window.moment("end", tz, required=True)
    if end <= start:
        raise doc.error("election.window.end", "the window ends before it starts")
    terms: dict[str, dict[str, list[str]]] = {}
    terms_section = section.raw("terms", required=True)
    if not isinstance(terms_section, dict):
        raise doc.error("election.terms", "expected a mapping of language code to keywords and hashtags")
    languages = _Reader(doc, terms_section, "election.terms", tuple(terms_section))
    for language in terms_section:
        per_language = languages.reader(str(language), ("keywords", "hashtags"), required=True)
        terms[str(language)] = {
            "keywords": per_language.text_list("keywords"),
            "hashtags": [h.lstrip("#") for h in per_language.text_list("hashtags")],
        }
    missing = [lang for lang in TERM_LANGUAGES_REQUIRED if lang not in terms]
    if missing:
        raise doc.error("election.terms", f"terms are required for languages: {', '.join(missing)}")
    milestones = _milestones(doc, section, tz)
    result_at, result_label = _official_result(doc, section, tz, milestones)
    return Election(
        id=section.identifier("id"),
        name=section.text("name", required=True),
        country=section.country("country"),
        timezone=tz_name,
        polling_dates=polling,
        result_announced_at=result_at,
        result_label=result_label,
        window_start=start,
        window_end=end,
        candidates=section.text_list("candidates"),
        terms=terms,
        milestones=milestones,
    )


def read_contact(path: str | Path) -> str | None:
    """The config's ``contact`` alone, without checking the rest (for the
    User-Agent of commands that do not need the whole config)."""
    doc = _Doc(Path(path))
    if isinstance(doc.data, dict) and doc.data.get("contact") not in (None, ""):
        return str(doc.data["contact"])
    return None


def _milestones(doc: _Doc, section: _Reader, tz: ZoneInfo) -> list[Milestone]:
    """``election.milestones``: a mapping of kind to ``{at, label, source}``.
    Times must say their offset (a date alone is the start of that day in
    the election's zone), and the milestones must follow each other in the
    order of MILESTONE_KINDS."""
    listed = section.reader("milestones", MILESTONE_KINDS)
    if listed is None:
        return []
    milestones: list[Milestone] = []
    for kind in MILESTONE_KINDS:
        if kind not in listed.value:
            continue
        key = f"election.milestones.{kind}"
        value = listed.value[kind]
        if not isinstance(value, dict):
            value = {"at": value}  # the short form: polls_closed: 2021-06-06T19:00:00-05:00
        entry = _Reader(doc, value, key, ("at", "label", "source"))
        at, precision = _strict_moment(doc, f"{key}.at", entry.raw("at", required=True), tz)
        milestone = Milestone(kind, at, precision, entry.text("label") or MILESTONE_NAMES[kind], entry.text("source"))
        if milestones and milestone.at < milestones[-1].at:
            earlier = milestones[-1]
            raise doc.error(
                f"{key}.at",
                f"{kind} ({milestone.at}) comes before {earlier.kind} ({earlier.at}); "
                f"milestones must follow the order {', '.join(MILESTONE_KINDS)}",
            )
        milestones.append(milestone)
    return milestones


def _strict_moment(doc: _Doc, key: str, value: Any, tz: ZoneInfo) -> tuple[str, str]:
    """A date (the start of that day in ``tz``) or a date-time with its UTC
    offset, as UTC ISO-8601 and its precision. A time without an offset is
    refused: whose clock it was read on is exactly what a milestone must say."""
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            moment, precision = datetime.combine(date.fromisoformat(text), time(0, 0), tzinfo=tz), "day"
        else:
            moment, precision = datetime.fromisoformat(text.replace("Z", "+00:00")), "second"
    except ValueError:
        raise doc.error(
            key, f"'{text}' is not a date or date-time (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS±HH:MM)"
        ) from None
    if moment.tzinfo is None:
        raise doc.error(
            key,
            f"'{text}' has no UTC offset: write it as {text}{_offset_example(moment, tz)} "
            "(or a date alone, read in the election's timezone)",
        )
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), precision


def _offset_example(moment: datetime, tz: ZoneInfo) -> str:
    offset = moment.replace(tzinfo=tz).strftime("%z")
    return f"{offset[:3]}:{offset[3:]}" if offset else "+00:00"


def _official_result(
    doc: _Doc, section: _Reader, tz: ZoneInfo, milestones: list[Milestone]
) -> tuple[str | None, str | None]:
    """``result_announced_at`` and the ``official_result`` milestone are one
    moment: either gives the other; both must agree."""
    result_at = section.moment("result_announced_at", tz)
    label = section.text("result_label")
    official = next((m for m in milestones if m.kind == "official_result"), None)
    if official is None:
        if result_at is None:
            return None, label
        precision = "day" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(section.raw("result_announced_at")).strip()) else "second"
        derived = Milestone("official_result", result_at, precision, label or MILESTONE_NAMES["official_result"],
                            "election.result_announced_at")
        position = sum(1 for m in milestones if MILESTONE_KINDS.index(m.kind) < MILESTONE_KINDS.index("official_result"))
        neighbours = milestones[position - 1:position] + milestones[position:position + 1]
        for other in neighbours:
            before = MILESTONE_KINDS.index(other.kind) < MILESTONE_KINDS.index("official_result")
            if (before and other.at > result_at) or (not before and other.at < result_at):
                raise doc.error(
                    "election.result_announced_at",
                    f"the official result ({result_at}) is out of order with milestone {other.kind} ({other.at})",
                )
        milestones.insert(position, derived)
        return result_at, label
    if result_at is not None and result_at != official.at:
        raise doc.error(
            "election.result_announced_at",
            f"{result_at} differs from milestones.official_result ({official.at}); give the moment once",
        )
    return official.at, label or (official.label if official.label != MILESTONE_NAMES["official_result"] else None)


def _all_leaders(doc: _Doc, top: _Reader, base: Path) -> list[Leader]:
    """The config's own roster and those of its roster files, in that order;
    an id used twice is an error naming both places."""
    leaders: list[Leader] = []
    seen: dict[str, str] = {}
    if top.raw("roster") is None and top.raw("roster_files") is None:
        raise doc.error("roster", "required key is missing (give roster: or roster_files:)")

    def add(leader: Leader, where: str, error: ConfigError) -> None:
        if leader.id in seen:
            raise error from None
        seen[leader.id] = where
        leaders.append(leader)

    for key, value in top.items("roster"):
        leader = _leader(doc, key, value)
        first = seen.get(leader.id)
        add(leader, f"{doc.path}:{doc.lines.get(key)}",
            doc.error(f"{key}.id", f"duplicate leader id '{leader.id}' (first at {first})"))
    for key, relative in _roster_file_names(doc, top):
        roster_path = base / relative
        if not roster_path.is_file():
            raise doc.error(key, f"roster file not found: {roster_path}")
        roster = load_roster_file(roster_path)
        for leader in roster.leaders:
            entry_key = roster.keys[leader.id]
            add(leader, f"{roster_path}:{roster.doc.lines.get(entry_key)}",
                roster.doc.error(f"{entry_key}.id",
                                 f"duplicate leader id '{leader.id}' (first at {seen.get(leader.id)})"))
    if not leaders:
        raise doc.error("roster", "the roster lists no leaders (give roster: or roster_files:)")
    return leaders


def _roster_file_names(doc: _Doc, top: _Reader) -> list[tuple[str, str]]:
    value = top.raw("roster_files")
    if value is None:
        return []
    if isinstance(value, str):
        return [("roster_files", value)]
    names = top.text_list("roster_files")
    return [(f"roster_files[{index}]", name) for index, name in enumerate(names)]


@dataclass
class RosterFile:
    """A roster file: its leaders, the key path of each (``roster[3]``, for
    lines in messages) and the ``wikidata:`` settings it was built with."""

    path: Path
    leaders: list[Leader]
    keys: dict[str, str]  # leader id -> key path of its entry
    settings: dict[str, Any]
    doc: _Doc = field(repr=False)

    def line_of(self, key: str) -> int | None:
        return self.doc.lines.get(key)


def load_roster_file(path: str | Path) -> RosterFile:
    """Read and check a roster file, strictly (the first problem raises)."""
    path = Path(path)
    doc, top = _roster_document(path)
    leaders: list[Leader] = []
    keys: dict[str, str] = {}
    for key, value in top.items("roster"):
        leader = _leader(doc, key, value)
        if leader.id in keys:
            raise doc.error(
                f"{key}.id",
                f"duplicate leader id '{leader.id}' (first at {path}:{doc.lines.get(keys[leader.id])})",
            )
        keys[leader.id] = key
        leaders.append(leader)
    return RosterFile(path=path, leaders=leaders, keys=keys, settings=_wikidata_settings(top), doc=doc)


@dataclass
class RosterEntries:
    """Every entry of one roster (a roster file or a config's ``roster:``),
    read leniently: the entries that load, and one error per entry that does
    not. For linting, which reports everything at once."""

    path: Path
    leaders: list[tuple[str, Leader]]  # (key path, leader)
    errors: list[ConfigError]
    lines: dict[str, int]


def read_rosters(path: str | Path) -> list[RosterEntries]:
    """The rosters a file names: a roster file's own, or an election
    config's inline roster and each of its roster files."""
    path = Path(path)
    doc = _Doc(path, "roster or config file")
    if isinstance(doc.data, dict) and "election" in doc.data:
        top = _Reader(doc, doc.data, "", ("election", "roster", "roster_files", "sources", "contact"))
        rosters = [_lenient(doc, top)]
        for key, relative in _roster_file_names(doc, top):
            roster_path = path.parent / relative
            if not roster_path.is_file():
                raise doc.error(key, f"roster file not found: {roster_path}")
            roster_doc, roster_top = _roster_document(roster_path)
            rosters.append(_lenient(roster_doc, roster_top))
        return rosters
    _, top = _roster_document(path, doc)
    return [_lenient(doc, top)]


def _lenient(doc: _Doc, top: _Reader) -> RosterEntries:
    entries = RosterEntries(path=doc.path, leaders=[], errors=[], lines=doc.lines)
    for key, value in top.items("roster"):
        try:
            entries.leaders.append((key, _leader(doc, key, value)))
        except ConfigError as error:
            entries.errors.append(error)
    return entries


def _roster_document(path: Path, doc: _Doc | None = None) -> tuple[_Doc, _Reader]:
    doc = doc or _Doc(path, "roster file")
    if doc.data is None:
        raise ConfigError("roster file is empty", path=path)
    if isinstance(doc.data, dict) and "election" in doc.data:
        raise ConfigError(
            "this is an election config, not a roster file (a roster file holds roster: and, "
            "when built from Wikidata, wikidata:)",
            path=path,
        )
    return doc, _Reader(doc, doc.data, "", ("roster", "wikidata"))


def _wikidata_settings(top: _Reader) -> dict[str, Any]:
    settings = top.reader("wikidata", WIKIDATA_SETTINGS)
    return dict(settings.value) if settings else {}


def _leader(doc: _Doc, key: str, value: Any) -> Leader:
    entry = _Reader(doc, value, key, LEADER_KEYS)
    leader = Leader(
        id=entry.identifier("id"),
        name=entry.text("name", required=True),
        country=entry.country("country"),
        aliases=entry.text_list("aliases"),
        notes=entry.text("notes"),
        wikidata=_qid(doc, entry),
    )
    for role_key, role_value in entry.items("roles"):
        role = _Reader(doc, role_value, role_key, ("title", "kind", "start", "end", "country", "organisation"))
        parsed = Role(
            title=role.text("title", required=True),
            kind=role.choice("kind", ROLE_KINDS),
            start=role.a_date("start", required=True),
            end=role.a_date("end"),
            country=role.country("country", required=False),
            organisation=role.text("organisation"),
        )
        if parsed.end and parsed.end < parsed.start:
            raise doc.error(f"{role_key}.end", "the role ends before it starts")
        leader.roles.append(parsed)
    accounts = entry.reader("accounts", ACCOUNT_PLATFORMS)
    for platform in accounts.value if accounts else {}:
        account = accounts.reader(platform, ("handle", "id", "url"), required=True)
        handle = account.text("handle")
        if handle and platform != "mastodon":  # Mastodon addresses keep their @user@server form
            handle = handle.lstrip("@")
        if platform == "rss" and not handle:
            handle = account.text("url")  # a feed is known by its URL
        if not (handle or account.text("id") or account.text("url")):
            raise doc.error(account.key, "an account needs a handle, an id or a url")
        leader.accounts.append(
            Account(platform, handle=handle, platform_id=account.text("id"), url=account.text("url"))
        )
    return leader


def _qid(doc: _Doc, entry: _Reader) -> str | None:
    """``wikidata: Q123``, or the mapping ``reactions roster wikidata`` writes
    (``qid``, and the fingerprints of the values it fetched)."""
    raw = entry.raw("wikidata")
    if raw is None:
        return None
    if isinstance(raw, dict):
        block = entry.reader("wikidata", ("qid", "fetched"))
        qid = block.text("qid", required=True)
        fetched = block.raw("fetched")
        if fetched is not None and not isinstance(fetched, dict):
            raise doc.error(f"{block.key}.fetched", "expected a mapping (written by reactions roster wikidata)")
        key = f"{entry.key}.wikidata.qid"
    else:
        qid = entry.text("wikidata")
        key = f"{entry.key}.wikidata"
    if not QID.match(qid):
        raise doc.error(key, f"'{qid}' is not a Wikidata item id (Q followed by digits)")
    return qid


def _sources(doc: _Doc, top: _Reader, base: Path, leader_ids: set[str]) -> list[SourceConfig]:
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for key, value in top.items("sources"):
        entry = _Reader(doc, value, key, ("id", "kind", "path", "url", "accounts", "options"))
        source = SourceConfig(id=entry.identifier("id"), kind=entry.choice("kind", SOURCE_KINDS))
        if source.id in seen:
            raise doc.error(f"{key}.id", f"duplicate source id '{source.id}'")
        seen.add(source.id)
        path_text = entry.text("path")
        source.path = (base / path_text) if path_text else None
        if source.path is not None and not source.path.exists():
            raise doc.error(f"{key}.path", f"no such file: {source.path} (a path is read relative to the config file)")
        source.url = entry.text("url")
        if source.kind == "article" and not (source.path or source.url):
            raise doc.error(key, "an article source needs a path or a url")
        accounts = entry.raw("accounts")
        if accounts is not None and accounts != "all":
            source.accounts = entry.text_list("accounts")
            for index, leader_id in enumerate(source.accounts):
                if leader_id not in leader_ids:
                    raise doc.error(f"{key}.accounts[{index}]", f"'{leader_id}' is not a roster leader id")
        options = entry.raw("options")
        if options is not None and not isinstance(options, dict):
            raise doc.error(f"{key}.options", "expected a mapping")
        source.options = options or {}
        sources.append(source)
    return sources
