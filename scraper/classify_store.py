"""What each reaction says and when, kept in the archive: milestones,
reaction types (the classifier's and a person's), reported reactions
counted once per report, and who has not reacted.

Who classifies what: the classifier itself is pure
(scraper/reaction_types.py). A post arriving through an import or a scrape
is classified by the preparing step (scraper/prepare.read_items, in worker
processes for a large import), with the
:class:`~scraper.reaction_types.ElectionClassifier` this module builds from
the archive (:func:`election_classifier`) and the relevance matchers carry;
its class travels with the prepared post. This module alone writes
``reaction_classes``: it stores a prepared class where it holds for what
was stored (see :func:`classify_posts`), and classifies here whatever else
needs it (a stored state other than the one prepared, a reprocess, which
reads its captures one by one, a config load, a merge, reported reactions).

The archive calls four functions (each hooked in one line):

- :func:`after_batch` (a callback of the writer, scraper/archive/writer.py,
  told the ids of the posts each stored batch wrote or saw again, and the
  batch's prepared posts, before its commit and before the reactions table
  follows them): store the class of those of them that are relevant and
  have no class yet, a new state (an edit: a post's ``version_count`` moved
  past the one classified, whether or not ``post_versions`` holds its
  states), or a class from another classifier;
- :func:`after_load_config` (scraper/archive/elections.py): store the
  election's milestones, classify again every post of an election whose
  candidates or lexicon changed, and any relevant post left without a class;
- :func:`after_reprocess` (scraper/archive/reprocess.py): the rebuilt posts
  were classified batch by batch as they were stored again; drop the
  classes of posts no longer relevant, classify any left without one.
  Labels are never touched: they live in ``reaction_labels``, which no
  rebuild deletes;
- :func:`add_reported` (scraper/archive/elections.py): one reported
  reaction per report, each source a sighting.

The ``reactions`` table shows the type and the timing (scraper/reaction_rows.py):
what changes classes or labels here outside a stored batch refreshes the
rows of the posts it changed; milestones reach the rows through the
election's fingerprint, which the config load checks after the hook.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError
from .http import utc_now
from .reaction_rows import refresh_reaction_rows
from .model import PreparedPost, classified_values
from .reaction_types import TYPES, Candidate, ElectionClassifier, PostClass, addressed_candidates
from .schema import evidence_key, not_reacted_sql

if TYPE_CHECKING:
    from sqlite_utils import Database

    from .config import Config

GOVERNMENT_ROLE_KINDS = ("head_of_state", "head_of_government", "foreign_minister")


# --- hooks --------------------------------------------------------------------


def migrated(db: Database) -> bool:
    """Has the archive the tables of reaction types (migration m009)? The
    hooks leave an archive not yet migrated alone: its migration and the
    next config load give it its types."""
    return db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reaction_classes'"
    ).fetchone() is not None


def after_batch(db: Database, post_ids: list[str], prepared: Iterable[PreparedPost] = ()) -> int:
    """A stored batch's posts: store a class for those relevant to an
    election whose class is missing or out of date (see :func:`stale`),
    the one the preparing step made where it holds (``prepared``: the
    batch's prepared posts). The reactions rows of the batch are refreshed
    next by the writer's following callback."""
    if not migrated(db):
        return 0
    return len(classify_stale(db, post_ids, prepared_classes(prepared)))


def after_load_config(db: Database, config: Config) -> None:
    """The election's milestones replace those stored; posts are classified
    again where the classifier for the election changed, and where a class
    is missing (an archive migrated to types, a run killed between a
    reprocess and its classification)."""
    if not migrated(db):
        return
    store_milestones(db, config)
    changed: list[str] = []
    for election_id in _election_ids(db):
        classifier = election_classifier(db, election_id)
        key = f"classifier:{election_id}"
        if _state(db, key) != classifier.version:
            changed += classify_posts(db, election_id=election_id)
            classify_reported(db, election_id=election_id)
            _set_state(db, key, classifier.version)
        else:
            changed += classify_missing(db, election_id)
    classify_reported(db, only_missing=True)
    if changed:
        refresh_reaction_rows(db, post_ids=changed)


def after_reprocess(db: Database) -> list[str]:
    """Posts were rebuilt and classified as each batch was stored: classes
    of posts no longer relevant go, posts left without one are classified.
    Labels stay as they are. Returns the post ids classified (the reprocess
    refreshes every reactions row next)."""
    if not migrated(db):
        return []
    db.execute(
        "DELETE FROM reaction_classes WHERE NOT EXISTS (SELECT 1 FROM election_posts ep "
        "WHERE ep.election_id = reaction_classes.election_id AND ep.post_id = reaction_classes.post_id)"
    )
    done: list[str] = []
    for election_id in _election_ids(db):
        done += classify_missing(db, election_id)
    return done


def classify_missing(db: Database, election_id: str) -> list[str]:
    """Relevant posts without a class: counted first, so that the usual
    case, none missing, costs two counts. Returns the post ids classified."""
    relevant = db.execute("SELECT count(*) FROM election_posts WHERE election_id = ?", [election_id]).fetchone()[0]
    classified = db.execute("SELECT count(*) FROM reaction_classes WHERE election_id = ?", [election_id]).fetchone()[0]
    if relevant == classified:
        return []
    missing = [row[0] for row in db.execute(
        "SELECT ep.post_id FROM election_posts ep WHERE ep.election_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM reaction_classes rc WHERE rc.election_id = ep.election_id AND rc.post_id = ep.post_id)",
        [election_id],
    )]
    return classify_posts(db, missing, election_id=election_id)


def stale(db: Database, post_ids: Iterable[str]) -> dict[str, list[str]]:
    """Election -> ids of these posts relevant to it whose class is missing,
    was made from another state of the post (its ``version_count`` differs
    from the ``post_version`` classified: an edit, new counts), or by
    another version of the election's classifier."""
    found: dict[str, list[str]] = {}
    wanted = sorted(set(post_ids))
    versions: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = json.dumps(wanted[start:start + 500])
        for election_id, post_id, classified, version, classifier in db.execute(
            "SELECT ep.election_id, ep.post_id, rc.post_version, p.version_count, rc.classifier "
            "FROM election_posts ep JOIN posts p ON p.id = ep.post_id "
            "LEFT JOIN reaction_classes rc ON rc.election_id = ep.election_id AND rc.post_id = ep.post_id "
            "WHERE ep.post_id IN (SELECT value FROM json_each(?))",
            [chunk],
        ):
            if election_id not in versions:
                versions[election_id] = election_classifier(db, election_id).version
            if classified is None or classified != version or classifier != versions[election_id]:
                found.setdefault(election_id, []).append(post_id)
    return found


def classify_stale(db: Database, post_ids: Iterable[str], prepared: dict | None = None) -> list[str]:
    """Classify the posts of :func:`stale` (``prepared``: classes already
    made, see :func:`classify_posts`); return their ids."""
    done: list[str] = []
    for election_id, ids in stale(db, post_ids).items():
        done += classify_posts(db, ids, election_id=election_id, prepared=prepared)
    return done


# --- classifying posts ------------------------------------------------------------

def prepared_classes(posts: Iterable[PreparedPost]) -> dict[tuple, PostClass]:
    """The classes the preparing step made for a batch's posts, by what
    they were made from: (election, text, mentions, language), the values
    of the prepared post's row. The classifier is pure, so a class holds
    for any stored post with the same values, whichever sighting or merge
    made them the stored ones (and with the same classifier version: the
    class names the one it was made with)."""
    found: dict[tuple, PostClass] = {}
    for post in posts:
        if post.classes:
            values = classified_values(post.row)
            for election_id, *made in post.classes:
                found[(election_id, *values)] = tuple(made)
    return found


def classify_posts(db: Database, post_ids: Iterable[str] | None = None, election_id: str | None = None,
                   prepared: dict | None = None) -> list[str]:
    """Classify posts relevant to an election (every election when
    ``election_id`` is None; every relevant post when ``post_ids`` is None)
    and store the results in ``reaction_classes``. A class in ``prepared``
    (see :func:`prepared_classes`) for the post's stored text, mentions and
    language, made by the election's classifier as it is now, is stored as
    it is; any other post is classified here. Returns the ids of the posts
    classified (the caller refreshes their reactions rows)."""
    elections = [election_id] if election_id else _election_ids(db)
    wanted = None if post_ids is None else list(dict.fromkeys(post_ids))
    prepared = prepared or {}
    done: list[str] = []
    now = utc_now()
    for election in elections:
        classifier = election_classifier(db, election)
        current = classifier.version
        rows = []
        for post_id, text, mentions, language, version in _relevant_posts(db, election, wanted):
            made = prepared.get((election, text, mentions, language))
            if made is None or made[-1] != current:
                made = classifier.classify_post(text, mentions, language)
            rows.append([election, post_id, *made, version, now])
            done.append(post_id)
        db.conn.executemany(
            "INSERT OR REPLACE INTO reaction_classes (election_id, post_id, reaction_type, confidence, evidence, "
            "addressed_candidates, classifier, post_version, classified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return done


def _relevant_posts(db: Database, election_id: str, post_ids: list[str] | None):
    sql = (
        "SELECT p.id, p.text, p.mentions, p.language, p.version_count FROM election_posts ep "
        "JOIN posts p ON p.id = ep.post_id WHERE ep.election_id = ?"
    )
    if post_ids is None:
        yield from db.execute(sql, [election_id])
        return
    for start in range(0, len(post_ids), 500):
        chunk = post_ids[start:start + 500]
        yield from db.execute(f"{sql} AND ep.post_id IN ({', '.join('?' for _ in chunk)})", [election_id, *chunk])


def election_classifier(db: Database, election_id: str) -> ElectionClassifier:
    """The classifier for an election, from its candidates as the archive
    holds them (their names are persons a congratulation can address; their
    names and handles say whom a post addresses)."""
    row = db.execute("SELECT candidates FROM elections WHERE id = ?", [election_id]).fetchone()
    candidates = []
    for leader_id in json.loads(row[0] or "[]") if row else []:
        leader = db.execute("SELECT name, aliases FROM leaders WHERE id = ?", [leader_id]).fetchone()
        if leader is None:
            continue
        handles = [h for (h,) in db.execute(
            "SELECT handle FROM accounts WHERE leader_id = ? AND handle IS NOT NULL", [leader_id]
        )]
        candidates.append(Candidate(leader_id, (leader[0], *json.loads(leader[1] or "[]")), tuple(handles)))
    return ElectionClassifier(election_id, tuple(candidates))


def _election_ids(db: Database) -> list[str]:
    return [row[0] for row in db.execute("SELECT id FROM elections ORDER BY id")]


# --- the classifier each election was classified with --------------------------------


def _state(db: Database, name: str) -> str | None:
    row = db.execute("SELECT value FROM classifier_state WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def _set_state(db: Database, name: str, value) -> None:
    db.execute(
        "INSERT INTO classifier_state (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [name, str(value)],
    )


# --- milestones ------------------------------------------------------------------------


def store_milestones(db: Database, config: Config) -> None:
    """The config's milestones for its election, replacing those stored."""
    from .config import MILESTONE_KINDS, MILESTONE_NAMES

    election = config.election
    db.execute("DELETE FROM election_milestones WHERE election_id = ?", [election.id])
    db.conn.executemany(
        "INSERT INTO election_milestones (election_id, kind, position, at, precision, name, label, source) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [election.id, m.kind, MILESTONE_KINDS.index(m.kind) + 1, m.at, m.precision, MILESTONE_NAMES[m.kind],
             m.label, m.source]
            for m in election.milestones
        ],
    )


# --- reported reactions: one per report -------------------------------------------------


def add_reported(db: Database, run_id: int | None, election_id: str, source_id: str, reactions) -> int:
    """Store (leader_id, evidence sentence, reported_on) rows from a source.

    The same leader reported by the same source, or with the same evidence
    sentence (case, accents, punctuation and spacing aside) through another
    source or import, is the reaction already stored: the source becomes one
    more sighting of it. Returns how many reported reactions are new."""
    added = 0
    now = utc_now()
    for leader_id, evidence, reported_on in reactions:
        key = evidence_key(evidence)
        existing = db.execute(
            "SELECT rr.id FROM reported_reactions rr WHERE rr.election_id = ? AND rr.leader_id = ? AND ("
            "rr.evidence_key = ? OR EXISTS (SELECT 1 FROM reported_reaction_sightings s "
            "WHERE s.reported_reaction_id = rr.id AND s.source_id = ?)) ORDER BY rr.id LIMIT 1",
            [election_id, leader_id, key, source_id],
        ).fetchone()
        if existing is None:
            reaction_id = db.execute(
                "INSERT INTO reported_reactions (election_id, leader_id, source_id, evidence, reported_on, run_id, "
                "recorded_at, evidence_key, sightings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                [election_id, leader_id, source_id, evidence, reported_on, run_id, now, key],
            ).lastrowid
            added += 1
        else:
            reaction_id = existing[0]
        seen = db.execute(
            "INSERT OR IGNORE INTO reported_reaction_sightings "
            "(reported_reaction_id, source_id, evidence, reported_on, run_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
            [reaction_id, source_id, evidence, reported_on, run_id, now],
        ).rowcount
        if seen:
            db.execute(
                "UPDATE reported_reactions SET sightings = coalesce(sightings, 0) + 1, "
                "reported_on = CASE WHEN reported_on IS NULL OR ? < reported_on THEN coalesce(?, reported_on) "
                "ELSE reported_on END WHERE id = ?",
                [reported_on, reported_on, reaction_id],
            )
            classify_reported(db, [reaction_id])
    return added


def classify_reported(db: Database, reaction_ids: Iterable[int] | None = None, election_id: str | None = None,
                      only_missing: bool = False) -> int:
    """Classify reported reactions from every sentence that reports them."""
    sql = "SELECT rr.id, rr.election_id, rr.leader_id FROM reported_reactions rr"
    clauses, params = [], []
    if reaction_ids is not None:
        ids = list(reaction_ids)
        clauses.append(f"rr.id IN ({', '.join('?' for _ in ids)})")
        params.extend(ids)
    if election_id is not None:
        clauses.append("rr.election_id = ?")
        params.append(election_id)
    if only_missing:
        clauses.append("NOT EXISTS (SELECT 1 FROM reported_reaction_classes c WHERE c.reported_reaction_id = rr.id)")
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    classifiers: dict[str, ElectionClassifier] = {}
    now = utc_now()
    done = 0
    for reaction_id, election, leader_id in db.execute(sql, params).fetchall():
        if election not in classifiers:
            classifiers[election] = election_classifier(db, election)
        classifier, candidates = classifiers[election].classifier, classifiers[election].candidates
        sentences = [row[0] for row in db.execute(
            "SELECT evidence FROM reported_reaction_sightings WHERE reported_reaction_id = ? ORDER BY id", [reaction_id]
        )] or [db.execute("SELECT evidence FROM reported_reactions WHERE id = ?", [reaction_id]).fetchone()[0]]
        text = "\n".join(dict.fromkeys(sentences))
        result = classifier.classify(text)
        db.execute(
            "INSERT OR REPLACE INTO reported_reaction_classes (reported_reaction_id, election_id, leader_id, "
            "reaction_type, confidence, evidence, addressed_candidates, classifier, classified_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [reaction_id, election, leader_id, result.reaction_type, result.confidence,
             json.dumps(list(result.evidence), ensure_ascii=False),
             json.dumps(addressed_candidates(text, [], candidates)), classifier.version, now],
        )
        done += 1
    return done


# --- labels --------------------------------------------------------------------------


@dataclass
class Label:
    election_id: str
    reaction_type: str
    post_id: str | None = None
    reported_reaction_id: int | None = None
    note: str | None = None
    labelled_by: str | None = None


REPORTED_PREFIX = "reported:"
LABEL_COLUMNS = ("election", "target", "reaction_type", "note", "labelled_by")


def parse_target(target: str) -> tuple[str | None, int | None]:
    """A post id, or ``reported:ID`` for a reported reaction."""
    target = (target or "").strip()
    if target.startswith(REPORTED_PREFIX):
        number = target[len(REPORTED_PREFIX):]
        if not number.isdigit():
            raise ValueError(f"'{target}' is not reported:<number>")
        return None, int(number)
    if not target:
        raise ValueError("a post id or reported:<id> is required")
    return target, None


class LabelProblem(ValueError):
    """Why a label cannot be stored, and which of its fields is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def check_label(db: Database, label: Label) -> None:
    """Raise :class:`LabelProblem` for a label that cannot be stored."""
    if label.reaction_type not in TYPES:
        raise LabelProblem(
            "reaction_type", f"'{label.reaction_type}' is not a reaction type (expected one of: {', '.join(TYPES)})"
        )
    if not db.execute("SELECT 1 FROM elections WHERE id = ?", [label.election_id]).fetchone():
        known = ", ".join(_election_ids(db)) or "none"
        raise LabelProblem("election", f"no election '{label.election_id}' in the archive (known: {known})")
    if label.post_id is not None:
        if not db.execute("SELECT 1 FROM posts WHERE id = ?", [label.post_id]).fetchone():
            raise LabelProblem("target", f"no post '{label.post_id}' in the archive")
        if not db.execute(
            "SELECT 1 FROM election_posts WHERE election_id = ? AND post_id = ?", [label.election_id, label.post_id]
        ).fetchone():
            raise LabelProblem("target", f"post '{label.post_id}' is not a reaction to election '{label.election_id}'")
    else:
        row = db.execute("SELECT election_id FROM reported_reactions WHERE id = ?", [label.reported_reaction_id]).fetchone()
        if row is None:
            raise LabelProblem("target", f"no reported reaction {label.reported_reaction_id} in the archive")
        if row[0] != label.election_id:
            raise LabelProblem("target", f"reported reaction {label.reported_reaction_id} is about election '{row[0]}'")


def set_label(db: Database, label: Label) -> None:
    """Store a person's type for a reaction (replacing an earlier label)."""
    check_label(db, label)
    if label.post_id is not None:
        db.execute("DELETE FROM reaction_labels WHERE election_id = ? AND post_id = ?", [label.election_id, label.post_id])
    else:
        db.execute("DELETE FROM reaction_labels WHERE reported_reaction_id = ?", [label.reported_reaction_id])
    db.execute(
        "INSERT INTO reaction_labels (election_id, post_id, reported_reaction_id, reaction_type, note, labelled_by, "
        "labelled_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [label.election_id, label.post_id, label.reported_reaction_id, label.reaction_type, label.note,
         label.labelled_by, utc_now()],
    )
    if label.post_id is not None:
        refresh_reaction_rows(db, post_ids=[label.post_id])


def remove_label(db: Database, election_id: str, post_id: str | None, reported_reaction_id: int | None) -> int:
    """Remove a person's type (the classifier's shows again); return how many labels went."""
    if post_id is not None:
        removed = db.execute(
            "DELETE FROM reaction_labels WHERE election_id = ? AND post_id = ?", [election_id, post_id]
        ).rowcount
        refresh_reaction_rows(db, post_ids=[post_id])
        return removed
    return db.execute(
        "DELETE FROM reaction_labels WHERE election_id = ? AND reported_reaction_id = ?", [election_id, reported_reaction_id]
    ).rowcount


def read_label_file(db: Database, path: str | Path, default_by: str | None = None) -> list[Label]:
    """Labels from a CSV file with a header: election, target (a post id or
    reported:ID), reaction_type, and optionally note and labelled_by. Every
    row is checked before any is stored; the first bad one is an error
    naming the file, line and column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: label file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read label file ({exc})") from None
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in ("election", "target", "reaction_type") if name not in header]
    if missing:
        raise InputError(f"{path}:1: the header lacks column(s) {', '.join(missing)} "
                         f"(expected: {', '.join(LABEL_COLUMNS)})")
    unknown = [name for name in header if name not in LABEL_COLUMNS]
    if unknown:
        raise InputError(f"{path}:1: unknown column(s) {', '.join(unknown)} (expected: {', '.join(LABEL_COLUMNS)})")
    labels = []
    for row in reader:
        line = reader.line_num
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        try:
            post_id, reported_id = parse_target(row["target"])
        except ValueError as exc:
            raise InputError(f"{path}:{line}, column 'target': {exc}") from None
        label = Label(row["election"], row["reaction_type"], post_id, reported_id, row.get("note") or None,
                      row.get("labelled_by") or default_by)
        try:
            check_label(db, label)
        except LabelProblem as exc:
            raise InputError(f"{path}:{line}, column '{exc.field}': {exc}") from None
        labels.append(label)
    return labels


# --- who has not reacted -------------------------------------------------------------

def reference_day(db: Database, election_id: str) -> str | None:
    """The day roles are read on: the election's last polling date."""
    row = db.execute("SELECT json_extract(polling_dates, '$[#-1]') FROM elections WHERE id = ?", [election_id]).fetchone()
    return row[0] if row else None


def not_reacted(db: Database, election_id: str, on: str | None = None) -> list[dict]:
    """Leaders of the roster in government on ``on`` (default: the last
    polling date), other than the candidates, with no relevant post and no
    reported reaction for the election."""
    on = on or reference_day(db, election_id)
    cursor = db.execute(not_reacted_sql(), {"election": election_id, "on": on})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def election_summary(db: Database, election_id: str, on: str | None = None) -> dict:
    """What `reactions status --election ID` shows about one election."""
    if not db.execute("SELECT 1 FROM elections WHERE id = ?", [election_id]).fetchone():
        known = ", ".join(_election_ids(db)) or "none"
        raise InputError(f"--election {election_id}: not in this archive (known: {known})")
    types = {kind: {"posts": 0, "reported": 0} for kind in TYPES}
    for kind, count in db.execute(
        "SELECT reaction_type, count(*) FROM reactions WHERE election = ? GROUP BY reaction_type", [election_id]
    ):
        types.setdefault(kind or "unclassified", {"posts": 0, "reported": 0})["posts"] = count
    for kind, count in db.execute(
        "SELECT coalesce(lb.reaction_type, c.reaction_type), count(*) FROM reported_reactions rr "
        "LEFT JOIN reported_reaction_classes c ON c.reported_reaction_id = rr.id "
        "LEFT JOIN reaction_labels lb ON lb.reported_reaction_id = rr.id "
        "WHERE rr.election_id = ? GROUP BY 1",
        [election_id],
    ):
        types.setdefault(kind or "unclassified", {"posts": 0, "reported": 0})["reported"] = count
    milestones = [dict(zip(("kind", "label", "at", "precision", "source"), row)) for row in db.execute(
        "SELECT kind, label, at, precision, source FROM election_milestones WHERE election_id = ? ORDER BY at, position",
        [election_id],
    )]
    labels = db.execute("SELECT count(*) FROM reaction_labels WHERE election_id = ?", [election_id]).fetchone()[0]
    orphans = db.execute(
        "SELECT count(*) FROM reaction_labels lb WHERE lb.election_id = ? AND lb.post_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM election_posts ep WHERE ep.election_id = lb.election_id AND ep.post_id = lb.post_id)",
        [election_id],
    ).fetchone()[0]
    day = on or reference_day(db, election_id)
    return {
        "election": election_id,
        "types": types,
        "milestones": milestones,
        "labels": labels,
        "labels_without_post": orphans,
        "not_reacted_on": day,
        "not_reacted": not_reacted(db, election_id, day),
    }
