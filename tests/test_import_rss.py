"""RSS and Atom feeds of official statements, as posts of the publishing feed."""

from pathlib import Path

from scraper.archive import Archive
from scraper.scrape import import_file

from .import_helpers import (
    IMPORTS, assert_second_import_adds_nothing, cli_import, import_twice, parse_errors, posts,
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


def test_importing_twice_changes_nothing(archive):
    _first, after_first, second, after_second = import_twice(archive, "rss", RSS)
    assert_second_import_adds_nothing(after_first, after_second, second)


def test_cli_import(tmp_path):
    result, db = cli_import(tmp_path, "rss", ATOM)
    assert result.exit_code == 0, result.output
    assert Archive(db).db["posts"].count == 1


def test_rss_source_in_a_config_fetches_through_the_polite_client(httpserver, tmp_path):
    from scraper.config import load_config
    from scraper.http import PoliteClient
    from scraper.scrape import run_scrape

    feed = (Path(__file__).parent / "fixtures" / "imports" / "statements.rss").read_bytes()
    httpserver.expect_request("/feeds/statements.rss").respond_with_data(feed, content_type="application/rss+xml")
    config = (Path(__file__).parent / "fixtures" / "config" / "valdoria.yml").read_text()
    config = config.replace(
        "      x: {handle: lucia_inventada}",
        f"      x: {{handle: lucia_inventada}}\n      rss: {{url: \"{httpserver.url_for('/feeds/statements.rss')}\"}}",
    )
    config = config.replace("sources:\n", "sources:\n  - {id: statements, kind: rss}\n")
    path = tmp_path / "rss.yml"
    path.write_text(config.replace("path: ../article/news-embeds.html", f"path: {Path(__file__).parent / 'fixtures' / 'article' / 'news-embeds.html'}"))
    archive = Archive(tmp_path / "a.db")
    result = run_scrape(archive, load_config(path), only=["statements"], client=PoliteClient(sleep=lambda s: None))
    assert result.exit_code == 0, [s.as_dict() for s in result.sources]
    assert archive.db.execute("select count(*) from posts where platform = 'rss'").fetchone()[0] == 2
    linked = archive.db.execute(
        "select count(*) from posts p join accounts a on a.id = p.account_id where a.leader_id = 'lucia-inventada'"
    ).fetchone()[0]
    assert linked == 2
    capture = next(archive.db.query("select fetched_url from capture_details limit 1"))
    assert capture["fetched_url"].endswith("/feeds/statements.rss")
    user_agent = httpserver.log[0][0].headers["User-Agent"]
    assert user_agent.startswith("reaction-archive/")


def test_import_rss_url_is_refused_clearly(tmp_path):
    from click.testing import CliRunner

    from scraper.cli import cli

    result = CliRunner().invoke(cli, ["import", "rss", "https://example.org/feed.xml", "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2
    assert "scrape a feed on the web with a source of kind rss" in result.output
