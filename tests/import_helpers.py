"""Shared checks for the importer tests: import through the archive and the
CLI, read back posts, captures and parse errors."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from scraper.cli import cli
from scraper.scrape import import_file

IMPORTS = Path(__file__).parent / "fixtures" / "imports"
ARTICLE = Path(__file__).parent / "fixtures" / "article" / "news-embeds.html"


def posts(archive) -> dict[str, dict]:
    cursor = archive.db.execute("SELECT * FROM posts ORDER BY id")
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row)) for row in cursor}


def captures_of(archive, post_id: str) -> list[tuple]:
    return archive.db.execute(
        "SELECT source_id, format, location FROM capture_details WHERE post_id = ? ORDER BY id", [post_id]
    ).fetchall()


def parse_errors(archive) -> list[tuple]:
    return archive.db.execute("SELECT location, reason FROM parse_errors ORDER BY id").fetchall()


def counts(archive) -> dict:
    return {name: archive.db[name].count for name in ("posts", "post_versions", "captures", "parse_errors", "accounts")}


def import_twice(archive, format_name: str, path) -> tuple:
    """Import, import again; return both results and the counts after each."""
    first = import_file(archive, format_name, str(path))
    after_first = counts(archive)
    second = import_file(archive, format_name, str(path))
    after_second = counts(archive)
    return first, after_first, second, after_second


def assert_second_import_adds_nothing(after_first: dict, after_second: dict, second) -> None:
    """The same file imported again: every item is a sighting seen before
    (no post, version or capture is added)."""
    assert after_second == after_first
    assert second.stats.new_posts == 0 and second.stats.new_versions == 0


def cli_import(tmp_path, format_name: str, path) -> tuple:
    db = tmp_path / "cli.db"
    result = CliRunner().invoke(cli, ["import", format_name, str(path), "--db", str(db)])
    return result, db


def import_article(archive):
    return import_file(archive, "article", str(ARTICLE))
