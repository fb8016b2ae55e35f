"""The charts page counts time from polls closed, as every reaction's
timing does, not from the official result alone (issue 13: Luis Arce's post
of 10 June 2021 was hidden as "1 earlier" from charts counting from the
JNE's proclamation of 19 July)."""

import re

from scraper.publish import datasette_instance

from .test_milestones import archive_with_posts, valdoria_with


def bars(html: str, key: str) -> dict[str, int]:
    """The non-empty bars of one chart: label -> count."""
    section = html.split(f'id="chart-{key}"', 1)[1].split("</section>", 1)[0]
    return {label: int(n.replace(",", "")) for label, n in re.findall(r"<title>([^<:]+): ([\d,]+)</title>", section)
            if n != "0"}


async def charts(path, election: str) -> str:
    response = await datasette_instance(path).client.get(f"/archive/-/charts?election={election}")
    assert response.status_code == 200
    return response.text


async def test_the_bundled_example_is_charted_after_polls_closed(peru_archive):
    html = await charts(peru_archive.path, "peru-2021")
    assert "Reactions by hour after polls closed" in html and "Reactions by day after polls closed" in html
    assert "Not shown" not in html
    # 10 June 2021, 00:00 UTC: 72 hours (day 3) after polls closed at 19:00 in Lima on 6 June
    assert bars(html, "by_hour") == {"+72h": 1} and bars(html, "by_day") == {"+3d": 1}
    assert "times count from polls closed, 2021-06-07" in html
    assert "JNE proclaims Pedro Castillo president-elect" in html  # the result is still named


async def test_without_polls_closed_the_charts_count_from_the_result(tmp_path):
    archive = archive_with_posts(tmp_path, valdoria_with(tmp_path, ""))
    html = await charts(archive.path, "valdoria-2021")
    assert "Reactions by hour after the result" in html
    counted = bars(html, "by_hour")
    outside = re.search(r"Not shown: (\d+) earlier and (\d+) later", html)
    assert sum(counted.values()) + (sum(map(int, outside.groups())) if outside else 0) == 4


async def test_without_milestones_or_result_the_time_charts_say_so(tmp_path):
    archive = archive_with_posts(tmp_path, valdoria_with(tmp_path, "", drop_result=True))
    html = await charts(archive.path, "valdoria-2021")
    assert "no polls_closed milestone and no result in the config: no time charts" in html
    assert bars(html, "by_hour") == {} and html.count('class="chart-svg"') >= 2  # type, milestone ... still drawn


async def test_reactions_far_outside_the_day_chart_are_said_not_shown(tmp_path):
    archive = archive_with_posts(tmp_path, valdoria_with(tmp_path))
    with archive.write():  # move one reaction's post 100 days later
        archive.db.execute("UPDATE posts SET created_at = '2021-09-20T12:00:00Z' WHERE id = "
                           "(SELECT post_id FROM reactions ORDER BY created_at LIMIT 1)")
        from scraper.reaction_rows import refresh_reaction_rows
        refresh_reaction_rows(archive.db)
    html = await charts(archive.path, "valdoria-2021")
    day = html.split('id="chart-by_day"', 1)[1].split("</section>", 1)[0]
    assert "Not shown: 0 earlier and 1 later." in day
