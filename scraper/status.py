"""What `reactions status` reports: the morning check, read from the archive."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .archive import Archive


def archive_status(archive: Archive, runs: int = 5) -> dict:
    db = archive.db
    status = {"counts": archive.counts(), "runs": [], "problems": [], "freshness": [], "unmatched_accounts": [],
              "shard": None, "merged_archives": [], "shards": [], "merge_conflicts": 0}
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
    status.update(shard_status(db))
    status["unmatched_accounts"] = list(
        db.query(
            "SELECT a.platform, a.handle, a.display_name, count(p.id) AS posts FROM accounts a "
            "LEFT JOIN posts p ON p.account_id = a.id WHERE a.leader_id IS NULL "
            "GROUP BY a.id ORDER BY posts DESC, a.platform, a.handle LIMIT 20"
        )
    )
    return status


def shard_status(db) -> dict:
    """Which shard this archive holds (``reactions scrape --shard``), the
    archives merged into it, and per shard the freshness of its accounts:
    how many, and the oldest and newest last complete capture."""
    found = {"shard": None, "merged_archives": [], "shards": [], "merge_conflicts": 0}
    if not db["archive_info"].exists():
        return found
    row = db.execute("SELECT value FROM archive_info WHERE key = 'shard'").fetchone()
    found["shard"] = row[0] if row else None
    found["merged_archives"] = list(db.query(
        "SELECT archive_id, shard, path, last_merged_at, runs, posts FROM merged_archives ORDER BY shard, archive_id"))
    found["merge_conflicts"] = db["merge_conflicts"].count
    found["shards"] = list(db.query(
        "SELECT json_extract(r.options, '$.shard') AS shard, count(*) AS accounts, "
        "min(s.last_success_at) AS oldest, max(s.last_success_at) AS newest "
        "FROM source_state s JOIN scrape_runs r ON r.id = s.last_run_id "
        "WHERE json_extract(r.options, '$.shard') IS NOT NULL GROUP BY 1 ORDER BY 1"))
    return found


def status_lines(status: dict, db_path: str) -> list[str]:
    lines = [f"Archive {db_path}"]
    integrity = status.get("integrity")
    if integrity and integrity.get("result"):
        lines.append(f"  integrity: {integrity['result']} (PRAGMA quick_check, {integrity.get('checked_at') or 'now'})")
    if status.get("shard"):
        lines.append(f"  holds shard {status['shard']} of the roster (reactions scrape --shard)")
    for name, count in status["counts"].items():
        lines.append(f"  {name:20} {count}")
    if status.get("merged_archives"):
        lines.append("Merged from:")
        for row in status["merged_archives"]:
            shard = f"shard {row['shard']}" if row["shard"] else "unsharded"
            lines.append(f"  {row['archive_id'][:12]} ({shard}, {row['posts']} posts, {row['runs']} runs) "
                         f"{row['path']}, last merged {row['last_merged_at']}")
    if status.get("merge_conflicts"):
        lines.append(f"  {status['merge_conflicts']} merge conflicts (roster, elections or sources): "
                     "see the merge_conflicts table")
    if status.get("shards"):
        lines.append("Freshness per shard (accounts, oldest and newest last complete capture):")
        for row in status["shards"]:
            lines.append(f"  shard {row['shard']}: {row['accounts']} accounts, {row['oldest']} .. {row['newest']}")
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
    if status.get("election"):
        lines.extend(election_lines(status["election"]))
    return lines


def election_lines(summary: dict) -> list[str]:
    """One election: reactions by type, milestones, who has not reacted."""
    lines = [f"Election {summary['election']}:", "  reactions by type (posts + reported):"]
    for kind, counts in summary["types"].items():
        if counts["posts"] or counts["reported"]:
            lines.append(f"    {kind:16} {counts['posts']} + {counts['reported']}")
    labels = f"  labels set by hand: {summary['labels']}"
    if summary["labels_without_post"]:
        labels += f" ({summary['labels_without_post']} name a post no longer relevant or in the archive)"
    lines.append(labels)
    if summary["milestones"]:
        lines.append("  milestones:")
        for milestone in summary["milestones"]:
            day = " (a date: the start of that day in the election's zone)" if milestone["precision"] == "day" else ""
            lines.append(f"    {milestone['kind']:16} {milestone['at']}  {milestone['label']}{day}")
    else:
        lines.append("  milestones: none in the config (election.milestones)")
    missing = summary["not_reacted"]
    lines.append(f"  not yet reacted, in government on {summary['not_reacted_on']}: "
                 + ("nobody" if not missing else str(len(missing))))
    for row in missing:
        lines.append(f"    {row['country'] or row['country_code']}: {row['leader']}, {row['role']}")
    return lines
