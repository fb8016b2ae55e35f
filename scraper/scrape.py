"""Running the sources of a config into the archive: one run, many sources,
each with its own result. One failing source never stops the others."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .archive import Archive, StoreStats
from .config import Config, SourceConfig
from .errors import InputError, SourceError
from .http import PoliteClient, utc_now
from .model import RawItem
from .sources import FILE_FORMATS, ScrapeRequest, Unparsed
from .sources import article as article_source

LIVE_KINDS = ("bluesky", "mastodon", "telegram", "x")


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
        else:
            items = _live_items(config, source, client, archive)
            result.stats = archive.store(items, run_id)
    except (SourceError, InputError) as exc:
        result.status = "failed"
        result.error = str(exc)
    result.requests = client.requests_made - requests_before
    archive.record_source_result(run_id, result, started_at)
    return result


def _store_article(archive, config: Config | None, location: str, source_id: str, run_id, client, result: SourceResult) -> None:
    article = article_source.read_article(location, source_id, client)
    archive.register_source(source_id, "article", location, article.title, article.outlet, article.published_at)
    result.stats = archive.store(article_source.items_from_article(article), run_id)
    if config is None:
        return
    quoted = archive.handles_of_posts(result.stats.post_ids)
    reactions = article_source.reported_reactions(article, config.leaders, set(config.election.candidates), quoted)
    result.reported_reactions = archive.add_reported_reactions(run_id, config.election.id, source_id, reactions)


def _live_items(config: Config, source: SourceConfig, client: PoliteClient, archive: Archive) -> Iterator[RawItem | Unparsed]:
    """Items of every watched account of a live source; an account that fails
    is recorded and the others go on."""
    module = importlib.import_module(f"scraper.sources.{source.kind.replace('-', '_')}")
    if source.kind == "x-hydrate":
        yield from module.hydrate_posts(client, source.options.get("posts", []), source.id, source.options)
        return
    platform = source.kind
    errors = []
    for leader in config.leaders:
        if source.accounts is not None and leader.id not in source.accounts:
            continue
        for account in leader.watched_accounts(platform):
            request = ScrapeRequest(
                account=account,
                source_id=source.id,
                window_start=config.election.window_start,
                window_end=config.election.window_end,
                since_id=archive.newest_native_id(platform, account.handle, account.platform_id),
                options=source.options,
            )
            try:
                yield from module.scrape_account(client, request)
            except SourceError as exc:
                errors.append(f"{account.handle or account.platform_id}: {exc}")
    if errors:
        raise SourceError("; ".join(errors))


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
