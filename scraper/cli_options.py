"""Options several commands share, declared once (as sqlite-utils bundles
its output options)."""

import click

DEFAULT_DB = "archive.db"
DEFAULT_CONFIG = "elections/peru-2021.yml"
DB_PATH_META = "reactions.db_path"  # the archive a command names, for error messages (ctx.meta is shared)


def _remember_db(ctx, _param, value):
    ctx.meta[DB_PATH_META] = value
    return value


def db_option(fn):
    return click.option(
        "--db",
        "db_path",
        default=DEFAULT_DB,
        show_default=True,
        envvar="REACTIONS_DB",
        type=click.Path(dir_okay=False),
        help="Archive file (env REACTIONS_DB).",
        callback=_remember_db,
    )(fn)


def config_option(fn):
    return click.option(
        "--config",
        "config_path",
        default=DEFAULT_CONFIG,
        show_default=True,
        envvar="REACTIONS_CONFIG",
        type=click.Path(dir_okay=False),
        help="Election config and roster, YAML (env REACTIONS_CONFIG).",
    )(fn)
