"""``reactions roster``: build a roster from Wikidata, check a roster.

A thin layer over :mod:`scraper.roster` (cli.py registers it with
``cli.add_command(roster_group)``). Like every command, it imports what it
needs when it runs, so ``reactions --help`` stays quick.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .cli_options import DEFAULT_CONFIG

OFFICES = ("head_of_state", "head_of_government", "foreign_minister")
FINDING_CODES = ("invalid", "unknown-country", "duplicate-id", "duplicate-qid", "overlap", "shared-account",
                 "no-account", "bad-handle")


@click.group(name="roster")
def roster_group():
    """Build a roster from Wikidata and check rosters.

    A roster file holds the leaders (roster:) that one or more election
    configs include with roster_files:. See docs/configuration.md,
    "Building the roster from Wikidata".

    \b
    Example:
        reactions roster wikidata rosters/latin-america.yml --countries latin-america --since 2016-01-01
        reactions roster wikidata rosters/latin-america.yml --dry-run
        reactions roster check rosters/latin-america.yml
    """


@roster_group.command(name="wikidata")
@click.argument("roster_file", type=click.Path(dir_okay=False))
@click.option("--countries", multiple=True, metavar="CODES",
              help="ISO 3166-1 alpha-2 codes, comma-separated (PE,BO), or a group: latin-america, un (UN members), "
                   "africa, asia, europe, north-america, south-america, oceania. Repeatable.")
@click.option("--office", "offices", multiple=True, type=click.Choice(OFFICES),
              help="Which offices of each country (repeatable; default: all three).")
@click.option("--position", "positions", multiple=True, metavar="QID[=KIND]",
              help="Also the holders of this position, with this role kind (default other). Repeatable.")
@click.option("--since", metavar="DATE",
              help="Everyone who held the offices on or after this date, with all their terms and former roles "
                   "(default: today, the current holders).")
@click.option("--language", "languages", metavar="CODES",
              help="Label languages, comma-separated; the first names the leader, all give aliases (default en).")
@click.option("--config", "config_path", default=None, envvar="REACTIONS_CONFIG", type=click.Path(dir_okay=False),
              help=f"Election config whose contact goes in the User-Agent (default {DEFAULT_CONFIG} if it exists).")
@click.option("--contact", default=None, help="Contact URL or e-mail for the User-Agent (overrides the config's).")
@click.option("--endpoint", default=None, metavar="URL",
              help="SPARQL endpoint (default https://query.wikidata.org/sparql).")
@click.option("--cache-dir", type=click.Path(file_okay=False), envvar="REACTIONS_CACHE_DIR", default=None,
              help="Where answers are cached for an hour (env REACTIONS_CACHE_DIR; default ~/.cache/reaction-archive).")
@click.option("--refresh", is_flag=True, help="Ask again even if an answer from the last hour is cached.")
@click.option("--take-wikidata", "take", multiple=True, metavar="ID[.FIELD]",
              help="Replace a hand-edited leader (or one field: name, country, aliases, roles, accounts, "
                   "accounts.x ...) with Wikidata's values. Repeatable.")
@click.option("--dry-run", is_flag=True, help="Show what would change (a diff), write nothing.")
def wikidata_command(roster_file, countries, offices, positions, since, languages, config_path, contact, endpoint,
                     cache_dir, refresh, take, dry_run):
    """Write or update ROSTER_FILE from the Wikidata Query Service: the heads
    of state and government and foreign ministers of the chosen countries,
    with dated roles (and former roles), ISO country codes, and accounts (X,
    Mastodon, Bluesky, Telegram, Facebook, Instagram, YouTube).

    Running it again updates what came from Wikidata and keeps every hand
    edit; conflicts are listed. The file remembers its options, so the
    file name alone updates it. Nothing is written unless every query
    answered; the file is replaced atomically.

    \b
    Example:
        reactions roster wikidata rosters/latin-america.yml --countries latin-america --since 2016-01-01
        reactions roster wikidata rosters/peru.yml --countries PE --position Q99990100=minister
        reactions roster wikidata rosters/latin-america.yml --dry-run
        reactions roster wikidata rosters/latin-america.yml --take-wikidata rosa-ficticia.roles

    Exit codes: 0 written (or nothing to change); 1 a query failed or the
    answers make no roster; 2 a wrong option or a roster file that does
    not load.
    """
    from datetime import datetime, timezone

    from .config import read_contact
    from .roster.build import Request, update_roster
    from .roster.cache import AnswerCache, default_cache_dir
    from .roster.wikidata import QueryService, polite_client

    if config_path is None and Path(DEFAULT_CONFIG).exists():
        config_path = DEFAULT_CONFIG
    contact = contact or (read_contact(config_path) if config_path else None)
    if not contact:
        click.echo("note: no contact (set contact: in the config or --contact); Wikimedia asks every client for "
                   "one in its User-Agent", err=True)
    request = Request(
        countries=list(countries) or None,
        offices=list(offices) or None,
        positions=list(positions) or None,
        since=since,
        languages=[languages] if languages else None,
        endpoint=endpoint,
    )
    cache = AnswerCache(Path(cache_dir) if cache_dir else default_cache_dir() / "wikidata")
    clients = []

    def service_for(url):
        client = polite_client(contact, endpoint=url)
        clients.append(client)
        return QueryService(client, url, cache=cache, refresh=refresh,
                            on_progress=lambda message: click.echo(f"Wikidata {message}", err=True))

    try:
        update = update_roster(roster_file, request, service_for, today=datetime.now(timezone.utc).date(),
                               take_wikidata=take, dry_run=dry_run)
    finally:
        for client in clients:
            client.close()
    _report(update, dry_run)


def _report(update, dry_run: bool) -> None:
    merge, found = update.merge, update.wikidata
    path = update.path
    people = {person.qid: person for person in found.people}
    for leader_id in merge.added:
        click.echo(f"new: {leader_id} {_about(people[merge.qids[leader_id]])}")
    for leader_id, fields in merge.updated.items():
        click.echo(f"updated: {leader_id} ({merge.qids[leader_id]}): {', '.join(fields)}")
    for note in merge.notes + found.notes:
        click.echo(f"note: {note}")
    for conflict in merge.conflicts:
        click.echo(f"conflict: {conflict.describe(path)}")
    if merge.conflicts:
        click.echo("(a conflict keeps the hand value; --take-wikidata ID[.FIELD] takes Wikidata's)")
    if dry_run:
        diff = merge.diff(path)
        click.echo(diff if diff else f"{path}: no change")
        outcome = "dry run, nothing written"
    else:
        outcome = "written" if update.written else "no change"
    counts = f"{len(merge.added)} new, {len(merge.updated)} updated, {merge.unchanged} unchanged"
    if merge.hand_edits_kept:
        counts += f", {_plural(merge.hand_edits_kept, 'hand edit')} kept"
    click.echo(f"{path}: {_plural(len(found.people), 'leader')} from Wikidata ({counts}), "
               f"{_plural(len(merge.conflicts), 'conflict')}, queried {found.queried.isoformat()}; {outcome}")


def _about(person) -> str:
    """(Q…, country): the latest role, for a reader to review a new entry."""
    role = person.roles[-1]
    span = f"since {role.start}" if role.end is None else f"{role.start} to {role.end}"
    return f"({person.qid}, {person.country}): {role.title}, {span}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@roster_group.command(name="check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--ignore", multiple=True, type=click.Choice(FINDING_CODES),
              help="Do not report findings of this kind (repeatable).")
def check_command(path, ignore):
    """Check a roster file, or an election config with its roster and
    roster files: entries that do not load, unknown countries, duplicate
    ids or Wikidata items, overlapping roles of one kind in one country,
    accounts claimed by two leaders, leaders without any account, handles
    that do not look like their platform's.

    One line per finding (FILE:LINE: [kind] leader: message); exit code 1
    when there is any, 0 when there is none, 2 when the file cannot be read.

    \b
    Example:
        reactions roster check rosters/latin-america.yml
        reactions roster check elections/peru-2021.yml --ignore no-account
    """
    from .roster.lint import check_roster

    path = path or os.environ.get("REACTIONS_CONFIG") or DEFAULT_CONFIG
    findings, leaders = check_roster(path, ignore=tuple(ignore))
    for finding in findings:
        click.echo(str(finding))
    click.echo(f"{path}: {leaders} leaders checked, {len(findings)} findings", err=True)
    sys.exit(1 if findings else 0)
