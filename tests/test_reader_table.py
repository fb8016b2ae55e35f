"""docs/importing.md's "what each reader accepts" table is true: each row's
example, imported, gives the posts and parse errors the row says."""

import re
from pathlib import Path

import pytest

from scraper.archive import Archive
from scraper.scrape import import_file

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\| `(?P<format>[a-z0-9-]+)` \| (?P<input>[^|]+) \| `(?P<example>[^`]+)` \| (?P<posts>\d+) \| (?P<errors>\d+) \|$")


def table_rows() -> list[dict]:
    text = (ROOT / "docs" / "importing.md").read_text(encoding="utf-8")
    section = text.split("## What each reader accepts", 1)[1].split("\n## ", 1)[0]
    return [m.groupdict() for m in map(ROW.match, section.splitlines()) if m]


ROWS = table_rows()


def test_the_table_covers_every_reader():
    from scraper.formats import FILE_READERS

    assert len(ROWS) >= 40
    assert {row["format"] for row in ROWS} == set(FILE_READERS)


@pytest.fixture(scope="module")
def shared_archive(tmp_path_factory):
    archive = Archive(tmp_path_factory.mktemp("table") / "archive.db")
    archive.migrate()
    return archive


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['format']}:{r['example']}" for r in ROWS])
def test_each_example_gives_the_counts_the_table_says(row, shared_archive):
    result = import_file(shared_archive, row["format"], str(ROOT / "tests" / "fixtures" / row["example"]))
    stats = result.stats
    assert (stats.items - stats.parse_errors, stats.parse_errors) == (int(row["posts"]), int(row["errors"])), result.error
    # An input that gave no post failed, and says why; any other did not.
    assert (result.status == "failed") == (int(row["posts"]) == 0)
