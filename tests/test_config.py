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


# --- roster files ---------------------------------------------------------------------


def with_roster_file(tmp_path, roster_text: str, include: str = "roster_files: [rosters/world.yml]"):
    (tmp_path / "rosters").mkdir(exist_ok=True)
    roster = tmp_path / "rosters" / "world.yml"
    roster.write_text(roster_text, encoding="utf-8")
    text = VALDORIA_CONFIG.read_text().replace("\nroster:\n", f"\n{include}\nroster:\n", 1)
    text = text.replace("path: ../article/news-embeds.html", "path: news.html")
    (tmp_path / "news.html").write_text("<p>A source file must exist: the config refuses one that does not.</p>")
    config = tmp_path / "election.yml"
    config.write_text(text, encoding="utf-8")
    return config, roster


WORLD = """\
wikidata:
  countries: [UY]
  queried: 2026-03-01
roster:
  - id: hugo-pasado  # Wikidata Q99990011, queried 2026-03-01
    name: Hugo Pasado
    country: UY
    roles:
      - {title: President of Valdoria, kind: head_of_state, start: 2010-03-01, end: 2015-03-01}
      - {title: Former President of Valdoria, kind: former_head_of_state, start: 2015-03-02}
    accounts:
      youtube: {id: UCaaaaaaaaaaaaaaaaaaaa02}
    wikidata:
      qid: Q99990011
      fetched: {name: 0123456789}
"""


def test_a_config_includes_roster_files(tmp_path):
    config_path, _ = with_roster_file(tmp_path, WORLD)
    config = load_config(config_path)
    ids = [leader.id for leader in config.leaders]
    assert ids[:4] == ["rosa-fictional", "tomas-imaginario", "lucia-inventada", "andres-ficcion"]
    assert ids[-1] == "hugo-pasado"
    hugo = config.leader("hugo-pasado")
    assert hugo.wikidata == "Q99990011" and hugo.accounts[0].platform == "youtube"
    assert [r.kind for r in hugo.roles] == ["head_of_state", "former_head_of_state"]


def test_a_config_may_take_its_whole_roster_from_files(tmp_path):
    config_path, _ = with_roster_file(tmp_path, WORLD.replace("hugo-pasado", "rosa-fictional"), "roster_files: rosters/world.yml")
    text = config_path.read_text(encoding="utf-8")
    start, end = text.index("\nroster:\n"), text.index("\nsources:\n")
    config_path.write_text(text[:start] + text[end:], encoding="utf-8")
    config = load_config(config_path)
    assert [leader.id for leader in config.leaders] == ["rosa-fictional"]


@pytest.mark.parametrize("old,new,key,message", [
    ("    country: UY\n", "    country: ZZ\n", "roster[0].country", "'ZZ' is not an ISO 3166-1"),
    ("end: 2015-03-01}", "end: 2015-02-30}", "roster[0].roles[0].end", "not a date"),
    ("qid: Q99990011", "qid: P35", "roster[0].wikidata.qid", "is not a Wikidata item id"),
    ("  queried: 2026-03-01", "  queried: 2026-03-01\n  color: blue", "wikidata.color", "unknown key 'color'"),
    ("youtube: {id", "tiktok: {id", "roster[0].accounts.tiktok", "unknown key 'tiktok'"),
])
def test_errors_in_a_roster_file_name_that_file_and_line(tmp_path, old, new, key, message):
    roster_text = WORLD.replace(old, new, 1)
    assert roster_text != WORLD
    config_path, roster = with_roster_file(tmp_path, roster_text)
    with pytest.raises(ConfigError) as info:
        load_config(config_path)
    error = info.value
    assert error.path == roster and error.key == key and message in str(error)
    fragment = new.splitlines()[-1].strip()
    assert error.line == line_of(roster_text, fragment)
    assert str(error).startswith(f"{roster}:{error.line}, key '{key}'")


def test_a_missing_roster_file_names_the_config_line(tmp_path):
    config_path, roster = with_roster_file(tmp_path, WORLD, "roster_files: [rosters/world.yml, rosters/none.yml]")
    with pytest.raises(ConfigError) as info:
        load_config(config_path)
    assert info.value.key == "roster_files[1]" and info.value.path == config_path
    assert "roster file not found" in str(info.value)
    assert info.value.line == line_of(config_path.read_text(encoding="utf-8"), "roster_files:")


def test_a_leader_in_both_the_config_and_a_roster_file_is_an_error_naming_both(tmp_path):
    config_path, roster = with_roster_file(tmp_path, WORLD.replace("hugo-pasado", "tomas-imaginario"))
    with pytest.raises(ConfigError) as info:
        load_config(config_path)
    message = str(info.value)
    assert message.startswith(f"{roster}:{line_of(roster.read_text(), '- id: tomas-imaginario')}, key 'roster[0].id'")
    assert f"first at {config_path}:" in message
