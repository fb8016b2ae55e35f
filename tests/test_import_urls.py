"""Lists of post URLs: recorded offline as pending posts with the URL's platform and id."""

import json

import pytest

from scraper.archive import Archive
from scraper.scrape import import_file

from .import_helpers import (
    IMPORTS, assert_second_import_adds_nothing, captures_of, cli_import, import_article,
    import_twice, parse_errors, posts,
)

CSV = IMPORTS / "post-urls.csv"
TEXT = IMPORTS / "post-urls.txt"


def test_csv_urls_become_pending_posts(archive):
    result = import_file(archive, "urls", str(CSV))
    assert (result.stats.new_posts, result.stats.parse_errors) == (6, 1)
    found = posts(archive)
    assert set(found) == {
        "x:1402279246033858617",
        "x:1402739780613058617",
        "bluesky:at://did:plc:fictional7tomas3xq2k5v/app.bsky.feed.post/3jzfcijpj2z2a",
        "bluesky:at://tomas-imaginario.bsky.social/app.bsky.feed.post/3jzfcjzzzzz2b",
        "mastodon:https://social.valdoria.example/@presidencia/106375000000000001",
        "telegram:valdoria_presidencia/204",
    }
    tweet = found["x:1402279246033858617"]
    assert tweet["text"] == "" and tweet["handle"] == "tomasimaginario"
    assert tweet["created_at"] == "2021-06-08T15:00:00Z"  # from the id, to the second as X gives it
    assert json.loads(tweet["extra"])["pending"] is True
    assert json.loads(found["bluesky:at://tomas-imaginario.bsky.social/app.bsky.feed.post/3jzfcjzzzzz2b"]["extra"])[
        "authority_is_handle"
    ]
    [(location, reason)] = parse_errors(archive)
    assert location == f"{CSV}:8" and "not a post URL" in reason


def test_text_file(archive):
    result = import_file(archive, "urls", str(TEXT))
    assert result.stats.new_posts == 2
    assert captures_of(archive, "telegram:valdoria_presidencia/204")[0][2] == f"{TEXT}:4"


def test_importing_twice_changes_nothing(archive):
    _first, after_first, second, after_second = import_twice(archive, "urls", CSV)
    assert_second_import_adds_nothing(after_first, after_second, second)


def test_pending_then_full_sighting_is_one_post(valdoria_archive):
    import_file(valdoria_archive, "urls", str(TEXT))
    import_file(valdoria_archive, "twarc2-jsonl", str(IMPORTS / "twarc2-search.jsonl"))
    post = posts(valdoria_archive)["x:1402279246033858617"]
    assert post["text"].startswith("Felicito a @rosa_ficticia")
    assert len(captures_of(valdoria_archive, "x:1402279246033858617")) == 2


def test_pending_sighting_never_changes_a_known_post(valdoria_archive):
    import_article(valdoria_archive)
    import_file(valdoria_archive, "urls", str(TEXT))
    post = posts(valdoria_archive)["x:1402279246033858617"]
    assert post["text"].startswith("Felicito a @rosa_ficticia")
    assert post["version_count"] == 1 and post["is_edited"] == 0


def test_cli_import(tmp_path):
    result, db = cli_import(tmp_path, "urls", CSV)
    assert result.exit_code == 0, result.output
    assert Archive(db).db["posts"].count == 6


def test_full_sighting_replaces_the_pending_placeholder(valdoria_archive):
    import_file(valdoria_archive, "urls", str(TEXT))
    import_file(valdoria_archive, "twarc2-jsonl", str(IMPORTS / "twarc2-search.jsonl"))
    post = posts(valdoria_archive)["x:1402279246033858617"]
    assert post["version_count"] == 1 and post["is_edited"] == 0
    assert "pending" not in json.loads(post["extra"] or "{}")


def test_hydrate_fills_pending_posts_through_the_platforms(valdoria_archive, httpserver):
    """A URL list names an X post; hydration reads it (syndication, on a
    local server) and the placeholder becomes the post, not an edit."""
    from scraper.http import PoliteClient
    from scraper.scrape import hydrate_pending

    live = json.loads((IMPORTS.parent / "x" / "syndication_live.json").read_text())
    live.update(id_str="1402279246033858617", text="Felicito a @rosa_ficticia, presidenta electa.")
    live["user"].update(screen_name="tomasimaginario", name="Tomás Imaginario")
    live["edit_control"] = {"edit_tweet_ids": ["1402279246033858617"]}
    live["entities"] = {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []}
    live.pop("mediaDetails", None), live.pop("photos", None)
    httpserver.expect_request("/tweet-result").respond_with_json(live)
    import_file(valdoria_archive, "urls", str(TEXT))
    result = hydrate_pending(
        valdoria_archive, PoliteClient(sleep=lambda s: None), platforms=["x"],
        options={"x": {"base_url": httpserver.url_for("").rstrip("/")}},
    )
    assert result.exit_code == 0, [s.as_dict() for s in result.sources]
    post = posts(valdoria_archive)["x:1402279246033858617"]
    assert post["text"] == "Felicito a @rosa_ficticia, presidenta electa."
    assert post["version_count"] == 1 and post["is_edited"] == 0
    assert "pending" not in json.loads(post["extra"] or "{}")
    assert valdoria_archive.placeholder_posts("x") == []
