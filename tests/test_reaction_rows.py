"""The reactions table, kept current at write time: the same rows the former
view computed, after every batch, roster change, merge and reprocess."""

import dataclasses
import sqlite3

import pytest

from scraper.archive import Archive
from scraper.model import RawItem
from scraper.reaction_rows import refresh_reaction_rows
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


def as_the_view_computes(db) -> list[tuple]:
    """The rows of the former reactions view (schema.REACTIONS_VIEW), in the table's order."""
    db.execute("DROP VIEW IF EXISTS temp.former_reactions")
    db.execute(REACTIONS_VIEW.replace("CREATE VIEW reactions", "CREATE TEMP VIEW former_reactions"))
    return db.execute("SELECT * FROM former_reactions ORDER BY election, post_id").fetchall()


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
    assert archive.migrate()[:1] == ["m008_reactions_table"]  # (and any later migration)
    assert "reactions" in archive.db.table_names()
    assert archive.db.execute("SELECT * FROM reactions").fetchall() == as_view


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
    for facet in ("country", "role_kind", "platform", "language", "election"):
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
