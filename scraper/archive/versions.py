"""Versions: what a new sighting of an archived post changes.

``posts`` holds each post's latest state. A post seen in one state only
keeps that state there and nowhere else; once it shows a second state (an
edit, new counts), ``post_versions`` holds every state it has shown, the
first one included, each with the time range it was seen in. So a
re-check that finds nothing new costs no row, and an archive of posts that
were never edited holds no copy of their texts.

:func:`apply_sighting` decides, from the post's row and the sighting's
prepared values, what the sighting changes (pure: it returns the new
column values and edits the post's list of states in memory); the writer
writes the result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .. import jsonio
from ..model import COUNT_COLUMNS, PreparedPost

STATE_COLUMNS = ("text", *COUNT_COLUMNS, "edited_at")
VERSION_COLUMNS = ("post_id", "version", *STATE_COLUMNS, "content_hash", "first_seen_at", "last_seen_at")


def content_hash(state: dict) -> str:
    """The hash a version is recognised by: its text and counts."""
    basis = jsonio.dumps([state["text"], *[state[name] for name in COUNT_COLUMNS]])
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


def _same_content(a: dict, b: dict) -> bool:
    return a["text"] == b["text"] and all(a[name] == b[name] for name in COUNT_COLUMNS)


@dataclass
class History:
    """The stored states of one post (empty: its one state is its row), and
    what changed in them during the batch."""

    versions: list[dict] = field(default_factory=list)
    replaced: bool = False  # the stored states are dropped and written again
    dirty: set[int] = field(default_factory=set)  # versions whose seen range moved
    new: set[int] = field(default_factory=set)  # versions added in this batch


@dataclass
class Outcome:
    kind: str  # new_posts | new_versions | unchanged | deleted
    updates: dict
    rehash: bool = False  # the text changed: the match hash follows, quotes may now match


def state_of_row(row: dict) -> dict:
    return {name: row[name] for name in STATE_COLUMNS}


def apply_sighting(row: dict, prepared: PreparedPost, values: dict, account_id: int | None, seen_at: str,
                   live: bool, merged_derived: bool, history: History) -> Outcome:
    """What a sighting of an archived post changes.

    ``values``: the sighting's POST_CONTENT_COLUMNS by name. ``live``: the
    sighting is the platform's own answer, fetched now (not a file, an
    article or a list); only such an answer can show that a post reported
    gone is back. ``merged_derived``: the post was a quote without an id
    until this sighting gave it one."""
    updates = fill_gaps(row, values, account_id)
    updates["last_captured_at"] = max(row["last_captured_at"] or "", seen_at)
    updates["first_captured_at"] = min(row["first_captured_at"] or seen_at, seen_at)
    if values["unavailable_reason"]:
        updates["unavailable_reason"] = values["unavailable_reason"]
        newly_deleted = values["unavailable_reason"] == "deleted" and not row["deleted_at"]
        if newly_deleted:
            updates["deleted_at"] = seen_at
        return Outcome("deleted" if newly_deleted else "unchanged", updates)
    if prepared.placeholder:
        return Outcome("unchanged", updates)  # a link or a pending URL says nothing of the content
    if row["unavailable_reason"] and live and seen_at > (row["deleted_at"] or ""):
        # The platform shows it again (a restored account); tombstone captures keep the history.
        updates.update(unavailable_reason=None, deleted_at=None)
    versions = history.versions
    latest = versions[-1] if versions else state_of_row(row)
    state = version_state(values, latest)
    if merged_derived or row_is_placeholder(row):
        # The first full sighting replaces a placeholder or a quote without
        # an id (renderings of the post, not earlier states of it): one state.
        if versions:
            history.versions, history.replaced = [], True
        updates.update(version_count=1, is_edited=int(bool(values["edited_at"])), text=state["text"],
                       extra=values["extra"] if values["extra"] else row["extra"])
        updates.update({name: state[name] for name in COUNT_COLUMNS})
        updates.update(content_fields(values))
        return Outcome("new_versions", updates, rehash=True)
    same = _version_like(state, versions, latest)
    if same is not None and (same is latest or state["text"] == row["text"] or not is_newer(row, values, seen_at)):
        # A state seen before. (An edit back to an earlier text, seen later,
        # is a new state: it falls through to a new version.)
        if versions:
            same["last_seen_at"] = max(same["last_seen_at"], seen_at)
            same["first_seen_at"] = min(same["first_seen_at"], seen_at)
            history.dirty.add(same["version"])
        return Outcome("unchanged", updates)
    if not versions:
        # The post's first state leaves the row for the history, as version 1.
        first = {**latest, "version": 1, "content_hash": content_hash(latest),
                 "first_seen_at": row["first_captured_at"], "last_seen_at": row["last_captured_at"]}
        versions.append(first)
        history.new.add(1)
    number = versions[-1]["version"] + 1
    versions.append({**state, "version": number, "content_hash": content_hash(state),
                     "first_seen_at": seen_at, "last_seen_at": seen_at})
    history.new.add(number)
    updates["version_count"] = number
    if state["text"] != row["text"]:
        updates["is_edited"] = 1  # the history holds two texts, whichever is newer
    if is_newer(row, values, seen_at):
        updates.update({name: state[name] for name in COUNT_COLUMNS})
        if state["text"] != row["text"]:
            updates["text"] = state["text"]
            if values["edited_at"]:
                updates["edited_at"] = values["edited_at"]
    # (a quote without an id keeps the key its first wording gave it)
    rehash = updates.get("text") is not None and not row["id_is_derived"]
    return Outcome("new_versions", updates, rehash=rehash)


def _version_like(state: dict, versions: list[dict], latest: dict) -> dict | None:
    """The earliest stored state with the same content, else None; with no
    stored states, the row's state if it is the same."""
    if not versions:
        return latest if _same_content(state, latest) else None
    return next((version for version in versions if _same_content(state, version)), None)


def version_state(values: dict, latest: dict) -> dict:
    """The state a sighting shows: its text and counts. Counts a source did
    not give (None) carry over from the latest state, so a sighting without
    counts (an article embed) is not a change."""
    state = {"text": values["text"], "edited_at": values["edited_at"]}
    for name in COUNT_COLUMNS:
        value = values[name]
        state[name] = value if value is not None else latest[name]
    return state


PLACEHOLDER_FLAGS = ("pending", "link_only")


def row_is_placeholder(row: dict) -> bool:
    if row["text"]:
        return False
    extra = jsonio.loads(row["extra"]) if row["extra"] else {}
    return any(extra.get(flag) for flag in PLACEHOLDER_FLAGS)


def content_fields(values: dict) -> dict:
    """Fields a full sighting sets over a placeholder's guesses."""
    fields = {name: values[name] for name in ("hashtags", "mentions", "links", "media", "language", "edited_at")}
    fields["language_detected"] = values["language_detected"]
    return {name: value for name, value in fields.items() if value not in (None, "[]")}


def is_newer(row: dict, values: dict, seen_at: str) -> bool:
    """Does this sighting show a later state than the post's current one?
    By edit times where the platform gives them, else by capture time, so an
    old saved file imported after a scrape does not turn the text back."""
    if values["edited_at"] and row["edited_at"]:
        return values["edited_at"] >= row["edited_at"]
    if row["edited_at"]:
        return False  # the post was edited; a copy without an edit time predates it
    if values["edited_at"]:
        return True
    return seen_at >= (row["last_captured_at"] or "")


_GAP_COLUMNS = ("url", "handle", "display_name", "language", "reply_to", "quote_of", "repost_of")
_LIST_COLUMNS = ("hashtags", "mentions", "links", "media")


def fill_gaps(row: dict, values: dict, account_id: int | None) -> dict:
    """Richer sightings fill what earlier ones lacked; nothing is overwritten."""
    candidates = {name: values[name] for name in _GAP_COLUMNS}
    candidates["account_id"] = account_id
    for name in _LIST_COLUMNS:
        candidates[name] = values[name] if values[name] != "[]" else None
    updates = {name: value for name, value in candidates.items() if value is not None and row[name] in (None, "[]")}
    if values["language"] and not values["language_detected"] and row["language_detected"]:
        updates["language"] = values["language"]
        updates["language_detected"] = 0
    created_at = values["created_at"]
    if created_at and (row["created_at"] is None or (len(row["created_at"]) == 10 and len(created_at) > 10)):
        updates["created_at"] = created_at
        updates["created_at_precision"] = values["created_at_precision"]
    return updates
