"""The bundled example: the seed report, as plain text and as an HTML page."""

import json

from click.testing import CliRunner

from scraper.cli import cli

from .conftest import PERU_CONFIG


def test_arce_post_with_author_country_role_and_election(peru_archive):
    rows = list(peru_archive.db.query("select * from reactions where handle = 'LuchoXBolivia'"))
    assert len(rows) == 1
    row = rows[0]
    assert row["created_at"] == "2021-06-10"
    assert row["created_at_precision"] == "day"
    assert row["country_code"] == "BO"
    assert row["role"] == "President of Bolivia"
    assert row["role_kind"] == "head_of_state"
    assert row["election"] == "peru-2021"
    assert row["platform"] == "x"
    assert row["language"] == "es"
    assert row["text"].startswith("#Bolivia se une a la celebración del pueblo peruano")
    assert row["text"].endswith("con justicia e igualdad para los pueblos.")
    post = peru_archive.db["posts"].get(row["post_id"])
    assert json.loads(post["media"]) == [{"type": "media", "url": "https://pic.twitter.com/vz7QPd2POg"}]
    terms = json.loads(row["matched_terms"])
    assert "@PedroCastilloTe" in terms and "#Perú" in terms
    assert json.loads(row["hashtags"]) == ["Bolivia", "Perú", "PatriaGrande"]
    assert json.loads(row["mentions"]) == ["PedroCastilloTe"]


def test_same_post_from_text_and_html_is_one_post_with_two_captures(peru_archive):
    assert peru_archive.db["posts"].count == 1
    post = next(peru_archive.db["posts"].rows)
    assert post["id_is_derived"] == 1
    sources = {r["source_id"] for r in peru_archive.db.query("select source_id from capture_details where post_id = ?", [post["id"]])}
    assert sources == {"seed-report-text", "seed-report-html"}


def test_six_leaders_reported_without_quotes(peru_archive):
    leaders = {r["leader_id"] for r in peru_archive.db.query("select leader_id from reported_reactions")}
    assert leaders == {"alberto-fernandez", "daniel-ortega", "rafael-correa", "lula", "dilma-rousseff", "piedad-cordoba"}
    evidence = peru_archive.db.execute(
        "select evidence from reported_reactions where leader_id = 'lula' and source_id = 'seed-report-text'"
    ).fetchone()[0]
    assert "Lula Da Silva" in evidence


def test_article_metadata_recorded_as_source(peru_archive):
    source = peru_archive.db["sources"].get("seed-report-text")
    assert source["kind"] == "article"
    assert source["published_at"] == "2021-06-11"
    html = peru_archive.db["sources"].get("seed-report-html")
    assert html["title"].startswith("Latin American leaders congratulate Pedro Castillo")


def test_second_scrape_adds_only_captures(peru_archive):
    from scraper.config import load_config
    from scraper.scrape import run_scrape

    before = peru_archive.counts()
    run_scrape(peru_archive, load_config(PERU_CONFIG))
    after = peru_archive.counts()
    assert after["posts"] == before["posts"]
    assert after["post_versions"] == before["post_versions"]
    assert after["reported_reactions"] == before["reported_reactions"]
    assert after["captures"] == before["captures"] + 2


def test_cli_scrape_default_config(tmp_path, monkeypatch):
    monkeypatch.chdir(PERU_CONFIG.parent.parent)
    db = tmp_path / "out.db"
    result = CliRunner().invoke(cli, ["scrape", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "seed-report-text [article] ok: 1 items, 1 new" in result.output
    assert "6 reported reactions" in result.output
