"""The archive layer: captures, versions, merges, raw payloads, errors."""

import json
import os
import sqlite3

import pytest
from click.testing import CliRunner

from scraper.archive import Archive
from scraper.cli import cli
from scraper.errors import ArchiveLockedError, ArchiveUnwritableError
from scraper.model import RawItem

EMBED = (
    '<blockquote class="twitter-tweet"><p lang="es" dir="ltr">{text}</p>&mdash; Tomás Imaginario '
    '(@tomasimaginario) <a href="https://twitter.com/tomasimaginario/status/1402279246033858617">June 8, 2021</a></blockquote>'
)


def embed_item(text, location="page.html#embed-1"):
    return RawItem(format="article-x-embed", payload=EMBED.format(text=text), source_id="test", location=location)


def text_item(text, location="page.txt#embed-1"):
    return RawItem(
        format="article-text-embed",
        payload=f"{text} — Tomás Imaginario (@tomasimaginario) June 8, 2021",
        source_id="test",
        location=location,
    )


@pytest.fixture
def run(valdoria_archive):
    valdoria_archive.register_source("test", "article", "test")
    return valdoria_archive.start_run("test")


def test_same_item_twice_adds_only_a_capture(valdoria_archive, run):
    first = valdoria_archive.store([embed_item("Felicito a la presidenta electa")], run)
    second = valdoria_archive.store([embed_item("Felicito a la presidenta electa")], run)
    assert (first.new_posts, second.unchanged) == (1, 1)
    counts = valdoria_archive.counts()
    assert (counts["posts"], counts["post_versions"], counts["captures"]) == (1, 1, 2)


def test_changed_text_becomes_a_version_and_marks_the_post_edited(valdoria_archive, run):
    valdoria_archive.store([embed_item("Felicito a la presidenta electa")], run)
    stats = valdoria_archive.store([embed_item("Felicito a la presidenta electa Rosa Ficticia")], run)
    assert stats.new_versions == 1
    post = valdoria_archive.db["posts"].get("x:1402279246033858617")
    assert post["is_edited"] == 1 and post["version_count"] == 2
    assert post["text"] == "Felicito a la presidenta electa Rosa Ficticia"
    versions = [r["text"] for r in valdoria_archive.db.query("select text from post_versions order by version")]
    assert versions == ["Felicito a la presidenta electa", "Felicito a la presidenta electa Rosa Ficticia"]


def test_post_without_id_merges_into_the_post_with_its_id(valdoria_archive, run):
    valdoria_archive.store([text_item("Felicito a la presidenta electa")], run)
    assert next(valdoria_archive.db["posts"].rows)["id_is_derived"] == 1
    valdoria_archive.store([embed_item("Felicito a la presidenta electa")], run)
    posts = list(valdoria_archive.db["posts"].rows)
    assert [p["id"] for p in posts] == ["x:1402279246033858617"]
    assert posts[0]["id_is_derived"] == 0
    assert posts[0]["created_at"] == "2021-06-08T15:00:00.000Z"  # the precise time fills the gap
    captures = list(valdoria_archive.db.query("select post_id, format from captures order by id"))
    assert captures == [
        {"post_id": "x:1402279246033858617", "format": "article-text-embed"},
        {"post_id": "x:1402279246033858617", "format": "article-x-embed"},
    ]
    # And a later plain-text sighting attaches to the same post.
    valdoria_archive.store([text_item("Felicito a la presidenta electa", "other.txt#1")], run)
    assert valdoria_archive.db["posts"].count == 1
    assert valdoria_archive.db["captures"].count == 3


def test_raw_payload_is_kept_and_provenance_recorded(valdoria_archive, run):
    valdoria_archive.store([embed_item("Hola elecciones")], run)
    capture = next(valdoria_archive.db["captures"].rows)
    assert capture["location"] == "page.html#embed-1"
    assert capture["tool_version"]
    stored = json.loads(valdoria_archive.raw_payload(capture["raw_sha256"]))
    assert stored["format"] == "article-x-embed"
    assert "Hola elecciones" in stored["payload"]


def test_reprocess_gives_an_identical_archive(valdoria_archive, run):
    valdoria_archive.store([text_item("Felicito a la presidenta electa")], run)
    valdoria_archive.store([embed_item("Felicito a la presidenta electa"), embed_item("Edited: presidenta electa")], run)

    def dump():
        return {
            table: list(valdoria_archive.db.query(f"select * from {table} order by 1, 2"))
            for table in ("posts", "post_versions", "election_posts", "captures")
        }

    before = dump()
    stats = valdoria_archive.reprocess()
    assert stats.items == 3
    assert dump() == before
    fts = valdoria_archive.db.execute("select count(*) from posts_fts where posts_fts match 'presidenta'").fetchone()[0]
    assert fts == 1


def test_fts_follows_edits(valdoria_archive, run):
    valdoria_archive.store([embed_item("primera versión")], run)
    valdoria_archive.store([embed_item("segunda versión")], run)
    search = "select count(*) from posts_fts where posts_fts match ?"
    assert valdoria_archive.db.execute(search, ["primera"]).fetchone()[0] == 0
    assert valdoria_archive.db.execute(search, ["segunda"]).fetchone()[0] == 1
    assert valdoria_archive.db.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_locked_archive_is_a_clear_error(tmp_path, valdoria_config):
    path = tmp_path / "locked.db"
    archive = Archive(path)
    archive.migrate()
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        other = Archive.__new__(Archive)
        other.path = path
        other.db = archive.db
        other.db.execute("PRAGMA busy_timeout = 100")
        other._matchers = None
        with pytest.raises(ArchiveLockedError, match="locked"):
            other.load_config(valdoria_config)
    finally:
        holder.rollback()
        holder.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_archive_is_a_clear_error(tmp_path):
    path = tmp_path / "ro.db"
    Archive(path).migrate()
    path.chmod(0o444)
    with pytest.raises(ArchiveUnwritableError):
        Archive(path).start_run("x")


def test_read_only_archive_via_cli(tmp_path, monkeypatch):
    # Root ignores permission bits, so open the file read-only as SQLite sees it.
    path = tmp_path / "ro.db"
    Archive(path).migrate()
    original = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda p, **kw: original(f"file:{p}?mode=ro", uri=True, **kw))
    result = CliRunner().invoke(cli, ["init", "--db", str(path), "--config", "tests/fixtures/config/valdoria.yml"])
    assert result.exit_code == 4
    assert "cannot be written" in result.output


def test_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are notes, not a database " * 20)
    result = CliRunner().invoke(cli, ["status", "--db", str(path)])
    assert result.exit_code == 4
    assert "not a SQLite archive" in result.output
