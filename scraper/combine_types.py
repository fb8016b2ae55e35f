"""Merging what each reaction says and when (issue 13's tables), for
``reactions merge`` (:mod:`scraper.combine`).

- **milestones** (``election_milestones``) are configuration, like the
  roster: an election's milestones are added when the output has none for
  it; any other difference is kept as the output has it and recorded in
  ``merge_conflicts`` (the input's reactions rows, computed with other
  milestones, are then refreshed rather than copied).
- **classes** (``reaction_classes``) are derived from a post and its
  election's classifier (the lexicon and the candidates' names): an input's
  class of a post it adds is copied when it was made by the classifier the
  output has for that election; every other relevant post whose class is
  missing, made by another classifier or from another state of the post
  (and every post whose row the merge changed) is classified again after
  the last input (:func:`classify_after_merge`), in chunks.
  ``classifier_state`` then names the classifier of every election.
  A post is never classified twice: one class per (election, post).
- **reported reactions** are one row per report, found as the write path
  finds them (:func:`scraper.classify_store.add_reported`): the same
  election and leader, and the same evidence sentence (folded) or a sighting
  through the same source. A report both archives hold keeps one row with
  the sightings of both; its source and evidence are those of the earliest
  recorded (then the smaller source id and evidence), its date the earliest.
  Sightings are added by (reported reaction, source, evidence); the classes
  of the reported reactions the merge added or gave a sighting are
  computed again from all their sentences.
- **labels** (``reaction_labels``, a person's type) are never lost: a label
  the output lacks is added; two different labels of one reaction: the one
  labelled later wins (then the type, note and labeller, so that the order
  of the inputs does not matter), and the other is recorded, whole, in
  ``merge_conflicts`` (table ``reaction_labels``, column ``label``). A label
  of a quote without an id moves with it to the post it quotes.

Each function takes the merge in progress (``scraper.combine._Merger``: its
``db`` with the inputs attached, and its conflict log) as ``merger``; this
module does not import it, so that the two never import each other.
"""

from __future__ import annotations

import json

from . import classify_store
from .schema import evidence_key

CHUNK = 2000  # posts classified per statement batch after a merge
LABEL_FIELDS = ("reaction_type", "note", "labelled_by", "labelled_at")
MILESTONE_FIELDS = ("position", "at", "precision", "name", "label", "source")
TEMP_TABLES = (
    "CREATE TEMP TABLE IF NOT EXISTS merge_reported (src_id INTEGER PRIMARY KEY, out_id INTEGER)",
    "CREATE TEMP TABLE IF NOT EXISTS merge_reported_touched (id INTEGER PRIMARY KEY)",
    "CREATE TEMP TABLE IF NOT EXISTS merge_reclassify (id TEXT PRIMARY KEY)",
    "CREATE TEMP TABLE IF NOT EXISTS merge_stale (id TEXT PRIMARY KEY)",
)
TEMP_NAMES = ("merge_reported", "merge_reported_touched", "merge_reclassify", "merge_stale")


# --- milestones ----------------------------------------------------------------------


def merge_milestones(merger, src: str) -> None:
    """An election's milestones added where the output has none; other
    differences recorded as conflicts."""
    db = merger.db
    listed = ", ".join(MILESTONE_FIELDS)
    shared = [row[0] for row in db.execute(
        f"SELECT id FROM {src}.elections WHERE id IN (SELECT id FROM main.elections) ORDER BY id")]
    for election_id in shared:
        theirs = {row[0]: row[1:] for row in db.execute(
            f"SELECT kind, {listed} FROM {src}.election_milestones WHERE election_id = ? ORDER BY kind", [election_id])}
        mine = {row[0]: row[1:] for row in db.execute(
            f"SELECT kind, {listed} FROM main.election_milestones WHERE election_id = ? ORDER BY kind", [election_id])}
        if mine == theirs:
            continue
        if not mine:
            db.execute(f"INSERT INTO main.election_milestones (election_id, kind, {listed}) SELECT election_id, kind, "
                       f"{listed} FROM {src}.election_milestones WHERE election_id = ? ORDER BY kind", [election_id])
            merger.roster_changed = True
            continue
        if not theirs:
            merger._conflict("election_milestones", election_id, "milestones", ", ".join(sorted(mine)), None)
            continue
        for kind in sorted(set(mine) | set(theirs)):
            kept, other = mine.get(kind), theirs.get(kind)
            if kept is None or other is None:
                merger._conflict("election_milestones", f"{election_id} {kind}", "milestone",
                                 None if kept is None else json.dumps(dict(zip(MILESTONE_FIELDS, kept))),
                                 None if other is None else json.dumps(dict(zip(MILESTONE_FIELDS, other))))
                continue
            for column, a, b in zip(MILESTONE_FIELDS, kept, other):
                if a != b:
                    merger._conflict("election_milestones", f"{election_id} {kind}", column, a, b)


# --- classes of posts ------------------------------------------------------------------


def copy_classes(merger, src: str) -> int:
    """The input's classes of the posts it added, where the output's
    classifier for the election is the one that made them."""
    db = merger.db
    copied = 0
    columns = ", ".join(row[1] for row in db.execute("PRAGMA main.table_info(reaction_classes)"))
    elections = [row[0] for row in db.execute(f"SELECT DISTINCT election_id FROM {src}.reaction_classes")]
    for election_id in sorted(elections):
        version = merger.classifier_version(election_id)
        copied += db.execute(
            f"INSERT OR IGNORE INTO main.reaction_classes ({columns}) SELECT {columns} FROM {src}.reaction_classes rc "
            "WHERE rc.election_id = ? AND rc.classifier = ? "
            "AND NOT EXISTS (SELECT 1 FROM temp.merge_existing e WHERE e.id = rc.post_id) "
            "AND EXISTS (SELECT 1 FROM main.posts p WHERE p.id = rc.post_id) ORDER BY rc.post_id",
            [election_id, version]).rowcount
    return copied


def classify_after_merge(merger) -> int:
    """Every relevant post of the output whose class is missing, made by
    another classifier or from another state, or whose row the merge
    changed, classified again, a chunk at a time; their reactions rows are
    marked for the refresh. ``classifier_state`` names each election's
    classifier. Returns how many posts were classified."""
    db = merger.db
    done = 0
    for (election_id,) in db.execute("SELECT id FROM main.elections ORDER BY id").fetchall():
        version = merger.classifier_version(election_id)
        db.execute("DELETE FROM temp.merge_stale")
        db.execute(
            "INSERT INTO temp.merge_stale (id) SELECT ep.post_id FROM main.election_posts ep "
            "JOIN main.posts p ON p.id = ep.post_id LEFT JOIN main.reaction_classes rc "
            "ON rc.election_id = ep.election_id AND rc.post_id = ep.post_id WHERE ep.election_id = ? "
            "AND (rc.post_id IS NULL OR rc.classifier IS NOT ? OR rc.post_version IS NOT p.version_count "
            "OR ep.post_id IN (SELECT id FROM temp.merge_reclassify))", [election_id, version])
        last = ""
        while True:
            ids = [row[0] for row in db.execute(
                "SELECT id FROM temp.merge_stale WHERE id > ? ORDER BY id LIMIT ?", [last, CHUNK])]
            if not ids:
                break
            last = ids[-1]
            done += len(classify_store.classify_posts(db, ids, election_id=election_id))
        merger.mark_for_refresh("SELECT id FROM temp.merge_stale")
        classify_store._set_state(db, f"classifier:{election_id}", version)
    return done


# --- reported reactions ------------------------------------------------------------------


def merge_reported(merger, src: str) -> int:
    """Each reported reaction of the input found in the output as the write
    path finds a report (or added); temp.merge_reported maps their ids.
    Returns how many were added."""
    db = merger.db
    db.execute("DELETE FROM temp.merge_reported")
    added, last = 0, 0
    while True:
        rows = db.execute(
            "SELECT id, election_id, leader_id, source_id, evidence, reported_on, run_id, recorded_at, evidence_key, "
            f"sightings FROM {src}.reported_reactions WHERE id > ? ORDER BY id LIMIT 500", [last]).fetchall()
        if not rows:
            break
        for src_id, election_id, leader_id, source_id, evidence, reported_on, run_id, recorded_at, key, seen in rows:
            last = src_id
            sightings = db.execute(f"SELECT source_id, evidence FROM {src}.reported_reaction_sightings "
                                   "WHERE reported_reaction_id = ?", [src_id]).fetchall()
            keys = sorted({key or evidence_key(evidence), *(evidence_key(text) for _, text in sightings)})
            sources = sorted({source_id, *(source for source, _ in sightings)} - {None})
            run = db.execute("SELECT out_id FROM temp.merge_runs WHERE src_id = ?", [run_id]).fetchone()
            run = run[0] if run else None
            found = db.execute(
                "SELECT rr.id, rr.recorded_at, rr.source_id, rr.evidence FROM main.reported_reactions rr "
                "WHERE rr.election_id = ? AND rr.leader_id = ? AND (rr.evidence_key IN (SELECT value FROM json_each(?)) "
                "OR EXISTS (SELECT 1 FROM main.reported_reaction_sightings s WHERE s.reported_reaction_id = rr.id "
                "AND s.source_id IN (SELECT value FROM json_each(?)))) ORDER BY rr.id LIMIT 1",
                [election_id, leader_id, json.dumps(keys), json.dumps(sources)]).fetchone()
            if found is None:
                out_id = db.execute(
                    "INSERT INTO main.reported_reactions (election_id, leader_id, source_id, evidence, reported_on, "
                    "run_id, recorded_at, evidence_key, sightings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [election_id, leader_id, source_id, evidence, reported_on, run, recorded_at,
                     key or evidence_key(evidence), seen]).lastrowid
                added += 1
                db.execute("INSERT OR IGNORE INTO temp.merge_reported_touched (id) VALUES (?)", [out_id])
            else:
                out_id, *kept = found
                if _rank(recorded_at, source_id, evidence) < _rank(*kept):  # (the earliest recorded represents it)
                    db.execute("UPDATE main.reported_reactions SET source_id = ?, evidence = ?, evidence_key = ?, "
                               "run_id = ?, recorded_at = ? WHERE id = ?",
                               [source_id, evidence, key or evidence_key(evidence), run, recorded_at, out_id])
                db.execute("UPDATE main.reported_reactions SET reported_on = ? WHERE id = ? "
                           "AND ? IS NOT NULL AND (reported_on IS NULL OR reported_on > ?)",
                           [reported_on, out_id, reported_on, reported_on])
            db.execute("INSERT INTO temp.merge_reported (src_id, out_id) VALUES (?, ?)", [src_id, out_id])
    return added


def _rank(recorded_at, source_id, evidence) -> tuple:
    return (recorded_at or "", source_id or "", evidence or "")


def count_sightings(merger) -> None:
    """After the input's sightings are added: each reported reaction whose
    count of sightings changed is counted again and will be classified
    again."""
    db = merger.db
    db.execute(
        "INSERT OR IGNORE INTO temp.merge_reported_touched (id) SELECT rr.id FROM main.reported_reactions rr "
        "WHERE rr.id IN (SELECT out_id FROM temp.merge_reported) AND rr.sightings IS NOT "
        "(SELECT count(*) FROM main.reported_reaction_sightings s WHERE s.reported_reaction_id = rr.id)")
    db.execute(
        "UPDATE main.reported_reactions SET sightings = (SELECT count(*) FROM main.reported_reaction_sightings s "
        "WHERE s.reported_reaction_id = reported_reactions.id) WHERE id IN (SELECT id FROM temp.merge_reported_touched)")


def classify_reported_after_merge(merger) -> int:
    """The reported reactions the merge added or gave a sighting, classified
    from all their sentences."""
    ids = [row[0] for row in merger.db.execute("SELECT id FROM temp.merge_reported_touched ORDER BY id")]
    done = 0
    for start in range(0, len(ids), 500):
        done += classify_store.classify_reported(merger.db, ids[start:start + 500])
    return done


# --- labels ------------------------------------------------------------------------


def merge_labels(merger, src: str) -> int:
    """A person's labels: added, or, where the output has another label of
    the same reaction, the later labelled kept and the other recorded.
    Returns how many labels were added."""
    db = merger.db
    added, last = 0, 0
    listed = ", ".join(LABEL_FIELDS)
    while True:
        rows = db.execute(f"SELECT id, election_id, post_id, reported_reaction_id, {listed} FROM {src}.reaction_labels "
                          "WHERE id > ? ORDER BY id LIMIT 500", [last]).fetchall()
        if not rows:
            break
        for src_id, election_id, post_id, reported_id, *fields in rows:
            last = src_id
            if post_id is not None:
                target, where, params = f"{election_id} {post_id}", "election_id = ? AND post_id = ?", [election_id, post_id]
                reported = None
            else:
                mapped = db.execute("SELECT out_id FROM temp.merge_reported WHERE src_id = ?", [reported_id]).fetchone()
                if mapped is None:  # (an input whose label names a reported reaction it lacks: kept in the conflicts)
                    merger._conflict("reaction_labels", f"{election_id} reported:{reported_id}", "label", None,
                                     _label_json(fields))
                    continue
                reported = mapped[0]
                target, where, params = f"{election_id} reported:{reported}", "reported_reaction_id = ?", [reported]
            mine = db.execute(f"SELECT id, {listed} FROM main.reaction_labels WHERE {where}", params).fetchone()
            if mine is None:
                db.execute(f"INSERT INTO main.reaction_labels (election_id, post_id, reported_reaction_id, {listed}) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)", [election_id, post_id, reported, *fields])
                added += 1
            else:
                settle_labels(merger, target, mine[0], list(mine[1:]), fields)
            if post_id is not None:
                merger.mark_for_refresh("SELECT ?", [post_id])
    # Posts this input added whose label here is not the input's: its copied rows show another type.
    merger.mark_for_refresh(
        f"SELECT lb.post_id FROM main.reaction_labels lb WHERE lb.post_id IS NOT NULL "
        f"AND lb.post_id IN (SELECT id FROM {src}.posts) AND NOT EXISTS (SELECT 1 FROM {src}.reaction_labels s "
        "WHERE s.election_id = lb.election_id AND s.post_id = lb.post_id AND s.reaction_type IS lb.reaction_type)")
    return added


def settle_labels(merger, target: str, label_id: int, mine: list, theirs: list) -> None:
    """Two labels of one reaction: the later labelled (then the greater
    type, note, labeller) stays in the row; the other is recorded whole."""
    if list(mine) == list(theirs):
        return
    rank = lambda fields: tuple(fields[LABEL_FIELDS.index(name)] or "" for name in  # noqa: E731
                                ("labelled_at", "reaction_type", "note", "labelled_by"))
    kept, other = (theirs, mine) if rank(theirs) > rank(mine) else (mine, theirs)
    if kept is theirs:
        merger.db.execute(f"UPDATE main.reaction_labels SET {', '.join(f'{c} = ?' for c in LABEL_FIELDS)} WHERE id = ?",
                          [*theirs, label_id])
    recorded = merger.db.execute(  # (once, whichever archive brought the other label: a merge repeated adds none)
        "SELECT 1 FROM main.merge_conflicts WHERE table_name = 'reaction_labels' AND row_key = ? AND column_name = 'label' "
        "AND kept = ? AND other = ?", [target, _label_json(kept), _label_json(other)]).fetchone()
    if not recorded:
        merger._conflict("reaction_labels", target, "label", _label_json(kept), _label_json(other))


def _label_json(fields) -> str:
    return json.dumps(dict(zip(LABEL_FIELDS, fields)), ensure_ascii=False, sort_keys=True)


def move_labels(merger, quote_id: str, into_id: str) -> None:
    """A quote without an id joins the post it quotes: its labels go with it
    (two labels of one election settled as in :func:`settle_labels`)."""
    db = merger.db
    listed = ", ".join(LABEL_FIELDS)
    for label_id, election_id, *fields in db.execute(
        f"SELECT id, election_id, {listed} FROM main.reaction_labels WHERE post_id = ? ORDER BY id", [quote_id]
    ).fetchall():
        mine = db.execute(f"SELECT id, {listed} FROM main.reaction_labels WHERE election_id = ? AND post_id = ?",
                          [election_id, into_id]).fetchone()
        if mine is None:
            db.execute("UPDATE main.reaction_labels SET post_id = ? WHERE id = ?", [into_id, label_id])
            continue
        settle_labels(merger, f"{election_id} {into_id}", mine[0], list(mine[1:]), fields)
        db.execute("DELETE FROM main.reaction_labels WHERE id = ?", [label_id])
