"""What `reactions status` reports: the morning check, read from the archive."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .archive import Archive


def archive_status(archive: Archive, runs: int = 5) -> dict:
    db = archive.db
    status = {"counts": archive.counts(), "runs": [], "problems": [], "freshness": [], "unmatched_accounts": []}
    if not db["scrape_runs"].exists():
        return status
    status["runs"] = list(
        db.query(
            "SELECT id, command, started_at, finished_at, status, exit_code FROM scrape_runs ORDER BY id DESC LIMIT ?",
            [runs],
        )
    )
    if status["runs"]:
        status["problems"] = list(
            db.query(
                "SELECT run_id, source_id, account, status, anomaly, error FROM run_sources "
                "WHERE run_id = ? AND (status != 'ok' OR anomaly IS NOT NULL) ORDER BY source_id, account",
                [status["runs"][0]["id"]],
            )
        )
    if db["source_state"].exists():
        status["freshness"] = list(
            db.query(
                "SELECT source_id, account, platform, last_success_at, last_id FROM source_state "
                "ORDER BY last_success_at, source_id, account"
            )
        )
    status["unmatched_accounts"] = list(
        db.query(
            "SELECT a.platform, a.handle, a.display_name, count(p.id) AS posts FROM accounts a "
            "LEFT JOIN posts p ON p.account_id = a.id WHERE a.leader_id IS NULL "
            "GROUP BY a.id ORDER BY posts DESC, a.platform, a.handle LIMIT 20"
        )
    )
    return status


def status_lines(status: dict, db_path: str) -> list[str]:
    lines = [f"Archive {db_path}"]
    integrity = status.get("integrity")
    if integrity and integrity.get("result"):
        lines.append(f"  integrity: {integrity['result']} (PRAGMA quick_check, {integrity.get('checked_at') or 'now'})")
    for name, count in status["counts"].items():
        lines.append(f"  {name:20} {count}")
    if status["runs"]:
        lines.append("Last runs:")
        for run in status["runs"]:
            code = "" if run["exit_code"] is None else f" (exit {run['exit_code']})"
            lines.append(f"  #{run['id']} {run['command']} {run['started_at']} -> {run['finished_at'] or '…'} {run['status']}{code}")
    if status["problems"]:
        lines.append("Needs a look (last run):")
        for row in status["problems"]:
            what = row["error"] or row["anomaly"] or row["status"]
            account = f" {row['account']}" if row["account"] else ""
            lines.append(f"  {row['source_id']}{account}: {row['status']} — {what}")
    if status["freshness"]:
        lines.append("Freshness (last complete capture per account):")
        for row in status["freshness"]:
            lines.append(f"  {row['source_id']} {row['account']}: {row['last_success_at'] or 'never'}")
    if status["unmatched_accounts"]:
        lines.append("Accounts not in the roster:")
        for row in status["unmatched_accounts"]:
            lines.append(f"  {row['platform']} {row['handle'] or '?'} ({row['display_name'] or ''}): {row['posts']} posts")
    return lines
