"""The charts page, ``/DATABASE/-/charts?election=ID``: reactions by hour
and by day after the result, by type, by the latest milestone before them,
by country and by kind of role, and the map.

The charts are SVG drawn on the server by the template (no script, no
network), from small aggregate queries on the reactions table's indexes;
the map is datasette-cluster-map on the ``reactions_per_country`` query
(Leaflet, bundled; only the map tiles come from the network).
"""

from __future__ import annotations

from datasette.database import QueryInterrupted
from datasette.utils.asgi import NotFound, Response

from ..reaction_rows import COUNTS_TABLE

# The first three days after the result, by hour, with the day before.
HOURS_FROM, HOURS_TO = -24, 72
TOP = 20  # bars of the country chart
QUERY_TIME_LIMIT_MS = 2000


async def charts_page(datasette, request):
    database = request.url_vars["database"]
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"Database not found: {database}") from None
    if not await datasette.permission_allowed(request.actor, "view-database", database, default=True):
        raise NotFound(f"Database not found: {database}")
    if not await db.table_exists("reactions"):
        raise NotFound(f"{database} is not a reactions archive")
    elections = [dict(row) for row in await db.execute(
        "SELECT id, name, result_announced_at, result_label FROM elections ORDER BY loaded_at DESC, id")]
    chosen = request.args.get("election") or (elections[0]["id"] if elections else None)
    election = next((e for e in elections if e["id"] == chosen), None)
    if elections and election is None:
        raise NotFound(f"No election {chosen!r} in this archive")
    context = {"database": database, "elections": elections, "election": election, "charts": []}
    if election is not None:
        context.update(await _charts(db, election["id"]))
    return Response.html(await datasette.render_template("reactions_charts.html", context, request=request,
                                                         view_name="reactions_charts"))


async def _query(db, sql: str, params: dict) -> list | None:
    try:
        return list(await db.execute(sql, params, custom_time_limit=QUERY_TIME_LIMIT_MS))
    except QueryInterrupted:
        return None


async def _charts(db, election: str) -> dict:
    params = {"election": election, "low": HOURS_FROM, "high": HOURS_TO}
    totals = await _query(db, "SELECT count(*), sum(hours_after_result < :low), sum(hours_after_result >= :high) "
                              "FROM reactions WHERE election = :election", params)
    by_hour = await _query(db, "SELECT cast(floor(hours_after_result) AS integer) AS hour, count(*) FROM reactions "
                               "WHERE election = :election AND hours_after_result >= :low AND hours_after_result < :high "
                               "GROUP BY hour", params)
    by_day = await _query(db, "SELECT cast(floor(hours_after_result / 24.0) AS integer) AS day, count(*) FROM reactions "
                              "WHERE election = :election AND hours_after_result IS NOT NULL GROUP BY day", params)
    by_type = await _counts(db, "reaction_type", params)
    by_milestone = await _counts(db, "milestone", params)
    by_country = await _counts(db, "country", params)
    by_role = await _counts(db, "role_kind", params)
    total, before, after = (totals[0] if totals else (None, None, None))
    return {
        "total": total,
        "outside_hours": {"before": before or 0, "after": after or 0},
        "charts": [
            histogram("by_hour", "Reactions by hour after the result",
                      "Posts per hour, from a day before the announced result to three days after it.",
                      by_hour, range(HOURS_FROM, HOURS_TO), "h", "hours after the result"),
            histogram("by_day", "Reactions by day after the result",
                      "Posts per day (24 hours) before and after the announced result.",
                      by_day, _day_range(by_day), "d", "days after the result"),
            bars("by_type", "Reactions by type",
                 "Posts by what they say: a person's label where there is one, else the classifier's type "
                 "(the evidence is on each reaction).", by_type, TOP, "No reactions with a type yet."),
            bars("by_milestone", "Reactions by the latest milestone before them",
                 "Posts by the election's latest milestone at the time of posting (polls closed, first "
                 "results, final count, official result, inauguration).", by_milestone, TOP,
                 "No reactions after a milestone yet (or the config gives none)."),
            bars("by_country", "Reactions by country of the author",
                 "Posts by leaders of each country (the roster's country of the leader).", by_country, TOP,
                 "No reactions with a known country yet."),
            bars("by_role_kind", "Reactions by kind of role",
                 "Posts by the kind of role the author held on the day of the post.", by_role, TOP,
                 "No reactions with a known role yet."),
        ],
    }


async def _counts(db, facet: str, params: dict) -> list | None:
    """Reactions per value of a facet column, from the counts the triggers
    keep (scraper/reaction_rows.py): a few rows, not every reaction."""
    return await _query(db, f"SELECT value, n FROM [{COUNTS_TABLE}] WHERE election = :election AND facet = :facet "
                            "AND n > 0 ORDER BY n DESC, value", {**params, "facet": facet})


def _day_range(rows: list | None) -> range:
    if not rows:
        return range(0)
    days = [row[0] for row in rows]
    low, high = max(min(days), -30), min(max(days), 60)  # a long tail is cut, the totals say so
    return range(low, high + 1)


def histogram(key, title, description, rows, span: range, unit: str, axis: str) -> dict:
    """Vertical bars, one per step of ``span`` (hours or days), empty ones included."""
    if rows is None:
        return {"key": key, "title": title, "description": description, "timed_out": True}
    counts = {row[0]: row[1] for row in rows}
    values = [(step, counts.get(step, 0)) for step in span]
    top = max((n for _, n in values), default=0)
    width = 12 if len(values) <= 100 else 6
    return {
        "key": key, "kind": "histogram", "title": title, "description": description, "axis": axis,
        "unit": unit, "max": top, "bar_width": width, "width": max(len(values) * width, 1) + 40,
        "bars": [{"label": f"{step:+d}{unit}", "step": step, "count": n,
                  "height": round(160 * n / top) if top else 0} for step, n in values],
        "total": sum(n for _, n in values),
    }


def bars(key, title, description, rows, top: int, empty: str = "No reactions yet.") -> dict:
    """Horizontal bars, largest first; the rest summed in one line; ``empty``
    says why there are none."""
    if rows is None:
        return {"key": key, "title": title, "description": description, "timed_out": True}
    shown, rest = rows[:top], rows[top:]
    largest = max((row[1] for row in shown), default=0)
    return {
        "key": key, "kind": "bars", "title": title, "description": description, "empty": empty,
        "bars": [{"label": row[0], "count": row[1], "width": round(400 * row[1] / largest) if largest else 0}
                 for row in shown],
        "more": len(rest), "more_count": sum(row[1] for row in rest),
        "total": sum(row[1] for row in rows),
    }
