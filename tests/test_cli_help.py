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
