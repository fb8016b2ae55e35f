"""twarc2 JSONL: response pages with includes and __twarc, and flattened posts."""

import json

import pytest

from scraper.archive import Archive
from scraper.errors import ParseFailure
from scraper.normalise import normalise
from scraper.scrape import import_file
from scraper.formats import file_reader
from scraper.sources import Unparsed

from .import_helpers import (
    IMPORTS, assert_second_import_adds_nothing, captures_of, cli_import, counts, import_article,
    import_twice, parse_errors, posts,
)

PAGES = IMPORTS / "twarc2-search.jsonl"
FLAT = IMPORTS / "twarc2-flattened.jsonl"


def test_pages_import_with_ids_authors_times_and_text(valdoria_archive):
    result = import_file(valdoria_archive, "twarc2-jsonl", str(PAGES))
    assert result.status == "ok"
    assert (result.stats.new_posts, result.stats.parse_errors) == (4, 1)
    found = posts(valdoria_archive)
    assert set(found) == {"x:1402279246033858617", "x:1402300000000000001", "x:1402310000000000003", "x:1402739780613058617"}
    first = found["x:1402279246033858617"]
    assert first["handle"] == "tomasimaginario"
    assert first["created_at"] == "2021-06-08T15:00:00Z"
    assert first["text"] == (
        "Felicito a @rosa_ficticia, presidenta electa. #EleccionesFicticias\n\nMás en https://example.org/comunicado"
    )
    assert first["like_count"] == 40
    reply = found["x:1402300000000000001"]
    assert reply["text"] == "@tomasimaginario ¡Gracias! Seguimos trabajando juntos & con todos."
    assert reply["reply_to"] == "x:1402279246033858617"
    retweet = found["x:1402310000000000003"]
    assert retweet["repost_of"] == "x:1402300000000000001"
    assert retweet["text"].startswith("RT @rosa_ficticia: @tomasimaginario")
    # the author is linked to the roster by handle
    leader = valdoria_archive.db.execute(
        "SELECT a.leader_id, a.platform_user_id FROM posts p JOIN accounts a ON a.id = p.account_id WHERE p.id = ?",
        ["x:1402279246033858617"],
    ).fetchone()
    assert leader == ("tomas-imaginario", "1301234567890123456")


def test_twarc_metadata_becomes_capture_provenance(archive):
    import_file(archive, "twarc2-jsonl", str(PAGES))
    fetched_url, retrieved_at = archive.db.execute(
        "SELECT fetched_url, retrieved_at FROM capture_details WHERE post_id = 'x:1402739780613058617'"
    ).fetchone()
    assert fetched_url.endswith("&next_token=b26v89c19zqg8o3fpds")
    assert retrieved_at == "2021-06-12T09:15:04Z"


def test_bad_line_is_a_parse_error_with_its_line_number(archive):
    import_file(archive, "twarc2-jsonl", str(PAGES))
    [(location, reason)] = parse_errors(archive)
    assert location == f"{PAGES}:2"
    assert "not JSON" in reason
    assert "x:1402739780613058617" in posts(archive)  # the line after it


def test_flattened_lines_give_the_same_posts_as_pages():
    def by_id(path):
        found = {}
        for item in file_reader("twarc2-jsonl")(str(path), "s"):
            if not isinstance(item, Unparsed):
                post = normalise(item)
                found[post.native_id] = post.to_dict()
        return found

    assert by_id(FLAT) == by_id(PAGES)


def test_flattened_after_pages_adds_captures_only(archive):
    import_file(archive, "twarc2-jsonl", str(PAGES))
    second = import_file(archive, "twarc2-jsonl", str(FLAT))
    assert (second.stats.new_posts, second.stats.new_versions, second.stats.unchanged) == (0, 0, 4)
    assert len(captures_of(archive, "x:1402279246033858617")) == 2


def test_importing_twice_changes_nothing(archive):
    first, after_first, second, after_second = import_twice(archive, "twarc2-jsonl", PAGES)
    assert first.stats.new_posts == 4
    assert_second_import_adds_nothing(after_first, after_second, second)


def test_the_same_file_under_another_path_or_copied_adds_no_capture(archive, tmp_path, monkeypatch):
    """A nightly job run from another folder than the first import (cron's is
    not the shell's), or a copy of the file: the same bytes, so every item is
    a sighting seen before and no capture is added. The file's bad line is
    recorded again under each new spelling (where a failure was found is
    part of it), and never twice under one."""
    first = import_file(archive, "twarc2-jsonl", str(PAGES))
    after_first = counts(archive)
    copy = tmp_path / "copied" / PAGES.name
    copy.parent.mkdir()
    copy.write_bytes(PAGES.read_bytes())
    monkeypatch.chdir(PAGES.parent)
    spellings = [str(PAGES.resolve()), f"./{PAGES.name}", str(copy)]
    for spelling in spellings * 2:
        again = import_file(archive, "twarc2-jsonl", spelling)
        assert (again.stats.new_posts, again.stats.unchanged) == (0, first.stats.new_posts), spelling
        assert {k: v for k, v in counts(archive).items() if k != "parse_errors"} == {
            k: v for k, v in after_first.items() if k != "parse_errors"}, spelling
    assert [c[2] for c in captures_of(archive, "x:1402279246033858617")] == [f"{PAGES}:1#data[2]"]
    places = {location.rpartition(":")[0] for location, _ in parse_errors(archive)}
    assert places == {str(PAGES), f"./{PAGES.name}", str(copy)}
    assert len(parse_errors(archive)) == len(places)


def test_the_same_bad_bytes_in_two_places_are_two_parse_errors(archive, tmp_path):
    """A failure is recorded where it was found: the same bad line twice in a
    file, and again in another file, is a row each (none dropped because
    its bytes were seen elsewhere)."""
    good = PAGES.read_text(encoding="utf-8").splitlines()[0]
    first = tmp_path / "first.jsonl"
    first.write_text("\n".join([good, "not json at all", "not json at all", '{"oops": 1}']) + "\n", encoding="utf-8")
    other = tmp_path / "other.jsonl"
    other.write_text("not json at all\n", encoding="utf-8")
    assert import_file(archive, "twarc2-jsonl", str(first)).stats.parse_errors == 3
    assert import_file(archive, "twarc2-jsonl", str(other)).stats.parse_errors == 1
    assert [location for location, _ in parse_errors(archive)] == [
        f"{first}:2", f"{first}:3", f"{first}:4", f"{other}:1"]
    import_file(archive, "twarc2-jsonl", str(first))  # the same file again: nothing new
    assert len(parse_errors(archive)) == 4


def test_a_changed_line_of_the_same_file_is_a_new_capture(archive, tmp_path):
    """Other bytes are other evidence: a line rewritten (the counts moved)
    is captured again, whatever the path."""
    import_file(archive, "twarc2-jsonl", str(PAGES))
    lines = PAGES.read_text(encoding="utf-8").splitlines()
    page = json.loads(lines[0])
    page["data"][0]["public_metrics"]["like_count"] += 1
    changed = tmp_path / PAGES.name
    changed.write_text("\n".join([json.dumps(page), *lines[1:]]) + "\n", encoding="utf-8")
    import_file(archive, "twarc2-jsonl", str(changed))
    assert len(captures_of(archive, f"x:{page['data'][0]['id']}")) == 2


def test_article_embed_and_import_are_one_post_with_two_captures(valdoria_archive):
    import_article(valdoria_archive)
    import_file(valdoria_archive, "twarc2-jsonl", str(PAGES))
    found = posts(valdoria_archive)
    assert "x:1402279246033858617" in found
    assert [pid for pid, row in found.items() if row["text"].startswith("Felicito a")] == ["x:1402279246033858617"]
    formats = [fmt for _source, fmt, _loc in captures_of(valdoria_archive, "x:1402279246033858617")]
    assert sorted(formats) == ["article-x-embed", "x-v2-tweet"]
    assert found["x:1402279246033858617"]["is_edited"] == 0


def test_cli_import(tmp_path):
    result, db = cli_import(tmp_path, "twarc2-jsonl", PAGES)
    assert result.exit_code == 0, result.output
    assert "4 new" in result.output and "1 parse errors" in result.output
    assert Archive(db).db["posts"].count == 4


def _dump(archive) -> dict:
    return {
        table: list(archive.db.query(f"select * from {table} order by 1, 2"))
        for table in ("posts", "post_versions", "election_posts", "captures", "accounts")
    }


def test_each_line_is_stored_once_and_captures_point_into_it(archive):
    import_file(archive, "twarc2-jsonl", str(PAGES))
    lines = [line.rstrip("\n") for line in PAGES.read_text(encoding="utf-8").splitlines()]
    stored = {row["sha256"]: row for row in archive.db.query("SELECT * FROM raw_payloads WHERE format = 'twarc2-jsonl'")}
    pointers = archive.db.execute(
        "SELECT post_id, raw_pointer, raw_sha256 FROM capture_details ORDER BY id"
    ).fetchall()
    assert {pointer for _, pointer, _ in pointers} <= {"/data/0", "/data/1", "/data/2", "/data"}
    for post_id, pointer, sha in pointers:
        text = archive.raw_payload(sha)
        assert sha in stored and text in lines  # the line byte for byte
        # the pointer finds the post in the line
        node = json.loads(text)
        for part in pointer.split("/")[1:]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert f"x:{node['id']}" == post_id
    # one payload per line with posts, not one per post
    assert len(stored) == len({sha for _, _, sha in pointers}) < len(pointers)


def test_flattened_line_is_its_own_pointer(archive):
    import_file(archive, "twarc2-jsonl", str(FLAT))
    pointers = {row[0] for row in archive.db.execute("SELECT raw_pointer FROM captures")}
    assert pointers == {""}


def test_reprocess_rebuilds_posts_from_stored_lines(valdoria_archive):
    import_file(valdoria_archive, "twarc2-jsonl", str(PAGES))
    import_file(valdoria_archive, "twarc2-jsonl", str(FLAT))
    before = _dump(valdoria_archive)
    stats = valdoria_archive.reprocess()
    assert stats.items == len(before["captures"])
    assert _dump(valdoria_archive) == before
    valdoria_archive.db.execute("insert into posts_fts(posts_fts) values('integrity-check')")


def test_reprocess_names_a_capture_whose_page_lost_the_post(archive):
    import_file(archive, "twarc2-jsonl", str(PAGES))
    archive.db.execute("UPDATE captures SET raw_pointer = '/data/99' WHERE id = (SELECT min(id) FROM captures)")
    with pytest.raises(ParseFailure, match=r"capture \d+ .*'/data/99'"):
        archive.reprocess()


def test_a_line_once_unparsed_then_imported_can_be_reprocessed(archive, monkeypatch):
    from scraper.sources import twarc

    def older_parser(*args, **kwargs):
        raise ParseFailure("an older parser did not know this page")

    with monkeypatch.context() as patched:
        patched.setattr(twarc, "_page_items", older_parser)
        import_file(archive, "twarc2-jsonl", str(PAGES))
    assert archive.db.execute("SELECT count(*) FROM posts").fetchone()[0] == 0
    import_file(archive, "twarc2-jsonl", str(PAGES))  # the fixed parser reads the same lines
    formats = {row[0] for row in archive.db.execute(
        "SELECT DISTINCT r.format FROM capture_details c JOIN raw_payloads r ON r.sha256 = c.raw_sha256")}
    assert formats == {"twarc2-jsonl"}
    stats = archive.reprocess()
    assert stats.new_posts == 4


def test_reprocess_gives_the_reason_a_stored_line_no_longer_parses(archive, monkeypatch):
    from scraper.sources import twarc

    import_file(archive, "twarc2-jsonl", str(PAGES))

    def changed(*args, **kwargs):
        raise ParseFailure("the format changed")

    monkeypatch.setattr(twarc, "_page_items", changed)
    with pytest.raises(ParseFailure, match="no longer parses: the format changed"):
        archive.reprocess()


def test_posts_inserted_by_another_writer_are_searchable(archive):
    """An older version of the tool, or sqlite-utils, inserts posts without
    indexing them itself: the insert trigger does."""
    import_file(archive, "twarc2-jsonl", str(PAGES))
    archive.db.execute(
        "INSERT INTO posts (id, platform, native_id, id_is_derived, text) "
        "VALUES ('x:1', 'x', '1', 0, 'escrito por otra herramienta')"
    )
    search = "SELECT count(*) FROM posts_fts WHERE posts_fts MATCH ?"
    assert archive.db.execute(search, ["herramienta"]).fetchone()[0] == 1
    assert archive.db.execute("SELECT count(*) FROM posts_fts").fetchone()[0] == archive.db["posts"].count
    archive.db.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")
