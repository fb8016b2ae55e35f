"""Exports: formats, filters, the Data Package, id lists, determinism."""

import csv
import hashlib
import io
import json
import socket
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.cli_export import export_command
from scraper.errors import ArchiveUnwritableError, InputError
from scraper import __version__
from scraper import export as export_module
from scraper.export import (
    TABLES,
    ExportFilters,
    csv_lines,
    dehydrated_id,
    export_package,
    read_checksums,
    resource_name,
    verify_package,
)
from scraper.publish import load_metadata
from scraper.reaction_rows import refresh_reaction_rows
from scraper.scrape import import_file
from scraper.sources import mastodon as mastodon_source
from scraper.sources import x as x_source

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OTHER_TABLES = tuple(t for t in TABLES if t != "reactions")

X_IDS = ["1402279246033858617", "1402739780613058617", "1402811503211458617", "1665650099207184384",
         "1666142923275042816"]
BLUESKY_URIS = [
    "at://did:plc:fictional7tomas3xq2k5v/app.bsky.feed.post/3jzfcijpj2z2a",
    "at://did:plc:rnhszylksqjrjk3linirujs3/app.bsky.feed.post/3mkkjwbpo222b",
    "at://did:plc:rnhszylksqjrjk3linirujs3/app.bsky.feed.post/3mlnczzb2222b",
    "at://did:plc:rnhszylksqjrjk3linirujs3/app.bsky.feed.post/3mmp5y5qv222b",
    "at://did:plc:rnhszylksqjrjk3linirujs3/app.bsky.feed.post/3mmwdnftnk22b",
]
TELEGRAM_URLS = [f"https://t.me/valdoria_presidencia/{n}" for n in (131, 132, 133, 134)]


@pytest.fixture
def multi_archive(valdoria_archive, valdoria_config):
    """Posts on X, Bluesky, Mastodon, Telegram, Facebook and Instagram, all
    made relevant to the fictional election (most are not by their text)."""
    for format_name, path in (
        ("x-v2", "x/saved_pages.jsonl"),
        ("bluesky-feed", "bluesky/author-feed-saved.jsonl"),
        ("mastodon-statuses", "mastodon/statuses-saved.json"),
        ("telegram-html", "telegram/page1.html"),
        ("article", "article/news-embeds.html"),
    ):
        result = import_file(valdoria_archive, format_name, str(FIXTURES / path), config=valdoria_config)
        assert result.status == "ok", result.as_dict()
    with valdoria_archive.write():
        valdoria_archive.db.execute(
            "INSERT OR IGNORE INTO election_posts (election_id, post_id, matched_terms, score) "
            "SELECT 'valdoria-2021', id, '[]', 1 FROM posts"
        )
        refresh_reaction_rows(valdoria_archive.db)  # a writer other than the archive keeps the reactions table
    return valdoria_archive


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the export tests must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def view_columns(archive) -> list[str]:
    return [row[1] for row in archive.db.execute("PRAGMA table_info(reactions)") if row[1] != "post_rowid"]


# --- formats -------------------------------------------------------------------------


def test_example_archive_as_csv(peru_archive, tmp_path):
    result = export_package(peru_archive, tmp_path / "out")
    [row] = read_csv(tmp_path / "out" / "data" / "reactions.csv")
    assert list(row) == view_columns(peru_archive)
    assert (row["election"], row["leader_id"], row["country_code"], row["role_kind"]) == (
        "peru-2021", "luis-arce", "BO", "head_of_state"
    )
    assert row["created_at"] == "2021-06-10" and row["created_at_precision"] == "day"
    assert json.loads(row["matched_terms"])  # JSON text in CSV
    assert result.rows == {"reactions": 1}
    assert sorted(files_of(tmp_path / "out")) == ["README.md", "SHA256SUMS", "data/reactions.csv", "datapackage.json"]


def test_example_archive_as_jsonl(peru_archive, tmp_path):
    export_package(peru_archive, tmp_path / "out", format_name="jsonl", tables=OTHER_TABLES)
    lines = (tmp_path / "out" / "data" / "reactions.jsonl").read_text(encoding="utf-8").splitlines()
    [row] = [json.loads(line) for line in lines]
    assert list(row) == view_columns(peru_archive)
    assert isinstance(row["matched_terms"], list) and isinstance(row["hashtags"], list)
    assert isinstance(row["score"], float)
    captures = [json.loads(line) for line in (tmp_path / "out" / "data" / "captures.jsonl").read_text().splitlines()]
    assert [c["format"] for c in captures] == ["article-text-embed", "article-x-embed"]
    reported = (tmp_path / "out" / "data" / "reported_reactions.jsonl").read_text().splitlines()
    assert len(reported) == 6  # one per report, though two sources carried it
    assert all(json.loads(line)["sightings"] == 2 for line in reported)
    classes = [json.loads(line) for line in (tmp_path / "out" / "data" / "reported_reaction_classes.jsonl").read_text().splitlines()]
    assert {c["reaction_type"] for c in classes} == {"congratulation"}


def test_example_archive_as_parquet(peru_archive, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    export_package(peru_archive, tmp_path / "out", format_name="parquet", tables=OTHER_TABLES)
    table = pq.read_table(tmp_path / "out" / "data" / "reactions.parquet")
    assert table.column_names == view_columns(peru_archive)
    [row] = table.to_pylist()
    assert row["leader_id"] == "luis-arce" and row["reply_count"] is None
    assert str(table.schema.field("score").type) == "double"
    assert table.schema.field("text").metadata[b"description"].startswith(b"The text exactly as posted")
    assert pq.read_table(tmp_path / "out" / "data" / "reported_reactions.parquet").num_rows == 6


def test_parquet_columns_match_the_table_schemas(multi_archive, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    export_package(multi_archive, tmp_path / "out", format_name="parquet", tables=OTHER_TABLES)
    descriptor = json.loads((tmp_path / "out" / "datapackage.json").read_text())
    arrow = {"integer": "int64", "number": "double", "string": "string", "array": "string", "object": "string"}
    for resource in descriptor["resources"]:
        if resource["format"] != "parquet":
            continue
        table = pq.read_table(tmp_path / "out" / resource["path"])
        fields = resource["schema"]["fields"]
        assert table.column_names == [f["name"] for f in fields]
        assert [str(t) for t in table.schema.types] == [arrow[f["type"]] for f in fields]
        assert table.num_rows == descriptor["reaction_archive"]["rows"][resource["title"]]


def test_parquet_without_pyarrow_says_how_to_get_it(peru_archive, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(InputError, match=r"reaction-archive\[parquet\]"):
        export_package(peru_archive, tmp_path / "out", format_name="parquet")
    assert not (tmp_path / "out").exists()


# --- the Data Package -------------------------------------------------------------------


@pytest.mark.parametrize("format_name", ["csv", "jsonl"])
@pytest.mark.parametrize("archive_name", ["peru_archive", "multi_archive"])
def test_frictionless_validates_the_package(request, archive_name, format_name, tmp_path, no_network):
    frictionless = pytest.importorskip("frictionless")
    archive = request.getfixturevalue(archive_name)
    tables = OTHER_TABLES
    if format_name == "jsonl" and not archive.db["not_reacted"].count:
        # frictionless 5 cannot read an empty JSONL file (StopIteration): the
        # empty table is checked as CSV only.
        tables = tuple(t for t in OTHER_TABLES if t != "not_reacted")
    export_package(archive, tmp_path / "out", format_name=format_name, tables=tables)
    report = frictionless.validate(tmp_path / "out" / "datapackage.json")
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "type", "note"])
    # Every resource was read: the tables row by row, the id lists as text.
    assert {task.name for task in report.tasks} >= {resource_name(t) for t in ("reactions", *tables)}


def test_frictionless_catches_a_changed_file(multi_archive, tmp_path, no_network):
    frictionless = pytest.importorskip("frictionless")
    export_package(multi_archive, tmp_path / "out")
    path = tmp_path / "out" / "data" / "reactions.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Felicito", "Felicita"), encoding="utf-8")
    report = frictionless.validate(tmp_path / "out" / "datapackage.json")
    assert not report.valid


def test_field_descriptions_come_from_metadata_yml(multi_archive, tmp_path):
    export_package(multi_archive, tmp_path / "out", tables=OTHER_TABLES)
    descriptor = json.loads((tmp_path / "out" / "datapackage.json").read_text())
    metadata = load_metadata()
    tables = metadata["databases"]["archive"]["tables"]
    by_title = {r["title"]: r for r in descriptor["resources"] if r.get("schema")}
    assert list(by_title) == list(TABLES)
    for table, resource in by_title.items():
        described = tables[export_module.READ_FROM.get(table, table)]  # (captures with their fetch's provenance)
        assert resource["description"] == described["description"]
        for field in resource["schema"]["fields"]:
            assert field["description"] == described["columns"][field["name"]], (table, field["name"])
    reactions = by_title["reactions"]["schema"]
    assert reactions["primaryKey"] == ["post_id", "election"]
    types = {f["name"]: f["type"] for f in reactions["fields"]}
    assert (types["like_count"], types["score"], types["hours_after_result"], types["hashtags"]) == (
        "integer", "number", "number", "array"
    )
    assert by_title["captures"]["schema"]["foreignKeys"] == [
        {"fields": "post_id", "reference": {"resource": "posts", "fields": "id"}}
    ]
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert "belongs to its authors" in descriptor["licenses"][0]["title"]
    assert descriptor["sources"][0]["path"] == metadata["source_url"]


def test_metadata_reads_the_same_with_libyaml():
    """Exports read metadata.yml with libyaml's loader when it is there: the
    descriptions in datapackage.json must be those the pure-Python one reads."""
    import yaml

    from scraper.publish import metadata_path

    assert load_metadata() == yaml.safe_load(metadata_path().read_text(encoding="utf-8"))


def test_readme_gives_provenance(peru_archive, tmp_path):
    export_package(peru_archive, tmp_path / "out", filters=ExportFilters(elections=("peru-2021",)))
    readme = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    first, last = peru_archive.db.execute("SELECT min(retrieved_at), max(retrieved_at) FROM capture_details").fetchone()
    assert f"Capture period of the exported posts: {first} to {last}" in readme
    assert f"latest capture is {last}" in readme
    assert f"reaction-archive {__version__}" in readme
    assert "- election: peru-2021" in readme
    assert "| data/reactions.csv | 1 |" in readme
    assert "seed-report-html" in readme and "seed-report-text" in readme
    assert "/work/" not in readme  # a local source shows its file name, not the capturing machine's path
    assert "CC BY 4.0" in readme and "belongs to its author" in readme
    descriptor = json.loads((tmp_path / "out" / "datapackage.json").read_text())
    assert descriptor["created"] == last  # the archive's latest capture, not the time of the export
    assert descriptor["reaction_archive"]["filters"] == {"election": ["peru-2021"]}


# --- filters ---------------------------------------------------------------------------


def exported_ids(archive, tmp_path, **filters) -> list[str]:
    folder = tmp_path / f"out-{len(list(tmp_path.iterdir()))}"
    export_package(archive, folder, filters=ExportFilters(**filters))
    return sorted(row["post_id"] for row in read_csv(folder / "data" / "reactions.csv"))


def sql_ids(archive, where: str) -> list[str]:
    return sorted(row[0] for row in archive.db.execute(f"SELECT post_id FROM reactions WHERE {where}"))


@pytest.mark.parametrize(
    "filters, where",
    [
        ({"elections": ("valdoria-2021",)}, "election = 'valdoria-2021'"),
        ({"countries": ("ar",)}, "country_code = 'AR'"),
        ({"countries": ("AR", "BR")}, "country_code IN ('AR', 'BR')"),
        ({"role_kinds": ("head_of_state",)}, "role_kind = 'head_of_state'"),
        ({"platforms": ("telegram", "Bluesky")}, "platform IN ('telegram', 'bluesky')"),
        ({"languages": ("pt",)}, "language = 'pt'"),
        ({"since": "2026-04-01"}, "created_at >= '2026-04-01'"),
        ({"until": "2021-06-09"}, "substr(created_at, 1, 10) <= '2021-06-09'"),
        ({"since": "2021-06-09T00:00:00-03:00", "until": "2023-06-05"},
         "created_at >= '2021-06-09T03' AND substr(created_at, 1, 10) <= '2023-06-05'"),
        ({"platforms": ("x",), "languages": ("es",), "since": "2021-06-01"},
         "platform = 'x' AND language = 'es' AND created_at >= '2021-06-01'"),
    ],
)
def test_filters_select_the_same_rows_as_sql(multi_archive, tmp_path, filters, where):
    expected = sql_ids(multi_archive, where)
    assert expected, "the fixture should have rows for every filter"
    assert exported_ids(multi_archive, tmp_path, **filters) == expected


def test_filters_narrow_the_other_tables_and_id_lists(multi_archive, tmp_path):
    result = export_package(multi_archive, tmp_path / "out", tables=OTHER_TABLES,
                            filters=ExportFilters(platforms=("bluesky",)))
    posts = read_csv(tmp_path / "out" / "data" / "posts.csv")
    assert {p["platform"] for p in posts} == {"bluesky"}
    captured = {c["post_id"] for c in read_csv(tmp_path / "out" / "data" / "captures.csv")}
    assert captured == {p["id"] for p in posts}
    assert result.id_lists == {"bluesky": 5}
    assert sorted(p.name for p in (tmp_path / "out" / "ids").iterdir()) == ["bluesky.txt"]


def test_language_keeps_regional_tags(multi_archive, tmp_path):
    with multi_archive.write():
        multi_archive.db.execute("UPDATE posts SET language = 'pt-BR' WHERE id = 'x:1402739780613058617'")
    assert exported_ids(multi_archive, tmp_path, languages=("PT",)) == ["x:1402739780613058617"]


def test_day_precision_posts_count_as_their_day(multi_archive, tmp_path):
    # The Bluesky post from an article embed is known only to the day (2021-06-09).
    ids = exported_ids(multi_archive, tmp_path, since="2021-06-09", until="2021-06-09")
    assert "bluesky:" + BLUESKY_URIS[0] in ids


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"elections": ("nowhere-2099",)}, "--election nowhere-2099: not in this archive"),
        ({"countries": ("ZZ",)}, "--country ZZ"),
        ({"role_kinds": ("king",)}, "--role-kind king"),
        ({"platforms": ("myspace",)}, "--platform myspace"),
        ({"since": "last week"}, "--since 'last week'"),
    ],
)
def test_unknown_filter_values_are_errors(multi_archive, tmp_path, filters, message):
    with pytest.raises(InputError, match=message):
        export_package(multi_archive, tmp_path / "out", filters=ExportFilters(**filters))
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


# --- id lists ------------------------------------------------------------------------


def test_dehydrated_id_lists(multi_archive, tmp_path):
    result = export_package(multi_archive, tmp_path / "out")
    ids = {p.stem: p.read_text(encoding="utf-8").splitlines() for p in (tmp_path / "out" / "ids").iterdir()}
    assert sorted(ids) == ["bluesky", "mastodon", "telegram", "x"]  # no list for Facebook or Instagram
    assert sorted(ids["x"]) == X_IDS
    assert sorted(ids["bluesky"]) == BLUESKY_URIS
    assert ids["telegram"] == TELEGRAM_URLS  # posting order
    assert all(url.startswith("https://") for url in ids["mastodon"])
    assert "https://social.example/@valdoria_news/106385910573921234" in ids["mastodon"]
    assert result.id_lists == {platform: len(values) for platform, values in ids.items()}
    readme = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert "| ids/x.txt | 5 | X post ids" in readme
    assert "2 exported posts have no shareable platform id" in readme


def test_id_lists_read_from_the_reactions_match_the_posts(multi_archive, tmp_path):
    # The lists come from the reactions rows (platform, post key, time); the
    # same posts, ids and order as the posts table says, each post once even
    # when it reacts to two elections.
    db = multi_archive.db
    with multi_archive.write():
        db.execute("INSERT INTO elections (id, name, country) SELECT 'valdoria-2023', 'Second round (fictional)', "
                   "country FROM elections WHERE id = 'valdoria-2021'")
        db.execute("INSERT INTO election_posts (election_id, post_id, matched_terms, score) "
                   "SELECT 'valdoria-2023', post_id, '[]', 1 FROM election_posts WHERE election_id = 'valdoria-2021'")
        refresh_reaction_rows(db)
    assert db.execute("SELECT count(*) FROM reactions WHERE election = 'valdoria-2023'").fetchone()[0] > 0
    export_package(multi_archive, tmp_path / "out")
    expected: dict[str, list[str]] = {}
    for platform, native_id, url in db.execute(
        "SELECT platform, native_id, url FROM posts WHERE id_is_derived = 0 AND id IN (SELECT post_id FROM reactions) "
        "ORDER BY created_at, id"
    ):
        value = dehydrated_id(platform, native_id, url)
        if value is not None:
            expected.setdefault(platform, []).append(value)
    listed = {p.stem: p.read_text(encoding="utf-8").splitlines() for p in (tmp_path / "out" / "ids").iterdir()}
    assert listed == expected and sorted(listed) == ["bluesky", "mastodon", "telegram", "x"]
    # A post with a derived key is in no list: test_a_post_without_its_id_is_in_no_list.


def test_a_post_without_its_id_is_in_no_list(peru_archive, tmp_path):
    result = export_package(peru_archive, tmp_path / "out")
    assert result.id_lists == {} and not (tmp_path / "out" / "ids").exists()
    assert "1 exported post has no shareable platform id" in (tmp_path / "out" / "README.md").read_text()


@pytest.mark.parametrize(
    "platform, native_id, url, expected",
    [
        ("x", "1402279246033858617", None, "1402279246033858617"),
        ("x", None, "https://x.com/a/status/1", None),
        ("bluesky", "at://did:plc:abc/app.bsky.feed.post/3k", None, "at://did:plc:abc/app.bsky.feed.post/3k"),
        ("bluesky", "repost:did:plc:abc:at://x", None, None),
        ("mastodon", "https://m.example/@a/1", None, "https://m.example/@a/1"),
        ("mastodon", "109", "https://m.example/@a/109", "https://m.example/@a/109"),
        ("telegram", "channel_1/42", None, "https://t.me/channel_1/42"),
        ("facebook", "www.facebook.com/p/1", "https://www.facebook.com/p/1", None),
    ],
)
def test_dehydrated_id_per_platform(platform, native_id, url, expected):
    assert dehydrated_id(platform, native_id, url) == expected


# --- determinism, checksums, memory, secrets ---------------------------------------------------


@pytest.mark.parametrize("format_name", ["csv", "jsonl", "parquet"])
def test_two_exports_are_byte_identical(multi_archive, tmp_path, format_name):
    if format_name == "parquet":
        pytest.importorskip("pyarrow")
    first = export_package(multi_archive, tmp_path / "a", format_name=format_name, tables=OTHER_TABLES)
    second = export_package(multi_archive, tmp_path / "b", format_name=format_name, tables=OTHER_TABLES)
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    assert first.checksums == second.checksums


@pytest.mark.parametrize("format_name", ["csv", "jsonl"])
def test_batch_size_does_not_change_the_files(multi_archive, tmp_path, format_name):
    export_package(multi_archive, tmp_path / "a", format_name=format_name, tables=OTHER_TABLES, batch_size=1)
    export_package(multi_archive, tmp_path / "b", format_name=format_name, tables=OTHER_TABLES, batch_size=3)
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")


def test_manifest_checksums_are_right(multi_archive, tmp_path):
    export_package(multi_archive, tmp_path / "out", tables=OTHER_TABLES)
    folder = tmp_path / "out"
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    assert lines == sorted(lines, key=lambda line: line.split("  ", 1)[1])
    listed = read_checksums(folder)
    assert set(listed) == set(files_of(folder)) - {"SHA256SUMS"}
    for name, digest in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert verify_package(folder) == []
    (folder / "ids" / "x.txt").write_text("1\n")
    assert verify_package(folder) == ["ids/x.txt"]


def test_export_streams_with_flat_memory(valdoria_archive, tmp_path):
    """Ten times the rows must not take anywhere near ten times the memory."""
    db = valdoria_archive.db

    def grow_to(total):
        with valdoria_archive.write():
            start = db["posts"].count
            db.execute(
                "WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                "INSERT INTO posts (id, platform, native_id, id_is_derived, created_at, text, hashtags) "
                "SELECT 'x:' || (1000000000 + i), 'x', CAST(1000000000 + i AS TEXT), 0, '2021-06-08T12:00:00Z', "
                "'Felicitaciones por las elecciones, número ' || i || ' ' || hex(randomblob(40)), '[\"Elecciones\"]' "
                "FROM n",
                [start + 1, total],
            )
            db.execute(
                "INSERT OR IGNORE INTO election_posts (election_id, post_id, matched_terms, score) "
                "SELECT 'valdoria-2021', id, '[\"elecciones\"]', 1 FROM posts"
            )

    def peak(total):
        grow_to(total)
        tracemalloc.start()
        export_package(valdoria_archive, tmp_path / f"out-{total}", format_name="jsonl", tables=("posts",),
                       batch_size=200)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(1_000), peak(10_000)
    assert large < small * 2, (small, large)


def test_exports_hold_nothing_from_the_environment(multi_archive, tmp_path, monkeypatch):
    secret = "sekret-7d1f0c9e-token"
    for name in (x_source.TOKEN_ENV, mastodon_source.TOKEN_VARIABLE, "REACTIONS_DB", "HOME", "USER", "SECRET_KEY"):
        monkeypatch.setenv(name, secret)
    for format_name in ("csv", "jsonl"):
        export_package(multi_archive, tmp_path / format_name, format_name=format_name, tables=OTHER_TABLES)
        for name, content in files_of(tmp_path / format_name).items():
            assert secret.encode() not in content, name
    source = (Path(__file__).resolve().parent.parent / "scraper" / "export.py").read_text()
    assert "os.environ" not in source and "getenv" not in source


def test_the_archive_is_only_read(multi_archive, tmp_path):
    before = multi_archive.counts()
    export_package(multi_archive, tmp_path / "out", tables=OTHER_TABLES)
    assert multi_archive.counts() == before
    assert not multi_archive.db.conn.in_transaction
    assert not list(multi_archive.db.execute("SELECT name FROM temp.sqlite_master"))


def test_an_export_inside_the_callers_transaction_leaves_it_open(multi_archive, tmp_path):
    db = multi_archive.db
    db.execute("BEGIN")
    try:
        export_package(multi_archive, tmp_path / "out", tables=OTHER_TABLES)
        assert db.conn.in_transaction
        assert not list(db.execute("SELECT name FROM temp.sqlite_master"))
    finally:
        db.execute("ROLLBACK")
    assert files_of(tmp_path / "out") == files_of(export_package(multi_archive, tmp_path / "again",
                                                                 tables=OTHER_TABLES).folder)


def test_an_archive_given_by_its_path(multi_archive, tmp_path):
    export_package(multi_archive, tmp_path / "a", tables=OTHER_TABLES)
    export_package(str(multi_archive.path), tmp_path / "b", tables=OTHER_TABLES)
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    (tmp_path / "notes.db").write_text("not a database")
    with pytest.raises(ArchiveUnwritableError, match="cannot read the archive"):
        export_package(tmp_path / "notes.db", tmp_path / "c")
    with pytest.raises(ArchiveUnwritableError, match="no archive here yet"):
        export_package(tmp_path / "missing.db", tmp_path / "c")
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "c").exists()


def test_overwrite_replaces_only_an_earlier_export(peru_archive, tmp_path):
    folder = tmp_path / "out"
    export_package(peru_archive, folder, format_name="jsonl", tables=OTHER_TABLES)
    with pytest.raises(InputError, match="not empty"):
        export_package(peru_archive, folder)
    export_package(peru_archive, folder, overwrite=True)
    assert sorted(files_of(folder)) == ["README.md", "SHA256SUMS", "data/reactions.csv", "datapackage.json"]
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    with pytest.raises(InputError, match="not an earlier export"):
        export_package(peru_archive, other, overwrite=True)
    assert (other / "mine.txt").read_text() == "keep me"


# --- the reactions as the view gives them; CSV as csv.writer writes it ---------------------


@pytest.fixture
def roles_archive(multi_archive):
    """multi_archive with what makes the reactions view's columns hard to
    compute: every account a leader's, leaders holding several roles on a
    day (by precedence, then the latest start; one exact tie), a role held
    for one day, a second election (sorting first) with half the posts, and
    a post a minute before the result (hours_after_result -0.0)."""
    db = multi_archive.db
    with multi_archive.write():
        db.execute(
            "UPDATE accounts SET leader_id = CASE id % 3 WHEN 0 THEN 'rosa-fictional' WHEN 1 THEN 'andres-ficcion' "
            "ELSE 'lucia-inventada' END WHERE leader_id IS NULL"
        )
        db.execute(
            "INSERT INTO roles (leader_id, title, kind, country, start_date, end_date, precedence) VALUES "
            "('lucia-inventada', 'President-elect (fictional)', 'head_of_state_elect', 'BR', "
            "'2021-06-09', '2021-12-31', 3), "
            "('rosa-fictional', 'Party leader, old', 'party_leader', 'UY', '2020-01-01', NULL, 9), "
            "('rosa-fictional', 'Party leader, new', 'party_leader', 'UY', '2026-01-01', '2026-12-31', 9), "
            "('andres-ficcion', 'Minister for a day', 'minister', 'CL', '2026-04-01', '2026-04-01', 6), "
            "('tomas-imaginario', 'Acting president (fictional)', 'head_of_state', 'AR', '2019-12-10', NULL, 1)"
        )
        db.execute(
            "INSERT INTO elections (id, name, country, timezone, polling_dates, result_announced_at, result_label, "
            "window_start, window_end, candidates, terms, config_path, loaded_at) "
            "SELECT 'aaa-2026', 'Another fictional election', 'AR', timezone, polling_dates, '2026-04-01T12:00:00Z', "
            "'Another result', window_start, window_end, candidates, terms, config_path, loaded_at "
            "FROM elections WHERE id = 'valdoria-2021'"
        )
        db.execute(
            "INSERT INTO election_posts (election_id, post_id, matched_terms, score) "
            "SELECT 'aaa-2026', post_id, '[\"otra, elección\"]', 0.25 FROM election_posts WHERE rowid % 2 = 0"
        )
        db.execute("UPDATE posts SET created_at = '2021-06-07T23:59:00Z' WHERE id = 'x:1402279246033858617'")
        refresh_reaction_rows(db)
    return multi_archive


def test_the_fixture_has_what_it_says(roles_archive):
    rows = list(roles_archive.db.execute("SELECT DISTINCT role_kind, election, hours_after_result FROM reactions"))
    kinds = {row[0] for row in rows}
    assert {"head_of_state", "head_of_state_elect", "party_leader", "minister", "legislator"} <= kinds
    assert {row[1] for row in rows} == {"aaa-2026", "valdoria-2021"}
    assert any(str(row[2]) == "-0.0" for row in rows)


FILTERS = [
    {},
    {"elections": ("aaa-2026",)},
    {"role_kinds": ("party_leader", "minister")},
    {"countries": ("UY", "CL"), "since": "2026-01-01"},
    {"platforms": ("x", "bluesky"), "until": "2021-06-09"},
]


@pytest.mark.parametrize("filters", FILTERS)
def test_filtered_exports_hold_the_rows_the_filters_select(roles_archive, tmp_path, filters):
    """The reactions table read with the filters' WHERE, in export order, in
    the export's dialect; the posts are those of the selected reactions.
    (Exports read the table since migration m008: no other path to agree with.)"""
    chosen = ExportFilters(**filters).normalised()
    export_package(roles_archive, tmp_path / "out", tables=OTHER_TABLES, filters=chosen)
    db = roles_archive.db
    where, params = export_module.reactions_where(chosen)
    columns = view_columns(roles_archive)
    reactions = db.execute(f"SELECT {', '.join('r.' + c for c in columns)} FROM reactions r WHERE {where} "
                           "ORDER BY r.election, r.created_at, r.post_id", params).fetchall()
    assert reactions, filters  # each filter selects something in this fixture
    assert (tmp_path / "out" / "data" / "reactions.csv").read_bytes() == dialect_bytes(reactions, columns)
    posts = db.execute(f"SELECT * FROM posts WHERE id IN (SELECT r.post_id FROM reactions r WHERE {where}) "
                       "ORDER BY created_at, id", params)
    header = [d[0] for d in posts.description]
    assert (tmp_path / "out" / "data" / "posts.csv").read_bytes() == dialect_bytes(posts, header)


def dialect_bytes(rows, header) -> bytes:
    """The export's CSV dialect (docs/exporting.md), written here on its own:
    every text quoted with quotes doubled, NULL an empty field, numbers as
    Python writes them, LF line ends."""

    def field(value) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return '"' + value.replace('"', '""') + '"'
        return repr(value) if isinstance(value, float) else str(value)

    lines = [",".join(header)] + [",".join(map(field, row)) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def csv_writer_bytes(rows, header) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_tables_are_written_in_the_dialect(roles_archive, tmp_path):
    export_package(roles_archive, tmp_path / "out", tables=OTHER_TABLES)
    db = roles_archive.db
    columns = view_columns(roles_archive)
    reactions = db.execute(f"SELECT {', '.join(columns)} FROM reactions ORDER BY election, created_at, post_id")
    assert (tmp_path / "out" / "data" / "reactions.csv").read_bytes() == dialect_bytes(reactions, columns)
    posts = db.execute("SELECT * FROM posts WHERE id IN (SELECT post_id FROM reactions) ORDER BY created_at, id")
    header = [d[0] for d in posts.description]
    assert (tmp_path / "out" / "data" / "posts.csv").read_bytes() == dialect_bytes(posts, header)
    # every table read back by csv.reader gives the values csv.writer's files gave
    for name in TABLES:
        path = tmp_path / "out" / "data" / f"{name}.csv"
        source = export_module.READ_FROM.get(name, name)
        sql, params = export_module._table_query(name, export_module._columns(db, source)[0],
                                                  ExportFilters(), export_module._Selection("temp.every_post"))
        db.execute("CREATE TEMP TABLE IF NOT EXISTS every_post AS SELECT DISTINCT post_id FROM reactions")
        expected = csv_writer_bytes(db.execute(sql, params), []).decode("utf-8")[1:]
        with path.open(encoding="utf-8", newline="") as file:
            assert list(csv.reader(file))[1:] == list(csv.reader(io.StringIO(expected, newline=""))), name


TRICKY_VALUES = [
    None, "", " ", "plain", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "nul\x00inside", "tab\there", "é,ñ 中文",
    '["a", "b"]', "[]", 0, -1, 2**63 - 1, -(2**63), 0.0, -0.0, 1.5, 0.1 + 0.2, 1e-05, 1e16, 123456789012345.6,
    -36.0, float("inf"), float("-inf"), float("nan"), b"", b"a,b", b'q"uote', True,
]


def test_csv_lines_are_what_csv_writer_writes():
    every_ascii = "".join(chr(code) for code in range(128))
    values = TRICKY_VALUES + [every_ascii, f"x{every_ascii}"] + [chr(code) for code in range(128)]
    columns = [
        values,  # every kind of value in one column
        [v for v in values if isinstance(v, str)] * 2,
        ([None] * len(values)),
        [v if isinstance(v, float) else None for v in values],
        [v if isinstance(v, int) and not isinstance(v, bool) else None for v in values],
        [v if isinstance(v, bytes) else "text" for v in values],
    ]
    length = min(len(c) for c in columns)
    columns = [c[:length] for c in columns]
    expected = csv_writer_bytes(list(zip(*columns)), [f"c{i}" for i in range(len(columns))]).decode("utf-8")
    header = csv_lines([[f"c{i}"] for i in range(len(columns))])
    assert header + csv_lines(columns) == expected
    for values in columns:  # a column on its own, and beside one that never needs quotes
        for shape in ([values], [values, ["-"] * length]):
            written = csv_writer_bytes(list(zip(*shape)), []).decode("utf-8")[1:]  # after the empty header line
            assert csv_lines(shape) == written


def test_reactions_export_loads_neither_the_importers_nor_the_network_client(peru_archive, tmp_path):
    script = (
        "import sys\n"
        "from scraper.cli import main\n"
        f"sys.argv = ['reactions', 'export', {str(tmp_path / 'out')!r}, '--db', {str(peru_archive.path)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print(sorted(m for m in ('scraper.archive', 'scraper.sources', 'bs4', 'httpx') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "out" / "data" / "reactions.csv").exists()


# --- command line -----------------------------------------------------------------------


@pytest.fixture
def runner_cli():
    """The group with the export command, registered for the test when
    scraper/cli.py does not register it itself."""
    registered = "export" in cli.commands
    if not registered:
        cli.add_command(export_command)
    yield cli
    if not registered:
        cli.commands.pop("export", None)


def test_cli_exports_with_filters(runner_cli, multi_archive, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        runner_cli,
        ["export", str(out), "--db", str(multi_archive.path), "--format", "jsonl", "--include", "posts",
         "--platform", "x", "--language", "es", "--since", "2021-06-01"],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{out}: 2 reactions, 2 posts (jsonl); id lists: 2 x;")
    assert len((out / "data" / "reactions.jsonl").read_text().splitlines()) == 2
    descriptor = json.loads((out / "datapackage.json").read_text())
    assert descriptor["reaction_archive"]["filters"] == {"platform": ["x"], "language": ["es"], "since": "2021-06-01"}


def test_cli_include_all(runner_cli, peru_archive, tmp_path):
    result = CliRunner().invoke(runner_cli, ["export", str(tmp_path / "out"), "--db", str(peru_archive.path),
                                             "--include", "all"])
    assert result.exit_code == 0, result.output
    assert sorted(p.stem for p in (tmp_path / "out" / "data").iterdir()) == sorted(TABLES)


@pytest.mark.parametrize(
    "arguments, code, message",
    [
        (["--election", "nowhere"], 2, "--election nowhere: not in this archive"),
        (["--until", "soon"], 2, "--until 'soon'"),
        (["--db", "missing.db"], 4, "no archive here yet"),
    ],
)
def test_cli_errors_have_exit_codes(runner_cli, peru_archive, tmp_path, monkeypatch, arguments, code, message):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(runner_cli, ["export", "out", "--db", str(peru_archive.path), *arguments])
    assert result.exit_code == code, result.output
    assert message in result.output


def test_cli_db_option_matches_the_other_commands():
    def db_param(command):
        return next(p for p in command.params if p.name == "db_path")

    ours, theirs = db_param(export_command), db_param(cli.commands["status"])
    assert (ours.default, ours.envvar, ours.opts, ours.help) == (theirs.default, theirs.envvar, theirs.opts, theirs.help)
    assert "Example:" in export_command.help
