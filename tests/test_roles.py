"""The role a leader held on the day of the post."""

from scraper.model import RawItem


def text_item(line, location="test#1"):
    return RawItem(format="article-text-embed", payload=line, source_id="test", location=location)


def test_role_resolved_by_the_posts_date(valdoria_archive):
    archive = valdoria_archive
    archive.register_source("test", "article", "test")
    run = archive.start_run("test")
    archive.store(
        [
            text_item("Parabéns, presidenta eleita Rosa Ficticia! #EleicoesFicticias — Lucía Inventada (@lucia_inventada) June 9, 2021"),
        ],
        run,
    )
    rows = list(archive.db.query("select role, role_kind, country_code, author from reactions"))
    assert rows == [
        {
            "role": "Former President of Brazil (fictional)",
            "role_kind": "former_head_of_state",
            "country_code": "BR",
            "author": "Lucía Inventada",
        }
    ]
    # The same leader, the same words, two years later: now head of state.
    archive.db.execute("update elections set window_end = '2023-12-31T00:00:00Z'")
    archive.elections.forget()
    archive.store(
        [text_item("Parabéns, presidenta eleita Rosa Ficticia! #EleicoesFicticias — Lucía Inventada (@lucia_inventada) June 9, 2023", "test#2")],
        run,
    )
    rows = list(archive.db.query("select created_at, role_kind from reactions order by created_at"))
    assert rows == [
        {"created_at": "2021-06-09", "role_kind": "former_head_of_state"},
        {"created_at": "2023-06-09", "role_kind": "head_of_state"},
    ]


def test_first_and_last_day_of_a_role(valdoria_archive):
    archive = valdoria_archive
    archive.db.execute("update elections set window_end = '2023-12-31T00:00:00Z'")
    archive.elections.forget()
    archive.register_source("test", "article", "test")
    run = archive.start_run("test")
    for i, day in enumerate(["December 31, 2022", "January 1, 2023"]):
        archive.store([text_item(f"Dia {i}: eleições #EleicoesFicticias — Lucía Inventada (@lucia_inventada) {day}", f"t#{i}")], run)
    rows = [r["role_kind"] for r in archive.db.query("select role_kind from reactions order by created_at")]
    assert rows == ["former_head_of_state", "head_of_state"]
