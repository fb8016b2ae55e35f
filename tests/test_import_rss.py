"""RSS and Atom feeds of official statements, as posts of the publishing feed."""

from scraper.archive import Archive
from scraper.scrape import import_file

from .import_helpers import (
    IMPORTS, assert_second_import_adds_only_captures, cli_import, import_twice, parse_errors, posts,
)

RSS = IMPORTS / "statements.rss"
ATOM = IMPORTS / "statements.atom"
BROKEN = IMPORTS / "statements-broken.rss"
FEED = "https://cancilleria.valdoria.example/comunicados/feed.rss"


def test_rss_entries_are_posts_of_the_feed(archive):
    result = import_file(archive, "rss", str(RSS))
    assert (result.stats.new_posts, result.stats.parse_errors) == (2, 1)
    found = posts(archive)
    statement = found["rss:cancilleria-2021-0042"]
    assert statement["handle"] == FEED
    assert statement["display_name"] == "Cancillería de Valdoria (ficticia) - Comunicados"
    assert statement["created_at"] == "2021-06-08T15:30:00Z"  # -0300 to UTC
    assert statement["text"] == (
        "Valdoria felicita a la presidenta electa\n\n"
        "El Gobierno de Valdoria felicita a Rosa Ficticia por su elección & saluda al pueblo.\n\nSegundo párrafo."
    )
    assert statement["url"] == "https://cancilleria.valdoria.example/comunicados/2021/felicitacion"
    assert statement["language"] == "es"
    # no guid: the link is the id
    assert "rss:https://cancilleria.valdoria.example/comunicados/2021/agenda" in found


def test_atom_feed(archive):
    import_file(archive, "rss", str(ATOM))
    post = posts(archive)["rss:tag:presidencia.lusitania.example,2021:nota-118"]
    assert post["handle"] == "https://presidencia.lusitania.example/notas.atom"
    assert post["created_at"] == "2021-06-09T21:00:00Z"
    assert post["edited_at"] == "2021-06-10T10:00:00Z"
    assert post["language"] == "pt"
    assert post["text"] == "Nota sobre as eleições em Valdoria\n\nA Presidência felicita a presidenta eleita Rosa Ficticia."


def test_broken_feed_keeps_entries_and_records_the_fault_line(archive):
    result = import_file(archive, "rss", str(BROKEN))
    assert result.stats.new_posts >= 1
    assert "rss:https://partido.valdoria.example/1" in posts(archive)
    location, reason = parse_errors(archive)[-1]
    assert location == f"{BROKEN}:12" and "not well-formed" in reason


def test_importing_twice_changes_nothing_but_captures(archive):
    _first, after_first, second, after_second = import_twice(archive, "rss", RSS)
    assert_second_import_adds_only_captures(after_first, after_second, second)


def test_cli_import(tmp_path):
    result, db = cli_import(tmp_path, "rss", ATOM)
    assert result.exit_code == 0, result.output
    assert Archive(db).db["posts"].count == 1
