"""News articles: embedded posts in the variants real sites produce."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from click.testing import CliRunner

from scraper.cli import cli
from scraper.model import FetchedPage
from scraper.normalise import normalise
from scraper.sources.article import TEXT_EMBED, items_from_article, parse_article, read_article

from .conftest import FIXTURES, VALDORIA_CONFIG

NEWS = FIXTURES / "article" / "news-embeds.html"


def posts_of(path=NEWS):
    article = read_article(str(path), "test-news")
    results = []
    for item in items_from_article(article):
        try:
            results.append(normalise(item))
        except Exception as exc:  # noqa: BLE001 - the malformed embed
            results.append(exc)
    return results


def test_one_post_per_embed_in_document_order():
    posts = posts_of()
    assert [getattr(p, "platform", "error") for p in posts] == [
        "x", "x", "x", "bluesky", "mastodon", "instagram", "facebook", "error",
    ]


def test_standard_tweet_embed():
    post = posts_of()[0]
    assert post.native_id == "1402279246033858617"
    assert post.author_handle == "tomasimaginario"
    assert post.author_display_name == "Tomás Imaginario"
    assert post.url == "https://x.com/tomasimaginario/status/1402279246033858617"
    assert post.created_at == "2021-06-08T15:00:00.000Z"  # from the snowflake id
    assert post.text == (
        "Felicito a @rosa_ficticia, presidenta electa. #EleccionesFicticias\n\n"
        "Más en https://example.org/comunicado"
    )
    assert post.language == "es"
    assert post.mentions == ["rosa_ficticia"]
    assert post.hashtags == ["EleccionesFicticias"]
    assert post.links == ["https://example.org/comunicado"]


def test_name_line_in_its_own_paragraph_and_literal_dash():
    post = posts_of()[1]
    assert post.native_id == "1402739780613058617"
    assert post.author_handle == "lucia_inventada"
    assert post.author_display_name == "Lucía Inventada"
    assert post.text == "Parabéns ao povo e à presidenta eleita Rosa Ficticia! Uma vitória da democracia nas eleições."
    assert post.language == "pt"


def test_numeric_entities_and_a_dash_inside_the_text():
    post = posts_of()[2]
    assert post.native_id == "1402811503211458617"
    assert post.author_display_name == "Tomás Imaginario"
    assert post.text == "Congratulations to the president-elect on a clean election — a good day."


def test_bluesky_embed():
    post = posts_of()[3]
    assert post.native_id == "at://did:plc:fictional7tomas3xq2k5v/app.bsky.feed.post/3jzfcijpj2z2a"
    assert post.author_platform_id == "did:plc:fictional7tomas3xq2k5v"
    assert post.author_handle == "tomas-imaginario.bsky.social"
    assert post.text == "Un abrazo a Rosa Ficticia, presidenta electa."
    assert post.created_at == "2021-06-09"
    assert post.url == "https://bsky.app/profile/did:plc:fictional7tomas3xq2k5v/post/3jzfcijpj2z2a"


def test_link_only_embeds():
    mastodon, instagram, facebook = posts_of()[4:7]
    assert mastodon.url == "https://social.example/@valdoria_news/106385910573921234"
    assert mastodon.author_handle == "valdoria_news@social.example"
    assert instagram.native_id == "CPfictional1"
    assert facebook.url == "https://www.facebook.com/fictional.page/posts/1234567890123456"
    assert all(p.extra["link_only"] for p in (mastodon, instagram, facebook))


def test_plain_text_rendering_as_in_the_seed():
    line = "Hola #Valdoria, felicidades a @rosa_ficticia — Tomás Imaginario (Tomi) (@tomasimaginario) June 9, 2021"
    match = TEXT_EMBED.match(line)
    assert match.group("name") == "Tomás Imaginario (Tomi)"
    assert match.group("handle") == "tomasimaginario"
    assert match.group("date") == "June 9, 2021"


def test_article_metadata():
    article = read_article(str(NEWS), "test-news")
    assert article.title == "Leaders react to the fictional runoff"
    assert article.outlet == "The Fictional Gazette"
    assert article.published_at == "2021-06-11T09:00:00-03:00"


def test_plain_text_article_with_date_header():
    page = FetchedPage(url="file:///report.txt", body=" date 2021-06-12 Subtitle.\n\nFirst paragraph.\n")
    article = parse_article(page, "s", "report.txt")
    assert article.published_at == "2021-06-12"
    assert not article.is_html
    assert list(items_from_article(article)) == []


def test_import_article_keeps_other_posts_and_records_the_bad_embed(tmp_path):
    db = tmp_path / "a.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "article", str(NEWS), "--db", str(db), "--config", str(VALDORIA_CONFIG)])
    assert result.exit_code == 0, result.output
    assert "8 items, 7 new" in result.output
    assert "1 parse errors" in result.output
    from scraper.archive import Archive

    archive = Archive(db)
    error = next(archive.db["parse_errors"].rows)
    assert error["location"].endswith("news-embeds.html#embed-8")
    assert "signature" in error["reason"]
    raw = json.loads(archive.raw_payload(error["raw_sha256"]))
    assert "Texto sin firma" in raw["payload"]
    # Andrés is reported as reacting; quoted leaders and the candidate are not.
    reported = [r["leader_id"] for r in archive.db["reported_reactions"].rows]
    assert reported == ["andres-ficcion"]

    # Importing again adds nothing: the same embeds of the same page are sightings already recorded.
    counts = archive.counts()
    again = runner.invoke(cli, ["import", "article", str(NEWS), "--db", str(db), "--config", str(VALDORIA_CONFIG)])
    assert "0 new, 0 new versions, 7 unchanged" in again.output
    after = Archive(db).counts()
    assert after["posts"] == counts["posts"] and after["post_versions"] == counts["post_versions"]
    assert after["captures"] == counts["captures"]


def test_import_missing_file_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["import", "article", str(tmp_path / "nope.html"), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2
    assert "nope.html: article file not found" in result.output


def test_saved_page_with_rendered_widgets_and_wordpress_figure():
    posts = posts_of(FIXTURES / "article" / "saved-rendered.html")
    assert [(p.native_id, p.text[:20]) for p in posts] == [
        ("1402739780613058617", ""),
        ("1402811503211458617", ""),
        ("1401871559685058617", "Hoy es un gran día p"),
    ]
    assert posts[0].extra["link_only"] and posts[0].created_at.startswith("2021-06-09T21:30")
    assert posts[2].text == "Hoy es un gran día para la democracia."
    assert posts[2].media == [{"type": "media", "url": "https://pic.twitter.com/Zz9Yy8Xx7W"}]
    assert posts[2].created_at.startswith("2021-06-07T12:00")


def test_rendered_embed_then_full_embed_fill_the_same_post(valdoria_archive):
    from scraper.scrape import import_file

    import_file(valdoria_archive, "article", str(FIXTURES / "article" / "saved-rendered.html"))
    import_file(valdoria_archive, "article", str(NEWS))
    post = valdoria_archive.db["posts"].get("x:1402739780613058617")
    assert post["text"].startswith("Parabéns ao povo")
    assert post["handle"] == "lucia_inventada"
    assert valdoria_archive.db["captures"].count_where("post_id = ?", ["x:1402739780613058617"]) == 2


def test_entities_are_decoded_once():
    html = (
        '<blockquote class="twitter-tweet"><p lang="en">Use &amp;lt;b&amp;gt; &amp; see</p>'
        '&mdash; Tomás Imaginario (@tomasimaginario) <a>June 8, 2021</a></blockquote>'
    )
    page = FetchedPage(url="file:///e.html", body=html)
    post = normalise(next(items_from_article(parse_article(page, "s", "e.html"))))
    assert post.text == "Use &lt;b&gt; & see"


def test_import_article_from_a_url(httpserver, tmp_path):
    httpserver.expect_request("/news/leaders-react.html").respond_with_data(
        NEWS.read_text(encoding="utf-8"), content_type="text/html; charset=utf-8"
    )
    url = httpserver.url_for("/news/leaders-react.html")
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["import", "article", url, "--db", str(db), "--config", str(VALDORIA_CONFIG)])
    assert result.exit_code == 0, result.output
    from scraper.archive import Archive

    capture = next(Archive(db).db.query("select fetched_url from capture_details limit 1"))
    assert capture["fetched_url"] == url


def test_import_article_url_404_is_a_clear_error(httpserver, tmp_path):
    httpserver.expect_request("/missing.html").respond_with_data("not here", status=404)
    url = httpserver.url_for("/missing.html")
    result = CliRunner().invoke(cli, ["import", "article", url, "--db", str(tmp_path / "a.db"), "--config", str(VALDORIA_CONFIG)])
    assert result.exit_code == 2
    assert "404" in result.output and "missing.html" in result.output


def test_a_source_that_breaks_oddly_fails_alone_and_the_run_log_says_so(httpserver, tmp_path):
    """A redirect loop (not a network error) fails its source; the next source
    still runs, and the run is recorded failed with exit code 1."""
    from scraper.archive import Archive
    from scraper.config import load_config
    from scraper.http import PoliteClient
    from scraper.scrape import run_scrape

    httpserver.expect_request("/loop.html").respond_with_data("", status=302, headers={"Location": "/loop.html"})
    config = VALDORIA_CONFIG.read_text().replace(
        "sources:\n",
        f"sources:\n  - {{id: looping, kind: article, url: \"{httpserver.url_for('/loop.html')}\"}}\n",
    ).replace("path: ../article/news-embeds.html", f"path: {NEWS}")
    path = tmp_path / "loop.yml"
    path.write_text(config)
    archive = Archive(tmp_path / "a.db")
    result = run_scrape(archive, load_config(path), client=PoliteClient(sleep=lambda s: None))
    statuses = {s.source_id: s.status for s in result.sources}
    assert statuses == {"looping": "failed", "valdoria-news": "ok"}
    assert "TooManyRedirects" in result.sources[0].error
    run = next(archive.db.query("select status, exit_code from scrape_runs"))
    assert run == {"status": "failed", "exit_code": 1}


def test_signature_with_a_bracketed_word_in_the_name_and_a_french_date():
    html = (
        '<blockquote class="twitter-tweet" data-lang="fr"><p lang="fr" dir="ltr">Félicitations au peuple.</p>'
        '&mdash; Tomás (Tomi) Imaginario (@tomasimaginario) <a href="https://twitter.com/tomasimaginario/status/'
        '1402279246033858617?ref_src=twsrc%5Etfw">8 juin 2021</a></blockquote>'
    )
    post = normalise(next(items_from_article(parse_article(FetchedPage(url="file:///f.html", body=html), "s", "f.html"))))
    assert post.author_display_name == "Tomás (Tomi) Imaginario"
    assert post.author_handle == "tomasimaginario"
    assert post.extra["embed_date_text"] == "8 juin 2021"


def test_plain_text_rendering_needs_the_at_sign():
    assert TEXT_EMBED.match("Texto — Alguien (Apodo) June 9, 2021") is None
    match = TEXT_EMBED.match("Texto — Alguien (@alguien) 9. Juni 2021")
    assert match.group("handle") == "alguien" and match.group("date") == "9. Juni 2021"


# --- pages saved in an older encoding --------------------------------------------

SAVED_PAGE = """<!DOCTYPE html><html><head>{meta}<title>Líderes reaccionan</title></head><body>
<p>El presidente ficticio felicitó a la candidata.</p>
<blockquote class="twitter-tweet"><p lang="es" dir="ltr">Felicito a la presidenta electa, Rosa Ficticia. “¡Éxitos!”</p>&mdash;
Tomás Imaginario (@tomasimaginario) <a href="https://twitter.com/tomasimaginario/status/1402279246033858617">June 8, 2021</a></blockquote>
</body></html>"""


@pytest.mark.parametrize(
    "encoding, meta",
    [
        ("windows-1252", '<meta charset="windows-1252">'),  # declared
        ("windows-1252", ""),  # not declared: the usual encoding of older Western pages
        ("iso-8859-1", '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'),
        ("utf-16", ""),  # a byte-order mark says it
        ("utf-8-sig", ""),
    ],
)
def test_a_page_saved_in_another_encoding_reads_right(encoding, meta, tmp_path):
    text = SAVED_PAGE.format(meta=meta)
    if encoding == "iso-8859-1":
        text = text.replace("“", '"').replace("”", '"')  # not in Latin-1
    path = tmp_path / "saved.html"
    path.write_bytes(text.encode(encoding))
    article = read_article(str(path), "saved")
    assert article.title == "Líderes reaccionan"
    (post,) = [normalise(item) for item in items_from_article(article)]
    assert post.author_display_name == "Tomás Imaginario"
    assert post.text.endswith("Rosa Ficticia. “¡Éxitos!”" if encoding != "iso-8859-1" else 'Rosa Ficticia. "¡Éxitos!"')


def test_binary_data_saved_as_a_page_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(bytes(range(256)) * 8)
    result = CliRunner().invoke(cli, ["import", "article", str(path), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 2, result.output
    assert "binary data" in result.output and "Traceback" not in result.output


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2000) | st.text(max_size=500).map(lambda t: t.encode("utf-16")))
def test_any_bytes_saved_as_a_page_are_read_or_refused_with_a_reason(data):
    from scraper.errors import InputError
    from scraper.sources.article import decode_saved_page

    try:
        text = decode_saved_page(data, "page.html")
    except InputError as exc:
        assert str(exc).startswith("page.html: not UTF-8 text")
    else:
        assert isinstance(text, str)
