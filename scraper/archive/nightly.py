"""What a nightly run asks of the archive about the posts it holds: the
newest post of an account (to continue from), the posts to re-check, posts
known only by id (to hydrate), what a source already holds in a window (to
flag a platform that stopped paging early). Read-only queries."""

from __future__ import annotations

import json


class NightlyQueries:
    def __init__(self, db):
        self.db = db

    def posts_in_window(self, source_id: str, platform: str, handle: str | None, platform_id: str | None,
                        window_start: str | None, window_end: str | None) -> int:
        """Posts of an account inside a window that this source has captured."""
        handle = handle.lstrip("@") if handle else None
        return self.db.execute(
            "SELECT count(*) FROM posts p JOIN accounts a ON a.id = p.account_id "
            "WHERE p.platform = ? AND ((? IS NOT NULL AND a.platform_user_id = ?) OR (? IS NOT NULL AND a.handle = ? COLLATE NOCASE)) "
            "AND p.created_at >= coalesce(?, '') AND p.created_at <= coalesce(?, '9999') AND p.deleted_at IS NULL "
            "AND EXISTS (SELECT 1 FROM captures c JOIN fetches f ON f.id = c.fetch_id WHERE c.post_id = p.id AND f.source_id = ?)",
            [platform, platform_id, platform_id, handle, handle, window_start, window_end, source_id],
        ).fetchone()[0]

    def placeholder_posts(self, platform: str) -> list[dict]:
        """Posts known only by id or URL (pending URLs, link-only embeds)."""
        return list(self.db.query(
            "SELECT native_id, url, extra FROM posts WHERE platform = ? AND id_is_derived = 0 AND text = '' "
            "AND deleted_at IS NULL AND (json_extract(extra, '$.pending') OR json_extract(extra, '$.link_only')) "
            "ORDER BY created_at, id",
            [platform],
        ))

    def recheck_targets(self, source_id: str, since: str) -> list[dict]:
        """Posts this source captured, created since ``since``, not yet gone."""
        return list(self.db.query(
            "SELECT p.native_id, p.url, p.extra FROM posts p WHERE p.id_is_derived = 0 AND p.deleted_at IS NULL "
            "AND p.created_at >= ? AND EXISTS (SELECT 1 FROM captures c JOIN fetches f ON f.id = c.fetch_id WHERE c.post_id = p.id AND f.source_id = ?) "
            "ORDER BY p.created_at",
            [since, source_id],
        ))

    def handles_of_posts(self, post_ids: list[str]) -> set[str]:
        """Lower-cased author handles of the given posts."""
        handles = set()
        for post_id in set(post_ids):
            row = self.db.execute("SELECT handle FROM posts WHERE id = ?", [post_id]).fetchone()
            if row and row[0]:
                handles.add(row[0].lower())
        return handles

    def newest_native_id(
        self, platform: str, handle: str | None, platform_id: str | None, source_id: str | None = None
    ) -> str | None:
        """The platform id of the newest archived post of an account, for
        incremental scrapes."""
        newest = self.newest_post(platform, handle, platform_id, source_id)
        return newest["native_id"] if newest else None

    def newest_post(
        self, platform: str, handle: str | None, platform_id: str | None, source_id: str | None = None
    ) -> dict | None:
        """``{native_id, extra}`` of the account's newest post with a platform
        id; with ``source_id``, only among the posts that source captured (a
        post imported from elsewhere must not make a scrape skip a gap)."""
        handle = handle.lstrip("@") if handle else None
        row = self.db.execute(
            "SELECT p.native_id, p.extra FROM posts p JOIN accounts a ON a.id = p.account_id "
            "WHERE p.platform = ? AND p.id_is_derived = 0 AND "
            "((? IS NOT NULL AND a.platform_user_id = ?) OR (? IS NOT NULL AND a.handle = ? COLLATE NOCASE)) "
            "AND (? IS NULL OR EXISTS (SELECT 1 FROM captures c JOIN fetches f ON f.id = c.fetch_id WHERE c.post_id = p.id AND f.source_id = ?)) "
            "ORDER BY p.created_at DESC LIMIT 1",
            [platform, platform_id, platform_id, handle, handle, source_id, source_id],
        ).fetchone()
        if row is None:
            return None
        return {"native_id": row[0], "extra": json.loads(row[1]) if row[1] else {}}

    def account_platform_id(self, platform: str, handle: str | None) -> str | None:
        """The platform's stable id (X user id, Bluesky DID) recorded for a
        handle, so that a later scrape need not look it up again."""
        if not handle:
            return None
        row = self.db.execute(
            "SELECT platform_user_id FROM accounts WHERE platform = ? AND handle = ? COLLATE NOCASE "
            "AND platform_user_id IS NOT NULL ORDER BY in_roster DESC LIMIT 1",
            [platform, handle.lstrip("@")],
        ).fetchone()
        return row[0] if row else None
