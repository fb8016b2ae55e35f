"""Re-running the Wikidata roster: what came from Wikidata is updated, what a
person edited is kept, and conflicts are listed, never resolved silently.
Fictional people only."""

from datetime import date
from pathlib import Path

from click.testing import CliRunner

from scraper.cli import cli
from scraper.config import Account, Role, load_roster_file
from scraper.roster.merge import merge_roster
from scraper.roster.transform import WikidataPerson

from .fake_wikidata import FIXTURES, FakeWikidata

DAY = date(2026, 3, 1)
SETTINGS = {"countries": ["UY"], "offices": ["head_of_state"], "languages": ["en"]}


def rosa(**changes) -> WikidataPerson:
    values = dict(
        qid="Q99990001", name="Rosa Ficticia", country="UY", aliases=["Rosa F. Pérez"],
        roles=[Role("President of Valdoria", "head_of_state", date(2020, 3, 1))],
        accounts=[Account("x", handle="rosa_ficticia", platform_id="99990001001"),
                  Account("bluesky", handle="rosa-ficticia.bsky.social")],
    )
    values.update(changes)
    return WikidataPerson(**values)


def tomas(**changes) -> WikidataPerson:
    values = dict(
        qid="Q99990002", name="Tomás Imaginario", country="UY", aliases=[],
        roles=[Role("President of Valdoria", "head_of_state", date(2015, 3, 1), date(2020, 3, 1)),
               Role("Former President of Valdoria", "former_head_of_state", date(2020, 3, 2))],
        accounts=[Account("x", handle="tomasimaginario")],
    )
    values.update(changes)
    return WikidataPerson(**values)


def first_run(tmp_path, people=None) -> Path:
    path = tmp_path / "roster.yml"
    result = merge_roster("", people or [rosa(), tomas()], settings=SETTINGS, queried=DAY)
    path.write_text(result.text, encoding="utf-8")
    return path


def rerun(path: Path, people, **options):
    result = merge_roster(path.read_text(encoding="utf-8"), people, settings=SETTINGS, queried=date(2026, 3, 2),
                          **options)
    path.write_text(result.text, encoding="utf-8")
    return result


def leader(path: Path, leader_id: str):
    return next(leader for leader in load_roster_file(path).leaders if leader.id == leader_id)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_unchanged_rerun_changes_nothing(tmp_path):
    path = first_run(tmp_path)
    before = path.read_text(encoding="utf-8")
    result = rerun(path, [rosa(), tomas()])
    assert result.updated == {} and result.unchanged == 2 and result.conflicts == []
    # only the run's date in the wikidata: block moves
    assert [line for line in result.diff(path).splitlines() if line.startswith(("+ ", "- "))] == [
        "-  queried: 2026-03-01", "+  queried: 2026-03-02"]
    assert before.replace("queried: 2026-03-01\n", "queried: 2026-03-02\n") == path.read_text(encoding="utf-8")


def test_what_came_from_wikidata_is_updated(tmp_path):
    path = first_run(tmp_path)
    new_roles = [Role("President of Valdoria", "head_of_state", date(2020, 3, 1), date(2025, 3, 1)),
                 Role("Former President of Valdoria", "former_head_of_state", date(2025, 3, 2))]
    result = rerun(path, [rosa(roles=new_roles, accounts=[Account("x", handle="rosa_ficticia", platform_id="99990001001")]),
                          tomas()])
    assert result.updated == {"rosa-ficticia": ["roles", "accounts.bluesky"]}
    rosa_now = leader(path, "rosa-ficticia")
    assert [(r.kind, r.end) for r in rosa_now.roles] == [("head_of_state", date(2025, 3, 1)),
                                                        ("former_head_of_state", None)]
    assert [a.platform for a in rosa_now.accounts] == ["x"]  # Wikidata no longer has the Bluesky account
    assert "- id: rosa-ficticia  # Wikidata Q99990001, queried 2026-03-02" in path.read_text(encoding="utf-8")
    assert "- id: tomas-imaginario  # Wikidata Q99990002, queried 2026-03-01" in path.read_text(encoding="utf-8")


def test_hand_edits_win_and_comments_stay(tmp_path):
    path = first_run(tmp_path)
    edit(path, "name: Rosa Ficticia", "name: Rosa Ficticia de Valdoria  # as the electoral court writes it")
    edit(path, "x: {handle: tomasimaginario}", "x: {handle: tomas_imaginario}")
    edit(path, "  - id: tomas-imaginario", "  # checked by hand with the embassy\n  - id: tomas-imaginario")
    edit(path, "      - {title: President of Valdoria, kind: head_of_state, start: 2020-03-01}",
         "      - {title: President of Valdoria, kind: head_of_state, start: 2020-03-01}\n"
         "      - {title: Candidate for re-election, kind: candidate, start: 2024-06-01, end: 2025-02-28}")
    edit(path, "aliases: [Rosa F. Pérez]", "aliases: [Rosita]")
    result = rerun(path, [rosa(), tomas()])
    assert result.conflicts == [] and result.updated == {}
    assert result.hand_edits_kept == 3  # name, the X handle, the alias deleted (the added role and alias are not edits of Wikidata's)
    text = path.read_text(encoding="utf-8")
    assert "name: Rosa Ficticia de Valdoria  # as the electoral court writes it" in text
    assert "  # checked by hand with the embassy\n  - id: tomas-imaginario" in text
    rosa_now = leader(path, "rosa-ficticia")
    assert [r.kind for r in rosa_now.roles] == ["head_of_state", "candidate"]
    assert rosa_now.aliases == ["Rosita"]  # the alias deleted by hand stays deleted
    assert [a.handle for a in leader(path, "tomas-imaginario").accounts] == ["tomas_imaginario"]
    # Wikidata adds a role: it joins the hand-added one
    later = [*rosa().roles, Role("Former President of Valdoria", "former_head_of_state", date(2026, 3, 2))]
    result = rerun(path, [rosa(roles=[Role("President of Valdoria", "head_of_state", date(2020, 3, 1), date(2026, 3, 1)),
                                      later[1]]), tomas()])
    assert result.conflicts == []
    assert [(r.kind, r.end) for r in leader(path, "rosa-ficticia").roles] == [
        ("head_of_state", date(2026, 3, 1)), ("candidate", date(2025, 2, 28)), ("former_head_of_state", None)]


def test_conflicts_are_listed_with_both_values_and_the_hand_value_kept(tmp_path):
    path = first_run(tmp_path)
    edit(path, "x: {handle: tomasimaginario}", "x: {handle: tomas_imaginario}")
    edit(path, "{title: President of Valdoria, kind: head_of_state, start: 2015-03-01, end: 2020-03-01}",
         "{title: President of Valdoria, kind: head_of_state, start: 2015-03-01, end: 2020-02-29}")
    changed = tomas(
        accounts=[Account("x", handle="tomas_i")],
        roles=[Role("President of Valdoria", "head_of_state", date(2015, 3, 10), date(2020, 3, 1)),
               Role("Former President of Valdoria", "former_head_of_state", date(2020, 3, 2))],
    )
    result = rerun(path, [rosa(), changed])
    described = [conflict.describe(path) for conflict in result.conflicts]
    assert len(described) == 2
    roles_line, x_line = described
    assert ": tomas-imaginario (Q99990002) roles: a role added or edited by hand overlaps a new role on Wikidata; " in roles_line
    assert '"end": "2020-02-29"' in roles_line and '"start": "2015-03-10"' in roles_line
    x_number = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                    if "x: {handle: tomas_imaginario}" in text)
    assert x_line.startswith(f"{path}:{x_number}: ")
    assert ('tomas-imaginario (Q99990002) accounts.x: edited by hand, and Wikidata\'s value changed; '
            'kept {"handle": "tomas_imaginario"}; Wikidata says {"handle": "tomas_i"}') in x_line
    tomas_now = leader(path, "tomas-imaginario")
    assert tomas_now.accounts[0].handle == "tomas_imaginario"
    assert [r.start for r in tomas_now.roles] == [date(2015, 3, 1), date(2020, 3, 2)]
    # listed again on the next run: nothing is resolved silently
    assert len(rerun(path, [rosa(), changed]).conflicts) == 2
    # until the person takes Wikidata's value
    result = rerun(path, [rosa(), changed], take_wikidata={"tomas-imaginario.accounts.x", "tomas-imaginario.roles"})
    assert result.conflicts == []
    tomas_now = leader(path, "tomas-imaginario")
    assert tomas_now.accounts[0].handle == "tomas_i" and tomas_now.roles[0].start == date(2015, 3, 10)
    assert rerun(path, [rosa(), changed]).conflicts == []


def test_an_entry_written_by_hand_is_never_changed(tmp_path):
    path = tmp_path / "roster.yml"
    path.write_text(
        "roster:\n"
        "  - id: rosa-f\n"
        "    name: Rosa Ficticia\n"
        "    country: UY\n"
        "    roles:\n"
        "      - {title: President, kind: head_of_state, start: 2020-03-01}\n"
        "    wikidata: Q99990001\n"
        "  - id: tomas\n"
        "    name: Tomas Imaginario\n"
        "    country: UY\n"
        "    roles:\n"
        "      - {title: President, kind: head_of_state, start: 2015-03-01, end: 2020-03-01}\n",
        encoding="utf-8",
    )
    before = path.read_text(encoding="utf-8")
    result = rerun(path, [rosa(), tomas()])
    assert result.added == [] and result.updated == {}
    assert path.read_text(encoding="utf-8").split("roster:", 1)[1] == before.split("roster:", 1)[1]
    fields = [(c.leader_id, c.field) for c in result.conflicts]
    assert ("rosa-f", "roles") in fields and ("rosa-f", "accounts.x") in fields
    assert ("tomas", "entry") in fields  # same name (accents aside) and country: not added twice
    lookalike = next(c for c in result.conflicts if c.field == "entry")
    assert "add 'wikidata: Q99990002' to the entry to link them" in lookalike.describe(path)
    # taking Wikidata's values for the linked entry makes it Wikidata's from then on
    result = rerun(path, [rosa(), tomas()], take_wikidata={"rosa-f"})
    assert leader(path, "rosa-f").roles[0].title == "President of Valdoria"
    assert leader(path, "rosa-f").id == "rosa-f"


def test_an_entry_wikidata_no_longer_returns_is_kept_with_a_note(tmp_path):
    path = first_run(tmp_path)
    result = rerun(path, [rosa()])
    assert [note.split(":")[0] for note in result.notes] == ["tomas-imaginario (Q99990002)"]
    assert leader(path, "tomas-imaginario").name == "Tomás Imaginario"


def test_ids_are_unique_and_risky_values_are_quoted_for_the_config_loader(tmp_path):
    twin = tomas(qid="Q99990099", accounts=[Account("telegram", handle="on"), Account("x", handle="NO")],
                 aliases=["yes", "1:20", "0x1F", "~"])
    path = first_run(tmp_path, [tomas(), twin])
    loaded = {leader.id: leader for leader in load_roster_file(path).leaders}
    assert sorted(loaded) == ["tomas-imaginario", "tomas-imaginario-q99990099"]
    twin_loaded = loaded["tomas-imaginario-q99990099"]
    assert {a.platform: a.handle for a in twin_loaded.accounts} == {"telegram": "on", "x": "NO"}
    assert twin_loaded.aliases == ["yes", "1:20", "0x1F", "~"]


def test_end_to_end_rerun_with_changed_answers(httpserver, tmp_path):
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    for name in ("countries", "positions", "holders", "people"):
        (fixtures / f"{name}.json").write_text((FIXTURES / f"{name}.json").read_text(encoding="utf-8"), encoding="utf-8")
    fake = FakeWikidata(httpserver, fixtures)
    arguments = ["roster", "wikidata", str(tmp_path / "r.yml"), "--countries", "UY", "--since", "2016-01-01",
                 "--endpoint", fake.url, "--cache-dir", str(tmp_path / "cache")]
    assert CliRunner().invoke(cli, arguments).exit_code == 0
    edit(tmp_path / "r.yml", "facebook: {handle: tomas.imaginario}", "facebook: {handle: tomas.imaginario.oficial}")
    people = (fixtures / "people.json").read_text(encoding="utf-8")
    (fixtures / "people.json").write_text(people.replace('"tomas.imaginario"', '"tomas.imaginario.2"')
                                          .replace('"lucia.inventada"', '"lucia.inventada.ok"'), encoding="utf-8")
    result = CliRunner().invoke(cli, [*arguments, "--refresh", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "updated: lucia-inventada (Q99990003): accounts.instagram" in result.output
    assert "conflict: " in result.output and "tomas-imaginario (Q99990002) accounts.facebook" in result.output
    assert "-      instagram: {handle: lucia.inventada}\n+      instagram: {handle: lucia.inventada.ok}" in result.output
    assert "tomas.imaginario.oficial" in (tmp_path / "r.yml").read_text(encoding="utf-8")  # dry run: untouched
    assert "lucia.inventada.ok" not in (tmp_path / "r.yml").read_text(encoding="utf-8")
