"""The roster's SPARQL queries: valid SPARQL, the meaning we want, and shown
in docs/configuration.md exactly as sent.

They run with rdflib on tests/fixtures/wikidata/graph.ttl, a tiny
Wikidata-shaped graph of fictional items, without the label service (a
Wikidata extension rdflib does not have).
"""

import re
from datetime import date
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.plugins.sparql import prepareQuery

from scraper.roster.queries import countries_query, holders_query, people_query, positions_query

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wikidata"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
PREFIXES = {
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "p": "http://www.wikidata.org/prop/",
    "ps": "http://www.wikidata.org/prop/statement/",
    "pq": "http://www.wikidata.org/prop/qualifier/",
    "pqv": "http://www.wikidata.org/prop/qualifier/value/",
    "wikibase": "http://wikiba.se/ontology#",
    "bd": "http://www.bigdata.com/rdf#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
OFFICES = ("head_of_state", "head_of_government", "foreign_minister")
SINCE = date(2016, 1, 1)


@pytest.fixture(scope="module")
def graph():
    graph = Graph()
    graph.parse(FIXTURES / "graph.ttl", format="turtle")
    return graph


def run(graph, query: str) -> list[dict[str, str]]:
    """Rows as {variable: value}, QIDs short; the label service left out."""
    query = re.sub(r"^\s*SERVICE wikibase:label .*$", "", query, flags=re.MULTILINE)
    rows = []
    for row in graph.query(query, initNs=PREFIXES):
        rows.append({
            str(name): str(value).replace(PREFIXES["wd"], "")
            for name, value in row.asdict().items()
        })
    return rows


def every_query() -> list[str]:
    return [
        countries_query(OFFICES, ["en", "es"], codes=["UY", "AR"]),
        countries_query(OFFICES, ["en"], group="un"),
        countries_query(("foreign_minister",), ["en"], group="south-america"),
        positions_query(["Q99990950"], ["en"]),
        holders_query(["Q99990911", "Q99990912"], ["Q99990901"], SINCE, ["en"]),
        holders_query(["Q99990950"], [], SINCE, ["en"], ()),
        people_query(["Q99990001", "Q99990002"], ["en", "es"]),
    ]


@pytest.mark.parametrize("query", every_query())
def test_every_query_is_valid_sparql(query):
    prepareQuery(query, initNs=PREFIXES)
    assert query.startswith("#reaction-archive roster: ")


def test_countries_query_finds_offices_and_skips_dissolved_countries(graph):
    rows = run(graph, countries_query(OFFICES, ["en"], codes=["UY"]))
    assert {row["country"] for row in rows} == {"Q99990901"}
    assert {(row["kind"], row["office"]) for row in rows} == {
        ("head_of_state", "Q99990911"), ("head_of_government", "Q99990911"), ("foreign_minister", "Q99990912"),
    }


def test_holders_query_returns_every_term_of_people_in_office_since_the_date(graph):
    rows = run(graph, holders_query(["Q99990911", "Q99990912"], ["Q99990901"], SINCE, ["en"]))
    terms = {(row["person"], row["source"], row.get("start", "")[:10], row.get("end", "")[:10]) for row in rows}
    assert terms == {
        ("Q99990001", "P39", "2020-03-01", ""),
        ("Q99990001", "P35", "2020-03-01", ""),
        # Tomás held the office after 2016, so his 2005-2010 term comes along (his former role needs it)
        ("Q99990002", "P39", "2005-03-01", "2010-03-01"),
        ("Q99990002", "P39", "2015-03-01", "2020-03-01"),
        ("Q99990002", "P35", "2015-03-01", "2020-03-01"),
        ("Q99990003", "P39", "2021-01-01", ""),
    }  # not Hugo (left in 2015), not Zoe (deprecated), not the council (not a human)
    lucia = next(row for row in rows if row["person"] == "Q99990003")
    assert lucia["startPrecision"] == "9"


def test_holders_query_for_current_holders(graph):
    rows = run(graph, holders_query(["Q99990911"], ["Q99990901"], date(2026, 3, 1), ["en"]))
    assert {row["person"] for row in rows} == {"Q99990001"}


def test_people_query_returns_names_accounts_ranks_and_qualifiers(graph):
    rows = run(graph, people_query(["Q99990001", "Q99990003"], ["en", "es"]))
    rosa = [row for row in rows if row["person"] == "Q99990001"]
    assert {row["name"] for row in rosa if "name" in row} == {"Rosa Ficticia", "Rosa Ficticia Pérez"}
    assert {row["alias"] for row in rosa if "alias" in row} == {"Rosa F. Pérez"}  # not the German one
    accounts = {(row["platform"], row["account"], row["rank"].rsplit("#", 1)[1], row.get("accountEnd", "")[:10],
                 row.get("xUserId", "")) for row in rosa if "account" in row}
    assert accounts == {
        ("x", "rosa_ficticia", "PreferredRank", "", "99990001001"),
        ("x", "rosa_old", "NormalRank", "2019-12-31", ""),
        ("telegram", "rosa_fake_channel", "DeprecatedRank", "", ""),
        ("bluesky", "rosa-ficticia.bsky.social", "NormalRank", "", ""),
    }


def documented_queries() -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    return [block + "\n" for block in re.findall(r"```sparql\n(.*?)\n```", text, flags=re.DOTALL)]


def test_docs_show_the_queries_exactly_as_sent():
    """docs/configuration.md shows the queries for one example (Peru and
    Bolivia since 2016); they must be what the code sends for it."""
    documented = documented_queries()
    languages = ["en", "es"]
    expected = [
        countries_query(OFFICES, languages, codes=["PE", "BO"]),
        holders_query(["Q99990911", "Q99990912"], ["Q99990901"], SINCE, languages).replace(
            "wd:Q99990911 wd:Q99990912", "wd:OFFICE …").replace("wd:Q99990901", "wd:COUNTRY …"),
        people_query(["Q99990001", "Q99990002"], languages).replace("wd:Q99990001 wd:Q99990002", "wd:PERSON …"),
        countries_query(OFFICES, languages, group="un"),
        positions_query(["Q99990950"], languages).replace("wd:Q99990950", "wd:POSITION"),
    ]
    assert documented == expected
