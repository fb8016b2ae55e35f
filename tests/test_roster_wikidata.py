"""reactions roster wikidata, end to end, against a stand-in for the
Wikidata Query Service on 127.0.0.1 that answers in the service's format
with fictional people (tests/fake_wikidata.py)."""

import json
import re
import shutil
import signal
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from werkzeug import Response

from scraper.archive import Archive
from scraper.cli import cli
from scraper.config import load_config, load_roster_file
from scraper.roster import wikidata as wikidata_module
from scraper.roster.wikidata import QueryService, Selection, WikidataError, polite_client, roster_from_wikidata

from .fake_wikidata import FakeWikidata

CONTACT = "https://example.org/reaction-archive-tests"
TIMEOUT_BODY = (
    "SPARQL-QUERY: queryStr=SELECT ...\njava.util.concurrent.TimeoutException\n"
    "\tat java.util.concurrent.FutureTask.get(FutureTask.java:205)\n"
)


@pytest.fixture
def fake(httpserver):
    return FakeWikidata(httpserver)


def build(fake, tmp_path, *extra, roster="latam.yml"):
    arguments = [
        "roster", "wikidata", str(tmp_path / roster), "--countries", "UY,AR", "--countries", "BR",
        "--since", "2016-01-01", "--position", "Q99990950=international_official", "--language", "en,es",
        "--endpoint", fake.url, "--cache-dir", str(tmp_path / "cache"), "--contact", CONTACT, *extra,
    ]
    return CliRunner().invoke(cli, arguments)


def roles(leader):
    return [(r.kind, r.start.isoformat(), r.end.isoformat() if r.end else None) for r in leader.roles]


def test_builds_a_roster_with_dated_roles_former_roles_and_accounts(fake, tmp_path):
    result = build(fake, tmp_path)
    assert result.exit_code == 0, result.output
    roster = load_roster_file(tmp_path / "latam.yml")
    leaders = {leader.id: leader for leader in roster.leaders}
    assert sorted(leaders) == ["andres-ficcion", "beatriz-quimera", "diana-sinnombre", "gustavo-ilusorio",
                               "ignacio-ausente", "lucia-inventada", "rosa-ficticia", "tomas-imaginario"]
    tomas = leaders["tomas-imaginario"]
    assert tomas.wikidata == "Q99990002" and tomas.country == "UY"
    assert roles(tomas) == [
        ("head_of_state", "2005-03-01", "2010-03-01"),
        ("former_head_of_state", "2010-03-02", "2015-02-28"),
        ("head_of_state", "2015-03-01", "2020-03-01"),  # P39 and P35 say the same term: one role
        ("former_head_of_state", "2020-03-02", None),
    ]
    assert tomas.roles[1].title == "Former President of Valdoria"
    rosa = leaders["rosa-ficticia"]
    assert roles(rosa) == [("head_of_state", "2020-03-01", None)]  # P39, P35 and P6 (one office): one role
    assert rosa.aliases == ["Rosa Ficticia Pérez", "Rosa F. Pérez"]
    accounts = {a.platform: (a.handle, a.platform_id) for a in rosa.accounts}
    assert accounts == {
        "x": ("rosa_ficticia", "99990001001"),  # preferred rank; the ended and the other one left out
        "bluesky": ("rosa-ficticia.bsky.social", None),
        "mastodon": ("@rosa@social.valdoria.example", None),
        "youtube": (None, "UCaaaaaaaaaaaaaaaaaaaa01"),
    }  # the deprecated Telegram channel is not there
    assert roles(leaders["beatriz-quimera"]) == [("head_of_government", "2023-06-01", None)]
    assert roles(leaders["ignacio-ausente"]) == [("foreign_minister", "2019-12-10", "2023-06-15")]
    diana = leaders["diana-sinnombre"]  # no English label: named in Spanish; only a P35 statement
    assert diana.name == "Diana Sinnombre" and roles(diana) == [("head_of_state", "2023-01-01", None)]
    gustavo = leaders["gustavo-ilusorio"]
    assert gustavo.country == "AR" and roles(gustavo) == [("international_official", "2021-01-01", None)]
    # not there: Hugo (left office in 2015), Carlos (2003), Eduardo (no start date)
    output = result.output
    assert "no start date on Wikidata; left out" in output
    assert "known only to the month" in output
    assert "several x accounts on Wikidata; kept rosa_ficticia (preferred rank), not RosaCampaign" in output
    assert "8 leaders from Wikidata (8 new, 0 updated, 0 unchanged), 0 conflicts" in output
    assert "new: tomas-imaginario (Q99990002, UY): Former President of Valdoria, since 2020-03-02" in output
    text = (tmp_path / "latam.yml").read_text(encoding="utf-8")
    today = datetime.now(timezone.utc).date().isoformat()
    assert f"- id: rosa-ficticia  # Wikidata Q99990001, queried {today}" in text
    assert roster.settings["countries"] == ["UY", "AR", "BR"] and roster.settings["since"] == "2016-01-01"
    assert fake.kinds() == ["countries and their offices", "positions", "office holders", "people"]


def test_user_agent_names_the_contact_from_the_config(fake, tmp_path):
    config = tmp_path / "election.yml"
    config.write_text(f"contact: {CONTACT}/from-config\n", encoding="utf-8")
    result = CliRunner().invoke(cli, [
        "roster", "wikidata", str(tmp_path / "r.yml"), "--countries", "UY", "--endpoint", fake.url,
        "--cache-dir", str(tmp_path / "cache"), "--config", str(config)])
    assert result.exit_code == 0, result.output
    agents = {request.headers["User-Agent"] for request in fake.requests}
    assert agents == {agent for agent in agents if agent.startswith("reaction-archive/")}
    assert all(agent.endswith(f"(+{CONTACT}/from-config)") for agent in agents)
    assert all(request.headers["Accept"] == "application/sparql-results+json" for request in fake.requests)


def test_an_election_config_includes_the_roster_file_and_the_archive_keeps_the_qid(fake, tmp_path):
    assert build(fake, tmp_path, roster="rosters.yml").exit_code == 0
    config_path = tmp_path / "election.yml"
    config_path.write_text("\n".join([
        "election:",
        "  id: valdoria-2021",
        "  name: Fictional runoff",
        "  country: UY",
        "  polling_dates: [2021-06-06]",
        "  result_announced_at: 2021-06-07",
        "  window: {start: 2021-06-06, end: 2021-07-31}",
        "  candidates: [rosa-ficticia]",
        "  terms: {es: {keywords: [x]}, pt: {keywords: [x]}, en: {keywords: [x]}}",
        "roster_files: [rosters.yml]",
    ]) + "\n", encoding="utf-8")
    config = load_config(config_path)
    assert config.leader("rosa-ficticia").wikidata == "Q99990001"
    archive = Archive(tmp_path / "archive.db")
    archive.migrate()
    archive.load_config(config)
    row = archive.db.execute("SELECT wikidata FROM leaders WHERE id = 'tomas-imaginario'").fetchone()
    assert row == ("Q99990002",)


def test_a_rerun_within_the_hour_asks_nothing_and_changes_nothing(fake, tmp_path):
    assert build(fake, tmp_path).exit_code == 0
    first = (tmp_path / "latam.yml").read_text(encoding="utf-8")
    sent = len(fake.queries)
    # the file remembers its options: its name alone is enough
    result = CliRunner().invoke(cli, ["roster", "wikidata", str(tmp_path / "latam.yml"), "--endpoint", fake.url,
                                      "--cache-dir", str(tmp_path / "cache"), "--contact", CONTACT])
    assert result.exit_code == 0, result.output
    assert len(fake.queries) == sent
    assert "(cached" in result.output and "0 new, 0 updated, 8 unchanged" in result.output
    assert "no change" in result.output
    assert (tmp_path / "latam.yml").read_text(encoding="utf-8") == first
    result = build(fake, tmp_path, "--refresh")
    assert result.exit_code == 0 and len(fake.queries) == 2 * sent


def test_dry_run_shows_the_diff_and_writes_nothing(fake, tmp_path):
    result = build(fake, tmp_path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "latam.yml").exists()
    assert "+  - id: rosa-ficticia  # Wikidata Q99990001" in result.output
    assert "dry run, nothing written" in result.output


def test_batches_split_by_country_and_person(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(wikidata_module, "COUNTRIES_PER_QUERY", 2)
    monkeypatch.setattr(wikidata_module, "PEOPLE_PER_QUERY", 3)
    result = build(fake, tmp_path)
    assert result.exit_code == 0, result.output
    assert fake.kinds().count("office holders") == 2  # 3 countries and a position, 2 a query
    assert fake.kinds().count("people") == 3  # 9 people, 3 a query
    assert len(load_roster_file(tmp_path / "latam.yml").leaders) == 8


def test_a_batch_whose_query_would_be_too_long_is_halved_first(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(wikidata_module, "MAX_QUERY_CHARS", 1100)
    result = build(fake, tmp_path)
    assert result.exit_code == 0, result.output
    assert fake.kinds().count("people") > 1 and fake.kinds().count("office holders") > 1
    assert all(len(query) <= 1100 for query in fake.queries if "VALUES ?person" in query)
    assert len(load_roster_file(tmp_path / "latam.yml").leaders) == 8


def service(fake, sleeps=None, **options):
    client = polite_client(CONTACT, endpoint=fake.url, sleep=(sleeps.append if sleeps is not None else lambda s: None),
                           **options)
    return QueryService(client, fake.url)


SELECTION = Selection(countries=["UY", "AR", "BR"], positions={"Q99990950": "international_official"},
                      since=date(2016, 1, 1), languages=["en", "es"])


@pytest.mark.parametrize("cut_off", [False, True])
def test_a_query_that_runs_out_of_time_is_split_in_two(fake, cut_off):
    def answer(kind, query):
        if kind == "office holders" and len(set(re.findall(r"wd:Q9999090\d", query))) > 1:  # too slow
            if cut_off:  # the service had started streaming rows
                return Response('{"head": {"vars": ["person"]}, "results": {"bindings": [{"person": {"type": "uri", '
                                '"value": "' + TIMEOUT_BODY, status=200)
            return Response(TIMEOUT_BODY, status=500)
        return None

    fake.answer = answer
    progress = []
    query_service = service(fake)
    query_service.on_progress = progress.append
    found = roster_from_wikidata(query_service, SELECTION, date(2026, 3, 1))
    assert len(found.people) == 8
    assert any("ran out of time on the service; asking in two halves" in line for line in progress)
    assert fake.kinds().count("office holders") > 3


def test_a_query_that_runs_out_of_time_for_one_country_fails_naming_it(fake, tmp_path):
    fake.answer = lambda kind, query: Response(TIMEOUT_BODY, status=500) if kind == "office holders" else None
    (tmp_path / "latam.yml").write_text("roster: []\n", encoding="utf-8")
    result = build(fake, tmp_path)
    assert result.exit_code == 1
    assert "holders 1/1a" in result.output and "ran out of time on the service (60 s) even for one item" in result.output
    assert (tmp_path / "latam.yml").read_text(encoding="utf-8") == "roster: []\n"


def test_429s_are_waited_out_as_retry_after_says_then_fail_naming_the_batch(fake):
    fake.answer = lambda kind, query: (Response("Too Many Requests", status=429, headers={"Retry-After": "7"})
                                       if kind == "people" else None)
    sleeps = []
    with pytest.raises(WikidataError) as error:
        roster_from_wikidata(service(fake, sleeps), SELECTION, date(2026, 3, 1))
    message = str(error.value)
    assert message.startswith("people 1/1 (Q99990001, Q99990002, Q99990003 and 6 more (9)): HTTP 429")
    assert "after 5 tries" in message and "try again later" in message
    assert sleeps == [7.0, 7.0, 7.0, 7.0]


def test_a_429_storm_exits_1_and_leaves_the_roster_as_it_was(fake, tmp_path):
    assert build(fake, tmp_path).exit_code == 0
    before = (tmp_path / "latam.yml").read_bytes()
    fake.answer = lambda kind, query: Response("Too Many Requests", status=429, headers={"Retry-After": "0"})
    result = build(fake, tmp_path, "--refresh", "--countries", "CL")
    assert result.exit_code == 1
    assert "Error: countries 1/1 (UY, AR, BR, CL): HTTP 429" in result.output
    assert (tmp_path / "latam.yml").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".latam")] == []


def test_a_client_timeout_is_retried_then_fails(fake):
    def timeout(request):
        raise httpx.ReadTimeout("timed out", request=request)

    sleeps = []
    client = polite_client(CONTACT, endpoint=fake.url, sleep=sleeps.append, transport=httpx.MockTransport(timeout))
    with pytest.raises(WikidataError, match=r"countries 1/1 \(UY, AR, BR\): .*network error after 5 tries"):
        roster_from_wikidata(QueryService(client, fake.url), SELECTION, date(2026, 3, 1))
    assert len(sleeps) == 4 and sleeps[0] >= 10  # backoff of 10 s, doubled


@pytest.mark.parametrize("body,message", [
    ("<html><body>Bad gateway</body></html>", "is not SPARQL JSON results: not JSON"),
    ('{"head": {"vars": ["person"]}, "results": {"bindings": [{"person": {"value": "x"}}]}}', "unknown term type"),
])
def test_a_malformed_answer_exits_1_and_leaves_the_roster_as_it_was(fake, tmp_path, body, message):
    assert build(fake, tmp_path).exit_code == 0
    before = (tmp_path / "latam.yml").read_bytes()
    fake.answer = lambda kind, query: Response(body, status=200) if kind == "office holders" else None
    result = build(fake, tmp_path, "--refresh")
    assert result.exit_code == 1
    assert "holders 1/1 (AR, BR, UY, Q99990950)" in result.output and message in result.output
    assert (tmp_path / "latam.yml").read_bytes() == before


def test_an_empty_answer_exits_1_and_leaves_the_roster_as_it_was(fake, tmp_path):
    assert build(fake, tmp_path).exit_code == 0
    before = (tmp_path / "latam.yml").read_bytes()
    empty = json.dumps({"head": {"vars": ["person"]}, "results": {"bindings": []}})
    fake.answer = lambda kind, query: Response(empty, status=200) if kind == "office holders" else None
    result = build(fake, tmp_path, "--refresh")
    assert result.exit_code == 1
    assert "Wikidata returned no office holders for AR, BR, UY, Q99990950 since 2016-01-01; nothing written" in result.output
    assert (tmp_path / "latam.yml").read_bytes() == before
    fake.answer = lambda kind, query: Response(empty, status=200)
    result = build(fake, tmp_path, "--refresh")
    assert result.exit_code == 1 and "Wikidata returned no country for UY, AR, BR" in result.output
    assert (tmp_path / "latam.yml").read_bytes() == before


def test_a_roster_in_a_missing_folder_is_refused_before_any_query(fake, tmp_path):
    result = build(fake, tmp_path, roster="nowhere/latam.yml")
    assert result.exit_code == 2 and "does not exist" in result.output and fake.queries == []


def test_killed_while_writing_the_roster_the_old_file_stays_whole(tmp_path):
    """kill -9 between writing the new text and renaming it over the old
    file: the old roster is still there, whole."""
    path = tmp_path / "latam.yml"
    path.write_text("roster: []\n", encoding="utf-8")
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from scraper.roster.atomic import write_atomically\n"
        "def stall(new):\n"
        "    print('written', flush=True)\n"
        "    time.sleep(60)\n"
        f"write_atomically(Path({str(path)!r}), 'roster:\\n' + '  - {{}}\\n' * 200000, check=stall)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "written"
        child.send_signal(signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=30)  # waits, and closes the pipe
    assert path.read_text(encoding="utf-8") == "roster: []\n"


def test_a_refusal_says_why(fake, tmp_path):
    fake.answer = lambda kind, query: Response("Forbidden", status=403)
    result = build(fake, tmp_path)
    assert result.exit_code == 1 and "HTTP 403" in result.output and "descriptive User-Agent" in result.output


@pytest.mark.parametrize("arguments,message", [
    (["--countries", "XX"], "'XX' is neither an ISO 3166-1 alpha-2 country code nor a group"),
    (["--position", "P35"], "is not a Wikidata item id"),
    (["--position", "Q1=president"], "'president' is not a role kind"),
    (["--since", "2016-13-01"], "is not a date"),
    (["--language", "e n!"], "is not a language code"),
    (["--take-wikidata", "nobody"], "no leader with id nobody"),
])
def test_wrong_options_exit_2_before_any_query(fake, tmp_path, arguments, message):
    result = build(fake, tmp_path, *arguments)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert fake.queries == []


def test_without_countries_or_positions_exit_2(fake, tmp_path):
    result = CliRunner().invoke(cli, ["roster", "wikidata", str(tmp_path / "r.yml"), "--endpoint", fake.url])
    assert result.exit_code == 2 and "say which countries" in result.output


def test_a_roster_file_that_does_not_load_is_left_alone_with_its_line(fake, tmp_path):
    path = tmp_path / "latam.yml"
    path.write_text("roster:\n  - id: someone\n    name: Someone\n    country: XX\n", encoding="utf-8")
    result = build(fake, tmp_path)
    assert result.exit_code == 2
    assert f"{path}:4, key 'roster[0].country': 'XX' is not an ISO 3166-1 alpha-2 country code" in result.output
    assert fake.queries == []


def test_an_election_config_is_not_a_roster_file(fake, tmp_path):
    shutil.copy(Path(__file__).parent / "fixtures" / "config" / "valdoria.yml", tmp_path / "latam.yml")
    result = build(fake, tmp_path)
    assert result.exit_code == 2 and "this is an election config, not a roster file" in result.output


def test_settings_in_the_file_that_are_wrong_name_the_line(fake, tmp_path):
    path = tmp_path / "latam.yml"
    path.write_text("wikidata:\n  countries: [UY, ZZ]\nroster: []\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["roster", "wikidata", str(path), "--endpoint", fake.url])
    assert result.exit_code == 2
    assert f"{path}:2, key 'wikidata.countries'" in result.output and "'ZZ'" in result.output


def test_a_group_of_countries_is_asked_by_membership(fake, tmp_path):
    result = CliRunner().invoke(cli, ["roster", "wikidata", str(tmp_path / "r.yml"), "--countries", "un",
                                      "--endpoint", fake.url, "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert "wdt:P463 wd:Q1065" in fake.queries[0]
    assert "Wikidata item Q99990904 has ISO code 'XK', which is not in our countries table; left out" in result.output


def test_a_position_nobody_holds_is_named_in_a_note(fake, tmp_path):
    """--position with a QID the service knows no holder of (mistyped, or
    vacant since the date) is said, never a silent nothing."""
    result = build(fake, tmp_path, "--position", "Q99990199=minister")
    assert result.exit_code == 0, result.output
    assert ("note: position Q99990199: Wikidata names no holder (P39) since 2016-01-01; it has no label either: "
            "is the QID right?") in result.output
    assert "position Q99990950" not in result.output  # a position with a holder: no note
    leaders = load_roster_file(tmp_path / "latam.yml").leaders
    assert "gustavo-ilusorio" in {leader.id for leader in leaders}
