"""reactions roster check: one line per finding, with the file and line,
exit code 1 when anything is wrong."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.cli_roster import FINDING_CODES
from scraper.roster.lint import CODES, check_roster

ROSTER = Path(__file__).resolve().parent / "fixtures" / "roster" / "flawed.yml"


def line_of(fragment: str, occurrence: int = 1) -> int:
    lines = [i for i, line in enumerate(ROSTER.read_text(encoding="utf-8").splitlines(), 1) if fragment in line]
    return lines[occurrence - 1]


def test_every_kind_of_finding_with_its_line():
    findings, leaders = check_roster(ROSTER)
    assert leaders == 6  # eight entries; two do not load
    found = {(f.line, f.code, f.leader) for f in findings}
    expected = {
        (line_of("country: XX"), "unknown-country", None),
        (line_of("start: 2023-06-31"), "invalid", None),
        (line_of("- id: rosa-ficticia", 2), "duplicate-id", "rosa-ficticia"),
        (line_of("wikidata: Q99990001", 2), "duplicate-qid", "lucia-inventada"),
        # Tomás's second term overlaps Rosa's
        (line_of("start: 2021-01-01"), "overlap", "tomas-imaginario"),
        # one X account claimed by two leaders (handles match whatever the case)
        (line_of("x: {handle: Rosa_Ficticia}"), "shared-account", "tomas-imaginario"),
        (line_of("- id: lucia-inventada"), "no-account", "lucia-inventada"),
        (line_of('mastodon: {handle: "@rosa"}'), "bad-handle", "rosa-ficticia"),
        (line_of("telegram: {handle: tom}"), "bad-handle", "tomas-imaginario"),
        (line_of("bluesky: {handle: rosa ficticia"), "bad-handle", "rosa-ficticia"),
        (line_of("youtube: {id: UCshort}"), "bad-handle", "rosa-ficticia"),
    }
    assert found == expected
    bluesky = [f.message for f in findings if f.line == line_of("bluesky: {handle: rosa ficticia")]
    assert len(bluesky) == 2  # the handle and the DID
    # the two Swiss federal councillors share the collegial head of state: no overlap


def test_messages_name_the_other_place():
    findings, _ = check_roster(ROSTER)
    by_code = {f.code: str(f) for f in findings}
    assert by_code["shared-account"] == (
        f"{ROSTER}:{line_of('x: {handle: Rosa_Ficticia}')}: [shared-account] tomas-imaginario: x handle "
        f"'rosa_ficticia' is also rosa-ficticia's ({ROSTER}:{line_of('- id: rosa-ficticia')})"
    )
    assert "head_of_state of UY from 2021-01-01 overlaps rosa-ficticia's head_of_state role 2020-03-01 to open" \
        in by_code["overlap"]
    assert f"{ROSTER}:{line_of('country: XX')}: [unknown-country] roster[3].country: 'XX' is not an ISO 3166-1" \
        in by_code["unknown-country"]


def test_cli_prints_one_line_per_finding_and_exits_1():
    result = CliRunner().invoke(cli, ["roster", "check", str(ROSTER)])
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line]
    assert len(lines) == 12 and all(line.startswith(f"{ROSTER}:") for line in lines)
    assert "6 leaders checked, 12 findings" in result.stderr


def test_ignore_and_a_clean_roster_exit_0(tmp_path):
    clean = tmp_path / "clean.yml"
    clean.write_text(
        "roster:\n"
        "  - id: rosa-ficticia\n"
        "    name: Rosa Ficticia\n"
        "    country: UY\n"
        "    roles:\n"
        "      - {title: President of Valdoria, kind: head_of_state, start: 2020-03-01}\n"
        "      - {title: Former President of Valdoria, kind: former_head_of_state, start: 2015-03-02, end: 2020-02-29}\n"
        "  - id: tomas-imaginario\n"
        "    name: Tomás Imaginario\n"
        "    country: UY\n"
        "    roles:\n"
        "      - {title: President of Valdoria, kind: head_of_state, start: 2015-03-01, end: 2020-03-01}\n"
        "    accounts:\n"
        "      mastodon: {handle: '@tomas@social.valdoria.example'}\n"
        "      bluesky: {handle: tomas.bsky.social, id: 'did:plc:abcdefghijklmnopqrstuvwx'}\n",
        encoding="utf-8",
    )  # Tomás ends the day Rosa starts: the handover day is no overlap
    result = CliRunner().invoke(cli, ["roster", "check", str(clean)])
    assert result.exit_code == 1 and "[no-account] rosa-ficticia" in result.stdout
    result = CliRunner().invoke(cli, ["roster", "check", str(clean), "--ignore", "no-account"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "2 leaders checked, 0 findings" in result.stderr


def test_an_election_config_is_checked_with_its_roster_files(tmp_path):
    (tmp_path / "world.yml").write_text(ROSTER.read_text(encoding="utf-8"), encoding="utf-8")
    config = tmp_path / "election.yml"
    config.write_text(
        "election: {id: x}\n"
        "roster_files: [world.yml]\n"
        "roster:\n"
        "  - id: andres-ficcion\n"
        "    name: Andrés Ficción\n"
        "    country: AR\n"
        "    accounts:\n"
        "      x: {handle: consejera_uno}\n",
        encoding="utf-8",
    )
    findings, leaders = check_roster(config)
    assert leaders == 7
    shared = [f for f in findings if f.code == "shared-account" and f.leader == "consejera-uno"]
    assert len(shared) == 1 and str(shared[0]).startswith(f"{tmp_path / 'world.yml'}:")
    assert "is also andres-ficcion's" in shared[0].message


def test_a_file_that_cannot_be_read_exits_2(tmp_path):
    result = CliRunner().invoke(cli, ["roster", "check", str(tmp_path / "none.yml")])
    assert result.exit_code == 2 and "roster or config file not found" in result.output
    broken = tmp_path / "broken.yml"
    broken.write_text("roster: [unclosed\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["roster", "check", str(broken)])
    assert result.exit_code == 2 and "not valid YAML" in result.output


def test_the_cli_knows_every_kind_of_finding_and_office():
    """(The command lists them itself, so that --help loads no YAML.)"""
    from scraper.cli_roster import OFFICES
    from scraper.roster.queries import OFFICE_KINDS

    assert FINDING_CODES == CODES and OFFICES == OFFICE_KINDS


@pytest.mark.parametrize("config", ["peru-2021.yml", "example-live.yml"])
def test_bundled_configs_have_no_broken_entries(config):
    """(The live template's placeholder handles are longer than X and
    Telegram allow, so check calls them bad handles until replaced.)"""
    findings, leaders = check_roster(Path(__file__).resolve().parent.parent / "elections" / config)
    assert leaders > 0
    assert [str(f) for f in findings if f.code in ("invalid", "unknown-country", "duplicate-id", "overlap",
                                                   "shared-account")] == []
