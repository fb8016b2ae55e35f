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


def test_same_item_twice_is_one_post_and_one_capture(valdoria_archive, run):
    first = valdoria_archive.store([embed_item("Felicito a la presidenta electa")], run)
    second = valdoria_archive.store([embed_item("Felicito a la presidenta electa")], run)
    assert (first.new_posts, second.unchanged) == (1, 1)
    counts = valdoria_archive.counts()
    # One state (kept in posts only) and one sighting: the same item of the same source is no news.
    assert (counts["posts"], counts["post_versions"], counts["captures"]) == (1, 0, 1)


def test_the_same_item_from_another_place_is_another_capture(valdoria_archive, run):
    valdoria_archive.store([embed_item("Felicito a la presidenta electa")], run)
    stats = valdoria_archive.store([embed_item("Felicito a la presidenta electa", "other.html#embed-4")], run)
    assert stats.unchanged == 1
    assert valdoria_archive.counts()["captures"] == 2


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
    capture = next(valdoria_archive.db["capture_details"].rows)
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
        other = Archive(path)
        other.db.execute("PRAGMA busy_timeout = 100")
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


# --- review findings: deletions, merges across days, placeholders, order ---

from scraper.model import FetchedPage  # noqa: E402
from scraper.normalise import tombstone_item  # noqa: E402


def live_page(url="https://api.example/x"):
    return FetchedPage(url=url, body="{}", status=200, retrieved_at="2026-11-27T00:00:00.000Z")


def test_a_deleted_post_stays_deleted_when_seen_in_a_file_or_list(valdoria_archive, run):
    valdoria_archive.store([embed_item("Felicito a la presidenta electa")], run)
    tomb = tombstone_item("x", "1402279246033858617", "deleted", source_id="test", location="recheck")
    tomb.retrieved_at = "2026-11-20T00:00:00.000Z"
    valdoria_archive.store([tomb], run)
    deleted_at = valdoria_archive.db["posts"].get("x:1402279246033858617")["deleted_at"]
    assert deleted_at == "2026-11-20T00:00:00.000Z"
    old_copy = embed_item("Felicito a la presidenta electa", "old-page.html#embed-1")
    old_copy.retrieved_at = "2026-11-25T00:00:00.000Z"
    valdoria_archive.store([old_copy], run)  # an article read later: no proof of anything
    assert valdoria_archive.db["posts"].get("x:1402279246033858617")["deleted_at"] == deleted_at


def test_a_platform_answer_after_the_deletion_brings_the_post_back(valdoria_archive, run):
    valdoria_archive.store([embed_item("Hola elecciones")], run)
    tomb = tombstone_item("x", "1402279246033858617", "suspended", source_id="test", location="recheck")
    tomb.retrieved_at = "2026-11-20T00:00:00.000Z"
    valdoria_archive.store([tomb], run)
    live = RawItem(
        format="x-oembed",
        payload=json.dumps({"html": EMBED.format(text="Hola elecciones").replace("<blockquote", '<blockquote class="twitter-tweet"', 0),
                            "url": "https://twitter.com/tomasimaginario/status/1402279246033858617",
                            "author_name": "Tomás Imaginario", "author_url": "https://twitter.com/tomasimaginario"}),
        source_id="test", location="oembed", page=live_page(), retrieved_at="2026-11-26T00:00:00.000Z",
        context={"tweet_id": "1402279246033858617", "http_status": 200},
    )
    valdoria_archive.store([live], run)
    post = valdoria_archive.db["posts"].get("x:1402279246033858617")
    assert post["unavailable_reason"] is None


def test_quote_dated_the_local_day_merges_with_a_post_after_midnight_utc(valdoria_archive, run):
    # 2021-06-09T01:30Z is still June 8 in the Americas, the date an embed shows.
    late_id = str(((int(__import__("datetime").datetime(2021, 6, 9, 1, 30, tzinfo=__import__("datetime").timezone.utc).timestamp() * 1000) - 1288834974657) << 22) + 7)
    valdoria_archive.store([text_item("Felicito a la presidenta electa")], run)  # "June 8, 2021"
    embed = EMBED.replace("1402279246033858617", late_id).format(text="Felicito a la presidenta electa")
    valdoria_archive.store([RawItem(format="article-x-embed", payload=embed, source_id="test", location="p#2")], run)
    assert [r["id"] for r in valdoria_archive.db.query("select id from posts")] == [f"x:{late_id}"]


def test_placeholder_then_full_then_quote_is_one_post(valdoria_archive, run):
    link_only = '<iframe data-tweet-id="1402279246033858617" src="https://platform.twitter.com/embed/Tweet.html?id=1402279246033858617"></iframe>'
    valdoria_archive.store([RawItem(format="article-x-id-embed", payload=link_only, source_id="test", location="a#1")], run)
    valdoria_archive.store([embed_item("Felicito a la presidenta electa")], run)
    valdoria_archive.store([text_item("Felicito a la presidenta electa")], run)
    assert valdoria_archive.db["posts"].count == 1
    assert valdoria_archive.db["captures"].count == 3


def test_quote_then_placeholder_then_full_is_one_post(valdoria_archive, run):
    valdoria_archive.store([text_item("Felicito a la presidenta electa")], run)
    link_only = '<iframe data-tweet-id="1402279246033858617"></iframe>'
    valdoria_archive.store([RawItem(format="article-x-id-embed", payload=link_only, source_id="test", location="a#1")], run)
    valdoria_archive.store([embed_item("Felicito a la presidenta electa")], run)
    posts = list(valdoria_archive.db.query("select id, text, version_count, is_edited from posts"))
    assert posts == [{"id": "x:1402279246033858617", "text": "Felicito a la presidenta electa", "version_count": 1, "is_edited": 0}]
    assert valdoria_archive.db["captures"].count == 3


def test_an_older_copy_imported_later_does_not_turn_the_text_back(valdoria_archive, run):
    newer = embed_item("Texto corregido sobre las elecciones")
    newer.retrieved_at = "2026-11-20T00:00:00.000Z"
    valdoria_archive.store([newer], run)
    older = embed_item("Texto original sobre las elecciones", "old.html#embed-1")
    older.retrieved_at = "2021-06-09T00:00:00.000Z"
    valdoria_archive.store([older], run)
    post = valdoria_archive.db["posts"].get("x:1402279246033858617")
    assert post["text"] == "Texto corregido sobre las elecciones"
    assert post["version_count"] == 2 and post["is_edited"] == 1
    # Seeing the newer state again is no new version.
    again = embed_item("Texto corregido sobre las elecciones", "again.html#embed-1")
    again.retrieved_at = "2026-11-21T00:00:00.000Z"
    assert valdoria_archive.store([again], run).unchanged == 1


def test_reprocess_reads_parse_errors_a_fixed_parser_can_read(valdoria_archive, run, monkeypatch):
    from scraper import formats
    from scraper import normalise as normalise_module

    original = formats.transform_for("article-x-embed")

    def broken(item):
        raise ValueError("parser bug")

    monkeypatch.setitem(normalise_module._transforms, "article-x-embed", broken)
    stats = valdoria_archive.store([embed_item("Felicito a la presidenta electa")], run)
    assert stats.parse_errors == 1 and valdoria_archive.db["posts"].count == 0
    monkeypatch.setitem(normalise_module._transforms, "article-x-embed", original)  # the fix
    stats = valdoria_archive.reprocess()
    assert stats.resolved_errors == 1
    error = next(valdoria_archive.db["parse_errors"].rows)
    assert error["resolved_post_id"] == "x:1402279246033858617" and error["resolved_at"]
    assert valdoria_archive.db["captures"].count == 1
    assert valdoria_archive.reprocess().resolved_errors == 0  # and a second reprocess changes nothing
    assert valdoria_archive.db["posts"].count == 1


# --- second review: edits back to an old text, drifting quote keys, quote wordings ---


def test_an_edit_back_to_the_first_text_is_a_new_state(valdoria_archive, run):
    import copy

    from scraper.sources.mastodon import raw_item

    base = json.loads((__import__("pathlib").Path(__file__).parent / "fixtures" / "mastodon" / "recheck-status-edited.json").read_text())

    def status(content, edited_at, retrieved_at):
        data = copy.deepcopy(base)
        data.update(content=content, edited_at=edited_at)
        page = FetchedPage(url="https://social.valdoria.example/api/v1/statuses/1", body="{}", status=200,
                           retrieved_at=retrieved_at)
        return raw_item(data, "test", "recheck", {}, page)

    first, second = "<p>Texto original del acuerdo.</p>", "<p>Texto corregido del acuerdo.</p>"
    valdoria_archive.store([status(first, None, "2026-06-20T08:30:00Z")], run)
    valdoria_archive.store([status(second, "2026-06-20T09:00:00.000Z", "2026-06-20T10:00:00Z")], run)
    valdoria_archive.store([status(first, "2026-06-21T09:00:00.000Z", "2026-06-21T10:00:00Z")], run)
    post = next(valdoria_archive.db.query("select text, edited_at, version_count from posts"))
    assert post == {"text": "Texto original del acuerdo.", "edited_at": "2026-06-21T09:00:00Z", "version_count": 3}


def test_quotes_worded_differently_on_later_days_never_clash(valdoria_archive, run):
    for n, (wording, day) in enumerate([("Saludo al pueblo", 8), ("saludo al pueblo", 9), ("Saludo al Pueblo", 10), ("Saludo al pueblo", 8)]):
        line = f"{wording} — Tomás Imaginario (@tomasimaginario) June {day}, 2021"
        valdoria_archive.store([RawItem(format="article-text-embed", payload=line, source_id="test", location=f"q#{n}")], run)
    assert valdoria_archive.db["captures"].count == 4
    assert valdoria_archive.db.execute("pragma foreign_key_check").fetchall() == []


def test_a_quotes_wordings_are_not_versions_of_the_real_post(valdoria_archive, run):
    valdoria_archive.store([text_item("Felicito a la presidenta electa")], run)
    valdoria_archive.store([text_item("felicito a la Presidenta Electa", "other.txt#1")], run)
    valdoria_archive.store([embed_item("Felicito a la presidenta electa")], run)
    post = valdoria_archive.db["posts"].get("x:1402279246033858617")
    assert (post["version_count"], post["is_edited"]) == (1, 0)
    assert valdoria_archive.db["post_versions"].count == 0  # its one state is the post's row


@pytest.mark.parametrize("stamp, expected", [
    ("2021-06-08T15:00:00.000Z", "2021-06-08T15:00:00Z"),
    ("2021-06-08T15:00:00.5Z", "2021-06-08T15:00:00.500Z"),
    ("2021-06-08T15:00:00.0009Z", "2021-06-08T15:00:00.000Z"),
    ("2021-06-08T17:00:00+02:00", "2021-06-08T15:00:00Z"),
])
def test_timestamps_in_the_usual_forms(stamp, expected):
    from scraper.normalise import to_utc_iso

    assert to_utc_iso(stamp) == expected


@pytest.mark.parametrize("stamp", ["2021-06-31T15:00:00Z", "２０２１-06-08T15:00:00Z"])
def test_impossible_or_non_ascii_timestamps_are_refused(stamp):
    from scraper.normalise import to_utc_iso

    with pytest.raises(ValueError):
        to_utc_iso(stamp)
