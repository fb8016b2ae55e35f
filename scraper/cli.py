"""The ``reactions`` command: a thin layer over the library.

Each command parses options, calls the library, and turns its errors into a
message and an exit code (see scraper/errors.py and the README).

Each command imports what it needs when it runs: loading the archive module
pulls in every importer (BeautifulSoup, httpx, sqlite-utils ...), about half
a second that ``reactions --version``, ``--help`` and ``reactions export``
do not need.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import nullcontext
from pathlib import Path

import click

from . import __version__
from .cli_export import export_command
from .cli_roster import roster_group
from .cli_options import DB_PATH_META, DEFAULT_CONFIG, config_option, db_option
from .errors import ArchiveUnwritableError, InputError, ReactionArchiveError


class ReactionsGroup(click.Group):
    """Turns library errors into a one-line message and their exit code."""

    def invoke(self, ctx):
        import sqlite3

        try:
            return super().invoke(ctx)
        except ReactionArchiveError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except sqlite3.DatabaseError as exc:  # met mid-command: the file was damaged or taken away under us
            from .integrity import recovery_advice

            db_path = ctx.meta.get(DB_PATH_META, "the archive")
            click.echo(f"Error: {db_path}: the archive cannot be read or written ({exc}); {recovery_advice(db_path)}",
                       err=True)
            ctx.exit(4)


def open_archive(db_path: str, config_path: str | None = None):
    """Open and migrate the archive; load the config into it when given."""
    from .archive import Archive
    from .config import load_config

    archive = Archive(db_path)
    archive.migrate()
    config = None
    if config_path:
        config = load_config(config_path)
        archive.load_config(config)
    return archive, config


@click.group(cls=ReactionsGroup)
@click.version_option(__version__, prog_name="reactions")
def cli():
    """Reaction Archive: capture what political leaders post about an
    election, keep it in one SQLite file, publish it with Datasette.

    \b
    Example, the bundled Peru 2021 example, offline:
        reactions scrape
        reactions serve
    \b
    Example, a roster of Latin America's leaders from Wikidata:
        reactions roster wikidata rosters/latin-america.yml --countries latin-america --since 2016-01-01

    Exit codes: 0 ok; 1 some sources (or imported inputs) failed, the
    others were archived; 2 usage, config or input error (an import whose
    every input failed); 3 archive locked; 4 archive cannot be opened or
    written, or is damaged (docs/reliability.md says how to recover); 5 a
    merge refused an input (nothing changed).
    """


@cli.command()
@db_option
@config_option
def init(db_path, config_path):
    """Create or migrate the archive and load the config's election and roster.

    \b
    Example:
        reactions init --config elections/peru-2021.yml --db archive.db
    """
    from .archive import Archive
    from .config import load_config
    from .integrity import WritingSession

    config = load_config(config_path)
    with WritingSession(db_path) as session:
        archive = Archive(db_path)
        session.attach(archive)
        applied = archive.migrate()
        archive.load_config(config)
    _note_interrupted(session.interrupted)
    click.echo(
        f"{db_path}: schema {'migrated (' + ', '.join(applied) + ')' if applied else 'up to date'}; "
        f"election {config.election.id}, {len(config.leaders)} leaders, {len(config.sources)} sources loaded"
    )


@cli.command()
@db_option
@config_option
@click.option("--source", "only", multiple=True, help="Run only this source id (repeatable).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Fetch posts from this date (UTC), ignoring the saved incremental state.")
@click.option("--full", is_flag=True, help="Backfill the whole election window again, ignoring the saved state.")
@click.option("--recheck-days", type=click.IntRange(0), default=7, show_default=True,
              help="Re-check posts younger than this many days for edits, new counts and deletions (0: off).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="One summary line per source as text, or JSON lines (for cron and CI).")
@click.option("--shard", metavar="K/N", default=None,
              help="Scrape only shard K of N: a stable share of the roster's accounts and of the other sources "
                   "(rendezvous hashing; merge the shards' archives with 'reactions merge'). See docs/scaling.md.")
def scrape(db_path, config_path, only, since, full, recheck_days, log_format, shard):
    """Run every source of the config into the archive.

    Incremental: each source and account continues from the state saved in
    the archive after its last complete run. Sources that fail (network,
    refusal, unknown account) are reported and the others still run; the
    exit code is then 1. A second run on the same archive exits with code 3.

    \b
    Example:
        reactions scrape
        reactions scrape --config elections/peru-2021.yml --db archive.db --source seed-report-text
        reactions scrape --since 2021-06-06 --log-format json >> scrape.jsonl
        reactions scrape --shard 2/3 --db shard-2.db    # one of three machines
    """
    from .archive import Archive
    from .config import load_config
    from .integrity import WritingSession
    from .scrape import ScrapeOptions, run_scrape
    from .sharding import parse_shard

    chosen_shard = parse_shard(shard) if shard is not None else None
    config = load_config(config_path)
    options = ScrapeOptions(
        since=since.strftime("%Y-%m-%dT00:00:00Z") if since else None, full=full, recheck_days=recheck_days,
        shard=chosen_shard,
    )

    def report(result):
        if log_format == "json":
            click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            click.echo(_summary_line(result))

    with WritingSession(db_path) as session:
        archive = Archive(db_path)
        session.attach(archive)
        with _progress(enabled=log_format == "text") as progress:
            result = run_scrape(archive, config, only=list(only) or None, on_source=report, options=options,
                                on_progress=progress)
        counts = archive.counts()
    if log_format == "text":
        _note_interrupted(session.interrupted)
        click.echo(
            f"run {result.run_id}: {len(result.sources)} sources, {len(result.failed)} failed; "
            f"archive {db_path}: {counts['posts']} posts, {counts['election_posts']} relevant, "
            f"{counts['reported_reactions']} reported reactions, {counts['parse_errors']} parse errors"
        )
    sys.exit(result.exit_code)


def _note_interrupted(count: int) -> None:
    if count:
        click.echo(f"note: {count} earlier run(s) had been killed; marked interrupted", err=True)


class _progress:
    """A spinner naming the source and account at work, on a terminal only
    (never under cron, CI or --log-format json)."""

    def __init__(self, enabled: bool):
        from rich.console import Console

        self.console = Console(stderr=True)
        self.enabled = enabled and self.console.is_terminal
        self.status = None

    def __enter__(self):
        if self.enabled:
            self.status = self.console.status("starting")
            self.status.__enter__()
        return self

    def __call__(self, description: str) -> None:
        if self.status is not None:
            self.status.update(description)

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.__exit__(*exc)


class _import_progress:
    """Items stored so far and the rate, redrawn after each commit, on a
    terminal only. It draws from the importing thread (no refresh thread),
    so worker processes can still be forked."""

    def __init__(self, location: str):
        from rich.console import Console

        self.console = Console(stderr=True)
        self.location = location
        self.progress = None

    def __enter__(self):
        if self.console.is_terminal:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} items"),
                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                console=self.console, auto_refresh=False, transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(Path(self.location).name, total=None, rate="")
        return self

    def __call__(self, stats) -> None:
        if self.progress is None:
            return
        elapsed = self.progress.tasks[0].elapsed or 0
        rate = f"{stats.items / elapsed:,.0f}/s" if elapsed else ""
        self.progress.update(self.task, completed=stats.items, rate=rate)
        self.progress.refresh()

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.stop()


def _summary_line(result) -> str:
    stats = result.stats
    line = (
        f"{result.source_id} [{result.kind}] {result.status}: {stats.items} items, {stats.new_posts} new, "
        f"{stats.new_versions} new versions, {stats.unchanged} unchanged, {stats.parse_errors} parse errors, "
        f"{stats.relevant} relevant"
    )
    if result.reported_reactions:
        line += f", {result.reported_reactions} reported reactions"
    if getattr(result.stats, "deleted", 0):
        line += f", {result.stats.deleted} deleted"
    for anomaly in getattr(result, "anomalies", None) or []:
        line += f" — anomaly: {anomaly}"
    if result.error:
        line += f" — {result.error}"
    return line


def _format_help() -> str:
    from .formats import FILE_READERS

    return ", ".join(sorted(FILE_READERS))


class _ImportCommand(click.Command):
    """``reactions import --help`` ends with the registered formats. They are
    known only once every importer is loaded, so they are listed when the
    help is shown, not whenever the command line starts."""

    def format_help_text(self, ctx, formatter):
        help_text = self.help
        self.help = f"{help_text}\n\n    Formats: {_format_help()}."
        try:
            super().format_help_text(ctx, formatter)
        finally:
            self.help = help_text


@cli.command(name="import", cls=_ImportCommand)
@click.argument("format_name", metavar="FORMAT")
@click.argument("locations", nargs=-1, required=True, metavar="PATH_OR_URL...")
@db_option
@click.option("--config", "config_path", default=None, envvar="REACTIONS_CONFIG", type=click.Path(dir_okay=False),
              help=f"Election config to load first (default: {DEFAULT_CONFIG} if it exists).")
@click.option("--hydrate", is_flag=True,
              help="Then fetch the content of posts known only by id or URL (as 'reactions hydrate'); "
                   "without the network they stay pending.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Processes reading a large line-based file (twarc2-jsonl, snscrape-jsonl) while the archive is written; "
                   "0 reads in one process. Default: one per usable CPU, at most 3, for files of 4 MiB and more.")
def import_(format_name, locations, db_path, config_path, hydrate, workers):
    """Import saved files (or an article URL) in FORMAT into the archive.

    FORMAT is one of the registered readers: article (a saved HTML page, a
    URL, or plain text), the raw formats of each platform adapter, and the
    collections of other tools (listed below). A bad record is a parse
    error with its line; the rest of the file is imported.

    \b
    Example:
        reactions import article examples/peru-2021/seed-report.html
        reactions import article https://example.org/news/page.html
        reactions import twarc2-jsonl tweets.jsonl
        reactions import twarc2-jsonl big-collection.jsonl --workers 3
        reactions import urls cited-posts.csv --hydrate

    On a terminal, a line on stderr counts the items stored as they go.
    An input that gives no post fails, and its line says what it looked
    like; the exit code is 2 when every input failed, 1 when some did.
    """
    from . import limits
    from .config import load_config
    from .http import PoliteClient
    from .integrity import WritingSession
    from .scrape import hydrate_pending, import_file
    from .formats import FILE_READERS

    if format_name not in FILE_READERS:
        raise InputError(f"unknown import format {format_name!r} (known: {', '.join(sorted(FILE_READERS))})")
    if config_path is None and Path(DEFAULT_CONFIG).exists():
        config_path = DEFAULT_CONFIG
    config = load_config(config_path) if config_path else None
    failed = 0
    with limits.in_force(config.limits if config else None), WritingSession(db_path) as session:
        archive, _ = open_archive(db_path)
        session.attach(archive)
        if config:
            archive.load_config(config)
        _note_interrupted(session.interrupted)
        # Only an article (which may be a URL) and --hydrate go to the network:
        # a file import makes no HTTP client (httpx alone costs 0.4 s of CPU to load).
        needs_client = hydrate or format_name == "article"
        with (PoliteClient(contact=config.contact if config else None,
                           limits=(config.limits if config else limits.DEFAULT).http())
              if needs_client else nullcontext()) as client:
            for location in locations:
                with _import_progress(location) as progress:
                    result = import_file(archive, format_name, location, client=client, config=config,
                                         workers=workers, on_batch=progress)
                click.echo(_summary_line(result))
                failed += result.status == "failed"
            if hydrate:
                hydrate_pending(archive, client, on_source=lambda r: click.echo(_summary_line(r)))
    if failed:
        sys.exit(1 if failed < len(locations) else 2)


@cli.command()
@db_option
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Host to listen on.")
@click.option("-p", "--port", default=8001, show_default=True, type=int, help="Port to listen on.")
@click.option("--immutable", is_flag=True, help="Serve the file as immutable (for publishing: faster, never written).")
@click.option("--open", "open_browser", is_flag=True, help="Open a browser on the archive.")
@click.option("--inspect-file", type=click.Path(dir_okay=False), default=None,
              help="Counts made by 'datasette inspect' for an --immutable archive (pages skip counting).")
@click.option("--allow-robots", is_flag=True,
              help="Let search engines crawl the archive (robots.txt blocks them by default).")
def serve(db_path, host, port, immutable, open_browser, inspect_file, allow_robots):
    """Browse the archive in Datasette: the reactions as posts with facets
    and search, each post with its versions and captures, charts and a map,
    ready-made queries and an Atom feed; read-only, with a SQL time limit.

    Stops on Ctrl-C or SIGTERM (passed on to Datasette), leaving no
    process or temporary file behind.

    \b
    Example:
        reactions serve --open
        reactions serve --db archive.db --immutable --host 0.0.0.0 --port 8080
        datasette inspect archive.db --inspect-file counts.json
        reactions serve --db archive.db --immutable --inspect-file counts.json
    """
    from .archive import require_archive
    from .publish import serve as run_datasette

    require_archive(db_path)
    click.echo(f"Serving {db_path} on http://{host}:{port}/ (Ctrl-C to stop)")
    sys.exit(run_datasette(db_path, host=host, port=port, immutable=immutable, open_browser=open_browser,
                           inspect_file=inspect_file, allow_robots=allow_robots))


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option("--election", "election_id", metavar="ID",
              help="Also this election: reactions per type, its milestones, and who in government has not reacted yet.")
@click.option("--on", "on_day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="With --election: read roles on this day (default: the election's last polling date).")
def status(db_path, as_json, election_id, on_day):
    """The morning check: the archive's integrity (PRAGMA quick_check when
    the file changed since the last check; exit 4 if damaged), the last
    runs (runs a killed process left running are marked interrupted),
    failing or anomalous sources, each account's freshness, archive counts
    and accounts not in the roster; with --election, that election's
    reactions by type, its milestones and the leaders in government who
    have not reacted yet.

    \b
    Example:
        reactions status --db archive.db
        reactions status --election peru-2021
        reactions status --election peru-2021 --on 2021-07-28 --json | jq .election.not_reacted
    """
    from .archive import Archive, require_archive
    from .errors import ArchiveLockedError
    from .integrity import WritingSession, check
    from .schema import schema_is_current
    from .status import archive_status, status_lines

    require_archive(db_path)
    integrity = check(db_path)  # a damaged archive: exit 4, with the way to recover
    archive = Archive(db_path)
    try:
        # With the lock free, runs still 'running' died; an archive written
        # by an older version gains the new columns.
        with WritingSession(db_path) as session:
            session.attach(archive, close=False)
            if not schema_is_current(archive.db):
                archive.migrate()
    except (ArchiveLockedError, ArchiveUnwritableError):
        pass  # a run is going on (its runs are running indeed), or the file is read-only: only read
    report = archive_status(archive)
    report["integrity"] = {"result": integrity.get("result"), "checked_at": integrity.get("checked_at")}
    if election_id:
        from .classify_store import election_summary

        report["election"] = election_summary(archive.db, election_id, on_day.strftime("%Y-%m-%d") if on_day else None)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(status_lines(report, db_path)))


@cli.command()
@db_option
@click.option("--platform", "platforms", multiple=True, type=click.Choice(["x", "bluesky", "mastodon", "telegram"]),
              help="Only posts of this platform (repeatable).")
@click.option("--contact", default=None, help="Contact URL or e-mail for the User-Agent.")
def hydrate(db_path, platforms, contact):
    """Fetch the content of posts known only by their id or URL: URL lists
    imported with 'reactions import urls' and link-only embeds from
    articles. Needs the network; posts that cannot be fetched stay pending.

    \b
    Example:
        reactions import urls cited-posts.csv
        reactions hydrate --platform x
    """
    from .archive import Archive, require_archive
    from .http import PoliteClient
    from .integrity import WritingSession
    from .scrape import hydrate_pending

    require_archive(db_path)
    with WritingSession(db_path) as session, PoliteClient(contact=contact) as client:
        archive = Archive(db_path)
        session.attach(archive)
        _note_interrupted(session.interrupted)
        result = hydrate_pending(archive, client, platforms=list(platforms) or None, on_source=lambda r: click.echo(_summary_line(r)))
    if not result.sources:
        click.echo("nothing to hydrate: no pending or link-only posts")
    sys.exit(result.exit_code)


@cli.command()
@db_option
def reprocess(db_path):
    """Rebuild every post, version and relevance from the raw payloads kept
    in the archive (after a parser improvement). Captures stay as they are.

    \b
    Example:
        reactions reprocess --db archive.db
    """
    from .archive import Archive, require_archive
    from .integrity import WritingSession

    require_archive(db_path)
    with WritingSession(db_path) as session:
        archive = Archive(db_path)
        session.attach(archive)
        _note_interrupted(session.interrupted)
        archive.migrate()
        stats = archive.reprocess()
    click.echo(
        f"reprocessed {stats.items} captures: {stats.new_posts} posts, "
        f"{stats.new_versions} later versions, {stats.relevant} relevant sightings; "
        f"{stats.resolved_errors} earlier parse errors now read"
    )


@cli.command()
@click.argument("output", type=click.Path(dir_okay=False))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print what was merged as JSON.")
def merge(output, inputs, as_json):
    """Merge archives (the shards of 'reactions scrape --shard K/N', or any
    archives of this version) into OUTPUT, created if missing.

    Lossless: posts by identity (quotes without an id join their post),
    every version, capture and raw payload kept once, parse errors, run logs
    marked with their origin archive, source state, reported reactions with
    their sightings, reaction types (classified again where the inputs'
    classifier differs); roster, election and milestone differences are
    kept as OUTPUT has them and listed as conflicts; of two labels of one
    reaction the later stays and the other is listed. Merging
    the same archive again adds nothing; the order of the inputs does not
    change the content. One transaction: a merge killed at any moment leaves
    OUTPUT as it was. Inputs are only read. An input of a newer or unknown
    schema, a damaged one, or OUTPUT itself is refused (exit code 5) and
    nothing is changed. See docs/scaling.md.

    \b
    Example:
        reactions merge archive.db shard-1.db shard-2.db shard-3.db
        reactions merge archive.db shard-2.db       # again later: adds only what is new
        reactions merge --json merged.db a.db b.db | jq .inputs
    """
    from .combine import merge_archives

    progress = (lambda message: click.echo(message, err=True)) if not as_json else None
    result = merge_archives(output, list(inputs), progress=progress)
    if as_json:
        click.echo(json.dumps({
            "output": str(result.output),
            "inputs": [vars(item) for item in result.inputs],
            "quotes_joined": result.quotes_joined,
            "conflicts": result.conflicts,
        }, indent=2, ensure_ascii=False))
        return
    for item in result.inputs:
        counts = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in item.counts.items())
        shard = f" (shard {item.shard})" if item.shard else ""
        click.echo(f"{item.path}{shard}: added {counts}")
    if result.quotes_joined:
        click.echo(f"{result.quotes_joined} quotes without an id joined the posts they quote")
    for conflict in result.conflicts:
        click.echo(f"conflict: {conflict['table_name']} {conflict['row_key']} {conflict['column_name']}: kept "
                   f"{conflict['kept']!r}, recorded {conflict['other']!r} (merging archive {conflict['origin'][:12]})")
    click.echo(f"{output}: merged {len(result.inputs)} archives"
               + (f"; {len(result.conflicts)} conflicts recorded in merge_conflicts" if result.conflicts else ""))


@cli.group()
def demo():
    """A fictional demo election to look at on day one (clearly labelled
    fictional: every name, role and handle is invented).

    \b
    Example:
        reactions demo build --db demo.db
        reactions serve --db demo.db --open
    """


@demo.command(name="build")
@click.option("--db", "db_path", default="demo.db", show_default=True, type=click.Path(dir_okay=False),
              help="New archive file for the demo (never an existing archive).")
def demo_build(db_path):
    """Build the fictional demo election into its own archive file, offline:
    a few thousand posts on X, Bluesky and Mastodon by 48 fictional leaders of
    16 countries, imported through the real readers. Then serve it.

    \b
    Example:
        reactions demo build --db demo.db
        reactions serve --db demo.db --open
    """
    from .demo import build_demo

    results = build_demo(db_path)
    posts = sum(stats["new_posts"] for stats in results.values())
    per_file = ", ".join(f"{name}: {stats['new_posts']}" for name, stats in results.items())
    click.echo(f"{db_path}: fictional demo election built, {posts} posts ({per_file}); "
               f"browse it with: reactions serve --db {db_path}")


@cli.command()
@click.argument("target", required=False)
@click.argument("reaction_type", required=False, metavar="TYPE")
@db_option
@click.option("--election", "election_id", metavar="ID", help="The election (default: the only one in the archive).")
@click.option("--note", help="Why, in your words (kept with the label).")
@click.option("--by", "labelled_by", envvar="REACTIONS_LABELLER", help="Who labels (env REACTIONS_LABELLER).")
@click.option("--file", "label_file", type=click.Path(dir_okay=False),
              help="Labels from a CSV file with columns election, target, reaction_type, note, labelled_by.")
@click.option("--remove", is_flag=True, help="Remove the label of TARGET (the classifier's type shows again).")
def label(target, reaction_type, db_path, election_id, note, labelled_by, label_file, remove):
    """Set a reaction's type by hand: TARGET is a post id (the reactions
    table's post_id) or reported:ID for a reported reaction, TYPE one of
    congratulation, recognition, call_for_calm, irregularities, rejection,
    other. A label always wins over the classifier, and reprocessing the
    archive never touches it; the classifier's type and evidence stay
    beside it (the reactions table's classified_type and type_evidence).

    \b
    Example:
        reactions label x:1402279246033858617 congratulation --election peru-2021 --by ana
        reactions label reported:3 recognition --note "congratulates the people, not the winner"
        reactions label --file coded-by-hand.csv --by ana
        reactions label x:1402279246033858617 --remove
    """
    from . import classify_store
    from .archive import Archive, require_archive
    from .integrity import WritingSession
    from .reaction_types import TYPES

    require_archive(db_path)
    with WritingSession(db_path) as session:
        archive = Archive(db_path)
        session.attach(archive)
        _note_interrupted(session.interrupted)
        archive.migrate()
        db = archive.db
        if label_file:
            if target or reaction_type or remove:
                raise click.UsageError("give either --file or TARGET and TYPE, not both")
            labels = classify_store.read_label_file(db, label_file, default_by=labelled_by)
            with archive.write():
                for one in labels:
                    classify_store.set_label(db, one)
            click.echo(f"{label_file}: {len(labels)} labels set")
            return
        if not target:
            raise click.UsageError("give TARGET and TYPE (or --file)")
        try:
            post_id, reported_id = classify_store.parse_target(target)
        except ValueError as exc:
            raise InputError(f"TARGET: {exc}") from None
        election_id = election_id or _only_election(db)
        if remove:
            with archive.write():
                removed = classify_store.remove_label(db, election_id, post_id, reported_id)
            click.echo(f"{target}: label removed" if removed else f"{target}: had no label for {election_id}")
            return
        if not reaction_type:
            raise click.UsageError(f"give the TYPE: one of {', '.join(TYPES)}")
        one = classify_store.Label(election_id, reaction_type, post_id, reported_id, note, labelled_by)
        try:
            with archive.write():
                classify_store.set_label(db, one)
        except classify_store.LabelProblem as exc:
            where = {"reaction_type": "TYPE", "election": "--election", "target": "TARGET"}[exc.field]
            raise InputError(f"{where}: {exc}") from None
        click.echo(f"{target}: {reaction_type} ({election_id})")


def _only_election(db) -> str:
    ids = [row[0] for row in db.execute("SELECT id FROM elections ORDER BY id")]
    if len(ids) != 1:
        raise InputError(f"--election: required, this archive holds {len(ids)} elections ({', '.join(ids) or 'none'})")
    return ids[0]


cli.add_command(export_command)
cli.add_command(roster_group)


def main():
    # numpy comes in with sqlite-utils (its type adapters) and py3langid (the
    # language guess). Its OpenBLAS starts a thread per CPU when imported,
    # which spin for about 0.05 s of CPU a command; the small products of a
    # language guess are as fast on one thread (30 us a text either way).
    # A value the user set is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    cli()


if __name__ == "__main__":
    main()
