"""metadata.yml and the schema stay in step: every described table exists,
every column a user sees is described."""

from scraper.publish import load_metadata


def test_every_described_table_exists_and_every_column_is_described(archive):
    tables = load_metadata()["databases"]["archive"]["tables"]
    visible = set(archive.db.table_names()) | set(archive.db.view_names())
    hidden = {name for name in visible if name.startswith("posts_fts") or name == "_sqlite_migrations"}
    for name, described in tables.items():
        assert name in visible, f"metadata.yml describes {name}, which the schema lacks"
    for name in sorted(visible - hidden):
        assert name in tables, f"table or view {name} has no description in metadata.yml"
        assert tables[name].get("description"), f"{name} has no description"
        columns = {c.name for c in archive.db[name].columns}
        described = set(tables[name].get("columns", {}))
        assert columns - described == set(), f"{name}: columns not described: {sorted(columns - described)}"
        assert described - columns == set(), f"{name}: described columns missing: {sorted(described - columns)}"


def test_canned_queries_reference_existing_tables(archive):
    queries = load_metadata()["databases"]["archive"]["queries"]
    assert set(queries) >= {
        "election_timeline", "first_reactions", "reactions_per_country", "search",
        "congratulations_in_order", "allegations_and_calm", "not_yet_reacted",
    }
    for name, query in queries.items():
        assert query.get("title") and query.get("description"), name
        archive.db.execute("EXPLAIN " + query["sql"], {"election": "x", "q": "x", "type": "", "on": ""}).fetchall()


def test_schema_docs_up_to_date():
    from pathlib import Path

    from scraper.schema_docs import render_fresh

    path = Path(__file__).resolve().parent.parent / "docs" / "schema.md"
    assert path.read_text(encoding="utf-8") == render_fresh(), (
        "docs/schema.md is out of date: run python -m scraper.schema_docs > docs/schema.md"
    )
