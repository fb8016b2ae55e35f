"""X account archive: folder or zip, window.YTD prefix, string numbers, account.js."""

import shutil

from scraper.archive import Archive
from scraper.scrape import import_file

from .import_helpers import (
    IMPORTS, assert_second_import_adds_nothing, captures_of, cli_import, import_article,
    import_twice, parse_errors, posts,
)

FOLDER = IMPORTS / "x-archive"
TWEETS = FOLDER / "data" / "tweets.js"


def zipped(tmp_path):
    return shutil.make_archive(str(tmp_path / "twitter-2021-06-12-fictional"), "zip", FOLDER)


def test_folder_import(valdoria_archive):
    result = import_file(valdoria_archive, "x-archive", str(FOLDER))
    assert result.status == "ok"
    assert (result.stats.new_posts, result.stats.parse_errors) == (3, 1)
    found = posts(valdoria_archive)
    assert set(found) == {"x:1402539000000000005", "x:1402310000000000003", "x:1402279246033858617"}
    reply = found["x:1402539000000000005"]
    assert reply["handle"] == "tomasimaginario"  # from account.js
    assert reply["text"] == "@rosa_ficticia Cuente con nuestro apoyo <3"
    assert reply["created_at"] == "2021-06-09T12:00:00Z"
    assert reply["reply_to"] == "x:1402300000000000001"
    assert (reply["like_count"], reply["repost_count"]) == (9, 1)  # "9" and "1" in the file
    account = valdoria_archive.db.execute(
        "SELECT a.platform_user_id, a.leader_id FROM accounts a JOIN posts p ON p.account_id = a.id WHERE p.id = ?",
        ["x:1402539000000000005"],
    ).fetchone()
    assert account == ("1301234567890123456", "tomas-imaginario")


def test_bad_record_has_its_line_number(archive):
    import_file(archive, "x-archive", str(FOLDER))
    [(location, reason)] = parse_errors(archive)
    lines = TWEETS.read_text(encoding="utf-8").splitlines()
    line = int(location.rsplit(":", 1)[1])
    assert location.startswith(str(TWEETS))
    assert lines[line - 1].strip() == "{"
    assert "registro dañado" in lines[line + 1]
    assert "id_str" in reason


def test_zip_gives_the_same_posts(tmp_path, archive):
    result = import_file(archive, "x-archive", zipped(tmp_path))
    assert result.stats.new_posts == 3
    location = captures_of(archive, "x:1402279246033858617")[0][2]
    assert ".zip!data/tweets.js:" in location


def test_importing_twice_changes_nothing(archive):
    _first, after_first, second, after_second = import_twice(archive, "x-archive", FOLDER)
    assert_second_import_adds_nothing(after_first, after_second, second)


def test_article_embed_and_import_are_one_post(valdoria_archive):
    import_article(valdoria_archive)
    import_file(valdoria_archive, "x-archive", str(FOLDER))
    formats = sorted(fmt for _s, fmt, _l in captures_of(valdoria_archive, "x:1402279246033858617"))
    assert formats == ["article-x-embed", "x-v1-tweet"]


def test_folder_without_tweets_fails_clearly(tmp_path, archive):
    (tmp_path / "empty").mkdir()
    result = import_file(archive, "x-archive", str(tmp_path / "empty"))
    assert result.status == "failed" and "tweets.js" in result.error


def test_cli_import_zip(tmp_path):
    result, db = cli_import(tmp_path, "x-archive", zipped(tmp_path))
    assert result.exit_code == 0, result.output
    assert Archive(db).db["posts"].count == 3
