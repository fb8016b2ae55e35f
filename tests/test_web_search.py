"""Search pages of the reactions table answered by our plan (scraper/web/search.py):
the rows in each of the three forms are SQLite's own answer in order, page
after page; the count is exact, or an estimate said as one; Datasette's
``_nocount`` never shows in a link; hostile text stays a short 400 at worst."""

import sqlite3
import urllib.parse

import pytest

from scraper.publish import datasette_instance
from scraper.web import search

FORMS = {  # thresholds that force each form of the rows' search clause
    "post": {"SMALL_SEARCH": 10**9},
    "order": {"SMALL_SEARCH": 0, "PROBE_FACTOR": 10**12},
    "probe": {"SMALL_SEARCH": 0, "PROBE_FACTOR": 0},
}
CLAUSES = {
    "post": "where post_rowid in (select rowid from posts_fts",
    "order": "+post_rowid in (select rowid from posts_fts",
    "probe": "exists (select 1 from posts_fts",
}


@pytest.fixture
def demo(demo_db):
    return datasette_instance(demo_db)


def _force(monkeypatch, form):
    for name, value in FORMS[form].items():
        monkeypatch.setattr(search, name, value)


def _sqlite(demo_db, match: str, extra: str = "", params=(), order="created_at DESC") -> list[tuple]:
    conn = sqlite3.connect(demo_db)
    return conn.execute(
        "SELECT created_at, election, post_id FROM reactions WHERE post_rowid IN "
        f"(SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?){extra} ORDER BY {order}", [match, *params]).fetchall()


async def _all_pages(client, path: str) -> tuple[list[dict], list[dict]]:
    """Every row of a search, page after page by next_url; and each page's JSON."""
    rows, pages = [], []
    while path:
        response = await client.get(path)
        assert response.status_code == 200, response.text[:300]
        data = response.json()
        pages.append(data)
        rows += [dict(zip(data["columns"], row)) for row in data["rows"]]
        path = data["next_url"] and urllib.parse.urlsplit(data["next_url"])._replace(scheme="", netloc="").geturl()
    return rows, pages


def _in_order(rows, expected) -> None:
    """The same rows, in the same order of posting time (ties in any order)."""
    assert [r["created_at"] for r in rows] == [e[0] for e in expected]
    assert sorted((r["created_at"], r["election"], r["post_id"]) for r in rows) == sorted(expected)


@pytest.mark.parametrize("form", ["post", "order", "probe"])
@pytest.mark.parametrize("term", ["valdoria", "presidente", "ejemplar"])
async def test_each_form_pages_through_sqlites_own_answer(demo, demo_db, monkeypatch, form, term):
    _force(monkeypatch, form)
    rows, pages = await _all_pages(demo.client, f"/demo/reactions.json?_search={term}&_size=40")
    assert CLAUSES[form] in pages[0]["query"]["sql"]
    expected = _sqlite(demo_db, f'"{term}"')
    _in_order(rows, expected)
    assert all(page["filtered_table_rows_count"] == len(expected) for page in pages)
    assert not any("_nocount" in (page["next_url"] or "") for page in pages)


@pytest.mark.parametrize("form", ["post", "order", "probe"])
async def test_each_form_with_a_facet_filter_and_the_oldest_first(demo, demo_db, monkeypatch, form):
    _force(monkeypatch, form)
    country = sqlite3.connect(demo_db).execute(
        "SELECT country FROM reactions GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    rows, pages = await _all_pages(demo.client, "/demo/reactions.json?_search=presidente&_size=25&_sort=created_at"
                                                f"&country={urllib.parse.quote(country)}")
    expected = _sqlite(demo_db, '"presidente"', " AND country = ?", [country], order="created_at")
    _in_order(rows, expected)
    assert pages[0]["filtered_table_rows_count"] == len(expected)
    facets = {v["value"]: v["count"] for v in pages[0]["facet_results"]["country"]["results"]}
    assert facets == {country: len(expected)}


async def test_a_sort_the_indexes_do_not_hold_fetches_by_post(demo, demo_db, monkeypatch):
    _force(monkeypatch, "probe")
    data = (await demo.client.get("/demo/reactions.json?_search=valdoria&_sort=author&_size=max")).json()
    assert CLAUSES["post"] in data["query"]["sql"]
    expected = _sqlite(demo_db, '"valdoria"')
    assert data["filtered_table_rows_count"] == len(expected)
    assert len(data["rows"]) == min(len(expected), demo.max_returned_rows)


async def test_a_raw_search_in_every_form(demo, demo_db, monkeypatch):
    for form in FORMS:
        _force(monkeypatch, form)
        query = "presidente OR ejemplar NOT valdoriadecide"
        rows, pages = await _all_pages(demo.client, "/demo/reactions.json?_searchmode=raw&_size=100&_search="
                                                    + urllib.parse.quote(query))
        _in_order(rows, _sqlite(demo_db, query))


async def test_a_count_beyond_exact_count_is_an_estimate_said_as_one(demo, demo_db, monkeypatch):
    for name, value in [("BROAD_SEARCH", 0), ("EXACT_COUNT", 0), ("SEARCH_FACET_SAMPLE", 1000)]:
        monkeypatch.setattr(search, name, value)
    exact = len(_sqlite(demo_db, '"valdoria"'))
    data = (await demo.client.get("/demo/reactions.json?_search=valdoria")).json()
    assert data["filtered_table_rows_count_approximate"] is True
    sample = data["filtered_table_rows_count_sample"]
    assert 0 < sample < exact and abs(data["filtered_table_rows_count"] - exact) < exact * 0.25
    # the same sample as the facets', counted once (their totals are the estimate)
    assert data["facet_results"]["country"]["sample"] == sample
    # paginated, the facets count what is left, so the count's sample is its own: the same estimate
    again = (await demo.client.get(urllib.parse.urlsplit(data["next_url"])._replace(scheme="", netloc="").geturl()))
    assert again.json()["filtered_table_rows_count"] == data["filtered_table_rows_count"]
    # without facets, the count samples by itself: the same
    alone = (await demo.client.get("/demo/reactions.json?_search=valdoria&_nofacet=1")).json()
    assert alone["filtered_table_rows_count"] == data["filtered_table_rows_count"]
    html = (await demo.client.get("/demo/reactions?_search=valdoria")).text
    assert "about " in html and "The number of rows is an estimate" in html
    assert "_nocount" not in html


async def test_counts_are_exact_up_to_exact_count(demo, demo_db):
    for term in ("valdoria", "ejemplar", "nothingmatchesthis"):
        data = (await demo.client.get(f"/demo/reactions.json?_search={term}")).json()
        assert data["filtered_table_rows_count"] == len(_sqlite(demo_db, f'"{term}"'))
        assert "filtered_table_rows_count_approximate" not in data
    html = (await demo.client.get("/demo/reactions?_search=ejemplar")).text
    count = len(_sqlite(demo_db, '"ejemplar"'))
    assert f"{count:,} rows" in html and "_nocount" not in html


async def test_nocount_and_the_array_shapes_still_work(demo, demo_db):
    data = (await demo.client.get("/demo/reactions.json?_search=ejemplar&_nocount=1")).json()
    assert data["filtered_table_rows_count"] is None and data["rows"]
    rows = (await demo.client.get("/demo/reactions.json?_search=ejemplar&_shape=array&_size=max")).json()
    assert len(rows) == len(_sqlite(demo_db, '"ejemplar"'))
    csv = (await demo.client.get("/demo/reactions.csv?_search=ejemplar&_size=max")).text
    assert len(csv.strip().splitlines()) == len(_sqlite(demo_db, '"ejemplar"')) + 1


async def test_pages_without_a_search_are_datasettes(demo, demo_db):
    data = (await demo.client.get("/demo/reactions.json")).json()
    assert data["filtered_table_rows_count"] == sqlite3.connect(demo_db).execute(
        "SELECT count(*) FROM reactions").fetchone()[0]
    assert "filtered_table_rows_count_approximate" not in data


@pytest.mark.parametrize("text", ["", " ", '"', 'Castillo"', "AND", "NEAR(", "a OR", "*", "elec*", "-x", "^",
                                  "'; DROP TABLE posts; --", "NEAR(valdoria presidente, 2)"])
@pytest.mark.parametrize("form", ["post", "probe"])
async def test_hostile_search_text_in_html_and_json(demo, monkeypatch, text, form):
    _force(monkeypatch, form)
    monkeypatch.setattr(search, "EXACT_COUNT", 0)
    for mode in ("", "&_searchmode=raw"):
        for suffix in ("", ".json"):
            response = await demo.client.get(f"/demo/reactions{suffix}?_search={urllib.parse.quote(text)}{mode}")
            assert response.status_code in (200, 400), (text, mode, suffix, response.text[:300])
            if response.status_code == 400 and suffix:
                assert "Traceback" not in response.text and len(response.text) < 2000


def test_the_form_follows_how_many_posts_match():
    assert search.rows_form(50, 10**6, 50, page_order=True) == "post"
    assert search.rows_form(10_000, 10**6, 50, page_order=True) == "order"
    assert search.rows_form(500_000, 10**6, 50, page_order=True) == "probe"
    assert search.rows_form(500_000, 10**6, 1000, page_order=True) == "order"  # a long page: many questions
    assert search.rows_form(500_000, 10**6, 50, page_order=False) == "post"  # a sort no index holds


async def test_a_filter_keeping_many_rows_counts_its_facets_from_a_marked_sample(demo, demo_db, monkeypatch):
    from scraper.web import plugin

    conn = sqlite3.connect(demo_db)
    country, kept = conn.execute(
        "SELECT country, count(*) FROM reactions GROUP BY country ORDER BY 2 DESC LIMIT 1").fetchone()
    exact = dict(conn.execute("SELECT platform, count(*) FROM reactions WHERE country = ? GROUP BY platform",
                              [country]).fetchall())
    query = "/demo/reactions.json?country=" + urllib.parse.quote(country)
    # few enough rows: Datasette's exact facets, nothing marked
    data = (await demo.client.get(query)).json()
    assert {v["value"]: v["count"] for v in data["facet_results"]["platform"]["results"]} == exact
    assert "approximate" not in data["facet_results"]["platform"]
    # more rows than counted exactly, sampled from the whole table (share 1: the estimate is exact)
    monkeypatch.setattr(plugin, "FILTER_EXACT_UP_TO", 0)
    monkeypatch.setattr(plugin, "FILTER_SAMPLE", 10**9)
    data = (await demo.client.get(query)).json()
    facet = data["facet_results"]["platform"]
    assert facet["approximate"] is True and facet["sample"] == kept
    assert {v["value"]: v["count"] for v in facet["results"]} == exact
    assert data["filtered_table_rows_count"] == kept  # (the rows' count stays Datasette's, exact)
    # a real sample: estimates near the counts, said to be estimates on the page
    monkeypatch.setattr(plugin, "FILTER_SAMPLE", 1000)
    data = (await demo.client.get(query)).json()
    facet = data["facet_results"]["platform"]
    assert facet["approximate"] is True and 0 < facet["sample"] < kept
    assert abs(sum(v["count"] for v in facet["results"]) - kept) < kept * 0.5
    html = (await demo.client.get(query.replace(".json", ""))).text
    assert "This filter keeps many" in html
