"""``reactions export``: the command over :mod:`scraper.export`.

Kept apart from scraper/cli.py so that it imports nothing from it (cli.py
registers it with ``cli.add_command(export_command)``); its ``--db`` option
is the same as every other command's (a test keeps them in step). The
archive is handed to the export by its path: opening it through
scraper.archive would load every importer first.
"""

from __future__ import annotations

from pathlib import Path

import click

from .cli_options import db_option
from .errors import ArchiveUnwritableError, InputError
from .export import FORMATS, TABLES, ExportFilters, export_package

OTHER_TABLES = tuple(t for t in TABLES if t != "reactions")


@click.command(name="export")
@click.argument("folder", type=click.Path(file_okay=False))
@db_option
@click.option("-f", "--format", "format_name", type=click.Choice(FORMATS), default="csv", show_default=True,
              help="File format of the tables (parquet needs the 'parquet' extra: pyarrow).")
@click.option("--include", "tables", multiple=True, type=click.Choice((*OTHER_TABLES, "all")),
              help="Also export this table: posts, versions and captures of the exported reactions; "
                   "reported reactions and their types by the same filters; not_reacted, the leaders in "
                   "government who have not reacted, by election and country (repeatable; 'all' for every one).")
@click.option("--election", "elections", multiple=True, metavar="ID", help="Only this election (repeatable).")
@click.option("--country", "countries", multiple=True, metavar="CODE",
              help="Only authors from this country, ISO alpha-2 (repeatable).")
@click.option("--role-kind", "role_kinds", multiple=True, metavar="KIND",
              help="Only authors holding this kind of role on the day (head_of_state, candidate ...; repeatable).")
@click.option("--platform", "platforms", multiple=True, metavar="NAME", help="Only this platform (repeatable).")
@click.option("--language", "languages", multiple=True, metavar="CODE",
              help="Only posts in this language, ISO 639-1 (repeatable).")
@click.option("--since", metavar="DATE", help="Only posts created on or after this UTC date or date-time.")
@click.option("--until", metavar="DATE", help="Only posts created on or before this UTC date (the whole day) or date-time.")
@click.option("--overwrite", is_flag=True, help="Replace FOLDER when it holds an earlier export.")
@click.option("--partition", default=None, metavar="COLUMNS",
              help="With --format parquet: write the reactions in a Hive layout, one folder level per column "
                   "(data/reactions/election=.../platform=.../month=.../part-0.parquet) for DuckDB, Spark and "
                   "BigQuery; columns from election, platform, month, country_code, role_kind, language, reaction_type, "
                   "milestone.")
def export_command(folder, db_path, format_name, tables, elections, countries, role_kinds, platforms, languages,
                   since, until, overwrite, partition):
    """Export reactions as a Frictionless Data Package in FOLDER: the tables
    (CSV, JSONL or Parquet) with datapackage.json, a README with provenance,
    dehydrated id lists per platform (ids/x.txt ...) and SHA256SUMS.

    The same archive and options give byte-identical files. The archive is
    only read. See docs/exporting.md.

    \b
    Example:
        reactions export exports/peru-2021 --election peru-2021
        reactions export exports/heads --format parquet --role-kind head_of_state --include all
        reactions export exports/june --platform x --language es --since 2021-06-06 --until 2021-06-30
        reactions export exports/lake --format parquet --partition election,platform,month
    """
    if not Path(db_path).is_file():
        raise ArchiveUnwritableError(f"{db_path}: no archive here yet; run 'reactions scrape' first")
    filters = ExportFilters(
        elections=elections,
        countries=countries,
        role_kinds=role_kinds,
        platforms=platforms,
        languages=languages,
        since=since,
        until=until,
    )
    chosen = OTHER_TABLES if "all" in tables else tuple(tables)
    try:
        result = export_package(
            db_path, folder, format_name=format_name, tables=chosen, filters=filters, overwrite=overwrite,
            partition=partition or (),
        )
    except OSError as exc:  # a read-only folder, a full disk, a file where a folder should be
        where = exc.filename or folder
        raise InputError(
            f"{folder}: cannot write the export ({where}: {exc.strerror or exc}); nothing was exported, "
            "and an earlier export there is as it was"
        ) from None
    rows = ", ".join(f"{count} {name}" for name, count in result.rows.items())
    ids = ", ".join(f"{count} {platform}" for platform, count in sorted(result.id_lists.items())) or "none"
    click.echo(f"{folder}: {rows} ({format_name}); id lists: {ids}; {len(result.checksums)} files in SHA256SUMS")
