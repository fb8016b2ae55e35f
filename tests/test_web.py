"""The published archive in-process: cards, the post page, the index, the
charts, the feed, fast facets, and what a hostile visitor can send."""

import random
import time
import urllib.parse

import pytest

from scraper.publish import datasette_instance
from scraper.reaction_rows import FACETS, refresh_reaction_rows
from scraper.model import RawItem

HOSTILE_TEXT = '<script>alert("xss")</script> <img src=x onerror=alert(2)> Rosa Ficticia presidenta electa'
HOSTILE_NAME = '<b onmouseover=alert(3)>Evil</b>'


@pytest.fixture
def demo(demo_db):
    return datasette_instance(demo_db)


@pytest.fixture
def hostile(valdoria_archive):
    """A post whose text, author and address are markup and a script link."""
    archive = valdoria_archive
    archive.register_source("test", "article", "test")
    archive.store([RawItem(format="article-text-embed", payload=f"{HOSTILE_TEXT} — Alguien (@alguien) June 9, 2021",
                           source_id="test", location="t#1")], archive.start_run("test"))
    with archive.write():
        archive.db.execute("UPDATE posts SET author_name = ?, url = 'javascript:alert(4)'", [HOSTILE_NAME])
        refresh_reaction_rows(archive.db)  # a writer other than the archive keeps the reactions table
    return datasette_instance(archive.path)


async def test_reactions_are_cards_with_the_table_one_click_away(demo):
    html = (await demo.client.get("/demo/reactions")).text
    assert html.count('<article class="reaction-card') == 50
    assert "(fictional)" in html and "after polls closed; after the official result" in html
    assert 'class="reaction-type reaction-type-' in html and "the classifier&#39;s, confidence" in html
    # the default facets, with reaction type and milestone, counted from reactions_facet_counts
    for facet in FACETS:
        assert f'data-column="{facet}"' in html, facet
    assert 'class="reaction-original" href="https://' in html and "text, versions and captures" in html
    assert "_view=table" in html and "Charts and map" in html
    table = (await demo.client.get("/demo/reactions?_view=table&_col=created_at&_col=author&_col=text")).text
    assert '<article class="reaction-card' not in table and 'class="rows-and-columns"' in table


async def test_the_post_page_reads_like_a_post(demo, demo_db):
    import sqlite3

    post_id = sqlite3.connect(demo_db).execute("SELECT post_id FROM reactions LIMIT 1").fetchone()[0]
    from datasette.utils import tilde_encode

    html = (await demo.client.get(f"/demo/posts/{tilde_encode(post_id)}")).text
    assert 'class="reaction-text post-text"' in html
    assert "Versions (1)" in html and "Captures (1)" in html and "demo-fictional-2024" in html


async def test_the_index_leads_with_the_reactions_and_the_queries(demo):
    html = (await demo.client.get("/")).text
    lead, tables = html.split("Every table", 1)
    assert "2,873 reactions" in lead and "Ready-made queries" in lead
    assert "First reaction of each leader" in lead and "Charts and map" in lead
    # (which tables Datasette lists first depends on which counts it found in time)
    assert '<a href="/demo">demo</a>' in tables and tables.count('href="/demo/') >= 3


async def test_charts_and_map(demo):
    html = (await demo.client.get("/demo/-/charts")).text
    assert html.count('class="chart-svg"') == 6 and 'class="chart-bar' in html
    assert "Reactions by type" in html and "Reactions by the latest milestone before them" in html
    assert "Valdoria presidential runoff 2024 (fictional demo)" in html
    assert "reactions_per_country" in html
    page = await demo.client.get("/demo/reactions_per_country?election=demo-fictional-2024")
    assert "datasette-cluster-map.js" in page.text  # the map, on the countries
    reactions = await demo.client.get("/demo/reactions")
    assert "datasette-cluster-map.js" not in reactions.text  # not 2,873 markers
    assert (await demo.client.get("/demo/-/charts?election=nope")).status_code == 404


async def test_atom_feed_of_new_reactions(demo):
    response = await demo.client.get("/demo/new_reactions.atom")
    assert response.status_code == 200 and response.text.count("<entry>") == 50
    assert "(fictional)" in response.text
    html = (await demo.client.get("/demo/reactions")).text
    assert 'type="application/atom+xml"' in html


async def test_counted_facets_equal_grouped_ones(demo):
    fast = (await demo.client.get("/demo/reactions.json?election=demo-fictional-2024")).json()["facet_results"]
    slow = (await demo.client.get("/demo/reactions.json?election=demo-fictional-2024&_where=1%3D1")).json()[
        "facet_results"]
    assert set(fast) >= {"reaction_type", "milestone"}
    for name in FACETS:
        assert [(v["value"], v["count"]) for v in fast[name]["results"]] == [
            (v["value"], v["count"]) for v in slow[name]["results"]], name
        assert fast[name]["truncated"] == slow[name]["truncated"]


async def test_markup_in_posts_stays_text(hostile):
    for path in ("/archive/reactions", "/archive/reactions?_view=table", "/archive/search?q=Rosa",
                 "/archive/posts/x~3Aderived~3A" , "/archive/new_reactions.atom"):
        response = await hostile.client.get(path)
        text = response.text
        assert "<script>alert" not in text and "<img src=x onerror" not in text, path
        assert "<b onmouseover" not in text and 'href="javascript:' not in text, path
    cards = (await hostile.client.get("/archive/reactions")).text
    assert "&lt;script&gt;" in cards and "&lt;b onmouseover=alert(3)&gt;" in cards
    assert '<span class="reaction-address">javascript:alert(4)</span>' in cards


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_writes_answer_405(demo, method):
    for path in ("/demo/reactions/-/insert", "/demo/-/create", "/demo/reactions", "/-/permissions"):
        response = await demo.client.request(method, path, json={"row": {"a": 1}})
        assert response.status_code == 405, (method, path)
        assert "read-only" in response.text


async def test_blob_downloads_follow_allow_download(demo, demo_db):
    import sqlite3

    sha = sqlite3.connect(demo_db).execute("SELECT sha256 FROM raw_payloads LIMIT 1").fetchone()[0]
    path = f"/demo/raw_payloads/{sha}.blob?_blob_column=content"
    assert (await demo.client.get(path)).status_code == 403
    assert (await demo.client.get("/demo.blob?sql=select+content+from+raw_payloads&_blob_column=content")).status_code == 403
    allowed = datasette_instance(demo_db, settings={"allow_download": True})
    assert (await allowed.client.get(path)).status_code == 200


async def test_robots_are_kept_out_unless_allowed(demo, demo_db):
    assert "Disallow: /" in (await demo.client.get("/robots.txt")).text
    open_instance = datasette_instance(demo_db, allow_robots=True)
    assert (await open_instance.client.get("/robots.txt")).text.splitlines()[-1] == "Disallow:"


BAD_QUERIES = [
    "_size=abc", "_size=-1", "_size=99999999999999999999", "_sort=nope", "_sort_desc=nope", "_sort=text&_sort_desc=text",
    "_next=%FF%FE", "_next=abc,def,ghi", "_facet=nope", "_facet_array=text", "_facet_date=nope", "_timelimit=abc",
    "_timelimit=99999999999999999999", "_search=%22", "_search=NEAR(", "_search=AND", "_searchmode=raw&_search=%22",
    "_searchmode=raw&_search=a%20AND", "_where=1=", "_where=nope", "country__gt=", "country__in=%5B", "created_at__date=x",
    "_col=nope", "_nocol=post_id", "_labels=on&_shape=nope", "_shape=objects&_json=text", "_search_nope=x",
    "_through=%7B%22table%22%3A1%7D", "_facet_size=abc", "_facet_size=-5", "_trace=1", "_fts_table=nope&_search=x",
    "_fts_pk=nope&_search=x", "%00=%00", "text__contains=%00", "_sort=created_at&_next=%00",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
async def test_any_query_string_gets_an_answer_not_a_500(demo, query, capsys):
    for suffix in ("", ".json"):
        started = time.perf_counter()
        response = await demo.client.get(f"/demo/reactions{suffix}?{query}")
        assert response.status_code < 500, (query, suffix, response.text[:300])
        assert time.perf_counter() - started < 30  # a bound, not a timing: nothing hangs
    assert "Traceback" not in capsys.readouterr().err


async def test_random_query_strings_never_get_a_500(demo):
    rng = random.Random(11)
    keys = ["_search", "_sort", "_size", "_next", "_facet", "country", "election__in", "_where", "_col", "q", "text__glob"]
    alphabet = ['"', "'", "(", ")", "*", "-", "%", ":", "\\", "\x00", "é", "AND", "NEAR", " ", "[", "{", ";", "0", "9"]
    for _ in range(60):
        query = urllib.parse.urlencode({rng.choice(keys): "".join(rng.choices(alphabet, k=rng.randint(0, 8)))
                                         for _ in range(rng.randint(1, 3))})
        for path in ("/demo/reactions.json", "/demo/search.json", "/demo/-/charts"):
            response = await demo.client.get(f"{path}?{query}")
            assert response.status_code < 500, (path, query, response.text[:300])


@pytest.mark.parametrize("q", ["", "   ", 'Castillo"', "AND", "NEAR(", "OR", '"', "' OR 1=1 --", "a:b", "^x", "*",
                               "Valdoria", "valdoria  decide", "\t\n"])
async def test_the_saved_search_accepts_any_text(demo, q):
    response = await demo.client.get("/demo/search.json?" + urllib.parse.urlencode({"q": q, "_shape": "objects"}))
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    if not q.strip() or q == "Valdoria":
        assert rows and rows == sorted(rows, key=lambda r: r["created_at"], reverse=True)


async def test_errors_are_short_and_leave_no_traceback(demo, capsys):
    response = await demo.client.get("/demo/nope.json")
    assert response.status_code == 404 and response.json()["error"]
    assert len((await demo.client.get("/demo/nope")).text) < 5000
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out and "locals" not in captured.err


# --- search pages: the facets counted once, exact or estimated and said so ---------


def _terms(demo_db) -> list[tuple[str, int]]:
    """The demo's words with how many posts hold them, most common first."""
    import sqlite3

    conn = sqlite3.connect(demo_db)
    conn.execute("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, posts_fts, row)")
    return conn.execute("SELECT term, doc FROM temp.words WHERE term GLOB '[a-z]*' ORDER BY doc DESC").fetchall()


def _grouped(demo_db, term: str, extra: str = "", params=()) -> tuple[int, dict]:
    """The count and every default facet of a search, grouped by SQLite."""
    import sqlite3

    conn = sqlite3.connect(demo_db)
    where = (f"post_rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?){extra}")
    args = ['"' + term + '"', *params]
    count = conn.execute(f"SELECT count(*) FROM reactions WHERE {where}", args).fetchone()[0]
    facets = {column: dict(conn.execute(f"SELECT [{column}], count(*) FROM reactions WHERE {where} "
                                        f"AND [{column}] IS NOT NULL GROUP BY 1", args).fetchall())
              for column in FACETS}
    return count, facets


def _facets(data) -> dict:
    return {name: {v["value"]: v["count"] for v in facet["results"]} for name, facet in data["facet_results"].items()}


async def test_a_search_page_counts_its_facets_exactly(demo, demo_db):
    terms = _terms(demo_db)
    term = next(t for t, n in terms if 20 <= n <= 400)
    data = (await demo.client.get(f"/demo/reactions.json?_search={term}&_facet_size=max")).json()
    count, facets = _grouped(demo_db, term)
    assert count and data["filtered_table_rows_count"] == count
    assert _facets(data) == facets
    assert not any(f.get("approximate") for f in data["facet_results"].values())
    # with a facet filter as well
    country = max(facets["country"], key=facets["country"].get)
    data = (await demo.client.get(f"/demo/reactions.json?_search={term}&country={urllib.parse.quote(country)}"
                                  "&_facet_size=max")).json()
    count, facets = _grouped(demo_db, term, " AND country = ?", [country])
    assert data["filtered_table_rows_count"] == count and _facets(data) == facets


async def test_a_broad_search_estimates_its_facets_and_says_so(demo, demo_db, monkeypatch):
    from scraper.web import search

    term, posts = _terms(demo_db)[0]
    monkeypatch.setattr(search, "BROAD_SEARCH", 10)
    count, exact = _grouped(demo_db, term)
    # a sample as large as the matches: the "estimates" are the counts
    monkeypatch.setattr(search, "SEARCH_FACET_SAMPLE", posts * 2)
    data = (await demo.client.get(f"/demo/reactions.json?_search={term}&_facet_size=max")).json()
    assert data["filtered_table_rows_count"] == count and "filtered_table_rows_count_approximate" not in data
    assert _facets(data) == exact and all(f["approximate"] for f in data["facet_results"].values())
    # a small sample: estimates, near the counts, of values that are there
    monkeypatch.setattr(search, "SEARCH_FACET_SAMPLE", max(posts // 4, 1))
    data = (await demo.client.get(f"/demo/reactions.json?_search={term}&_facet_size=max&_shape=objects")).json()
    assert data["filtered_table_rows_count"] == count
    for name, values in _facets(data).items():
        assert set(values) <= set(exact[name]), name
        assert abs(sum(values.values()) - sum(exact[name].values())) <= max(5, count // 20), name
    assert 0 < data["facet_results"]["country"]["sample"] < count
    # the rows are the newest matching reactions, in order
    import sqlite3

    newest = [r[0] for r in sqlite3.connect(demo_db).execute(
        "SELECT created_at FROM reactions WHERE post_rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?) "
        "ORDER BY created_at DESC LIMIT 50", ['"' + term + '"'])]
    assert [row["created_at"] for row in data["rows"]] == newest
    html = (await demo.client.get(f"/demo/reactions?_search={term}")).text
    assert 'class="facets-approximate"' in html and "estimates" in html and "The number of rows is exact" in html


@pytest.mark.parametrize("text", ['Castillo"', "AND", "NEAR(", '""', "a OR", "*", "elec*", "'; DROP TABLE posts; --"])
@pytest.mark.parametrize("broad", [False, True])
async def test_any_search_text_is_safe_on_the_search_path(demo, monkeypatch, text, broad):
    from scraper.web import search

    if broad:  # every form: rows asked of the index per reaction, facets and count from a sample
        for name, value in [("SMALL_SEARCH", 0), ("BROAD_SEARCH", 0), ("EXACT_COUNT", 0), ("PROBE_FACTOR", 0),
                            ("SEARCH_FACET_SAMPLE", 5)]:
            monkeypatch.setattr(search, name, value)
    response = await demo.client.get(f"/demo/reactions.json?_search={urllib.parse.quote(text)}")
    # Datasette's escaping makes '""' an empty phrase, which FTS5 refuses: a short 400
    assert response.status_code == (400 if text == '""' else 200), response.text
    raw = await demo.client.get(f"/demo/reactions.json?_search={urllib.parse.quote(text)}&_searchmode=raw")
    assert raw.status_code in (200, 400), raw.text  # FTS5 syntax, refused with a short message
