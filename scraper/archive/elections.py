"""The elections and the roster as stored: ``elections``, ``leaders``,
``roles``, ``countries``, the roster's links on ``accounts``, what reports
say leaders did (``reported_reactions``), and what is derived from them
for storing posts: the roster names posts carry (for search) and the
matchers that decide a post's relevance to each election."""

from __future__ import annotations

import json

from .. import classify_store
from ..config import Config
from ..countries import country_rows
from ..http import utc_now
from ..reaction_rows import refresh_if_config_changed
from ..relevance import ElectionMatcher
from ..schema import ROLE_PRECEDENCE

# SQL that recomputes the roster-derived name columns of a post row.
ROSTER_NAME_EXPRESSIONS = {
    "author_name": "coalesce((SELECT l.name FROM accounts a JOIN leaders l ON l.id = a.leader_id "
    "WHERE a.id = posts.account_id), posts.display_name)",
    "mentioned_names": "(SELECT group_concat(name, '; ') FROM (SELECT DISTINCT l.name AS name "
    "FROM json_each(posts.mentions) m JOIN accounts a ON a.platform = posts.platform "
    "AND a.handle = m.value COLLATE NOCASE JOIN leaders l ON l.id = a.leader_id))",
}


class Elections:
    def __init__(self, db, write, accounts):
        self.db = db
        self.write = write
        self.accounts = accounts
        self._matchers: list[ElectionMatcher] | None = None
        self._roster_names: dict[tuple[str, str], str] | None = None

    def forget(self) -> None:
        """The roster or the elections changed: derived lookups are made again."""
        self._matchers = None
        self._roster_names = None
        self.accounts.forget()

    def load(self, config: Config) -> None:
        """Store the election, the roster and its accounts; link accounts seen
        before the roster named them."""
        now = utc_now()
        with self.write():
            if not self.db["countries"].count:
                self.db["countries"].insert_all(country_rows(), pk="code")
            election = config.election
            self.db["elections"].upsert(
                {
                    "id": election.id,
                    "name": election.name,
                    "country": election.country,
                    "timezone": election.timezone,
                    "polling_dates": json.dumps([d.isoformat() for d in election.polling_dates]),
                    "result_announced_at": election.result_announced_at,
                    "result_label": election.result_label,
                    "window_start": election.window_start,
                    "window_end": election.window_end,
                    "candidates": json.dumps(election.candidates),
                    "terms": json.dumps(election.terms, ensure_ascii=False),  # config order: first spelling wins
                    "config_path": str(config.path),
                    "loaded_at": now,
                },
                pk="id",
            )
            for leader in config.leaders:
                self.db["leaders"].upsert(
                    {
                        "id": leader.id,
                        "name": leader.name,
                        "aliases": json.dumps(leader.aliases, ensure_ascii=False),
                        "country": leader.country,
                        "notes": leader.notes,
                        "wikidata": leader.wikidata,
                    },
                    pk="id",
                )
                self.db.execute("DELETE FROM roles WHERE leader_id = ?", [leader.id])
                self.db["roles"].insert_all(
                    {
                        "leader_id": leader.id,
                        "title": role.title,
                        "kind": role.kind,
                        "country": role.country or leader.country,
                        "organisation": role.organisation,
                        "start_date": role.start.isoformat(),
                        "end_date": role.end.isoformat() if role.end else None,
                        "precedence": ROLE_PRECEDENCE.get(role.kind, 20),
                    }
                    for role in leader.roles
                )
                for account in leader.accounts:
                    # Posts name Mastodon accounts user@server; the roster may write @user@server.
                    handle = account.handle.lstrip("@") if account.handle else None
                    # A Mastodon account's stable id is its profile URL (what statuses carry).
                    platform_id = account.platform_id or (account.url if account.platform == "mastodon" else None)
                    account_id = self.accounts.id_for(account.platform, handle, platform_id, None, now)
                    self.db.execute(
                        "UPDATE accounts SET leader_id = ?, in_roster = 1, url = coalesce(url, ?) WHERE id = ?",
                        [leader.id, account.url, account_id],
                    )
            self.refresh_roster_names()
            classify_store.after_load_config(self.db, config)  # hook (issue 13): milestones, classes
            refresh_if_config_changed(self.db)  # the reactions table follows the roster and elections
        self.forget()

    def refresh_roster_names(self) -> None:
        """Posts carry the roster names of their author and of the accounts they
        mention (for search); a roster change updates the rows that differ."""
        for column, expression in ROSTER_NAME_EXPRESSIONS.items():
            self.db.execute(
                f"UPDATE posts SET {column} = {expression} WHERE {column} IS NOT {expression}"
            )

    def roster_names(self) -> dict[tuple[str, str], str]:
        """(platform, lower-cased handle or account id) -> leader name."""
        if self._roster_names is None:
            names = {}
            for platform, handle, account_id, name in self.db.execute(
                "SELECT a.platform, a.handle, a.id, l.name FROM accounts a JOIN leaders l ON l.id = a.leader_id"
            ):
                names[(platform, str(account_id))] = name
                if handle:
                    names[(platform, handle.lower())] = name
            self._roster_names = names
        return self._roster_names

    def author_name(self, platform: str, account_id: int | None, display_name: str | None) -> str | None:
        return self.roster_names().get((platform, str(account_id)), display_name)

    def mentioned_names(self, platform: str, mentions: list[str]) -> str | None:
        names = self.roster_names()
        found = [names[(platform, m.lower())] for m in mentions if (platform, m.lower()) in names]
        return "; ".join(dict.fromkeys(found)) or None

    def matchers(self) -> list[ElectionMatcher]:
        if self._matchers is None:
            self._matchers = [self._matcher(row) for row in self.db["elections"].rows]
        return self._matchers

    def _matcher(self, election: dict) -> ElectionMatcher:
        """The election's terms and candidates, and the classifier of its
        reaction types (made from the same candidates) when the archive
        keeps types: the preparing step runs both on every post."""
        terms = json.loads(election["terms"] or "{}")
        classifier = classify_store.election_classifier(self.db, election["id"])
        candidates = classifier.candidates
        return ElectionMatcher(
            election_id=election["id"],
            window_start=election["window_start"],
            window_end=election["window_end"],
            keywords=[k for per_language in terms.values() for k in per_language.get("keywords", [])],
            hashtags=[h for per_language in terms.values() for h in per_language.get("hashtags", [])],
            candidate_names=[name for candidate in candidates for name in candidate.names],
            candidate_handles=[handle for candidate in candidates for handle in candidate.handles],
            classifier=classifier if classify_store.migrated(self.db) else None,
        )

    def add_reported_reactions(self, run_id: int, election_id: str, source_id: str, reactions) -> int:
        """Store (leader_id, evidence sentence, reported_on) rows, one reported
        reaction per report seen through any number of sources; return how many are new."""
        with self.write():
            return classify_store.add_reported(self.db, run_id, election_id, source_id, reactions)  # hook (issue 13)
