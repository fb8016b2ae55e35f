"""Config validation: every problem names the file, the key path and the line."""

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.config import load_config
from scraper.errors import ConfigError

from .conftest import PERU_CONFIG, VALDORIA_CONFIG


def test_bundled_config_loads():
    config = load_config(PERU_CONFIG)
    assert config.election.id == "peru-2021"
    assert config.election.window_start == "2021-06-06T05:00:00Z"  # midnight in Lima
    ids = [leader.id for leader in config.leaders]
    assert len(ids) == 9 and "luis-arce" in ids
    lula = config.leader("lula")
    assert [(r.kind, str(r.start), str(r.end)) for r in lula.roles][1:] == [
        ("former_head_of_state", "2011-01-01", "2022-12-31"),
        ("head_of_state", "2023-01-01", "None"),
    ]


def broken(tmp_path, old, new):
    text = VALDORIA_CONFIG.read_text().replace(old, new, 1)
    assert text != VALDORIA_CONFIG.read_text()
    path = tmp_path / "broken.yml"
    path.write_text(text)
    return path, text


def line_of(text, fragment):
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.mark.parametrize(
    "old,new,key,message,fragment",
    [
        ("    aliases: [Tomas Imaginario]", "    alias: [Tomas Imaginario]", "roster[1].alias", "unknown key 'alias'", "alias:"),
        ("start: 2019-12-10, end: 2023-12-09", "start: 2019-13-10, end: 2023-12-09", "roster[1].roles[0].start", "not a date", "2019-13-10"),
        ("    country: AR", "    country: XX", "roster[1].country", "not an ISO 3166-1 alpha-2", "country: XX"),
        ("  - id: lucia-inventada", "  - id: tomas-imaginario", "roster[2].id", "duplicate leader id", "id: tomas-imaginario\n"),
        ("kind: legislator", "kind: senator", "roster[3].roles[0].kind", "'senator' is not one of", "kind: senator"),
        ("  timezone: America/Montevideo", "  timezone: Mars/Olympus", "election.timezone", "IANA", "Mars/Olympus"),
    ],
)
def test_malformed_config_names_key_and_line(tmp_path, old, new, key, message, fragment):
    path, text = broken(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    error = info.value
    assert error.key == key
    assert message in str(error)
    expected_line = line_of(text, fragment.rstrip("\n")) if not fragment.endswith("\n") else [
        i for i, line in enumerate(text.splitlines(), 1) if line.strip() == "- id: tomas-imaginario"
    ][-1]
    assert error.line == expected_line
    assert str(error).startswith(f"{path}:{expected_line}")


def test_duplicate_yaml_key(tmp_path):
    path, _ = broken(tmp_path, "  name: Fictional runoff (tests)", "  name: Fictional runoff (tests)\n  name: again")
    with pytest.raises(ConfigError, match="duplicate key"):
        load_config(path)


def test_cli_exits_2_on_bad_config(tmp_path):
    path, text = broken(tmp_path, "    country: AR", "    country: XX")
    result = CliRunner().invoke(cli, ["scrape", "--config", str(path), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2
    assert f"broken.yml:{line_of(text, 'country: XX')}" in result.output
    assert "roster[1].country" in result.output


def test_missing_config_file(tmp_path):
    result = CliRunner().invoke(cli, ["init", "--config", str(tmp_path / "none.yml"), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2
    assert "config file not found" in result.output


def test_not_yaml(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("election: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.line is not None
