"""Accounts: one row per platform account seen, in the roster or not.

An account is found by the platform's stable id first (handles change),
then by handle, case-insensitively, and created when neither finds it.
Accounts of a run are cached by what the sighting said, so repeated
sightings only move ``last_seen_at``, written once per batch."""

from __future__ import annotations

_ACCOUNT_SEEN = "UPDATE accounts SET last_seen_at = max(coalesce(last_seen_at, ''), ?) WHERE id = ?"


class Accounts:
    def __init__(self, db):
        self.db = db
        self._ids: dict[tuple, int] = {}  # (platform, handle, platform id, display name) -> id
        self._seen: dict[int, str] = {}  # latest sighting of cached accounts, written by flush

    def id_for(self, platform: str, handle: str | None, platform_id: str | None, display_name: str | None,
               seen_at: str) -> int | None:
        """Find or create the account; None for a sighting that names none."""
        if not (handle or platform_id):
            return None
        cache_key = (platform, handle, platform_id, display_name)
        account_id = self._ids.get(cache_key)
        if account_id is not None:
            if seen_at > self._seen.get(account_id, ""):
                self._seen[account_id] = seen_at
            return account_id
        account_id = self._find_or_create(platform, handle, platform_id, display_name, seen_at)
        self._ids[cache_key] = account_id
        return account_id

    def _find_or_create(self, platform, handle, platform_id, display_name, seen_at) -> int:
        row = None
        if platform_id:
            row = self.db.execute(
                "SELECT id FROM accounts WHERE platform = ? AND platform_user_id = ?", [platform, platform_id]
            ).fetchone()
        if row is None and handle:
            row = self.db.execute(
                "SELECT id FROM accounts WHERE platform = ? AND handle = ? COLLATE NOCASE "
                "AND (platform_user_id IS NULL OR ? IS NULL OR platform_user_id = ?) ORDER BY in_roster DESC LIMIT 1",
                [platform, handle, platform_id, platform_id],
            ).fetchone()
        if row is None:
            return self.db.execute(
                "INSERT INTO accounts (platform, handle, platform_user_id, display_name, in_roster, first_seen_at, "
                "last_seen_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
                [platform, handle, platform_id, display_name, seen_at, seen_at],
            ).lastrowid
        self.db.execute(
            "UPDATE accounts SET platform_user_id = coalesce(platform_user_id, ?), handle = coalesce(?, handle), "
            "display_name = coalesce(?, display_name), last_seen_at = max(coalesce(last_seen_at, ''), ?) WHERE id = ?",
            [platform_id, handle, display_name, seen_at, row[0]],
        )
        return row[0]

    def ids_with_handle(self, platform: str, handle: str | None) -> list[int]:
        """Accounts of a platform a handle names (for quotes without an id)."""
        if not handle:
            return []
        return [row[0] for row in self.db.execute(
            "SELECT id FROM accounts WHERE platform = ? AND handle = ? COLLATE NOCASE", [platform, handle.lstrip("@")]
        )]

    def flush(self) -> None:
        """Write the latest sightings of cached accounts: one update each."""
        if self._seen:
            self.db.conn.executemany(_ACCOUNT_SEEN, [[seen, account] for account, seen in self._seen.items()])
            self._seen = {}

    def forget(self) -> None:
        """After a rollback: ids of rolled-back accounts may be reused."""
        self._ids = {}
        self._seen = {}
