"""Running the sources of a config into the archive: one run, many sources,
each with its own result. One failing source never stops the others."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .archive import Archive, StoreStats
from .config import Config, SourceConfig
from .errors import InputError, ParseFailure, SourceError
from .http import PoliteClient, utc_now
from .model import RawItem
from .sources import FILE_FORMATS, ScrapeRequest, Unparsed, WatchedAccount
from .sources import article as article_source

# source kind -> adapter module in scraper/sources/
ADAPTER_MODULES = {
    "bluesky": "bluesky",
    "mastodon": "mastodon",
    "telegram": "telegram",
    "x": "x",
    "x-hydrate": "x",
    "snscrape": "snscrape_backend",
}
LIVE_KINDS = tuple(ADAPTER_MODULES)


@dataclass
class SourceResult:
    source_id: str
    kind: str
    status: str = "ok"  # ok | failed | skipped
    stats: StoreStats = field(default_factory=StoreStats)
    error: str | None = None
    requests: int = 0
    reported_reactions: int = 0

    def as_dict(self) -> dict:
        return {
            "source": self.source_id,
            "kind": self.kind,
            "status": self.status,
            **self.stats.as_dict(),
            "reported_reactions": self.reported_reactions,
            "requests": self.requests,
            "error": self.error,
        }


@dataclass
class RunResult:
    run_id: int
    sources: list[SourceResult]

    @property
    def failed(self) -> list[SourceResult]:
        return [s for s in self.sources if s.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def run_scrape(
    archive: Archive,
    config: Config,
    *,
    only: list[str] | None = None,
    client: PoliteClient | None = None,
    on_source: Callable[[SourceResult], None] | None = None,
) -> RunResult:
    """Scrape every source of ``config`` (or those named in ``only``)."""
    archive.load_config(config)
    run_id = archive.start_run("scrape", str(config.path))
    own_client = client is None
    client = client or PoliteClient(contact=config.contact)
    results = []
    try:
        for source in config.sources:
            if only and source.id not in only:
                continue
            result = run_source(archive, config, source, run_id, client)
            results.append(result)
            if on_source:
                on_source(result)
    finally:
        if own_client:
            client.close()
        status = "failed" if any(r.status == "failed" for r in results) else "ok"
        archive.finish_run(run_id, status, {"sources": [r.as_dict() for r in results]})
    return RunResult(run_id, results)


def run_source(archive: Archive, config: Config, source: SourceConfig, run_id: int, client: PoliteClient) -> SourceResult:
    result = SourceResult(source.id, source.kind)
    started_at = utc_now()
    requests_before = client.requests_made
    archive.register_source(source.id, source.kind, str(source.path or source.url or source.kind))
    try:
        if source.kind == "article":
            location = str(source.path) if source.path else source.url
            _store_article(archive, config, location, source.id, run_id, client, result)
        elif source.kind in ADAPTER_MODULES:
            _store_live(archive, config, source, run_id, client, result)
        else:
            raise SourceError(f"source kind {source.kind!r} has no adapter yet")
    except (SourceError, InputError) as exc:
        result.status = "failed"
        result.error = str(exc)
    result.requests = client.requests_made - requests_before
    archive.record_source_result(run_id, result, started_at)
    return result


def _store_live(archive: Archive, config: Config, source: SourceConfig, run_id: int, client, result: SourceResult) -> None:
    errors: list[str] = []
    result.stats = archive.store(_live_items(config, source, client, archive, errors), run_id)
    if errors:
        raise SourceError("; ".join(errors))


def _store_article(archive, config: Config | None, location: str, source_id: str, run_id, client, result: SourceResult) -> None:
    article = article_source.read_article(location, source_id, client)
    archive.register_source(source_id, "article", location, article.title, article.outlet, article.published_at)
    result.stats = archive.store(article_source.items_from_article(article), run_id)
    if config is None:
        return
    quoted = archive.handles_of_posts(result.stats.post_ids)
    reactions = article_source.reported_reactions(article, config.leaders, set(config.election.candidates), quoted)
    result.reported_reactions = archive.add_reported_reactions(run_id, config.election.id, source_id, reactions)


def _live_items(
    config: Config, source: SourceConfig, client: PoliteClient, archive: Archive, errors: list[str]
) -> Iterator[RawItem | Unparsed]:
    """Items of every watched account of a live source. An account that fails
    is noted in ``errors`` and the others go on; what it yielded before
    failing is kept."""
    module = importlib.import_module(f"scraper.sources.{ADAPTER_MODULES[source.kind]}")
    if source.kind == "x-hydrate":
        posts = _as_list(source.options.get("posts"))
        yield from _guarded(module.hydrate_posts(client, posts, source.id, source.options), errors, source.id)
        return
    for request in _scrape_requests(config, source, archive):
        yield from _guarded(module.scrape_account(client, request), errors, account_label(request.account))


def _guarded(stream: Iterator[RawItem | Unparsed], errors: list[str], label: str) -> Iterator[RawItem | Unparsed]:
    try:
        yield from stream
    except (SourceError, ParseFailure) as exc:
        errors.append(f"{label}: {exc}")


def _scrape_requests(config: Config, source: SourceConfig, archive: Archive) -> Iterator[ScrapeRequest]:
    platform = source_platform(source)
    for account in _watched_accounts(config, source, platform):
        if not account.platform_id:
            account.platform_id = archive.account_platform_id(platform, account.handle)
        yield ScrapeRequest(
            account=account,
            source_id=source.id,
            window_start=config.election.window_start,
            window_end=config.election.window_end,
            since_id=since_id_for(archive, source, account, platform),
            options=dict(source.options),
        )


def source_platform(source: SourceConfig) -> str:
    """The platform whose roster accounts a source scrapes."""
    if source.kind == "snscrape":
        from .sources.snscrape_backend import platform_of

        return platform_of(source.options.get("scraper"))
    return "x" if source.kind == "x-hydrate" else source.kind


def _watched_accounts(config: Config, source: SourceConfig, platform: str) -> list[WatchedAccount]:
    """The roster's accounts on ``platform`` (only the leaders the source
    names, if it names any); an snscrape source may name its targets instead."""
    targets = _as_list(source.options.get("target"))
    if source.kind == "snscrape" and targets:
        return [WatchedAccount(None, platform, handle=target) for target in targets]
    if source.kind == "snscrape" and not source.options.get("scraper"):
        raise SourceError(f"{source.id}: options.scraper (an snscrape scraper name) is not set")
    return [
        account
        for leader in config.leaders
        if source.accounts is None or leader.id in source.accounts
        for account in leader.watched_accounts(platform)
    ]


def since_id_for(archive: Archive, source: SourceConfig, account: WatchedAccount, platform: str) -> str | None:
    """The newest post this source archived for the account, in the form the
    platform's adapter pages from: the at:// URI (Bluesky), ``channel/123``
    (Telegram), the status id (X), and for Mastodon the server's local id when
    the post was read from the same server (else its URL, which ends with it)."""
    newest = archive.newest_post(platform, account.handle, account.platform_id, source.id)
    if newest is None:
        return None
    native_id, extra = newest["native_id"], newest["extra"]
    if platform == "mastodon" and extra.get("local_id") and extra.get("api_host") == _mastodon_host(source, account):
        return str(extra["local_id"])
    return native_id


def _mastodon_host(source: SourceConfig, account: WatchedAccount) -> str | None:
    from .sources.mastodon import parse_account_address

    if source.options.get("base_url"):
        return urlsplit(str(source.options["base_url"])).netloc
    address = parse_account_address(account.handle or account.url or "")
    return address.domain if address else None


def account_label(account: WatchedAccount) -> str:
    """``x account @handle (leader-id)``: names the account in errors."""
    who = account.handle or account.platform_id or account.url or "(unnamed)"
    if account.platform != "mastodon" and account.handle:
        who = "@" + who.lstrip("@")
    leader = f" ({account.leader_id})" if account.leader_id else ""
    return f"{account.platform} account {who}{leader}"


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def import_file(
    archive: Archive, format_name: str, location: str, *, client=None, config: Config | None = None
) -> SourceResult:
    """``reactions import FORMAT LOCATION``: one file (or URL) as one source.
    With a config, an article's reported reactions are recorded too."""
    reader = FILE_FORMATS.get(format_name)
    if reader is None:
        raise InputError(f"unknown import format {format_name!r} (known: {', '.join(sorted(FILE_FORMATS))})")
    source_id = article_source.article_source_id(location)
    if format_name != "article":
        source_id = f"import-{format_name}-{source_id[len('article-'):]}"
    run_id = archive.start_run(f"import {format_name}", str(config.path) if config else None)
    result = SourceResult(source_id, format_name)
    started_at = utc_now()
    archive.register_source(source_id, format_name, location)
    try:
        if format_name == "article":
            _store_article(archive, config, location, source_id, run_id, client, result)
        else:
            result.stats = archive.store(reader(location, source_id), run_id)
    except (SourceError, InputError) as exc:
        result.status = "failed"
        result.error = str(exc)
    archive.record_source_result(run_id, result, started_at)
    archive.finish_run(run_id, result.status, {"sources": [result.as_dict()]})
    return result
