"""Election milestones: the config keys and their errors, and every
reaction's time against them in the reactions table."""

import json

import pytest

from scraper.archive import Archive
from scraper.config import load_config
from scraper.errors import ConfigError
from scraper.scrape import import_file

from .conftest import PERU_CONFIG, VALDORIA_CONFIG

MILESTONES = """  milestones:
    polls_closed: {at: "2021-06-06T18:00:00-03:00", source: fictional electoral court}
    first_results: {at: "2021-06-06T22:30:00-03:00", source: fictional}
    final_count: {at: 2021-06-07, source: a date alone (midnight in America/Montevideo)}
    inauguration: {at: "2021-07-01T12:00:00-03:00", label: Rosa Ficticia sworn in}
"""


def valdoria_with(tmp_path, milestones: str = MILESTONES, drop_result: bool = False):
    text = VALDORIA_CONFIG.read_text(encoding="utf-8")
    text = text.replace("  window: {start:", milestones + "  window: {start:")
    if drop_result:
        text = text.replace("  result_announced_at: 2021-06-07T21:00:00-03:00\n", "")
    text = text.replace("path: ../article/news-embeds.html", f"path: {VALDORIA_CONFIG.parent.parent / 'article' / 'news-embeds.html'}")
    path = tmp_path / "valdoria.yml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the config ---------------------------------------------------------------


def test_peru_milestones_from_the_public_record():
    election = load_config(PERU_CONFIG).election
    assert [(m.kind, m.at, m.precision) for m in election.milestones] == [
        ("polls_closed", "2021-06-07T00:00:00Z", "second"),
        ("final_count", "2021-06-15T05:00:00Z", "day"),
        ("official_result", "2021-07-19T05:00:00Z", "day"),
        ("inauguration", "2021-07-28T05:00:00Z", "day"),
    ]
    assert all(m.source for m in election.milestones)
    # result_announced_at follows the official_result milestone
    assert election.result_announced_at == "2021-07-19T05:00:00Z"
    assert election.result_label == "JNE proclaims Pedro Castillo president-elect"


def test_result_announced_at_becomes_the_official_result_milestone(tmp_path):
    election = load_config(valdoria_with(tmp_path)).election
    assert [m.kind for m in election.milestones] == [
        "polls_closed", "first_results", "final_count", "official_result", "inauguration"
    ]
    official = election.milestone("official_result")
    assert official.at == "2021-06-08T00:00:00Z" and official.source == "election.result_announced_at"
    assert election.milestone("final_count").at == "2021-06-07T03:00:00Z"  # midnight in Montevideo


def test_an_election_without_milestones_or_result(tmp_path):
    election = load_config(valdoria_with(tmp_path, milestones="", drop_result=True)).election
    assert election.milestones == [] and election.result_announced_at is None


def _error(tmp_path, milestones: str, drop_result: bool = False) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(valdoria_with(tmp_path, milestones, drop_result))
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_a_time_without_offset_is_refused_with_file_line_and_key(tmp_path):
    message = _error(tmp_path, '  milestones:\n    polls_closed: {at: "2021-06-06T18:00:00"}\n')
    assert "valdoria.yml:12" in message
    assert "key 'election.milestones.polls_closed.at'" in message
    assert "has no UTC offset" in message and "2021-06-06T18:00:00-03:00" in message  # the fix, in the zone


def test_milestones_out_of_order_are_refused(tmp_path):
    message = _error(tmp_path, "  milestones:\n    polls_closed: {at: 2021-06-09}\n    final_count: {at: 2021-06-08}\n")
    assert "key 'election.milestones.final_count.at'" in message and "comes before polls_closed" in message
    message = _error(tmp_path, "  milestones:\n    inauguration: {at: 2021-06-07}\n")
    assert "key 'election.result_announced_at'" in message and "out of order" in message
    message = _error(tmp_path, "  milestones:\n    final_count: {at: 2021-06-10}\n")
    assert "out of order with milestone final_count" in message


@pytest.mark.parametrize(
    "milestones, expected",
    [
        ("  milestones:\n    polls_close: {at: 2021-06-06}\n", "unknown key 'polls_close'"),
        ("  milestones:\n    polls_closed: {at: yesterday}\n", "'yesterday' is not a date or date-time"),
        ("  milestones:\n    polls_closed: {source: x}\n", "required key is missing"),
        ("  milestones:\n    polls_closed: {at: 2021-06-06, when: x}\n", "unknown key 'when'"),
        ("  milestones:\n    official_result: {at: 2021-06-09}\n", "differs from milestones.official_result"),
    ],
)
def test_bad_milestones_name_their_key(tmp_path, milestones, expected):
    assert expected in _error(tmp_path, milestones)


def test_a_window_time_without_offset_is_refused_too(tmp_path):
    path = valdoria_with(tmp_path)
    path.write_text(path.read_text().replace("window: {start: 2021-06-06,", "window: {start: 2021-06-06T08:00:00,"))
    with pytest.raises(ConfigError, match="key 'election.window.start': '2021-06-06T08:00:00' has no UTC offset"):
        load_config(path)


def test_the_template_config_loads_with_its_milestones():
    election = load_config(PERU_CONFIG.parent / "example-live.yml").election
    assert [m.kind for m in election.milestones] == ["polls_closed", "first_results", "official_result", "inauguration"]


def test_an_unknown_candidate_is_refused_with_its_key(tmp_path):
    path = valdoria_with(tmp_path)
    path.write_text(path.read_text().replace("candidates: [rosa-fictional]", "candidates: [rosa-fictional, rosa-ficticia]"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "key 'election.candidates[1]': candidate 'rosa-ficticia' is not a roster leader id" in str(caught.value)
    assert caught.value.exit_code == 2


def test_the_short_form_is_a_moment(tmp_path):
    election = load_config(valdoria_with(tmp_path, '  milestones:\n    polls_closed: "2021-06-06T18:00:00-03:00"\n')).election
    assert election.milestone("polls_closed").at == "2021-06-06T21:00:00Z"


# --- the reactions view -------------------------------------------------------


def tweets_file(tmp_path, tweets: list[tuple[str, str, str]], name: str = "tweets.jsonl"):
    """A twarc2 page of (id, created_at, text) posts by the fictional @tomasimaginario."""
    author = {"id": "1301234567890123456", "username": "tomasimaginario", "name": "Tomás Imaginario"}
    page = {
        "data": [
            {"id": tweet_id, "author_id": author["id"], "created_at": created_at, "text": text, "lang": "es",
             "edit_history_tweet_ids": [tweet_id]}
            for tweet_id, created_at, text in tweets
        ],
        "includes": {"users": [author]},
        "meta": {"result_count": len(tweets)},
    }
    path = tmp_path / name
    path.write_text(json.dumps(page, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


TIMES = [
    ("1401000000000000001", "2021-06-06T20:00:00.000Z", "Hoy Valdoria vota: elecciones en paz."),
    ("1401000000000000002", "2021-06-07T09:00:00.000Z", "Felicito a Rosa Ficticia, presidenta electa."),
    ("1401000000000000003", "2021-06-09T21:00:00.000Z", "Llamamos a la calma en las elecciones."),
    ("1401000000000000004", "2021-07-05T12:00:00.000Z", "Denunciamos fraude en las elecciones."),
]


def archive_with_posts(tmp_path, config_path):
    archive = Archive(tmp_path / "archive.db")
    archive.migrate()
    archive.load_config(load_config(config_path))
    import_file(archive, "twarc2-jsonl", str(tweets_file(tmp_path, TIMES)))
    return archive


def timing(archive) -> dict[str, tuple]:
    return {
        row[0][-1]: row[1:]
        for row in archive.db.execute(
            "SELECT post_id, timing, milestone, next_milestone, hours_after_polls_closed, hours_after_milestone, "
            "reaction_type FROM reactions ORDER BY created_at"
        )
    }


def test_reactions_before_between_and_after_the_milestones(tmp_path):
    archive = archive_with_posts(tmp_path, valdoria_with(tmp_path))
    rows = timing(archive)
    # before every milestone: polls close at 21:00 UTC
    assert rows["1"] == ("1.0 hours before polls closed", None, "polls_closed", -1.0, None, "other")
    # between first results (01:30 UTC on the 7th) and the official result (00:00 UTC on the 8th)
    # between the final count (midnight in Montevideo, 03:00 UTC) and the official result
    assert rows["2"] == ("12.0 hours after polls closed; after the final count, before the official result",
                         "final_count", "official_result", 12.0, 6.0, "congratulation")
    assert rows["3"] == ("3.0 days after polls closed; after the official result, before the inauguration",
                         "official_result", "inauguration", 72.0, 45.0, "call_for_calm")
    # after the last milestone: no next one
    assert rows["4"] == ("28.6 days after polls closed; after the inauguration", "inauguration", None, 687.0, 93.0,
                         "irregularities")


def test_missing_polls_closed_still_places_reactions_between_milestones(tmp_path):
    milestones = "  milestones:\n    inauguration: {at: \"2021-07-01T12:00:00-03:00\"}\n"
    archive = archive_with_posts(tmp_path, valdoria_with(tmp_path, milestones))
    rows = timing(archive)
    assert rows["1"][:4] == ("before the official result", None, "official_result", None)
    assert rows["3"][:3] == ("after the official result, before the inauguration", "official_result", "inauguration")
    assert rows["4"][:3] == ("after the inauguration", "inauguration", None)


def test_no_milestones_at_all(tmp_path):
    archive = archive_with_posts(tmp_path, valdoria_with(tmp_path, "", drop_result=True))
    assert {row[:5] for row in timing(archive).values()} == {(None, None, None, None, None)}
    assert archive.db.execute("SELECT count(*) FROM reactions WHERE hours_after_result IS NULL").fetchone()[0] == 4


def test_a_changed_config_replaces_the_milestones(tmp_path):
    archive = archive_with_posts(tmp_path, valdoria_with(tmp_path))
    archive.load_config(load_config(valdoria_with(tmp_path, "")))
    kinds = [row[0] for row in archive.db.execute("SELECT kind FROM election_milestones")]
    assert kinds == ["official_result"]
    # the reactions table follows (its rows are kept, not computed on reading)
    assert timing(archive)["3"][:3] == ("after the official result", "official_result", None)
    changes = archive.db.conn.total_changes
    archive.load_config(load_config(valdoria_with(tmp_path, "")))  # the same milestones again
    assert archive.db.conn.total_changes - changes < 50  # the roster rewritten, not one reactions row


def test_the_bundled_example_reads_in_days_after_polls_closed(peru_archive):
    [row] = peru_archive.db.execute(
        "SELECT timing, milestone, hours_after_polls_closed, hours_after_result FROM reactions"
    ).fetchall()
    # Luis Arce's post of 10 June (a date: the start of that day, UTC)
    assert row == ("3.0 days after polls closed; before the final count", "polls_closed", 72.0, -941.0)
