"""Reaction types kept in the archive: classified as posts arrive and when
they change, labels that win and survive reprocess, one reported reaction
per report, who has not reacted; through the CLI, Datasette and exports."""

import json
import sqlite3

import pytest
from click.testing import CliRunner

from scraper import classify_store
from scraper.archive import Archive
from scraper.cli import cli
from scraper.config import load_config
from scraper.export import export_package
from scraper.model import POST_CONTENT_COLUMNS
from scraper.publish import datasette_instance
from scraper.schema import migrations
from scraper.scrape import import_file, run_scrape

from .conftest import PERU_CONFIG, VALDORIA_CONFIG
from .test_milestones import tweets_file, valdoria_with

POSTS = [
    ("1401000000000000011", "2021-06-07T09:00:00.000Z", "Felicito a @rosa_ficticia, presidenta electa. #EleccionesFicticias"),
    ("1401000000000000012", "2021-06-07T10:00:00.000Z", "Llamamos a la calma y a esperar los resultados oficiales de las elecciones."),
    ("1401000000000000013", "2021-06-07T11:00:00.000Z", "No reconocemos los resultados de estas elecciones."),
]


@pytest.fixture
def typed_archive(tmp_path):
    archive = Archive(tmp_path / "archive.db")
    archive.migrate()
    archive.load_config(load_config(valdoria_with(tmp_path)))
    import_file(archive, "twarc2-jsonl", str(tweets_file(tmp_path, POSTS)))
    return archive


def classes(archive) -> dict[str, tuple]:
    return {
        post_id[-2:]: (kind, json.loads(addressed))
        for post_id, kind, addressed in archive.db.execute(
            "SELECT post_id, reaction_type, addressed_candidates FROM reaction_classes ORDER BY post_id"
        )
    }


def test_posts_are_classified_as_they_are_stored(typed_archive):
    assert classes(typed_archive) == {
        "11": ("congratulation", ["rosa-fictional"]),
        "12": ("call_for_calm", []),
        "13": ("rejection", []),
    }
    row = typed_archive.db.execute(
        "SELECT type_source, type_confidence, type_evidence FROM reactions WHERE post_id LIKE '%11'"
    ).fetchone()
    assert row[0] == "classifier" and 0 < row[1] <= 1
    assert any("felicito" in note for note in json.loads(row[2]))


def test_an_edit_is_classified_again(typed_archive, tmp_path):
    edited = [(POSTS[0][0], POSTS[0][1], "Denunciamos fraude en las elecciones. #EleccionesFicticias")]
    import_file(typed_archive, "twarc2-jsonl", str(tweets_file(tmp_path, edited, "edit.jsonl")))
    assert typed_archive.db.execute(
        "SELECT version_count FROM posts WHERE id LIKE '%11'"
    ).fetchone()[0] == 2
    assert classes(typed_archive)["11"][0] == "irregularities"


def test_edits_are_found_whatever_post_versions_holds(typed_archive, tmp_path, monkeypatch):
    """Posts seen in one state keep it in posts only (post_versions has rows
    only for posts with two states or more): an edit is found by the post's
    version_count, a sighting that changes nothing classifies nothing."""
    db = typed_archive.db
    assert db["post_versions"].count == 0
    classified = []
    original = classify_store.classify_posts

    def counting(database, post_ids=None, election_id=None, **options):
        done = original(database, post_ids, election_id, **options)
        classified.extend(done)
        return done

    monkeypatch.setattr(classify_store, "classify_posts", counting)
    import_file(typed_archive, "twarc2-jsonl", str(tweets_file(tmp_path, POSTS, "again.jsonl")))  # seen again
    assert classified == [] and db["post_versions"].count == 0
    first_edit = [(POSTS[0][0], POSTS[0][1], "Denunciamos fraude en las elecciones. #EleccionesFicticias")]
    import_file(typed_archive, "twarc2-jsonl", str(tweets_file(tmp_path, first_edit, "edit.jsonl")))
    post_id = db.execute("SELECT id FROM posts WHERE id LIKE '%11'").fetchone()[0]
    assert classified == [post_id]
    assert db.execute("SELECT version FROM post_versions WHERE post_id = ? ORDER BY version", [post_id]).fetchall() == [
        (1,), (2,)]  # both states, the first included, now that there are two
    second_edit = [(POSTS[0][0], POSTS[0][1], "No reconocemos los resultados de estas elecciones.")]
    import_file(typed_archive, "twarc2-jsonl", str(tweets_file(tmp_path, second_edit, "edit2.jsonl")))
    assert classified == [post_id, post_id]
    assert db.execute("SELECT post_version, reaction_type FROM reaction_classes WHERE post_id = ?",
                      [post_id]).fetchone() == (3, "rejection")
    assert db.execute("SELECT reaction_type, classified_type, is_edited FROM reactions WHERE post_id = ?",
                      [post_id]).fetchone() == ("rejection", "rejection", 1)  # the reactions row followed


def test_the_preparing_step_classifies_a_group_at_a_time_in_order(typed_archive, tmp_path, monkeypatch):
    """read_items classifies the posts of a file a group at a time, those of
    a fetched page at once (the writer commits a page once the next one has
    arrived), and keeps what it passes on in its place."""
    from scraper import formats, prepare
    from scraper.model import FetchedPage
    from scraper.sources import Unparsed

    more = [*POSTS, ("1401000000000000014", "2021-06-08T11:00:00.000Z", "Felicitamos al pueblo por las elecciones.")]
    path = str(tweets_file(tmp_path, more))
    bad = Unparsed("not a post", "file:2", "{", "file")
    matchers = typed_archive.matchers()
    columns = [POST_CONTENT_COLUMNS.index(name) for name in ("text", "mentions", "language")]

    def read(group: int, page: FetchedPage | None = None):
        """The four posts, a line that could not be read after the first;
        and how many entries were taken from the stream when the first came out."""
        items = list(formats.file_reader("twarc2-jsonl")(path, "file"))  # (read_item drops what it parsed)
        for item in items:
            item.page = page
        pulled = []

        def source():
            for entry in (items[0], bad, *items[1:]):
                pulled.append(entry)
                yield entry

        monkeypatch.setattr(prepare, "CLASSIFY_GROUP", group)
        stream = prepare.read_items(source(), matchers)
        out = [next(stream)]
        taken = len(pulled)
        out += stream
        assert out[1] is bad and [entry.item for entry in [out[0], *out[2:]]] == items
        return [out[0], *out[2:]], taken

    in_twos, taken = read(2)
    assert taken == 3  # the first two posts read, with the line between them
    for entry in in_twos:
        made = matchers[0].classifier.classify_post(*[entry.prepared.row[index] for index in columns])
        assert entry.prepared.classes == (("valdoria-2021", *made),)
    assert [entry.prepared.classes[0][1] for entry in in_twos] == [
        "congratulation", "call_for_calm", "rejection", "recognition"]
    one_by_one, _ = read(1)
    live, taken = read(100, FetchedPage("https://x.test/1", "{}", 200))
    assert taken == 1  # a fetched page's post goes on at once
    assert [entry.prepared.classes for entry in one_by_one] == [entry.prepared.classes for entry in live] == [
        entry.prepared.classes for entry in in_twos]


def retrieved(path, at: str):
    """The twarc2 file as twarc saves it, its page retrieved at ``at``."""
    page = json.loads(path.read_text(encoding="utf-8"))
    page["__twarc"] = {"url": "https://api.twitter.com/2/tweets/search/all", "version": "2.14.0", "retrieved_at": at}
    path.write_text(json.dumps(page, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_a_state_older_than_the_stored_one_is_classified_on_the_stored_state(tmp_path):
    """The preparing step classifies the state it read; a later import of an
    older copy adds a state but leaves the newer text stored, so the class
    prepared for the older text does not hold: the post is classified on
    its stored text, as its new version."""
    archive = Archive(tmp_path / "archive.db")
    archive.migrate()
    archive.load_config(load_config(valdoria_with(tmp_path)))
    newer = [(POSTS[0][0], POSTS[0][1], "Denunciamos fraude en las elecciones. #EleccionesFicticias")]
    import_file(archive, "twarc2-jsonl", str(retrieved(tweets_file(tmp_path, newer, "newer.jsonl"), "2021-06-10T00:00:00Z")))
    older = [POSTS[0]]  # the congratulation, as it read before the edit
    import_file(archive, "twarc2-jsonl", str(retrieved(tweets_file(tmp_path, older, "older.jsonl"), "2021-06-08T00:00:00Z")))
    db = archive.db
    assert db.execute("SELECT text, version_count FROM posts").fetchone() == (newer[0][2], 2)
    kind, evidence, version = db.execute("SELECT reaction_type, evidence, post_version FROM reaction_classes").fetchone()
    assert (kind, version) == ("irregularities", 2)
    assert any("fraude" in note for note in json.loads(evidence))
    assert db.execute("SELECT reaction_type FROM reactions").fetchone() == ("irregularities",)


def test_a_label_wins_and_survives_reprocess(typed_archive):
    post_id = typed_archive.db.execute("SELECT post_id FROM reactions WHERE post_id LIKE '%13'").fetchone()[0]
    with typed_archive.write():
        classify_store.set_label(typed_archive.db, classify_store.Label(
            "valdoria-2021", "call_for_calm", post_id, note="the author's next post calls for calm", labelled_by="tester"))
    before = typed_archive.db.execute(
        "SELECT reaction_type, type_source, classified_type FROM reactions WHERE post_id = ?", [post_id]
    ).fetchone()
    assert before == ("call_for_calm", "label", "rejection")
    typed_archive.reprocess()
    after = typed_archive.db.execute(
        "SELECT reaction_type, type_source, classified_type FROM reactions WHERE post_id = ?", [post_id]
    ).fetchone()
    assert after == before
    assert typed_archive.db["reaction_classes"].count == 3  # every post classified again
    label = next(typed_archive.db["reaction_labels"].rows)
    assert (label["note"], label["labelled_by"]) == ("the author's next post calls for calm", "tester")


def test_a_new_lexicon_or_candidate_classifies_again(typed_archive, tmp_path):
    typed_archive.db.execute("UPDATE reaction_classes SET reaction_type = 'other'")
    typed_archive.load_config(load_config(valdoria_with(tmp_path)))  # same classifier: nothing redone
    assert set(k for k, _ in classes(typed_archive).values()) == {"other"}
    typed_archive.db.execute("UPDATE classifier_state SET value = 'older' WHERE name = 'classifier:valdoria-2021'")
    typed_archive.load_config(load_config(valdoria_with(tmp_path)))
    assert classes(typed_archive)["11"][0] == "congratulation"


def test_classes_lost_between_a_reprocess_and_its_classification_come_back(typed_archive, tmp_path):
    # A run killed after the reprocess committed, before the classes were
    # written: the next config load finds the posts without a class.
    typed_archive.db.execute("DELETE FROM reaction_classes")
    typed_archive.load_config(load_config(valdoria_with(tmp_path)))
    assert len(classes(typed_archive)) == 3


@pytest.mark.parametrize(
    "target, kind, message",
    [
        ("x:404", "congratulation", "no post 'x:404' in the archive"),
        ("reported:77", "congratulation", "no reported reaction 77"),
        ("POST", "happy", "'happy' is not a reaction type"),
    ],
)
def test_bad_labels_are_refused(typed_archive, target, kind, message):
    target = target.replace("POST", typed_archive.db.execute("SELECT post_id FROM reactions").fetchone()[0])
    post_id, reported_id = classify_store.parse_target(target)
    with pytest.raises(ValueError, match=message):
        classify_store.check_label(typed_archive.db, classify_store.Label("valdoria-2021", kind, post_id, reported_id))


def test_label_file_errors_name_file_line_and_column(typed_archive, tmp_path):
    post_id = typed_archive.db.execute("SELECT post_id FROM reactions").fetchone()[0]
    good = f"valdoria-2021,{post_id},other,looks like small talk,ana\n"
    path = tmp_path / "labels.csv"
    path.write_text("election,target,reaction_type,note,labelled_by\n" + good + "valdoria-2021,x:404,other,,\n")
    result = CliRunner().invoke(cli, ["label", "--file", str(path), "--db", str(typed_archive.path)])
    assert result.exit_code == 2
    assert f"{path}:3, column 'target': no post 'x:404' in the archive" in result.output
    assert typed_archive.db["reaction_labels"].count == 0  # all or nothing
    path.write_text("election,target,kind\n")
    result = CliRunner().invoke(cli, ["label", "--file", str(path), "--db", str(typed_archive.path)])
    assert result.exit_code == 2 and "lacks column(s) reaction_type" in result.output
    path.write_text("election,target,reaction_type,note,labelled_by\n" + good)
    result = CliRunner().invoke(cli, ["label", "--file", str(path), "--db", str(typed_archive.path)])
    assert result.exit_code == 0, result.output
    assert typed_archive.db.execute("SELECT reaction_type, type_source FROM reactions WHERE post_id = ?",
                                    [post_id]).fetchone() == ("other", "label")


def test_label_cli_sets_and_removes(typed_archive):
    db = str(typed_archive.path)
    post_id = typed_archive.db.execute("SELECT post_id FROM reactions WHERE post_id LIKE '%12'").fetchone()[0]
    result = CliRunner().invoke(cli, ["label", post_id, "recognition", "--db", db, "--by", "ana"])
    assert result.exit_code == 0, result.output  # the only election is the default
    assert typed_archive.db.execute("SELECT reaction_type FROM reactions WHERE post_id = ?", [post_id]).fetchone()[0] == "recognition"
    result = CliRunner().invoke(cli, ["label", post_id, "--remove", "--db", db])
    assert result.exit_code == 0 and "label removed" in result.output
    assert typed_archive.db.execute("SELECT type_source FROM reactions WHERE post_id = ?", [post_id]).fetchone()[0] == "classifier"
    result = CliRunner().invoke(cli, ["label", "x:1", "congratulation", "--db", db, "--election", "nope"])
    assert result.exit_code == 2 and "--election: no election 'nope'" in result.output


# --- one reported reaction per report ------------------------------------------------


def test_the_bundled_example_reports_six_reactions_with_two_sightings_each(peru_archive):
    rows = peru_archive.db.execute("SELECT leader_id, sightings FROM reported_reactions ORDER BY id").fetchall()
    assert len(rows) == 6 and {count for _, count in rows} == {2}
    sightings = peru_archive.db.execute(
        "SELECT DISTINCT source_id FROM reported_reaction_sightings ORDER BY source_id").fetchall()
    assert sightings == [("seed-report-html",), ("seed-report-text",)]
    types = dict(peru_archive.db.execute(
        "SELECT rr.leader_id, c.reaction_type FROM reported_reactions rr "
        "JOIN reported_reaction_classes c ON c.reported_reaction_id = rr.id"))
    assert set(types.values()) == {"congratulation"}
    run_scrape(peru_archive, load_config(PERU_CONFIG))
    assert peru_archive.db["reported_reaction_sightings"].count == 12  # a second run adds none


def test_the_same_report_imported_again_under_another_name_is_one_reaction(peru_archive, tmp_path):
    copy = tmp_path / "copy-of-the-report.txt"
    copy.write_text((PERU_CONFIG.parent.parent / "examples" / "peru-2021" / "seed-report.txt").read_text())
    result = import_file(peru_archive, "article", str(copy), config=load_config(PERU_CONFIG))
    assert result.reported_reactions == 0
    assert peru_archive.db["reported_reactions"].count == 6
    assert peru_archive.db["reported_reaction_sightings"].count == 18


def test_the_migration_merges_reported_reactions_stored_twice(tmp_path):
    db_path = tmp_path / "old.db"
    archive = Archive(db_path)
    migrations.apply(archive.db, stop_before="m009_reaction_types_and_milestones")
    db = archive.db
    db.execute("INSERT INTO countries (code, name) VALUES ('AR', 'Argentina')")
    db.execute("INSERT INTO elections (id, name, country) VALUES ('e', 'E', 'AR')")
    db.execute("INSERT INTO leaders (id, name, country) VALUES ('l', 'L', 'AR'), ('m', 'M', 'AR')")
    db.execute("INSERT INTO sources (id, kind) VALUES ('a', 'article'), ('b', 'article')")
    rows = [
        ("l", "a", "L congratulated the winner.", "2021-06-11"),
        ("l", "b", "L  congratulated the WINNER!", "2021-06-10"),  # the same sentence, another source
        ("l", "a", "L said more.", "2021-06-11"),  # the same source, another sentence
        ("m", "b", "M congratulated the winner.", "2021-06-12"),
    ]
    for leader, source, evidence, day in rows:
        db.execute("INSERT INTO reported_reactions (election_id, leader_id, source_id, evidence, reported_on) "
                   "VALUES ('e', ?, ?, ?, ?)", [leader, source, evidence, day])
    db.conn.commit()
    archive.migrate()
    kept = db.execute("SELECT leader_id, sightings FROM reported_reactions ORDER BY id").fetchall()
    assert kept == [("l", 3), ("m", 1)]
    assert db["reported_reaction_sightings"].count == 4


# --- who has not reacted -------------------------------------------------------------

ROLES_ROSTER = """
  - id: ends-before
    name: Ana Anterior
    country: PY
    roles: [{title: President of Paraguay (fictional), kind: head_of_state, start: 2016-01-01, end: 2021-06-05}]
  - id: ends-on-the-day
    name: Berta Saliente
    country: PY
    roles: [{title: President of Paraguay (fictional), kind: head_of_state, start: 2021-06-06, end: 2021-06-06}]
  - id: starts-after
    name: Carla Entrante
    country: PY
    roles: [{title: President of Paraguay (fictional), kind: head_of_state, start: 2021-06-07}]
  - id: foreign-minister
    name: Diego Canciller
    country: CL
    roles: [{title: Foreign Minister of Chile (fictional), kind: foreign_minister, start: 2020-01-01}]
  - id: prime-minister
    name: Elena Primera
    country: PE
    roles: [{title: Prime Minister of Peru (fictional), kind: head_of_government, start: 2021-01-01}]
  - id: reported-leader
    name: Fabio Reportado
    country: EC
    roles: [{title: President of Ecuador (fictional), kind: head_of_state, start: 2021-01-01}]
"""


@pytest.fixture
def roles_config(tmp_path):
    text = valdoria_with(tmp_path).read_text(encoding="utf-8")
    text = text.replace("roster:\n", "roster:" + ROLES_ROSTER, 1)
    path = tmp_path / "roles.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def roles_archive(tmp_path, roles_config):
    (tmp_path / "roles").mkdir()
    archive = Archive(tmp_path / "roles" / "archive.db")  # Datasette serves it as /archive
    archive.migrate()
    config = load_config(roles_config)
    archive.load_config(config)
    import_file(archive, "twarc2-jsonl", str(tweets_file(tmp_path, POSTS)))  # @tomasimaginario reacts
    archive.register_source("valdoria-news", "article", "news.html")
    archive.add_reported_reactions(None, "valdoria-2021", "valdoria-news", [
        ("reported-leader", "Fabio Reportado congratulated Rosa Ficticia.", "2021-06-08")
    ])
    return archive


EXPECTED_MISSING = [
    ("Chile", "Diego Canciller", "foreign_minister"),
    ("Paraguay", "Berta Saliente", "head_of_state"),
    ("Peru", "Elena Primera", "head_of_government"),
]


def test_not_reacted_reads_roles_on_the_polling_day(roles_archive):
    rows = classify_store.not_reacted(roles_archive.db, "valdoria-2021")
    assert [(r["country"], r["leader"], r["role_kind"]) for r in rows] == EXPECTED_MISSING
    # the view says the same
    view = roles_archive.db.execute("SELECT country, leader, role_kind FROM not_reacted ORDER BY country").fetchall()
    assert view == EXPECTED_MISSING
    # another day: the incoming president, not the outgoing one
    later = classify_store.not_reacted(roles_archive.db, "valdoria-2021", "2021-06-07")
    assert ("Paraguay", "Carla Entrante") in [(r["country"], r["leader"]) for r in later]
    assert "Berta Saliente" not in [r["leader"] for r in later]


def test_status_for_an_election(roles_archive):
    result = CliRunner().invoke(cli, ["status", "--db", str(roles_archive.path), "--election", "valdoria-2021"])
    assert result.exit_code == 0, result.output
    assert "not yet reacted, in government on 2021-06-06: 3" in result.output
    assert "Paraguay: Berta Saliente, President of Paraguay (fictional)" in result.output
    assert "congratulation   1 + 1" in result.output
    assert "polls_closed     2021-06-06T21:00:00Z" in result.output
    data = json.loads(CliRunner().invoke(
        cli, ["status", "--db", str(roles_archive.path), "--election", "valdoria-2021", "--on", "2021-06-07", "--json"]
    ).output)
    assert "Carla Entrante" in [row["leader"] for row in data["election"]["not_reacted"]]
    bad = CliRunner().invoke(cli, ["status", "--db", str(roles_archive.path), "--election", "nope"])
    assert bad.exit_code == 2 and "not in this archive (known: valdoria-2021)" in bad.output


def test_not_reacted_is_exported(roles_archive, tmp_path):
    export_package(roles_archive, tmp_path / "out", format_name="jsonl", tables=("not_reacted",))
    rows = [json.loads(line) for line in (tmp_path / "out" / "data" / "not_reacted.jsonl").read_text().splitlines()]
    assert [(r["leader"], r["on_day"]) for r in rows] == [
        ("Diego Canciller", "2021-06-06"), ("Elena Primera", "2021-06-06"), ("Berta Saliente", "2021-06-06")
    ]  # by country code: CL, PE, PY


async def test_canned_queries_in_datasette(roles_archive):
    datasette = datasette_instance(roles_archive.path)
    data = (await datasette.client.get("/archive/not_yet_reacted.json?_shape=objects&election=&on=2021-06-07")).json()
    assert "Carla Entrante" in [row["leader"] for row in data["rows"]]
    data = (await datasette.client.get("/archive/congratulations_in_order.json?_shape=objects&election=")).json()
    assert [(row["author"], row["how"]) for row in data["rows"]] == [
        ("Tomás Imaginario", "post"), ("Fabio Reportado", "reported (by the report's date)")
    ]
    assert [row["order"] for row in data["rows"]] == [1, 2]
    data = (await datasette.client.get("/archive/allegations_and_calm.json?_shape=objects&election=&type=")).json()
    assert sorted(row["reaction_type"] for row in data["rows"]) == ["call_for_calm", "rejection"]
    data = (await datasette.client.get("/archive/allegations_and_calm.json?_shape=objects&election=&type=rejection")).json()
    assert [row["reaction_type"] for row in data["rows"]] == ["rejection"]
    facets = (await datasette.client.get("/archive/reactions.json?_facet=reaction_type&_facet=milestone")).json()
    counts = {f["value"]: f["count"] for f in facets["facet_results"]["reaction_type"]["results"]}
    assert counts == {"congratulation": 1, "call_for_calm": 1, "rejection": 1}
    assert {f["value"] for f in facets["facet_results"]["milestone"]["results"]} == {"final_count"}


def test_labels_have_no_foreign_key_that_a_reprocess_could_break(typed_archive):
    # reaction_classes follow posts (cascade); labels must outlive them.
    fks = typed_archive.db.execute("PRAGMA foreign_key_list(reaction_labels)").fetchall()
    assert {row[2] for row in fks} == {"elections"}
    with pytest.raises(sqlite3.IntegrityError):
        typed_archive.db.execute("INSERT INTO reaction_labels (election_id, post_id, reaction_type) VALUES ('x', 'p', 'other')")


# --- a person's label on a reported reaction, everywhere it is read ------------------


def test_a_reported_reactions_label_wins_in_the_view_and_the_export(roles_archive, tmp_path):
    db = str(roles_archive.path)
    [(reported_id,)] = roles_archive.db.execute("SELECT id FROM reported_reactions").fetchall()
    result = CliRunner().invoke(cli, ["label", f"reported:{reported_id}", "rejection", "--db", db, "--by", "ana"])
    assert result.exit_code == 0, result.output
    view = roles_archive.db.execute(
        "SELECT reaction_type, type_source, classified_type, role, milestone FROM reported_reaction_types").fetchall()
    assert view == [("rejection", "label", "congratulation", "President of Ecuador (fictional)", "final_count")]
    for format_name in ("jsonl", "csv"):
        out = tmp_path / format_name
        export_package(roles_archive, out, format_name=format_name, tables=("reported_reaction_classes",))
        text = (out / "data" / f"reported_reaction_classes.{format_name}").read_text(encoding="utf-8")
        if format_name == "jsonl":
            [row] = [json.loads(line) for line in text.splitlines()]
        else:
            import csv

            [row] = list(csv.DictReader(text.splitlines()))
        assert (row["reaction_type"], row["type_source"], row["classified_type"]) == (
            "rejection", "label", "congratulation"), format_name
        assert row["reported_reaction_id"] in (reported_id, str(reported_id))
        package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
        [resource] = [r for r in package["resources"] if r["name"] == "reported-reaction-classes"]
        fields = {f["name"]: f for f in resource["schema"]["fields"]}
        assert list(fields)[:6] == ["reported_reaction_id", "election_id", "leader_id", "reaction_type", "type_source",
                                    "classified_type"]
        assert fields["type_source"]["description"].startswith("Where reaction_type comes from")
        assert "label" in fields["reaction_type"]["description"]
        assert all(f.get("description") for f in fields.values())
        assert list(row) == list(fields)
    # The label removed, the classifier's type is in force again.
    result = CliRunner().invoke(cli, ["label", f"reported:{reported_id}", "--remove", "--db", db])
    assert result.exit_code == 0, result.output
    assert roles_archive.db.execute("SELECT reaction_type, type_source FROM reported_reaction_types").fetchall() == [
        ("congratulation", "classifier")
    ]


async def test_reported_reactions_in_canned_queries_carry_role_and_timing(roles_archive):
    [(reported_id,)] = roles_archive.db.execute("SELECT id FROM reported_reactions").fetchall()
    datasette = datasette_instance(roles_archive.path)
    data = (await datasette.client.get("/archive/congratulations_in_order.json?_shape=objects&election=")).json()
    [reported] = [row for row in data["rows"] if row["how"] != "post"]
    assert (reported["role"], reported["milestone"]) == ("President of Ecuador (fictional)", "final_count")
    assert reported["timing"].endswith("after polls closed; after the final count, before the official result")
    classify_store.set_label(roles_archive.db, classify_store.Label("valdoria-2021", "call_for_calm",
                                                                    reported_reaction_id=reported_id))
    data = (await datasette.client.get("/archive/allegations_and_calm.json?_shape=objects&election=&type=call_for_calm")).json()
    [reported] = [row for row in data["rows"] if row["how"] == "reported"]
    assert (reported["author"], reported["role"], reported["type_source"]) == (
        "Fabio Reportado", "President of Ecuador (fictional)", "label")
    assert "after polls closed" in reported["timing"]
