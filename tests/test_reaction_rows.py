"""The reactions table, kept current at write time: the same rows the former
view computed, after every batch, roster change, merge and reprocess; and,
since migration m009, the same type and timing columns as the view that
issue 13 wrote (TYPED_VIEW below), after classification, labels and
milestone changes too."""

import dataclasses
import sqlite3

import pytest

from scraper.archive import Archive
from scraper.model import RawItem
from scraper.reaction_rows import FACETS, M008_COLUMNS, refresh_reaction_rows
from scraper.schema import REACTIONS_VIEW, migrations

LUCIA = "— Lucía Inventada (@lucia_inventada) June 9, 2021"
EMBED = (
    '<blockquote class="twitter-tweet"><p lang="es" dir="ltr">{text}</p>&mdash; Tomás Imaginario '
    '(@tomasimaginario) <a href="https://twitter.com/tomasimaginario/status/1402279246033858617">June 8, 2021</a></blockquote>'
)


def quote(text, who=LUCIA, location="t#1"):
    return RawItem(format="article-text-embed", payload=f"{text} {who}", source_id="test", location=location)


def embed(text, location="page.html#1"):
    return RawItem(format="article-x-embed", payload=EMBED.format(text=text), source_id="test", location=location)


@pytest.fixture
def run(valdoria_archive):
    valdoria_archive.register_source("test", "article", "test")
    return valdoria_archive.start_run("test")


# The reactions view as issue 13 wrote it (before reactions became a table):
# the reference for the type and timing columns of the table.
TYPED_VIEW = """
CREATE TEMP VIEW typed_reactions AS
SELECT
  p.created_at, p.author_name AS author, c.name AS country, r.title AS role, p.platform, p.handle, p.text,
  coalesce(lb.reaction_type, rc.reaction_type) AS reaction_type,
  nullif(
    CASE
      WHEN pc.at IS NULL THEN ''
      WHEN abs(julianday(p.created_at) - julianday(pc.at)) < 2
        THEN printf('%.1f hours', abs(julianday(p.created_at) - julianday(pc.at)) * 24)
      ELSE printf('%.1f days', abs(julianday(p.created_at) - julianday(pc.at)))
    END
    || CASE WHEN pc.at IS NULL THEN '' WHEN p.created_at >= pc.at THEN ' after polls closed' ELSE ' before polls closed' END
    || CASE WHEN pc.at IS NOT NULL AND coalesce(m.kind, 'polls_closed') || coalesce(nm.kind, 'polls_closed')
                                       != 'polls_closedpolls_closed' THEN '; ' ELSE '' END
    || coalesce(CASE WHEN m.kind != 'polls_closed' THEN 'after the ' || m.name END, '')
    || CASE WHEN m.kind != 'polls_closed' AND nm.kind != 'polls_closed' THEN ', ' ELSE '' END
    || coalesce(CASE WHEN nm.kind != 'polls_closed' THEN 'before the ' || nm.name END, ''),
    ''
  ) AS timing,
  m.kind AS milestone,
  round((julianday(p.created_at) - julianday(pc.at)) * 24, 1) AS hours_after_polls_closed,
  round((julianday(p.created_at) - julianday(m.at)) * 24, 1) AS hours_after_milestone,
  nm.kind AS next_milestone,
  round((julianday(p.created_at) - julianday(e.result_announced_at)) * 24, 1) AS hours_after_result,
  p.language, p.url, ep.election_id AS election, r.kind AS role_kind, l.country AS country_code, l.id AS leader_id,
  CASE WHEN lb.reaction_type IS NOT NULL THEN 'label' WHEN rc.reaction_type IS NOT NULL THEN 'classifier' END AS type_source,
  rc.reaction_type AS classified_type, rc.confidence AS type_confidence, rc.evidence AS type_evidence,
  rc.addressed_candidates, p.display_name, ep.matched_terms, ep.score, p.hashtags, p.mentions, p.links,
  p.reply_count, p.repost_count, p.like_count, p.is_edited, p.deleted_at, p.created_at_precision,
  p.first_captured_at, c.latitude, c.longitude, p.id AS post_id, p.rowid AS post_rowid
FROM election_posts ep
JOIN elections e ON e.id = ep.election_id
JOIN posts p ON p.id = ep.post_id
LEFT JOIN accounts a ON a.id = p.account_id
LEFT JOIN leaders l ON l.id = a.leader_id
LEFT JOIN countries c ON c.code = l.country
LEFT JOIN roles r ON r.id = (
  SELECT r2.id FROM roles r2
  WHERE r2.leader_id = l.id
    AND r2.start_date <= substr(p.created_at, 1, 10)
    AND (r2.end_date IS NULL OR r2.end_date >= substr(p.created_at, 1, 10))
  ORDER BY r2.precedence, r2.start_date DESC
  LIMIT 1
)
LEFT JOIN reaction_classes rc ON rc.election_id = ep.election_id AND rc.post_id = ep.post_id
LEFT JOIN reaction_labels lb ON lb.election_id = ep.election_id AND lb.post_id = ep.post_id
LEFT JOIN election_milestones pc ON pc.election_id = ep.election_id AND pc.kind = 'polls_closed'
LEFT JOIN election_milestones m ON m.rowid = (
  SELECT m2.rowid FROM election_milestones m2
  WHERE m2.election_id = ep.election_id AND m2.at <= p.created_at
  ORDER BY m2.at DESC, m2.position DESC
  LIMIT 1
)
LEFT JOIN election_milestones nm ON nm.rowid = (
  SELECT m3.rowid FROM election_milestones m3
  WHERE m3.election_id = ep.election_id AND m3.at > p.created_at
  ORDER BY m3.at, m3.position
  LIMIT 1
)
"""


def as_the_view_computes(db) -> list[tuple]:
    """The rows of the views the table replaces, in the table's order: the
    former reactions view (schema.REACTIONS_VIEW) for its columns, issue
    13's for every column; both must agree with each other."""
    db.execute("DROP VIEW IF EXISTS temp.former_reactions")
    db.execute(REACTIONS_VIEW.replace("CREATE VIEW reactions", "CREATE TEMP VIEW former_reactions"))
    db.execute("DROP VIEW IF EXISTS temp.typed_reactions")
    db.execute(TYPED_VIEW)
    former = db.execute("SELECT * FROM former_reactions ORDER BY election, post_id").fetchall()
    typed = db.execute("SELECT * FROM typed_reactions ORDER BY election, post_id").fetchall()
    columns = [d[0] for d in db.execute("SELECT * FROM typed_reactions LIMIT 0").description]
    assert [tuple(row[columns.index(c)] for c in M008_COLUMNS) for row in typed] == former
    return typed


def table_rows(db) -> list[tuple]:
    return db.execute("SELECT * FROM reactions ORDER BY election, post_id").fetchall()


def test_rows_are_those_the_view_computed(valdoria_archive, run):
    valdoria_archive.store([
        quote("Parabéns, presidenta eleita Rosa Ficticia! #EleicoesFicticias"),
        quote("Felicito a la presidenta electa", "— Tomás Imaginario (@tomasimaginario) June 8, 2021", "t#2"),
        quote("Saludo las elecciones", "— Alguien Sinrol (@sin_rol) June 10, 2021", "t#3"),
    ], run)
    rows = table_rows(valdoria_archive.db)
    assert len(rows) == 3
    assert rows == as_the_view_computes(valdoria_archive.db)


def test_a_roster_change_reaches_the_rows_and_an_unchanged_config_writes_nothing(valdoria_archive, valdoria_config, run):
    valdoria_archive.store([quote("Parabéns, presidenta eleita Rosa Ficticia! #EleicoesFicticias")], run)
    db = valdoria_archive.db
    assert db.execute("SELECT role_kind FROM reactions").fetchone()[0] == "former_head_of_state"
    changes = db.conn.total_changes
    valdoria_archive.load_config(valdoria_config)  # the same config again (a nightly run)
    assert db.execute("SELECT count(*) FROM reactions WHERE role_kind = 'former_head_of_state'").fetchone()[0] == 1
    unchanged_config_writes = db.conn.total_changes - changes
    lucia = next(leader for leader in valdoria_config.leaders if leader.id == "lucia-inventada")
    role = dataclasses.replace(lucia.roles[0], title="Senator of Brazil (fictional)", kind="legislator")
    lucia.roles[0] = role
    valdoria_archive.load_config(valdoria_config)
    assert db.execute("SELECT role, role_kind FROM reactions").fetchone() == ("Senator of Brazil (fictional)", "legislator")
    assert table_rows(db) == as_the_view_computes(db)
    # The second load rewrote the roster tables as always, but not one reactions row.
    assert db.execute("SELECT count(*) FROM reactions_sources").fetchone()[0] >= 2
    assert unchanged_config_writes < 50


def test_a_new_result_time_moves_the_hours(valdoria_archive, valdoria_config, run):
    valdoria_archive.store([quote("Parabéns, presidenta eleita Rosa Ficticia! #EleicoesFicticias")], run)
    before = valdoria_archive.db.execute("SELECT hours_after_result FROM reactions").fetchone()[0]
    election = dataclasses.replace(valdoria_config.election, result_announced_at="2021-06-08T03:00:00Z")
    valdoria_archive.load_config(dataclasses.replace(valdoria_config, election=election))
    after = valdoria_archive.db.execute("SELECT hours_after_result FROM reactions").fetchone()[0]
    assert after == pytest.approx(before - 3.0)


def test_an_edit_and_a_merge_follow_the_post(valdoria_archive, run):
    db = valdoria_archive.db
    valdoria_archive.store([quote("Felicito a la presidenta electa", "— Tomás Imaginario (@tomasimaginario) June 8, 2021")], run)
    assert db.execute("SELECT post_id FROM reactions").fetchone()[0].startswith("x:derived:")
    valdoria_archive.store([embed("Felicito a la presidenta electa")], run)  # the quote was this post
    assert db.execute("SELECT post_id, created_at FROM reactions").fetchall() == [
        ("x:1402279246033858617", "2021-06-08T15:00:00.000Z")
    ]
    valdoria_archive.store([embed("Felicito a la presidenta electa Rosa Ficticia", "page.html#2")], run)
    assert db.execute("SELECT text, is_edited FROM reactions").fetchall() == [
        ("Felicito a la presidenta electa Rosa Ficticia", 1)
    ]
    assert table_rows(db) == as_the_view_computes(db)


def test_reprocess_rebuilds_the_rows(valdoria_archive, run):
    valdoria_archive.store([quote("Parabéns, presidenta eleita Rosa Ficticia! #EleicoesFicticias"), embed("Hola elecciones")], run)
    before = table_rows(valdoria_archive.db)
    valdoria_archive.reprocess()
    after = table_rows(valdoria_archive.db)
    assert [row[:-1] for row in after] == [row[:-1] for row in before]  # post_rowid is renumbered
    assert after == as_the_view_computes(valdoria_archive.db)


def test_refresh_writes_only_what_changed(valdoria_archive, run):
    valdoria_archive.store([quote("Parabéns, presidenta eleita Rosa Ficticia! #EleicoesFicticias")], run)
    assert refresh_reaction_rows(valdoria_archive.db) == 0
    valdoria_archive.db.execute("UPDATE reactions SET country = 'nowhere'")
    assert refresh_reaction_rows(valdoria_archive.db) == 1
    assert valdoria_archive.db.execute("SELECT country FROM reactions").fetchone()[0] == "Brazil"


def test_an_archive_with_the_former_view_is_migrated_with_its_rows(tmp_path, valdoria_config):
    path = tmp_path / "old.db"
    archive = Archive(path)
    migrations.apply(archive.db, stop_before="m008_reactions_table")
    assert "reactions" in archive.db.view_names()
    archive.load_config(valdoria_config)  # (the hooks leave a view alone: no table yet)
    archive.register_source("test", "article", "test")
    archive.store([quote("Parabéns, presidenta eleita Rosa Ficticia! #EleicoesFicticias")], archive.start_run("test"))
    as_view = archive.db.execute("SELECT * FROM reactions").fetchall()
    assert archive.migrate() == ["m008_reactions_table", "m009_reaction_types_and_milestones", "m010_shards_and_merges",
                                 "m011_search_facets_index", "m012_reported_reaction_types"]
    assert "reactions" in archive.db.table_names()
    columns = ", ".join(f"[{c}]" for c in M008_COLUMNS)
    assert archive.db.execute(f"SELECT {columns} FROM reactions").fetchall() == as_view
    # The posts archived before reaction types get theirs at the next config load.
    assert archive.db.execute("SELECT reaction_type, timing FROM reactions").fetchall() == [(None, None)]
    archive.load_config(valdoria_config)
    assert archive.db.execute("SELECT reaction_type, milestone FROM reactions").fetchall() == [
        ("congratulation", "official_result")
    ]
    assert table_rows(archive.db) == as_the_view_computes(archive.db)


def test_an_archive_with_the_table_of_m008_is_rebuilt_with_types_in_reading_order(tmp_path, valdoria_config):
    archive = Archive(tmp_path / "m008.db")
    migrations.apply(archive.db, stop_before="m009_reaction_types_and_milestones")
    assert [row[1] for row in archive.db.execute("PRAGMA table_info(reactions)")] == list(M008_COLUMNS)
    archive.load_config(valdoria_config)
    archive.register_source("test", "article", "test")
    archive.store([quote("Parabéns, presidenta eleita Rosa Ficticia! #EleicoesFicticias")], archive.start_run("test"))
    before = archive.db.execute("SELECT * FROM reactions").fetchall()
    assert archive.migrate() == ["m009_reaction_types_and_milestones", "m010_shards_and_merges",
                                 "m011_search_facets_index", "m012_reported_reaction_types"]
    columns = [row[1] for row in archive.db.execute("PRAGMA table_info(reactions)")]
    assert columns[7:10] == ["reaction_type", "timing", "milestone"]
    listed = ", ".join(f"[{c}]" for c in M008_COLUMNS)
    assert archive.db.execute(f"SELECT {listed} FROM reactions").fetchall() == before
    archive.load_config(valdoria_config)
    assert table_rows(archive.db) == as_the_view_computes(archive.db)
    assert counted(archive.db) == grouped(archive.db)


def test_the_pages_queries_use_indexes(valdoria_archive):
    db = valdoria_archive.db

    def plan(sql):
        return " ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql))

    assert "USING INDEX idx_reactions_created_at" in plan("SELECT * FROM reactions ORDER BY created_at DESC LIMIT 51")
    assert "idx_reactions_country_facet" in plan(
        "SELECT * FROM reactions WHERE country = 'Peru' ORDER BY created_at DESC LIMIT 51")
    assert "COVERING INDEX idx_reactions_country_facet" in plan(
        "SELECT role_kind, count(*) FROM reactions WHERE country = 'Peru' AND role_kind IS NOT NULL GROUP BY role_kind")
    assert "idx_reactions_post_rowid" in plan(
        "SELECT count(*) FROM reactions WHERE post_rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH 'x')")
    with pytest.raises(sqlite3.IntegrityError):  # every row belongs to a relevance row
        db.execute("INSERT INTO reactions (election, post_id) VALUES ('valdoria-2021', 'x:none')")


def counted(db) -> set[tuple]:
    return set(db.execute("SELECT election, facet, value, n FROM reactions_facet_counts WHERE n > 0").fetchall())


def grouped(db) -> set[tuple]:
    found = set()
    for facet in FACETS:
        found |= set(db.execute(f"SELECT election, '{facet}', [{facet}], count(*) FROM reactions "
                                f"WHERE [{facet}] IS NOT NULL GROUP BY election, [{facet}]").fetchall())
    return found


def test_facet_counts_stay_exact_through_changes(valdoria_archive, valdoria_config, run):
    db = valdoria_archive.db
    valdoria_archive.store([
        quote("Parabéns, presidenta eleita Rosa Ficticia! #EleicoesFicticias"),
        quote("Felicito a la presidenta electa", "— Tomás Imaginario (@tomasimaginario) June 8, 2021", "t#2"),
    ], run)
    assert counted(db) == grouped(db) and ("valdoria-2021", "country", "Brazil", 1) in counted(db)
    valdoria_archive.store([embed("Felicito a la presidenta electa")], run)  # a merge: a row moves
    lucia = next(leader for leader in valdoria_config.leaders if leader.id == "lucia-inventada")
    lucia.roles[0] = dataclasses.replace(lucia.roles[0], kind="legislator")
    valdoria_archive.load_config(valdoria_config)  # an update of role_kind
    assert counted(db) == grouped(db)
    valdoria_archive.reprocess()  # every row deleted (cascade) and written again
    assert counted(db) == grouped(db)
    db.execute("DELETE FROM reactions")
    assert counted(db) == set()
