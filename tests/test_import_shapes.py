"""Single objects and threads, not only timelines: each platform reader
recognises the shapes people save from its APIs, links replies by reply_to,
keeps unavailable thread nodes as references, and says what a document of
another shape (or platform) is instead of reading nothing."""

import json

import pytest
from click.testing import CliRunner

from scraper.archive import Archive
from scraper.cli import cli
from scraper.scrape import import_file

from .conftest import FIXTURES
from .import_helpers import captures_of, parse_errors, posts

BSKY = FIXTURES / "bluesky"
MASTODON = FIXTURES / "mastodon"
X = FIXTURES / "x"
TELEGRAM = FIXTURES / "telegram"

TOMAS_DID = "did:plc:fictional7tomas3xq2k5v"
FARO_DID = "did:plc:y4522pgrw66wuiw3p2do4iir"
ANA_DID = "did:plc:fictionalanavotante4km"


def bsky(did: str, rkey: str) -> str:
    return f"bluesky:at://{did}/app.bsky.feed.post/{rkey}"


def extra(row) -> dict:
    return json.loads(row["extra"] or "{}")


# --- Bluesky ------------------------------------------------------------------------


def test_bluesky_thread_links_replies_and_keeps_unavailable_nodes(valdoria_archive):
    result = import_file(valdoria_archive, "bluesky-feed", str(BSKY / "post-thread.json"))
    assert (result.status, result.stats.new_posts, result.stats.parse_errors) == ("ok", 7, 0)
    found = posts(valdoria_archive)
    anchor, parent = bsky(TOMAS_DID, "3kfictresp22a"), bsky(FARO_DID, "3kfictfaro22a")
    answer, thanks = bsky(ANA_DID, "3kfictana222a"), bsky(TOMAS_DID, "3kfictgrac22a")
    gone = bsky(FARO_DID, "3kfictgone22a")
    assert found[anchor]["reply_to"] == parent
    assert found[parent]["reply_to"] == gone
    assert found[answer]["reply_to"] == anchor and found[thanks]["reply_to"] == answer
    # The not-found parent and the blocked and not-found replies are recorded, not dropped.
    references = {key: extra(row)["unavailable_reference"] for key, row in found.items()
                  if extra(row).get("unavailable_reference")}
    assert references == {
        gone: "not_found",
        "bluesky:at://did:plc:fictionalbloqueado7xq/app.bsky.feed.post/3kfictblck22a": "blocked",
        bsky(ANA_DID, "3kfictbor222a"): "not_found",
    }
    for key in references:
        row = found[key]
        assert row["text"] == "" and extra(row)["pending"] and row["deleted_at"] is None
    assert found["bluesky:at://did:plc:fictionalbloqueado7xq/app.bsky.feed.post/3kfictblck22a"]["account_id"] is not None
    # Locations walk the tree.
    assert captures_of(valdoria_archive, thanks)[0][2].endswith("post-thread.json#thread.replies[0].replies[0]")
    assert captures_of(valdoria_archive, gone)[0][2].endswith("post-thread.json#thread.parent.parent")


def test_who_answered_is_a_query_and_other_accounts_stay_unmatched(valdoria_archive):
    import_file(valdoria_archive, "bluesky-feed", str(BSKY / "post-thread.json"))
    rows = valdoria_archive.db.execute(
        "SELECT r.handle, l.id FROM posts r JOIN posts p ON r.reply_to = p.id "
        "JOIN accounts a ON a.id = r.account_id LEFT JOIN leaders l ON l.id = a.leader_id "
        "JOIN accounts pa ON pa.id = p.account_id WHERE pa.leader_id = 'tomas-imaginario' ORDER BY r.created_at"
    ).fetchall()
    assert rows == [("ana-votante.bsky.social", None)]  # answered Tomás; not in the roster


def test_a_reference_never_overwrites_a_post_already_read(valdoria_archive):
    import_file(valdoria_archive, "bluesky-feed", str(BSKY / "post-thread.json"))
    blocked = "bluesky:at://did:plc:fictionalbloqueado7xq/app.bsky.feed.post/3kfictblck22a"
    # The post the thread showed as blocked is read elsewhere: it is filled ...
    thread = json.loads((BSKY / "post-thread.json").read_text())
    view = dict(thread["thread"]["replies"][0]["post"])
    view.update(uri=blocked[len("bluesky:"):], author={"did": "did:plc:fictionalbloqueado7xq", "handle": "otra.bsky.social"})
    view["record"] = dict(view["record"], text="Una respuesta que el hilo no mostraba.")
    path = FIXTURES.parent / "_tmp_view.json"
    try:
        path.write_text(json.dumps(view), encoding="utf-8")
        import_file(valdoria_archive, "bluesky-feed", str(path))
        # ... and the thread seen again does not empty it.
        import_file(valdoria_archive, "bluesky-feed", str(BSKY / "post-thread.json"))
    finally:
        path.unlink()
    row = posts(valdoria_archive)[blocked]
    assert row["text"] == "Una respuesta que el hilo no mostraba." and row["version_count"] == 1
    assert "pending" not in extra(row)


def test_bluesky_thread_v2_flat_list(valdoria_archive):
    result = import_file(valdoria_archive, "bluesky-feed", str(BSKY / "post-thread-v2.json"))
    assert (result.stats.new_posts, result.stats.parse_errors) == (5, 0)
    found = posts(valdoria_archive)
    assert found[bsky(ANA_DID, "3kfictana222a")]["reply_to"] == bsky(TOMAS_DID, "3kfictresp22a")
    assert extra(found[bsky(ANA_DID, "3kfictbor222a")])["unavailable_reference"] == "not_found"


def test_one_feed_view_post_that_reposts_a_quote(valdoria_archive):
    result = import_file(valdoria_archive, "bluesky-feed", str(BSKY / "feed-view-post-repost-of-quote.json"))
    assert result.stats.new_posts == 2
    found = posts(valdoria_archive)
    repost = found["bluesky:at://did:plc:fictional7tomas3xq2k5v/app.bsky.feed.repost/3kfictrpst22a"]
    quoting = found[bsky(FARO_DID, "3kfictquot22a")]
    assert repost["repost_of"] == quoting["id"] and repost["handle"] == "tomas-imaginario.bsky.social"
    assert quoting["quote_of"] == bsky("did:plc:rnhszylksqjrjk3linirujs3", "3kfictpres22a")
    assert quoting["text"].startswith("La presidenta electa")


@pytest.mark.parametrize("name, keys", [
    ("get-posts.json", {bsky(TOMAS_DID, "3kfictlink22a"), bsky(TOMAS_DID, "3kfictresp22a")}),
    ("search-posts.json", {bsky(FARO_DID, "3kfictfaro22a"), bsky(TOMAS_DID, "3kfictresp22a")}),
    ("search-posts-pages.jsonl", {bsky(FARO_DID, "3kfictfaro22a"), bsky(TOMAS_DID, "3kfictresp22a"),
                                  bsky(ANA_DID, "3kfictana222a")}),
    ("post-view.json", {bsky(TOMAS_DID, "3kfictlink22a")}),
])
def test_bluesky_posts_answers_and_single_views(archive, name, keys):
    result = import_file(archive, "bluesky-feed", str(BSKY / name))
    assert result.status == "ok" and set(posts(archive)) == keys


# --- Mastodon -----------------------------------------------------------------------

FOCAL = "mastodon:https://social.valdoria.example/@presidencia/106375000000000042"


def test_mastodon_context_links_every_reply(valdoria_archive):
    result = import_file(valdoria_archive, "mastodon-statuses", str(MASTODON / "status-context.json"))
    assert (result.stats.new_posts, result.stats.parse_errors) == (4, 0)
    found = posts(valdoria_archive)
    remote = "mastodon:https://red.argentina.example/@tomas/110000000000000099"
    # The focal status is not in a context answer; replies to it still name it.
    assert found[remote]["reply_to"] == FOCAL
    assert found["mastodon:https://social.valdoria.example/@vecina/106375000000000060"]["reply_to"] == remote
    assert found["mastodon:https://social.valdoria.example/@presidencia/106375000000000070"]["reply_to"] == FOCAL
    assert found[remote]["handle"] == "tomas@red.argentina.example"
    # Then the status itself: the thread is whole.
    import_file(valdoria_archive, "mastodon-statuses", str(MASTODON / "status.json"))
    assert posts(valdoria_archive)[FOCAL]["text"].startswith("Felicitamos a Rosa Ficticia")


def test_mastodon_single_status_and_search(archive):
    assert import_file(archive, "mastodon-statuses", str(MASTODON / "status.json")).stats.new_posts == 1
    result = import_file(archive, "mastodon-statuses", str(MASTODON / "search-v2.json"))
    assert (result.stats.new_posts, result.stats.unchanged) == (1, 1)
    assert captures_of(archive, FOCAL)[1][2].endswith("search-v2.json#statuses[0]")


# --- X ------------------------------------------------------------------------------


def test_x_single_lookup_and_single_v1_status_in_either_reader(archive):
    for format_name in ("x-v2", "x-v1-json"):
        for name in ("lookup-single.json", "v1-status-single.json"):
            result = import_file(archive, format_name, str(X / name))
            assert result.status == "ok" and result.stats.items == 1, (format_name, name)
    found = posts(archive)
    assert set(found) == {"x:1402697533116908754", "x:1402703428945187041"}
    assert found["x:1402697533116908754"]["text"].startswith("Minha solidariedade")
    assert found["x:1402697533116908754"]["hashtags"] == '["EleicoesFicticias"]'
    assert found["x:1402703428945187041"]["handle"] == "tomasimaginario"
    assert found["x:1402703428945187041"]["created_at"] == "2021-06-09T19:05:33Z"


def test_x_errors_only_lookup_says_what_x_said(archive):
    result = import_file(archive, "x-v2", str(X / "lookup-not-found.json"))
    assert result.status == "failed"
    assert "Could not find tweet with id: [1402948849886036045]" in result.error
    [(location, reason)] = parse_errors(archive)
    assert "an API answer holding only errors" in reason


# --- Telegram -----------------------------------------------------------------------


def test_telegram_poll_voice_sticker_and_forwards(archive):
    result = import_file(archive, "telegram-html", str(TELEGRAM / "page-kinds.html"))
    assert (result.stats.new_posts, result.stats.parse_errors) == (6, 0)
    found = {key.split("/")[-1]: row for key, row in posts(archive).items()}
    poll = found["210"]
    assert poll["text"] == "¿Qué tema debe abrir la transición?\n- Salud pública\n- Educación\n- Energía & agua"
    assert extra(poll)["kind"] == "poll"
    assert extra(poll)["poll"]["options"][0] == {"text": "Salud pública", "percent": "52%"}
    assert extra(poll)["poll"]["voters"] == "2,048 votes"
    assert extra(found["211"])["kind"] == "voice"
    assert json.loads(found["211"]["media"]) == [
        {"type": "voice", "url": "https://cdn4.telesco.pe/file/vd-voz-211.ogg", "duration": "0:42"}]
    assert extra(found["212"])["kind"] == "sticker"
    assert json.loads(found["212"]["media"])[0]["url"] == "https://cdn4.telesco.pe/file/vd-sticker-212.webp"
    assert found["213"]["repost_of"] == "telegram:tribunal_electoral_vd/88"
    assert extra(found["213"])["forwarded_from"] == {
        "name": "Tribunal Electoral de Valdoria", "url": "https://t.me/tribunal_electoral_vd/88",
        "channel": "tribunal_electoral_vd", "message_id": 88, "author": "Secretaría General"}
    assert extra(found["214"])["forwarded_from"]["channel"] == "tribunal_electoral_vd"
    assert found["214"]["repost_of"] is None  # a channel, not a post
    assert extra(found["215"])["forwarded_from"] == {"name": "Rosa Ficticia"}  # a person: no link


# --- never a silent zero: wrong platform, truncated, empty ----------------------------


def test_wrong_platform_json_says_what_it_is_and_the_command_fails(tmp_path):
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["import", "bluesky-feed", str(MASTODON / "status.json"), "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert "[bluesky-feed] failed" in result.output
    assert "it looks like a Mastodon status, read by 'reactions import mastodon-statuses'" in result.output
    [(location, reason)] = parse_errors(Archive(db))
    assert reason.startswith("a JSON object with keys account, card, content")


def test_a_failed_input_imported_again_still_says_what_it_is(tmp_path):
    """The second import records no parse error twice (the first is still
    unresolved), and its summary line still says why it failed."""
    db = tmp_path / "a.db"
    for _ in range(2):
        result = CliRunner().invoke(cli, ["import", "bluesky-feed", str(MASTODON / "status.json"), "--db", str(db)])
        assert result.exit_code == 2, result.output
        assert "it looks like a Mastodon status, read by 'reactions import mastodon-statuses'" in result.output
    assert len(parse_errors(Archive(db))) == 1


def test_one_failed_input_among_others_exits_1(tmp_path):
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["import", "mastodon-statuses", str(MASTODON / "status.json"),
                                      str(BSKY / "post-view.json"), "--db", str(db)])
    assert result.exit_code == 1, result.output
    assert "Bluesky postView, read by 'reactions import bluesky-feed'" in result.output
    assert Archive(db).db["posts"].count == 1


@pytest.mark.parametrize("format_name, text, said", [
    ("bluesky-feed", '{"cursor": "2", "posts": []}', "a JSON object with keys cursor, posts (posts: 0 entries)"),
    ("bluesky-feed", '{"feed": []}', "a JSON object with keys feed (feed: 0 entries)"),
    ("mastodon-statuses", "[]", "an empty JSON array"),
    ("mastodon-statuses", '{"ancestors": [], "descendants": []}', "ancestors: 0 entries; descendants: 0 entries"),
    ("x-v2", '{"meta": {"result_count": 0}}', "a JSON object with keys meta"),
    ("x-v1-json", "", "an empty document"),
    ("telegram-html", "   \n", "an empty document"),
    ("twarc2-jsonl", '{"data": [], "meta": {"result_count": 0}, "__twarc": {"url": "u"}}\n', "JSON"),
])
def test_an_input_that_yields_nothing_records_what_it_looked_like(archive, tmp_path, format_name, text, said):
    path = tmp_path / "input.json"
    path.write_text(text, encoding="utf-8")
    result = import_file(archive, format_name, str(path))
    assert result.status == "failed" and result.stats.parse_errors == 1
    assert "nothing read: " in result.error and said in result.error and "expected " in result.error
    [(location, reason)] = parse_errors(archive)
    assert location == str(path) and reason.startswith("nothing read")


def test_an_empty_telegram_channel_says_so(tmp_path):
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["import", "telegram-html", str(TELEGRAM / "page-empty-channel.html"), "--db", str(db)])
    assert result.exit_code == 2
    assert "a Telegram channel page of 'Canal Vacío de Valdoria' with no messages" in result.output


SHAPES = [
    ("bluesky-feed", BSKY / "post-thread.json"),
    ("bluesky-feed", BSKY / "post-thread-v2.json"),
    ("bluesky-feed", BSKY / "get-posts.json"),
    ("bluesky-feed", BSKY / "search-posts.json"),
    ("bluesky-feed", BSKY / "post-view.json"),
    ("bluesky-feed", BSKY / "feed-view-post-repost-of-quote.json"),
    ("mastodon-statuses", MASTODON / "status.json"),
    ("mastodon-statuses", MASTODON / "status-context.json"),
    ("mastodon-statuses", MASTODON / "search-v2.json"),
    ("x-v2", X / "lookup-single.json"),
    ("x-v1-json", X / "v1-status-single.json"),
]


@pytest.mark.parametrize("format_name, path", SHAPES, ids=[p.name for _f, p in SHAPES])
def test_each_new_shape_truncated_is_a_parse_error(archive, tmp_path, format_name, path):
    text = path.read_text(encoding="utf-8")
    cut = tmp_path / path.name
    cut.write_text(text[: len(text) * 2 // 3], encoding="utf-8")
    result = import_file(archive, format_name, str(cut))
    # One error for the cut answer, not one per line of its indentation.
    assert result.status == "failed" and result.stats.parse_errors == 1
    assert result.stats.items == result.stats.parse_errors
    assert "not JSON" in parse_errors(archive)[0][1] or "JSON that does not parse" in parse_errors(archive)[0][1]


@pytest.mark.parametrize("format_name, path", SHAPES, ids=[p.name for _f, p in SHAPES])
def test_each_new_shape_in_jsonl_keeps_the_rest_of_the_file(archive, tmp_path, format_name, path):
    """One line of the shape, one truncated line, one line of another platform:
    the good line is read, the other two are parse errors with their line."""
    if format_name == "mastodon-statuses":
        pytest.skip("Mastodon answers are single JSON documents, not lines")
    if path.name.startswith("feed-view-post-repost"):
        pytest.skip("a line of feed entries is read as a feed, whose reposts are skipped")
    value = json.loads(path.read_text(encoding="utf-8"))
    line = json.dumps(value, ensure_ascii=False)
    other = MASTODON / "status.json"
    lines = [line, line[: len(line) // 2], json.dumps(json.loads(other.read_text()))]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    alone = import_file(archive, format_name, str(path)).stats
    result = import_file(archive, format_name, str(mixed))
    assert result.status == "ok"
    assert result.stats.items - result.stats.parse_errors == alone.items - alone.parse_errors
    errors = [location for location, _reason in parse_errors(archive)]
    assert errors == [f"{mixed}:2", f"{mixed}:3"]
    assert "Mastodon status" in parse_errors(archive)[1][1]


PLATFORM_OF = {"bluesky-feed": "bluesky", "mastodon-statuses": "mastodon", "x-v2": "x", "x-v1-json": "x"}


@pytest.mark.parametrize("format_name, path", SHAPES, ids=[p.name for _f, p in SHAPES])
def test_each_new_shape_given_to_another_platform_is_named(archive, format_name, path):
    for reader, platform in PLATFORM_OF.items():
        if platform == PLATFORM_OF[format_name]:
            continue
        result = import_file(archive, reader, str(path))
        assert result.status == "failed" and result.stats.items == result.stats.parse_errors >= 1, (reader, path.name)
        assert f"read by 'reactions import {format_name}'" in result.error or (
            PLATFORM_OF[format_name] == "x" and "read by 'reactions import x-" in result.error), result.error
    assert archive.db["posts"].count == 0


def test_reprocess_turns_an_old_no_signature_error_into_a_pending_post(archive):
    """Archives made before link-only embeds were read hold them as parse
    errors; the transform now reads them, so reprocess resolves them."""
    from scraper.compression import stored
    from scraper.model import RawItem, ReadItem
    from scraper.prepare import stored_payload

    item = RawItem(
        format="article-x-embed",
        payload='<blockquote class="twitter-tweet"><a href="https://twitter.com/lucia_inventada/status/1402697533116908754"></a></blockquote>',
        source_id="article-old", location="old.html#embed-1",
        context={"article_url": "file:///old.html", "article_published_at": None},
    )
    archive.register_source("article-old", "article", "old.html")
    run_id = archive.start_run("import article")
    failure = "embed has no signature line ('— Name (@handle) Date')"
    archive.store([ReadItem(item, None, failure, stored(stored_payload(item), item.format))], run_id)
    assert archive.db["parse_errors"].count == 1 and archive.db["posts"].count == 0
    stats = archive.reprocess()
    assert stats.resolved_errors == 1
    row = posts(archive)["x:1402697533116908754"]
    assert row["text"] == "" and extra(row)["pending"] and row["created_at"] == "2021-06-09T18:42:07Z"
