"""The archive: one SQLite file, written through sqlite-utils.

:class:`Archive` is a small facade over rooms with one job each:

============================  =====================================================
:mod:`.connection`            the file: opening, pragmas, migrations, transactions
:mod:`.runlog`                runs, sources and their incremental state
:mod:`.elections`             elections and the roster as stored; relevance matchers
:mod:`.nightly`               what a nightly run asks about the posts held
:mod:`.accounts`              platform accounts, found or created
:mod:`.writer`                the write path: prepared items in, rows out
:mod:`.merge`                 identity: which post a sighting is; merging two rows
:mod:`.versions`              what a sighting of an archived post changes
:mod:`.payloads`              raw payloads, compressed, once
:mod:`.reprocess`             rebuilding posts from the raw payloads
============================  =====================================================

The schema itself belongs to :mod:`scraper.schema`. Raw items reach the
writer one way only: read -> normalise -> prepare (:mod:`scraper.prepare`,
pure) -> write; :meth:`Archive.store` runs the preparing step for items it
is given raw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .. import classify_store
from ..config import Config
from ..model import RawItem, ReadItem
from ..prepare import read_items
from ..reaction_rows import refresh_reaction_rows
from ..relevance import ElectionMatcher
from ..sources import Unparsed
from . import connection
from .accounts import Accounts
from .connection import open_database, require_archive
from .elections import Elections
from .merge import has_posts_without_id
from .nightly import NightlyQueries
from .reprocess import reprocess
from .runlog import RunLog
from .writer import BATCH_SIZE, StoreStats, Writer, is_live

__all__ = ["Archive", "BATCH_SIZE", "StoreStats", "is_live", "open_database", "require_archive"]


class Archive:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = open_database(self.path)
        connection.tune_for_writing(self.db)
        self.accounts = Accounts(self.db)
        self.elections = Elections(self.db, self.write, self.accounts)
        self.runs = RunLog(self.db, self.write)
        self.nightly = NightlyQueries(self.db)
        self.writer = Writer(self.db, self.accounts, self.elections)
        # hook (issue 13): reaction types of the batch's posts (made by the preparing
        # step, stored where they hold), before the reactions rows that show them
        self.writer.after_batch.append(lambda db, post_ids, prepared: classify_store.after_batch(db, post_ids, prepared))
        self.writer.after_batch.append(lambda db, post_ids, prepared: refresh_reaction_rows(db, post_ids=post_ids))

    def migrate(self) -> list[str]:
        return connection.migrate(self.db, self.path)

    def write(self) -> connection.Transaction:
        """A transaction: what the writer queued is written at the commit;
        SQLite's lock and permission errors become ours."""
        return connection.Transaction(self.db, self.path, self.writer.flush, self.writer.discard)

    # --- storing ---------------------------------------------------------------------

    def store(self, items: Iterable[RawItem | Unparsed | ReadItem], run_id: int | None, keep_ids: bool = True,
              on_batch: Callable[[StoreStats], None] | None = None) -> StoreStats:
        """Normalise, prepare and store a stream of items (raw, or already
        read and prepared by worker processes), committing in batches and
        at each page boundary of a live source."""
        return self.writer.store(self.prepared(items), run_id, self.write, keep_ids=keep_ids, on_batch=on_batch)

    def prepared(self, items: Iterable, match_quotes: bool = True) -> Iterator[ReadItem | Unparsed]:
        """Raw items read and prepared (see scraper.prepare.read_items); the rest as they are."""
        return read_items(items, self.matchers(), match_quotes)

    def reprocess(self) -> StoreStats:
        """Rebuild posts, versions and relevance from the raw payloads."""
        self.elections.forget()
        return reprocess(self.db, self.writer, self.matchers(), self.write)

    def raw_payload(self, sha256: str) -> str:
        return self.writer.payloads.read(sha256)[1]

    def raw_payload_with_format(self, sha256: str) -> tuple[str, str]:
        return self.writer.payloads.read(sha256)

    # --- elections and roster ------------------------------------------------------------

    def load_config(self, config: Config) -> None:
        """Store the election, the roster and its accounts."""
        self.elections.load(config)

    def matchers(self) -> list[ElectionMatcher]:
        return self.elections.matchers()

    def roster_names(self) -> dict[tuple[str, str], str]:
        return self.elections.roster_names()

    def add_reported_reactions(self, run_id: int, election_id: str, source_id: str, reactions) -> int:
        return self.elections.add_reported_reactions(run_id, election_id, source_id, reactions)

    # --- runs and sources -----------------------------------------------------------------

    def start_run(self, command: str, config_path: str | None = None, options: dict | None = None) -> int:
        return self.runs.start_run(command, config_path, options)

    def finish_run(self, run_id: int, status: str, summary: dict, exit_code: int | None = None) -> None:
        self.runs.finish_run(run_id, status, summary, exit_code)

    def mark_interrupted_runs(self) -> int:
        return self.runs.mark_interrupted_runs()

    def register_source(self, source_id: str, kind: str, location: str | None, title: str | None = None,
                        outlet: str | None = None, published_at: str | None = None) -> None:
        self.runs.register_source(source_id, kind, location, title, outlet, published_at)

    def record_source_result(self, run_id: int, result, started_at: str, account: str | None = None,
                             anomaly: str | None = None) -> None:
        self.runs.record_source_result(run_id, result, started_at, account, anomaly)

    def source_state(self, source_id: str, account: str) -> dict | None:
        return self.runs.source_state(source_id, account)

    def save_source_state(self, source_id: str, account: str, platform: str, last_id: str | None,
                          last_created_at: str | None, run_id: int, items: int) -> None:
        self.runs.save_source_state(source_id, account, platform, last_id, last_created_at, run_id, items)

    def recent_items_history(self, source_id: str, account: str, runs: int = 3) -> list[int]:
        return self.runs.recent_items_history(source_id, account, runs)

    # --- what nightly runs ask -------------------------------------------------------------

    def posts_in_window(self, *args) -> int:
        return self.nightly.posts_in_window(*args)

    def placeholder_posts(self, platform: str) -> list[dict]:
        return self.nightly.placeholder_posts(platform)

    def recheck_targets(self, source_id: str, since: str) -> list[dict]:
        return self.nightly.recheck_targets(source_id, since)

    def handles_of_posts(self, post_ids: list[str]) -> set[str]:
        return self.nightly.handles_of_posts(post_ids)

    def newest_native_id(self, *args, **kwargs) -> str | None:
        return self.nightly.newest_native_id(*args, **kwargs)

    def newest_post(self, *args, **kwargs) -> dict | None:
        return self.nightly.newest_post(*args, **kwargs)

    def account_platform_id(self, platform: str, handle: str | None) -> str | None:
        return self.nightly.account_platform_id(platform, handle)

    def has_posts_without_id(self) -> bool:
        return has_posts_without_id(self.db)

    # --- reading -----------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        names = (
            "posts", "post_versions", "captures", "accounts", "leaders", "elections",
            "election_posts", "reported_reactions", "parse_errors", "raw_payloads", "scrape_runs",
        )
        return {name: self.db[name].count for name in names if self.db[name].exists()}
