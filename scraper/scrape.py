"""Running the sources of a config into the archive: one run, many sources,
each with its own result. One failing source never stops the others."""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from . import formats, limits, nothing_read, parallel, sharding
from .archive import Archive, StoreStats
from .config import Config, SourceConfig
from .errors import InputError, ReactionArchiveError, SourceError
from .http import PoliteClient, utc_now
from .lock import ArchiveLock
from .model import RawItem
from .sources import RecheckTarget, ScrapeRequest, Unparsed, WatchedAccount, article_source_id
from .sources.decoding import ItemGate

logger = logging.getLogger(__name__)

LIVE_KINDS = tuple(formats.ADAPTERS)  # config source kinds fetched live (scraper.formats)


@dataclass
class SourceResult:
    source_id: str
    kind: str
    status: str = "ok"  # ok | failed | skipped
    stats: StoreStats = field(default_factory=StoreStats)
    error: str | None = None
    requests: int = 0
    reported_reactions: int = 0
    accounts: int = 0  # per-account results folded in (live sources)
    anomaly: str | None = None
    anomalies: list[str] = field(default_factory=list)

    def add_account(self, other: "SourceResult") -> None:
        self.accounts += 1
        self.stats.add(other.stats)
        self.requests += other.requests
        if other.anomaly:
            self.anomalies.append(other.anomaly)

    def as_dict(self) -> dict:
        return {
            "source": self.source_id,
            "kind": self.kind,
            "status": self.status,
            **self.stats.as_dict(),
            "reported_reactions": self.reported_reactions,
            "requests": self.requests,
            "anomalies": self.anomalies or None,
            "error": self.error,
        }


@dataclass
class RunResult:
    run_id: int
    sources: list[SourceResult]
    stale_lock: dict | None = None  # what a killed run left in the lock file

    @property
    def failed(self) -> list[SourceResult]:
        return [s for s in self.sources if s.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


DEFAULT_RECHECK_DAYS = 7


@dataclass
class ScrapeOptions:
    """How a run treats incremental state: by default each account continues
    from its saved state; ``since`` (a date) and ``full`` ignore it."""

    since: str | None = None  # UTC ISO date-time; fetch posts from here
    full: bool = False  # backfill the whole election window again
    recheck_days: int = DEFAULT_RECHECK_DAYS  # 0: no re-check pass
    progress: Callable[[str], None] | None = None  # told what is being fetched (a spinner on a terminal)
    shard: sharding.Shard | None = None  # only this shard's accounts and sources (scraper.sharding)

    def as_dict(self) -> dict:
        found = {"since": self.since, "full": self.full, "recheck_days": self.recheck_days}
        if self.shard is not None:
            found["shard"] = str(self.shard)
        return found


def run_scrape(
    archive: Archive,
    config: Config,
    *,
    only: list[str] | None = None,
    client: PoliteClient | None = None,
    on_source: Callable[[SourceResult], None] | None = None,
    options: ScrapeOptions | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Scrape every source of ``config`` (or those named in ``only``).

    Holds the archive's lock for the whole run: a second run on the same
    archive raises ArchiveLockedError at once and changes nothing."""
    options = options or ScrapeOptions()
    options.progress = options.progress or on_progress
    with limits.in_force(config.limits):
        return _run_scrape(archive, config, only, client, on_source, options)


def _run_scrape(archive, config, only, client, on_source, options) -> RunResult:
    with ArchiveLock(archive.path) as lock:
        archive.migrate()
        archive.load_config(config)
        run_id = archive.start_run("scrape", str(config.path), options.as_dict())
        sharding.record_shard(archive, options.shard)
        own_client = client is None
        client = client or PoliteClient(contact=config.contact, limits=config.limits.http())
        results: list[SourceResult] = []
        completed = False
        try:
            for source in config.sources:
                if only and source.id not in only:
                    continue
                if not sharding.runs_source(options.shard, source):
                    continue
                if options.progress:
                    options.progress(f"{source.id} [{source.kind}]")
                result = run_source(archive, config, source, run_id, client, options)
                results.append(result)
                if on_source:
                    on_source(result)
            completed = True
        finally:
            if own_client:
                client.close()
            run = RunResult(run_id, results, stale_lock=lock.stale_holder)
            status = ("failed" if run.failed else "ok") if completed else "interrupted"
            archive.finish_run(run_id, status, {"sources": [r.as_dict() for r in results]}, run.exit_code if completed else None)
    return run


def run_source(
    archive: Archive, config: Config, source: SourceConfig, run_id: int, client: PoliteClient,
    options: ScrapeOptions | None = None,
) -> SourceResult:
    options = options or ScrapeOptions()
    result = SourceResult(source.id, source.kind)
    started_at = utc_now()
    requests_before = client.requests_made
    archive.register_source(source.id, source.kind, str(source.path or source.url or source.kind))
    try:
        if source.kind == "article":
            location = str(source.path) if source.path else source.url
            _store_article(archive, config, location, source.id, run_id, client, result)
        elif source.kind in formats.ADAPTERS:
            _store_live(archive, config, source, run_id, client, result, options)
        else:
            raise SourceError(f"source kind {source.kind!r} has no adapter yet")
    except (SourceError, InputError) as exc:
        result.status = "failed"
        result.error = str(exc)
    except ReactionArchiveError:
        raise  # the archive itself (locked, unwritable): the run cannot go on
    except Exception as exc:  # noqa: BLE001 - one broken source must not stop the others
        result.status = "failed"
        result.error = f"unexpected {type(exc).__name__}: {exc}"
        logger.exception("source %s failed unexpectedly", source.id)
    result.requests = client.requests_made - requests_before
    if source.kind not in formats.ADAPTERS or result.accounts == 0:
        archive.record_source_result(run_id, result, started_at)
    return result


def _store_live(
    archive: Archive, config: Config, source: SourceConfig, run_id: int, client, result: SourceResult,
    options: ScrapeOptions,
) -> None:
    """Each account on its own: its items stored in batches, its state saved
    only once it completed, its result (and any anomaly) recorded."""
    module = formats.adapter(source.kind)
    errors: list[str] = []
    if source.kind == "x-hydrate":
        posts = _as_list(source.options.get("posts"))
        stream = _Guarded(module.hydrate_posts(client, posts, source.id, source.options), source.id, source.id)
        result.stats = archive.store(stream, run_id)
        if stream.error:
            errors.append(stream.error)
    else:
        for request in _scrape_requests(config, source, archive, options):
            if options.progress:
                options.progress(f"{source.id} [{source.kind}]: {account_label(request.account)}")
            account_result = _scrape_one_account(archive, config, source, module, request, run_id, client, options)
            result.add_account(account_result)
            if account_result.error:
                errors.append(account_result.error)
    recheck = _recheck(archive, source, module, run_id, client, options)
    if recheck is not None:
        result.add_account(recheck)
        if recheck.error:
            errors.append(recheck.error)
    if errors:
        raise SourceError("; ".join(errors))


def _scrape_one_account(archive, config, source, module, request, run_id, client, options) -> SourceResult:
    account = request.account
    key = account_key(account)
    label = account_label(account)
    started_at = utc_now()
    requests_before = client.requests_made
    archived_before = archive.posts_in_window(
        source.id, account.platform, account.handle, account.platform_id, request.window_start, request.window_end
    )
    stream = _Guarded(module.scrape_account(client, request), label, request.source_id)
    outcome = SourceResult(source.id, source.kind)
    outcome.stats = archive.store(stream, run_id)
    outcome.requests = client.requests_made - requests_before
    anomaly = None
    if stream.error:
        outcome.status, outcome.error = "failed", stream.error
    elif stream.unread_page:
        # The pages after it were never asked for: saving the state would
        # make the next run stop before them. It fetches the account again.
        anomaly = f"page {stream.unread_page} could not be read (recorded as a parse error); fetched again next run"
    else:
        history = archive.recent_items_history(source.id, key)
        anomaly = detect_anomaly(
            items=outcome.stats.items, history=history, full_pass=request.since_id is None and not options.since,
            archived_before=archived_before, fetched_in_window=_fetched_in_window(archive, outcome.stats.post_ids, request),
        )
        newest = since_id_for(archive, source, account, account.platform, from_archive=True)
        archive.save_source_state(
            source.id, key, account.platform, newest, None, run_id, outcome.stats.items
        )
    outcome.anomaly = anomaly
    archive.record_source_result(run_id, outcome, started_at, account=key, anomaly=anomaly)
    return outcome


def _fetched_in_window(archive: Archive, post_ids: list[str], request: ScrapeRequest) -> int:
    """Distinct posts of this run's stream created inside the window."""
    if not post_ids:
        return 0
    start, end = request.window_start or "", request.window_end or "9999"
    count = 0
    for post_id in set(post_ids):
        row = archive.db.execute("SELECT created_at, deleted_at FROM posts WHERE id = ?", [post_id]).fetchone()
        if row and row[0] and start <= row[0] <= end and row[1] is None:
            count += 1
    return count


def detect_anomaly(*, items: int, history: list[int], full_pass: bool, archived_before: int,
                   fetched_in_window: int) -> str | None:
    """Why a result that did not fail still looks wrong, or None.

    * nothing returned where the last three runs all returned something;
    * a full pass over the window that found fewer posts than the archive
      already holds from this source: the platform stopped paging early."""
    if items == 0 and len(history) >= 3 and all(count > 0 for count in history):
        return f"returned nothing; the last {len(history)} runs returned {', '.join(map(str, history))} items"
    if full_pass and fetched_in_window < archived_before:
        return (
            f"paging stopped early: {fetched_in_window} posts in the window this run, "
            f"the archive already holds {archived_before} from this source"
        )
    return None


def _recheck(archive, source, module, run_id, client, options) -> SourceResult | None:
    """Re-read this source's posts younger than ``recheck_days`` by id: edits
    and new counts become versions, posts the platform reports gone get
    deleted_at. Unreachable servers fail the pass; they never delete."""
    if options.recheck_days <= 0 or not hasattr(module, "recheck_posts"):
        return None
    since = (datetime.now(timezone.utc) - timedelta(days=options.recheck_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = archive.recheck_targets(source.id, since)
    if not rows:
        return None
    targets = [RecheckTarget(r["native_id"], r["url"], json.loads(r["extra"]) if r["extra"] else {}) for r in rows]
    started_at = utc_now()
    requests_before = client.requests_made
    stream = _Guarded(module.recheck_posts(client, targets, source.id, source.options), f"{source.id} re-check", source.id)
    outcome = SourceResult(source.id, source.kind)
    outcome.stats = archive.store(stream, run_id)
    outcome.requests = client.requests_made - requests_before
    if stream.error:
        outcome.status, outcome.error = "failed", stream.error
    archive.record_source_result(run_id, outcome, started_at, account="(re-check)")
    return outcome


class _Guarded(ItemGate):
    """Iterates a live source's stream; a SourceError or ParseFailure, or
    what a hostile answer makes a reader raise, ends it cleanly (and is kept
    in ``error``), so the items already yielded are stored rather than lost
    with the unfinished batch; each item is checked on its way
    (scraper.sources.decoding.ItemGate)."""

    def __init__(self, stream: Iterator[RawItem | Unparsed], label: str, source_id: str = ""):
        super().__init__(stream, source_id, label, label=label)
        self.unread_page: str | None = None  # a fetched page that could not be read at all

    def check(self, entry):
        entry = super().check(entry)
        if isinstance(entry, Unparsed) and entry.page is not None and entry.location == entry.fetched_url:
            self.unread_page = self.unread_page or entry.location
        return entry


def account_key(account: WatchedAccount) -> str:
    """How an account is named in source_state and run_sources."""
    return account.handle or account.platform_id or account.url or "(unnamed)"


def _read_file(archive: Archive, format_name: str, location: str, source_id: str, workers: int | None):
    """The items of an imported file, read and prepared here or by worker
    processes, and the ItemGate they passed (its ``error``: why reading
    stopped early). Raw items pass the gate before they are prepared; a
    worker checks its items as the gate does (scraper.parallel), and the
    gate here only records what ends the stream. Line-based platform files
    hold posts with ids only: the match hashes that find quotes without an
    id are computed only when the archive holds such quotes."""
    if format_name not in formats.LINE_READERS:
        gate = ItemGate(formats.file_reader(format_name)(location, source_id), source_id, location)
        return gate, gate
    match_quotes = archive.has_posts_without_id()
    count = parallel.worker_count(location, workers)
    if count:
        gate = ItemGate(parallel.read_in_workers(location, format_name, source_id, archive.matchers(), match_quotes,
                                                 count), source_id, location)
        return gate, gate
    gate = ItemGate(formats.file_reader(format_name)(location, source_id), source_id, location)
    return archive.prepared(gate, match_quotes), gate


def _store_article(archive, config: Config | None, location: str, source_id: str, run_id, client, result: SourceResult,
                   importing: bool = False) -> None:
    from .sources import article as article_source  # (HTML parsing: loaded only for articles)

    article = article_source.read_article(location, source_id, client)
    archive.register_source(source_id, "article", location, article.title, article.outlet, article.published_at)
    stream = ItemGate(article_source.items_from_article(article), source_id, location)
    result.stats = archive.store(stream, run_id)
    if stream.error:
        raise SourceError(stream.error)
    reactions = []
    if config is not None:
        quoted = archive.handles_of_posts(result.stats.post_ids)
        reactions = article_source.reported_reactions(article, config.leaders, set(config.election.candidates), quoted)
        result.reported_reactions = archive.add_reported_reactions(run_id, config.election.id, source_id, reactions)
    nothing_read.check_article(archive, run_id, result, article, len(reactions), config is not None, importing)


def _scrape_requests(config: Config, source: SourceConfig, archive: Archive, options: ScrapeOptions) -> Iterator[ScrapeRequest]:
    platform = source_platform(source)
    for account in _watched_accounts(config, source, platform):
        if not sharding.takes_account(options.shard, account):
            continue
        if not account.platform_id:
            account.platform_id = archive.account_platform_id(platform, account.handle)
        yield ScrapeRequest(
            account=account,
            source_id=source.id,
            window_start=options.since or config.election.window_start,
            window_end=config.election.window_end,
            since_id=None if (options.full or options.since) else since_id_for(archive, source, account, platform),
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


def since_id_for(
    archive: Archive, source: SourceConfig, account: WatchedAccount, platform: str, from_archive: bool = False
) -> str | None:
    """Where the next run of this account starts: the saved state, written
    only when a run completed the account (so a killed backfill is redone,
    never skipped). With ``from_archive``, the value to save: the newest post
    this source archived for the account, in the form the adapter pages
    from: the at:// URI (Bluesky), ``channel/123`` (Telegram), the status id
    (X), and for Mastodon the server's local id when the post was read from
    the same server (else its URL, which ends with it)."""
    if not from_archive:
        state = archive.source_state(source.id, account_key(account))
        return state["last_id"] if state else None
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


HYDRATABLE = {"x": "x", "bluesky": "bluesky", "mastodon": "mastodon", "telegram": "telegram"}


def hydrate_pending(
    archive: Archive,
    client: PoliteClient,
    *,
    platforms: list[str] | None = None,
    options: dict[str, dict] | None = None,
    on_source: Callable[[SourceResult], None] | None = None,
) -> RunResult:
    """Fetch the content of posts known only by their id or URL (imported URL
    lists, link-only embeds) through each platform's re-check by id. A
    platform that cannot be reached leaves its posts pending and fails."""
    options = options or {}
    with ArchiveLock(archive.path):
        archive.migrate()
        run_id = archive.start_run("hydrate", None, {"platforms": platforms})
        results = []
        for platform, module_name in HYDRATABLE.items():
            if platforms and platform not in platforms:
                continue
            rows = archive.placeholder_posts(platform)
            if not rows:
                continue
            source_id = f"hydrate-{platform}"
            archive.register_source(source_id, "hydrate", platform)
            module = importlib.import_module(f"scraper.sources.{module_name}")
            targets = [RecheckTarget(r["native_id"], r["url"], json.loads(r["extra"]) if r["extra"] else {}) for r in rows]
            result = SourceResult(source_id, "hydrate")
            started_at, requests_before = utc_now(), client.requests_made
            stream = _Guarded(module.recheck_posts(client, targets, source_id, options.get(platform, {})), source_id, source_id)
            result.stats = archive.store(stream, run_id)
            result.requests = client.requests_made - requests_before
            if stream.error:
                result.status, result.error = "failed", stream.error
            archive.record_source_result(run_id, result, started_at)
            results.append(result)
            if on_source:
                on_source(result)
        run = RunResult(run_id, results)
        archive.finish_run(run_id, "failed" if run.failed else "ok", {"sources": [r.as_dict() for r in results]}, run.exit_code)
    return run


def import_file(
    archive: Archive, format_name: str, location: str, *, client=None, config: Config | None = None,
    workers: int | None = None, on_batch: Callable[[StoreStats], None] | None = None,
) -> SourceResult:
    """``reactions import FORMAT LOCATION``: one file (or URL) as one source.
    With a config, an article's reported reactions are recorded too. Holds
    the archive's lock: an import never runs beside a scrape.

    A large file of a line-based format (twarc2, snscrape JSONL) is read by ``workers``
    processes while this one stores (see scraper.parallel); None picks one
    per usable CPU (at most 3) for files of 4 MiB and more, 0 reads in this process.
    ``on_batch`` is told the running totals after each commit."""
    if format_name not in formats.FILE_READERS:
        raise InputError(f"unknown import format {format_name!r} (known: {', '.join(sorted(formats.FILE_READERS))})")
    source_id = article_source_id(location)
    if format_name != "article":
        source_id = f"import-{format_name}-{source_id[len('article-'):]}"
    with ArchiveLock(archive.path):
        run_id = archive.start_run(f"import {format_name}", str(config.path) if config else None)
        result = SourceResult(source_id, format_name)
        started_at = utc_now()
        archive.register_source(source_id, format_name, location)
        try:
            if format_name == "article":
                _store_article(archive, config, location, source_id, run_id, client, result, importing=True)
            else:
                stream, gate = _read_file(archive, format_name, location, source_id, workers)
                result.stats = archive.store(stream, run_id, keep_ids=False, on_batch=on_batch)
                if gate.error:
                    result.status, result.error = "failed", gate.error
                nothing_read.check_import(archive, run_id, result, format_name, location)
        except (SourceError, InputError) as exc:
            result.status, result.error = "failed", str(exc)
        except OSError as exc:
            result.status, result.error = "failed", f"{location}: cannot read ({exc.strerror or exc})"
        except ReactionArchiveError:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded, and the run closed, rather than left 'running'
            result.status, result.error = "failed", f"{location}: unexpected {type(exc).__name__}: {exc}"
            logger.exception("import of %s failed unexpectedly", location)
        archive.record_source_result(run_id, result, started_at)
        archive.finish_run(run_id, result.status, {"sources": [result.as_dict()]}, 0 if result.status == "ok" else 1)
    return result
