"""Link-only embeds and Markdown articles: an embed that names its post but
shows none of it becomes a pending post exactly as the urls importer records
one; a later sighting or `reactions hydrate` fills it."""

import json

from click.testing import CliRunner

from scraper.archive import Archive
from scraper.cli import cli
from scraper.http import PoliteClient
from scraper.normalise import normalise
from scraper.scrape import hydrate_pending, import_file
from scraper.sources.article import items_from_article, read_article
from scraper.sources.urls import pending_post

from .conftest import FIXTURES, VALDORIA_CONFIG
from .import_helpers import captures_of, parse_errors, posts

LINK_ONLY = FIXTURES / "article" / "link-only-embeds.html"
MARKDOWN = FIXTURES / "article" / "newsroom-post.md"
MDX = FIXTURES / "article" / "newsroom-post.mdx"

LUCIA = "x:1402697533116908754"
TOMAS_BSKY = "bluesky:at://did:plc:fictional7tomas3xq2k5v/app.bsky.feed.post/3kfictlink22a"
PRESIDENCIA = "mastodon:https://social.valdoria.example/@presidencia/106375000000000042"


def read_posts(path):
    return [normalise(item) for item in items_from_article(read_article(str(path), "test"))]


def test_every_link_only_variant_is_a_pending_post():
    found = read_posts(LINK_ONLY)
    assert [(p.platform, p.native_id, p.author_handle) for p in found] == [
        ("x", "1402697533116908754", "lucia_inventada"),  # bare link
        ("x", "1402703428945187041", "tomasimaginario"),  # &nbsp; and ?ref_src=
        ("x", "1402948849886036045", "lucia_inventada"),  # "Tweet may have been deleted", x.com, ?s=20
        ("x", "1402974368056738600", None),  # /i/web/status/ID names no author
        ("x", "1403264738191738856", None),  # /X/status/ID: "X" is not the author
        ("bluesky", "at://did:plc:fictional7tomas3xq2k5v/app.bsky.feed.post/3kfictlink22a", None),
        ("mastodon", "https://social.valdoria.example/@presidencia/106375000000000042",
         "presidencia@social.valdoria.example"),
        ("telegram", "valdoria_presidencia/205", "valdoria_presidencia"),
    ]
    assert all(p.text == "" and p.extra["pending"] and p.extra["link_only"] for p in found)
    assert [p.extra["embed_position"] for p in found] == list(range(1, 9))
    assert all(p.extra["article_url"] == LINK_ONLY.resolve().as_uri() for p in found)
    assert found[5].author_platform_id == "did:plc:fictional7tomas3xq2k5v"
    assert found[2].extra["embed_text"] == "Tweet may have been deleted"


def test_the_snowflake_time_to_the_second():
    found = read_posts(LINK_ONLY)
    # The ids encode 18:42:07.412 and 11:20:45.999; X's own answers say :07 and :45.
    assert found[0].created_at == "2021-06-09T18:42:07Z"
    assert found[2].created_at == "2021-06-10T11:20:45Z"
    assert found[5].created_at is None  # a Bluesky URI carries no time


def test_pending_embeds_are_recorded_exactly_as_the_urls_importer_records_them():
    for post in read_posts(LINK_ONLY):
        from_list = pending_post(post.extra["pending_url"])
        for name in ("platform", "native_id", "author_handle", "author_platform_id", "url", "created_at", "text"):
            assert getattr(post, name) == getattr(from_list, name), name
        assert {k: v for k, v in post.extra.items() if k in from_list.extra} == from_list.extra


def test_import_records_the_article_as_capture_context_and_the_position(valdoria_archive):
    result = import_file(valdoria_archive, "article", str(LINK_ONLY), config=None)
    assert result.status == "ok" and (result.stats.new_posts, result.stats.parse_errors) == (8, 0)
    [(source, format_name, location)] = captures_of(valdoria_archive, LUCIA)
    assert source.startswith("article-link-only-embeds") and format_name == "article-x-embed"
    assert location == f"{LINK_ONLY}#embed-1"
    row = posts(valdoria_archive)[LUCIA]
    assert row["text"] == "" and row["created_at"] == "2021-06-09T18:42:07Z" and row["created_at_precision"] == "second"
    assert {"x", "bluesky", "mastodon", "telegram"} == {r["platform"] for r in valdoria_archive.db["posts"].rows}
    assert len(valdoria_archive.placeholder_posts("x")) == 5


def test_a_later_full_sighting_fills_the_same_post(valdoria_archive):
    import_file(valdoria_archive, "article", str(LINK_ONLY))
    import_file(valdoria_archive, "x-v2", str(FIXTURES / "x" / "lookup-single.json"))
    import_file(valdoria_archive, "bluesky-feed", str(FIXTURES / "bluesky" / "post-view.json"))
    import_file(valdoria_archive, "mastodon-statuses", str(FIXTURES / "mastodon" / "status.json"))
    found = posts(valdoria_archive)
    for key, start in ((LUCIA, "Minha solidariedade"), (TOMAS_BSKY, "Un abrazo fraterno"), (PRESIDENCIA, "Felicitamos")):
        row = found[key]
        assert row["text"].startswith(start), key
        assert row["version_count"] == 1 and row["is_edited"] == 0, key
        assert "pending" not in json.loads(row["extra"] or "{}"), key
        assert len(captures_of(valdoria_archive, key)) == 2, key
    assert found[LUCIA]["created_at"] == "2021-06-09T18:42:07Z"  # the placeholder's guess agreed with X
    assert found[LUCIA]["handle"] == "lucia_inventada"
    assert found[TOMAS_BSKY]["handle"] == "tomas-imaginario.bsky.social"
    # Only the posts nobody has shown yet are left to hydrate.
    assert [r["native_id"] for r in valdoria_archive.placeholder_posts("x")] == [
        "1402703428945187041", "1402948849886036045", "1402974368056738600", "1403264738191738856"]


def test_a_pending_sighting_never_changes_a_post_already_read(valdoria_archive):
    import_file(valdoria_archive, "x-v2", str(FIXTURES / "x" / "lookup-single.json"))
    import_file(valdoria_archive, "article", str(LINK_ONLY))
    row = posts(valdoria_archive)[LUCIA]
    assert row["text"].startswith("Minha solidariedade") and row["version_count"] == 1
    assert len(captures_of(valdoria_archive, LUCIA)) == 2


def test_hydrate_fills_link_only_embeds_from_each_platform(valdoria_archive, httpserver):
    """Hydration of the article's placeholders, every platform served by a
    local server: X by syndication, Bluesky by getPosts, Mastodon by status."""
    live = json.loads((FIXTURES / "x" / "syndication_live.json").read_text())
    live.update(id_str="1402697533116908754", created_at="2021-06-09T18:42:07.000Z",
                text="Minha solidariedade à presidenta eleita Rosa Ficticia.")
    live["user"].update(screen_name="lucia_inventada", name="Lucía Inventada")
    live["edit_control"] = {"edit_tweet_ids": ["1402697533116908754"]}
    live["entities"] = {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []}
    live.pop("mediaDetails", None), live.pop("photos", None)
    from werkzeug.wrappers import Response

    def syndication(request):
        if request.args.get("id") == "1402697533116908754":
            return Response(json.dumps(live), content_type="application/json")
        return Response("", status=404)

    httpserver.expect_request("/tweet-result").respond_with_handler(syndication)
    httpserver.expect_request("/oembed").respond_with_data("", status=404)
    httpserver.expect_request("/xrpc/app.bsky.feed.getPosts").respond_with_data(
        (FIXTURES / "bluesky" / "get-posts.json").read_text(), content_type="application/json")
    httpserver.expect_request("/api/v1/statuses/106375000000000042").respond_with_data(
        (FIXTURES / "mastodon" / "status.json").read_text(), content_type="application/json")
    import_file(valdoria_archive, "article", str(LINK_ONLY))
    base = httpserver.url_for("").rstrip("/")
    result = hydrate_pending(
        valdoria_archive, PoliteClient(sleep=lambda s: None), platforms=["x", "bluesky", "mastodon"],
        options={"x": {"base_url": base}, "bluesky": {"base_url": base}, "mastodon": {"base_url": base}},
    )
    by_platform = {r.source_id: r for r in result.sources}
    assert by_platform["hydrate-bluesky"].status == "ok" and by_platform["hydrate-mastodon"].status == "ok"
    found = posts(valdoria_archive)
    assert found[LUCIA]["text"] == "Minha solidariedade à presidenta eleita Rosa Ficticia."
    assert found[TOMAS_BSKY]["text"].startswith("Un abrazo fraterno")
    assert found[PRESIDENCIA]["text"].startswith("Felicitamos a Rosa Ficticia")
    for key in (LUCIA, TOMAS_BSKY, PRESIDENCIA):
        assert found[key]["version_count"] == 1 and "pending" not in json.loads(found[key]["extra"] or "{}")
    assert valdoria_archive.placeholder_posts("bluesky") == valdoria_archive.placeholder_posts("mastodon") == []
    # The X posts no endpoint knows are reported gone, not left as they were.
    gone = found["x:1402974368056738600"]
    assert gone["unavailable_reason"] == "deleted"


# --- Markdown and MDX ---------------------------------------------------------------


def test_markdown_article_embeds_are_read_from_its_raw_html():
    article = read_article(str(MARKDOWN), "md")
    assert article.markdown and article.title == "Valdoria elige: las reacciones"
    assert article.published_at == "2021-06-10"
    found = [normalise(item) for item in items_from_article(article)]
    assert [(p.native_id, bool(p.extra.get("pending"))) for p in found] == [
        ("1402279246033858617", False),
        ("1402697533116908754", True),
        ("at://did:plc:fictional7tomas3xq2k5v/app.bsky.feed.post/3kfictlink22a", False),
    ]  # the embed code shown in a fenced code block is an example, not an embed
    assert found[0].text.startswith("Felicito a @rosa_ficticia")
    assert found[2].author_handle == "tomas-imaginario.bsky.social"


def test_mdx_components_and_esm_lines():
    article = read_article(str(MDX), "mdx")
    assert article.title == "Reacciones en la región" and article.published_at == "2021-06-11T09:00:00-03:00"
    assert not any("import" in p for p in article.paragraphs)
    found = [normalise(item) for item in items_from_article(article)]
    assert [(p.platform, p.native_id) for p in found] == [
        ("x", "1402703428945187041"),  # <Tweet id="..." />
        ("mastodon", "https://social.valdoria.example/@presidencia/106375000000000042"),
    ]


def test_import_markdown_file_with_reported_reactions(tmp_path):
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["import", "article", str(MARKDOWN), "--db", str(db), "--config", str(VALDORIA_CONFIG)])
    assert result.exit_code == 0, result.output
    assert "3 items, 3 new" in result.output and "1 reported reactions" in result.output
    archive = Archive(db)
    assert [r["leader_id"] for r in archive.db["reported_reactions"].rows] == ["andres-ficcion"]
    source = archive.db["sources"].get(next(iter(archive.db["sources"].rows))["id"])
    assert source["title"] == "Valdoria elige: las reacciones"


def test_import_markdown_url(httpserver, tmp_path):
    httpserver.expect_request("/blog/reacciones").respond_with_data(
        MARKDOWN.read_text(encoding="utf-8"), content_type="text/markdown; charset=utf-8")
    httpserver.expect_request("/posts/reacciones.md").respond_with_data(
        MARKDOWN.read_text(encoding="utf-8"), content_type="text/plain; charset=utf-8")
    db = tmp_path / "a.db"
    for path in ("/blog/reacciones", "/posts/reacciones.md"):  # by content type, by suffix
        result = CliRunner().invoke(cli, ["import", "article", httpserver.url_for(path), "--db", str(db)])
        assert result.exit_code == 0, result.output
        assert "3 items" in result.output and "0 parse errors" in result.output


# --- never a silent zero ------------------------------------------------------------


def test_an_article_with_no_embed_and_no_reported_reaction_says_so(tmp_path):
    page = tmp_path / "weather.html"
    page.write_text("<html><head><title>El tiempo</title></head><body><p>Lluvias al sur.</p></body></html>")
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["import", "article", str(page), "--db", str(db), "--config", str(VALDORIA_CONFIG)])
    assert result.exit_code == 2, result.output
    assert "failed" in result.output
    assert "nothing read: an HTML page titled 'El tiempo' (1 paragraph), with no embedded post" in result.output
    assert "no reported reaction" in result.output
    [(location, reason)] = parse_errors(Archive(db))
    assert location == str(page) and reason.startswith("nothing read")


def test_scraping_an_empty_article_is_an_anomaly_not_a_failure(tmp_path):
    from scraper.config import load_config
    from scraper.scrape import run_scrape

    page = tmp_path / "empty.html"
    page.write_text("<html><body><p>Sin novedades.</p></body></html>")
    config_text = VALDORIA_CONFIG.read_text().replace("path: ../article/news-embeds.html", f"path: {page}")
    config_path = tmp_path / "c.yml"
    config_path.write_text(config_text)
    archive = Archive(tmp_path / "a.db")
    run = run_scrape(archive, load_config(config_path))
    assert run.exit_code == 0
    [source] = run.sources
    assert source.status == "ok" and source.anomalies and "nothing read" in source.anomalies[0]
