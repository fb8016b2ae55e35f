"""Every command has help with an example (the sqlite-utils habit)."""

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


def test_import_help_lists_formats():
    result = CliRunner().invoke(cli, ["import", "--help"])
    assert "article" in result.output and "bluesky-feed" in result.output


@pytest.mark.parametrize("command", [["status"], ["serve"], ["hydrate"], ["reprocess"], ["export", "out"]])
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
