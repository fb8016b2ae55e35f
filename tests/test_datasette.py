"""Datasette on the archive, in-process: real SQL, the project's metadata."""

import pytest

from scraper.publish import datasette_instance, load_metadata, serve_command


@pytest.fixture
def datasette(peru_archive):
    return datasette_instance(peru_archive.path)


async def test_reactions_facet_by_country(datasette):
    response = await datasette.client.get("/archive/reactions.json?_facet=country&_shape=objects")
    assert response.status_code == 200
    data = response.json()
    assert [row["handle"] for row in data["rows"]] == ["LuchoXBolivia"]
    facet = data["facet_results"]["results"]["country"] if "results" in data["facet_results"] else data["facet_results"]["country"]
    assert [(v["value"], v["count"]) for v in facet["results"]] == [("Bolivia", 1)]


async def test_default_facets_from_metadata(datasette):
    data = (await datasette.client.get("/archive/reactions.json")).json()
    facets = data["facet_results"].get("results", data["facet_results"])
    assert {"country", "role_kind", "platform", "language", "election"} <= set(facets)


async def test_full_text_search_finds_castillo(datasette):
    data = (await datasette.client.get("/archive/reactions.json?_search=Castillo&_shape=objects")).json()
    assert [row["handle"] for row in data["rows"]] == ["LuchoXBolivia"]
    # accents ignored: Peru finds Perú
    data = (await datasette.client.get("/archive/reactions.json?_search=Peru&_shape=objects")).json()
    assert len(data["rows"]) == 1


@pytest.mark.parametrize(
    "query,params",
    [
        ("election_timeline", "election=peru-2021"),
        ("first_reactions", "election=peru-2021"),
        ("reactions_per_country", "election=peru-2021"),
        ("search", "q=Castillo"),
    ],
)
async def test_canned_queries_return_rows(datasette, query, params):
    response = await datasette.client.get(f"/archive/{query}.json?{params}&_shape=objects")
    assert response.status_code == 200, response.text
    assert response.json()["rows"], query


async def test_reactions_per_country_counts_reported_leaders(datasette):
    rows = (await datasette.client.get("/archive/reactions_per_country.json?election=peru-2021&_shape=objects")).json()["rows"]
    by_code = {row["country_code"]: row for row in rows}
    assert by_code["BO"]["posts"] == 1
    assert by_code["BR"]["leaders_reported"] == 2  # Lula and Rousseff


async def test_first_reactions_timed_against_the_milestones(datasette):
    rows = (await datasette.client.get("/archive/first_reactions.json?election=peru-2021&_shape=objects")).json()["rows"]
    assert rows[0]["leader_id"] == "luis-arce"
    # 2021-06-10 (day) against the polls closing, 2021-06-06 19:00 in Lima (00:00 UTC on the 7th),
    # not a signed number of hours before the JNE proclamation
    assert rows[0]["timing"] == "3.0 days after polls closed; before the final count"
    assert rows[0]["hours_after_polls_closed"] == pytest.approx(72.0)
    assert (rows[0]["milestone"], rows[0]["reaction_type"]) == ("polls_closed", "congratulation")
    assert "hours_after_result" not in rows[0]


async def test_metadata_title_license_and_descriptions_served(datasette):
    data = (await datasette.client.get("/-/metadata.json")).json()
    assert data["title"] == "Reaction Archive"
    assert "belongs to its authors" in data["license"]
    html = (await datasette.client.get("/archive/reactions")).text
    assert "the role the author held on the day of the post" in html


async def test_immutable_instance(peru_archive):
    datasette = datasette_instance(peru_archive.path, immutable=True)
    response = await datasette.client.get("/archive/posts.json")
    assert response.status_code == 200
    assert not datasette.databases["archive"].is_mutable


async def test_sql_time_limit_setting(datasette):
    settings = (await datasette.client.get("/-/settings.json")).json()
    assert settings["sql_time_limit_ms"] == 3000
    assert settings["suggest_facets"] is False  # seconds a page on big archives (docs/performance.md)


def test_metadata_renamed_for_another_archive_file(tmp_path):
    metadata = load_metadata(tmp_path / "night.db")
    assert "night" in metadata["databases"] and "archive" not in metadata["databases"]


def test_serve_command(tmp_path):
    command = serve_command(tmp_path / "a.db", tmp_path / "m.json", immutable=True, port=9000)
    assert command[command.index("serve") + 1:command.index("serve") + 3] == ["-i", str(tmp_path / "a.db")]
    assert "sql_time_limit_ms" in command and "9000" in command


async def test_the_stylesheet_the_metadata_names_is_served(datasette):
    html = (await datasette.client.get("/archive/reactions")).text
    assert "/assets/reactions.css" in html
    css = await datasette.client.get("/assets/reactions.css")
    assert css.status_code == 200 and "column-descriptions" in css.text


async def test_reactions_view_starts_with_what_people_read(datasette):
    data = (await datasette.client.get("/archive/reactions.json")).json()
    assert data["columns"][:7] == ["created_at", "author", "country", "role", "platform", "handle", "text"]


def test_front_page_links_follow_the_archive_name(tmp_path):
    metadata = load_metadata(tmp_path / "night.db")
    assert 'href="/night/reactions"' in metadata["description_html"]
    assert "/archive" not in metadata["description_html"]


@pytest.mark.parametrize("query", ["election_timeline", "first_reactions", "reactions_per_country"])
async def test_canned_queries_default_to_the_last_election_loaded(datasette, query):
    rows = (await datasette.client.get(f"/archive/{query}.json?election=&_shape=objects")).json()["rows"]
    assert rows, query
