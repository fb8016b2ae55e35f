"""docs/schema.md, generated from the schema and metadata.yml so the two
never drift: ``python -m scraper.schema_docs > docs/schema.md`` (a test
fails when the file is out of date)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .archive import Archive
from .publish import load_metadata

HEADER = """# The archive's schema

Generated from `scraper/schema.py` and `metadata.yml` by
`python -m scraper.schema_docs > docs/schema.md`; edit those, not this file.
Migrations are recorded in `_sqlite_migrations`.

"""


def render(archive: Archive) -> str:
    tables = load_metadata()["databases"]["archive"]["tables"]
    db = archive.db
    names = [n for n in db.view_names() + db.table_names() if n in tables and not tables[n].get("hidden")]
    parts = [HEADER]
    for name in names:
        described = tables[name]
        kind = "view" if name in db.view_names() else "table"
        parts.append(f"## `{name}` ({kind})\n\n{described['description']}\n\n")
        parts.append("| column | type | description |\n|---|---|---|\n")
        for column in db[name].columns:
            text = described.get("columns", {}).get(column.name, "").replace("|", "\\|")
            parts.append(f"| `{column.name}` | {column.type or ''} | {text} |\n")
        parts.append("\n")
    return "".join(parts).rstrip() + "\n"


def render_fresh() -> str:
    with tempfile.TemporaryDirectory() as folder:
        archive = Archive(Path(folder) / "archive.db")
        archive.migrate()
        return render(archive)


if __name__ == "__main__":
    print(render_fresh(), end="")
