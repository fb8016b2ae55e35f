"""Mastodon account export: outbox.json (ActivityPub), actor.json, folder or zip."""

import shutil

from scraper.archive import Archive
from scraper.scrape import import_file

from .import_helpers import (
    IMPORTS, assert_second_import_adds_nothing, captures_of, cli_import, import_twice, parse_errors, posts,
)

EXPORT = IMPORTS / "mastodon-export"
SERVER = "https://social.valdoria.example"


def test_export_folder_import(archive):
    result = import_file(archive, "mastodon-outbox", str(EXPORT))
    # 6 activities: 3 public notes/boost, 1 unlisted, 1 followers-only (skipped), 1 broken
    assert (result.stats.new_posts, result.stats.parse_errors) == (4, 1)
    found = posts(archive)
    first = found[f"mastodon:{SERVER}/@presidencia/106375000000000001"]
    assert first["handle"] == "presidencia@social.valdoria.example"
    assert first["display_name"] == "Presidencia de Valdoria (ficticia)"  # from actor.json
    assert first["created_at"] == "2021-06-08T15:10:00Z"
    assert first["text"] == (
        "Felicitamos a Rosa Ficticia, presidenta electa. #EleccionesFicticias\n\nComunicado: https://example.org/comunicado"
    )
    reply = found[f"mastodon:{SERVER}/@presidencia/106375000000000002"]
    assert reply["reply_to"] == "mastodon:https://otra.example/@rosa/106374999000000000"
    assert reply["text"] == "@rosa Cuente con nuestro apoyo & cooperación."
    assert reply["edited_at"] == "2021-06-08T16:05:00Z"
    boost = found[f"mastodon:{SERVER}/users/presidencia/statuses/106375000000000003/activity"]
    assert boost["text"] == "" and boost["repost_of"] == "mastodon:https://otra.example/@rosa/106374999000000000"
    assert not any("106375000000000004" in post_id for post_id in found)  # followers-only


def test_bad_activity_is_a_parse_error(archive):
    import_file(archive, "mastodon-outbox", str(EXPORT))
    [(location, reason)] = parse_errors(archive)
    assert location == f"{EXPORT / 'outbox.json'}:1#orderedItems[4]"
    assert "Note without id/url" in reason


def test_same_account_as_the_api_adapter(archive):
    """The account's platform id is its profile URL, as the REST API gives it."""
    import_file(archive, "mastodon-outbox", str(EXPORT))
    row = archive.db.execute("SELECT handle, platform_user_id FROM accounts WHERE platform = 'mastodon'").fetchall()
    assert row == [("presidencia@social.valdoria.example", f"{SERVER}/@presidencia")]


def test_outbox_alone_without_actor(tmp_path, archive):
    shutil.copy(EXPORT / "outbox.json", tmp_path / "outbox.json")
    import_file(archive, "mastodon-outbox", str(tmp_path / "outbox.json"))
    row = archive.db.execute("SELECT handle, platform_user_id FROM accounts WHERE platform = 'mastodon'").fetchall()
    assert row == [("presidencia@social.valdoria.example", f"{SERVER}/@presidencia")]


def test_zip_export(tmp_path, archive):
    path = shutil.make_archive(str(tmp_path / "archive-20210612-fictional"), "zip", EXPORT)
    result = import_file(archive, "mastodon-outbox", path)
    assert result.stats.new_posts == 4
    [(_s, _f, location)] = captures_of(archive, f"mastodon:{SERVER}/@presidencia/106375000000000001")
    assert location.endswith(".zip!outbox.json:1#orderedItems[0]")


def test_importing_twice_changes_nothing(archive):
    _first, after_first, second, after_second = import_twice(archive, "mastodon-outbox", EXPORT)
    assert_second_import_adds_nothing(after_first, after_second, second)


def test_cli_import(tmp_path):
    result, db = cli_import(tmp_path, "mastodon-outbox", EXPORT)
    assert result.exit_code == 0, result.output
    assert Archive(db).db["posts"].count == 4
