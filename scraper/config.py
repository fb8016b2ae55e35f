"""Election config and roster: one YAML file describes an election, the
leaders to watch and the sources to scrape.

Loading validates everything up front. Any problem raises
:class:`~scraper.errors.ConfigError` naming the file, the key path
(``roster[3].roles[0].start``) and the line, and the CLI exits with code 2.
See docs/configuration.md for the reference.
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

ACCOUNT_PLATFORMS = ("x", "bluesky", "mastodon", "telegram", "instagram", "facebook", "threads", "rss")
SOURCE_KINDS = ("article", "bluesky", "mastodon", "telegram", "x", "x-hydrate", "snscrape", "rss")
TERM_LANGUAGES_REQUIRED = ("es", "pt", "en")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
class Election:
    id: str
    name: str
    country: str
    timezone: str
    polling_dates: list[date]
    result_announced_at: str  # UTC ISO-8601
    result_label: str | None
    window_start: str  # UTC ISO-8601
    window_end: str
    candidates: list[str]
    terms: dict[str, dict[str, list[str]]]  # language -> {keywords, hashtags}


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


# A config is a few hundred lines; these bound what a hostile or broken file
# can cost before it is refused (an alias bomb expands to billions of nodes
# from a few lines; a self-referring alias never ends).
MAX_CONFIG_BYTES = 4 << 20
MAX_ALIASES = 200  # uses of an &anchor
MAX_NODES = 100_000  # values once aliases are expanded (a roster of 1000 leaders has about 40,000)
MAX_DEPTH = 64  # mappings and lists inside one another


_DEEP_FLOW = re.compile(r"(?:[\[{][ \t]*){%d}" % (MAX_DEPTH + 1))


class _Loader(yaml.SafeLoader):
    """Safe YAML with dates left as text, so that a bad date is our error
    (with its key and line), not a crash inside the YAML library; at most
    MAX_ALIASES aliases."""

    aliases_used = 0
    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases_used += 1
            if self.aliases_used > MAX_ALIASES:
                raise _TooLarge(f"more than {MAX_ALIASES} aliases (*name); refused", self.peek_event().start_mark)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooLarge(f"values nested more than {MAX_DEPTH} deep; refused", self.peek_event().start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


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

    def __init__(self, path: Path):
        self.path = path
        try:
            if path.stat().st_size > MAX_CONFIG_BYTES:
                raise ConfigError(f"config file larger than {MAX_CONFIG_BYTES >> 20} MiB; refused", path=path)
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                "config file not found (name one with --config; the bundled example is "
                "elections/peru-2021.yml in the repository)",
                path=path,
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file: {exc}", path=path) from None
        self.lines: dict[str, int] = {}
        self._nodes = 0
        deep = _DEEP_FLOW.search(text)
        if deep:  # refused before the YAML scanner, which looks far ahead inside each bracket
            raise ConfigError(f"values nested more than {MAX_DEPTH} deep; refused", path=path,
                              line=text.count("\n", 0, deep.start()) + 1)
        try:
            loader = _Loader(text)
            try:
                node = loader.get_single_node()
                if node is not None:
                    # Walked first: the walk refuses what expands too far,
                    # before anything is built from it.
                    self._walk(node, "", 0)
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

    def _walk(self, node, path: str, depth: int) -> None:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _TooLarge(
                f"more than {MAX_NODES:,} values once aliases are expanded (an alias bomb?); refused", node.start_mark
            )
        if depth > MAX_DEPTH:
            raise _TooLarge(f"values nested more than {MAX_DEPTH} deep (a self-referring alias?); refused",
                            node.start_mark)
        self.lines.setdefault(path, node.start_mark.line + 1)
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
                self._walk(value_node, child, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, f"{path}[{index}]", depth + 1)

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
        """A date or a date-time; a date means the start of that day in ``tz``."""
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, str):
            text = value.strip()
            try:
                value = date.fromisoformat(text) if _DATE_ONLY.match(text) else datetime.fromisoformat(
                    text.replace("Z", "+00:00")
                )
            except ValueError:
                raise self.doc.error(
                    self._child(name),
                    f"'{value}' is not a date or date-time (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS±HH:MM)",
                ) from None
        if isinstance(value, datetime):
            if value.tzinfo is None:
                # 21:00 where? A date-time names its offset, or it is refused
                # (a bare date is midnight in the election's time zone).
                raise self.doc.error(
                    self._child(name),
                    f"'{value.isoformat()}' has no UTC offset (write it as "
                    f"{value.strftime('%Y-%m-%dT%H:%M:%S')}-03:00, or Z for UTC)",
                )
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time(0, 0), tzinfo=tz)
        else:
            raise self.doc.error(self._child(name), f"expected a date, got {_kind(value)}")
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

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
    top = _Reader(doc, doc.data, "", ("election", "roster", "sources", "contact", "limits"))
    election = _election(doc, top)
    leaders = _roster(doc, top)
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
            "result_label", "window", "candidates", "terms",
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
    return Election(
        id=section.identifier("id"),
        name=section.text("name", required=True),
        country=section.country("country"),
        timezone=tz_name,
        polling_dates=polling,
        result_announced_at=section.moment("result_announced_at", tz, required=True),
        result_label=section.text("result_label"),
        window_start=start,
        window_end=end,
        candidates=section.text_list("candidates"),
        terms=terms,
    )


def _roster(doc: _Doc, top: _Reader) -> list[Leader]:
    leaders: list[Leader] = []
    seen: dict[str, str] = {}
    top.raw("roster", required=True)
    for key, value in top.items("roster"):
        entry = _Reader(doc, value, key, ("id", "name", "aliases", "country", "roles", "accounts", "notes"))
        leader = Leader(
            id=entry.identifier("id"),
            name=entry.text("name", required=True),
            country=entry.country("country"),
            aliases=entry.text_list("aliases"),
            notes=entry.text("notes"),
        )
        if leader.id in seen:
            raise doc.error(f"{key}.id", f"duplicate leader id '{leader.id}' (first at {seen[leader.id]})")
        seen[leader.id] = key
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
        leaders.append(leader)
    if not leaders:
        raise doc.error("roster", "the roster lists no leaders")
    return leaders


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
