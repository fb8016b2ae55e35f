"""The run log and the sources' incremental state: ``scrape_runs`` (one
row per command run), ``run_sources`` (what each source and account did in
a run), ``sources`` (every place posts came from) and ``source_state``
(where each source and account stopped, for the next nightly run)."""

from __future__ import annotations

import json

from .. import __version__
from ..http import utc_now


class RunLog:
    def __init__(self, db, write):
        self.db = db
        self.write = write

    def start_run(self, command: str, config_path: str | None = None, options: dict | None = None) -> int:
        with self.write():
            return self.db["scrape_runs"].insert(
                {
                    "command": command,
                    "config_path": config_path,
                    "started_at": utc_now(),
                    "status": "running",
                    "tool_version": __version__,
                    "options": json.dumps(options, sort_keys=True) if options else None,
                }
            ).last_pk

    def finish_run(self, run_id: int, status: str, summary: dict, exit_code: int | None = None) -> None:
        with self.write():
            self.db["scrape_runs"].update(
                run_id,
                {
                    "finished_at": utc_now(),
                    "status": status,
                    "summary": json.dumps(summary, ensure_ascii=False),
                    "exit_code": exit_code,
                },
            )

    def mark_interrupted_runs(self) -> int:
        """Runs still 'running' when the lock is free were killed; say so.
        (Called with the lock held, by every command that takes it.)"""
        if not self.db["scrape_runs"].exists():  # a new archive, not yet migrated
            return 0
        with self.write():
            return self.db.execute(
                "UPDATE scrape_runs SET status = 'interrupted' WHERE status = 'running'"
            ).rowcount

    def register_source(
        self,
        source_id: str,
        kind: str,
        location: str | None,
        title: str | None = None,
        outlet: str | None = None,
        published_at: str | None = None,
    ) -> None:
        with self.write():
            existing = self.db["sources"].count_where("id = ?", [source_id])
            row = {"id": source_id, "kind": kind, "location": location}
            for name, value in (("title", title), ("outlet", outlet), ("published_at", published_at)):
                if value is not None:
                    row[name] = value
            if not existing:
                row["first_seen_at"] = utc_now()
            self.db["sources"].upsert(row, pk="id")

    def record_source_result(self, run_id: int, result, started_at: str, account: str | None = None,
                             anomaly: str | None = None) -> None:
        with self.write():
            self.db["run_sources"].insert(
                {
                    "run_id": run_id,
                    "source_id": result.source_id,
                    "kind": result.kind,
                    "account": account,
                    "status": result.status,
                    "started_at": started_at,
                    "finished_at": utc_now(),
                    **result.stats.as_dict(),
                    "requests": result.requests,
                    "error": result.error,
                    "anomaly": anomaly,
                }
            )

    def source_state(self, source_id: str, account: str) -> dict | None:
        rows = list(self.db.query(
            "SELECT * FROM source_state WHERE source_id = ? AND account = ?", [source_id, account]
        ))
        return rows[0] if rows else None

    def save_source_state(
        self, source_id: str, account: str, platform: str, last_id: str | None, last_created_at: str | None,
        run_id: int, items: int,
    ) -> None:
        """Written only after an account completed, so a killed run leaves the
        previous state and the next run fetches the gap again."""
        now = utc_now()
        previous = self.source_state(source_id, account) or {}
        with self.write():
            self.db["source_state"].upsert(
                {
                    "source_id": source_id,
                    "account": account,
                    "platform": platform,
                    "last_id": last_id or previous.get("last_id"),
                    "last_created_at": last_created_at or previous.get("last_created_at"),
                    "last_run_id": run_id,
                    "last_success_at": now,
                    "last_items": items,
                    "updated_at": now,
                },
                pk=("source_id", "account"),
            )

    def recent_items_history(self, source_id: str, account: str, runs: int = 3) -> list[int]:
        """Items returned for an account by its last completed runs, newest first."""
        return [
            row[0]
            for row in self.db.execute(
                "SELECT items FROM run_sources WHERE source_id = ? AND account = ? AND status = 'ok' "
                "ORDER BY id DESC LIMIT ?",
                [source_id, account, runs],
            )
        ]
