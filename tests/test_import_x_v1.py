"""X API v1.1 JSON: arrays and JSONL, compat-mode truncation, retweets, id_str."""

from scraper.archive import Archive
from scraper.normalise import normalise
from scraper.scrape import import_file
from scraper.formats import file_reader
from scraper.sources import Unparsed

from .import_helpers import (
    IMPORTS, assert_second_import_adds_nothing, captures_of, cli_import, import_article,
    import_twice, parse_errors, posts,
)

ARRAY = IMPORTS / "x-v1-tweets.json"
JSONL = IMPORTS / "x-v1-tweets.jsonl"


def test_array_import(valdoria_archive):
    result = import_file(valdoria_archive, "x-v1-json", str(ARRAY))
    assert (result.stats.new_posts, result.stats.parse_errors) == (3, 1)
    found = posts(valdoria_archive)
    first = found["x:1402279246033858617"]
    # compat mode: the text comes from extended_tweet, not the cut "text"
    assert first["text"] == (
        "Felicito a @rosa_ficticia, presidenta electa. #EleccionesFicticias\n\nMás en https://example.org/comunicado"
    )
    assert first["created_at"] == "2021-06-08T15:00:00Z"
    assert first["handle"] == "tomasimaginario"
    assert (first["repost_count"], first["like_count"], first["reply_count"]) == (12, 40, 3)
    reply = found["x:1402300000000000001"]
    assert reply["text"] == "@tomasimaginario ¡Gracias! Seguimos trabajando juntos & con todos."
    assert reply["reply_to"] == "x:1402279246033858617"
    retweet = found["x:1402310000000000003"]
    assert retweet["repost_of"] == "x:1402300000000000001"


def test_record_without_id_str_is_a_parse_error_with_line(archive):
    import_file(archive, "x-v1-json", str(ARRAY))
    [(location, reason)] = parse_errors(archive)
    assert location.startswith(f"{ARRAY}:") and int(location.rsplit(":", 1)[1]) > 1
    assert "id_str" in reason


def test_jsonl_uses_id_str_not_the_rounded_id(archive):
    result = import_file(archive, "x-v1-json", str(JSONL))
    assert (result.stats.new_posts, result.stats.parse_errors) == (3, 1)
    assert "x:1402300000000000001" in posts(archive)
    assert "x:1402300000000000000" not in posts(archive)
    assert parse_errors(archive)[0][0] == f"{JSONL}:3"


def test_same_posts_as_api_v2():
    """A v1.1 tweet and the same tweet from API v2 (twarc2) are the same Post text, author, time, references."""
    def read(format_name, path):
        found = {}
        for item in file_reader(format_name)(str(path), "s"):
            if not isinstance(item, Unparsed):
                post = normalise(item)
                found[post.native_id] = post
        return found

    v1, v2 = read("x-v1-json", ARRAY), read("twarc2-jsonl", IMPORTS / "twarc2-search.jsonl")
    for native_id, post in v1.items():
        other = v2[native_id]
        for field in ("text", "author_handle", "author_platform_id", "created_at", "reply_to", "repost_of",
                      "hashtags", "mentions", "links", "url", "language"):
            assert getattr(post, field) == getattr(other, field), (native_id, field)


def test_importing_twice_changes_nothing(archive):
    _first, after_first, second, after_second = import_twice(archive, "x-v1-json", ARRAY)
    assert_second_import_adds_nothing(after_first, after_second, second)


def test_article_embed_and_import_are_one_post(valdoria_archive):
    import_article(valdoria_archive)
    import_file(valdoria_archive, "x-v1-json", str(JSONL))
    formats = sorted(fmt for _s, fmt, _l in captures_of(valdoria_archive, "x:1402279246033858617"))
    assert formats == ["article-x-embed", "x-v1-tweet"]


def test_cli_import(tmp_path):
    result, db = cli_import(tmp_path, "x-v1-json", JSONL)
    assert result.exit_code == 0, result.output
    assert Archive(db).db["posts"].count == 3
