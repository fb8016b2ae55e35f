"""Every command has help with an example (the sqlite-utils habit)."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from scraper.cli import cli


def test_top_level_help_lists_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in cli.commands:
        assert name in result.output


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_help_has_example(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output, f"reactions {name} --help has no Example"


@pytest.mark.parametrize("name", ["wikidata", "check"])
def test_roster_subcommand_help_has_example(name):
    result = CliRunner().invoke(cli, ["roster", name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"reactions roster {name} " in result.output


def test_import_help_lists_formats():
    result = CliRunner().invoke(cli, ["import", "--help"])
    assert "article" in result.output and "bluesky-feed" in result.output


@pytest.mark.parametrize(
    "command", [["status"], ["serve"], ["hydrate"], ["reprocess"], ["export", "out"], ["label", "x:1", "other"]]
)
def test_commands_that_read_an_archive_refuse_a_missing_one_without_creating_it(command, tmp_path):
    db = tmp_path / "missing.db"
    result = CliRunner().invoke(cli, [*command, "--db", str(db)])
    assert result.exit_code == 4, result.output
    assert "no archive here yet" in result.output
    assert not db.exists()


def test_unknown_import_format_creates_nothing(tmp_path):
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["import", "bogus", "x.json", "--db", str(db)])
    assert result.exit_code == 2 and "unknown import format 'bogus'" in result.output
    assert not db.exists()


@pytest.mark.parametrize("arguments", [["--version"], ["--help"], ["export", "--help"], ["status", "--help"],
                                       ["roster", "--help"], ["roster", "wikidata", "--help"]])
def test_help_and_version_load_no_archive_code(arguments):
    """They answer at once: the archive module (and with it every importer,
    BeautifulSoup, httpx) and sqlite-utils are loaded only by the commands
    that use them."""
    script = (
        "import sys\n"
        "from scraper.cli import cli\n"
        f"try:\n    cli({arguments!r})\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print(sorted(m for m in ('scraper.archive', 'scraper.sources', 'sqlite_utils', 'bs4', 'httpx', 'yaml')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_export_help_names_every_partition_column():
    from scraper.partitioned import PARTITION_COLUMNS

    result = CliRunner().invoke(cli, ["export", "--help"], terminal_width=200)
    help_text = " ".join(result.output.split())
    assert all(name in help_text for name in PARTITION_COLUMNS), help_text
