"""The charts page, ``/DATABASE/-/charts?election=ID``: reactions by hour
and by day after polls closed (after the official result where the config
gives no polls_closed milestone), by type, by the latest milestone before
them, by country and by kind of role, and the map.

The charts are SVG drawn on the server by the template (no script, no
network), from small aggregate queries on the reactions table's indexes;
the map is datasette-cluster-map on the ``reactions_per_country`` query
(Leaflet, bundled; only the map tiles come from the network).
"""

from __future__ import annotations

from datasette.database import QueryInterrupted
from datasette.utils.asgi import NotFound, Response

from ..reaction_rows import COUNTS_TABLE

# The first four days after polls closed (or the result), by hour, with the
# day before.
HOURS_FROM, HOURS_TO = -24, 96
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
        context.update(await _charts(db, election["id"], await _origin(db, election)))
    return Response.html(await datasette.render_template("reactions_charts.html", context, request=request,
                                                         view_name="reactions_charts"))


async def _query(db, sql: str, params: dict) -> list | None:
    try:
        return list(await db.execute(sql, params, custom_time_limit=QUERY_TIME_LIMIT_MS))
    except QueryInterrupted:
        return None


async def _origin(db, election: dict) -> dict | None:
    """The moment the time charts count from: polls closed (the milestone
    every reaction's timing starts from), else the official result, else
    none (the time charts then say so)."""
    rows = list(await db.execute(
        "SELECT at, name FROM election_milestones WHERE election_id = ? AND kind = 'polls_closed'",
        [election["id"]])) if await db.table_exists("election_milestones") else []
    if rows:
        return {"at": rows[0][0], "name": rows[0][1] or "polls closed", "after": "after polls closed"}
    if election.get("result_announced_at"):
        return {"at": election["result_announced_at"], "name": election.get("result_label") or "the result",
                "after": "after the result"}
    return None


# Hours from the origin, from the posting time (through the election's facet
# index, which holds created_at: no index on the stored hours is needed).
HOURS = "(julianday(created_at) - julianday(:origin)) * 24"


async def _charts(db, election: str, origin: dict | None) -> dict:
    params = {"election": election, "low": HOURS_FROM, "high": HOURS_TO, "origin": origin and origin["at"]}
    after = origin["after"] if origin else "after polls closed"
    if origin is None:
        totals = await _query(db, "SELECT count(*), 0, 0 FROM reactions WHERE election = :election", params)
        by_hour = by_day = []
    else:
        totals = await _query(db, f"SELECT count(*), sum({HOURS} < :low), sum({HOURS} >= :high) "
                                  "FROM reactions WHERE election = :election", params)
        by_hour = await _query(db, f"SELECT cast(floor({HOURS}) AS integer) AS hour, count(*) FROM reactions "
                                   f"WHERE election = :election AND {HOURS} >= :low AND {HOURS} < :high "
                                   "GROUP BY hour", params)
        by_day = await _query(db, f"SELECT cast(floor({HOURS} / 24.0) AS integer) AS day, count(*) FROM reactions "
                                  f"WHERE election = :election AND created_at IS NOT NULL GROUP BY day", params)
    by_type = await _counts(db, "reaction_type", params)
    by_milestone = await _counts(db, "milestone", params)
    by_country = await _counts(db, "country", params)
    by_role = await _counts(db, "role_kind", params)
    total, earlier, later = (totals[0] if totals else (None, None, None))
    since = origin["name"] if origin else "polls closed"
    return {
        "total": total,
        "origin": origin,
        "outside_hours": {"before": earlier or 0, "after": later or 0},
        "outside_days": _outside_days(by_day),
        "charts": [
            histogram("by_hour", f"Reactions by hour {after}",
                      f"Posts per hour, from a day before {since} to four days after.",
                      by_hour, range(HOURS_FROM, HOURS_TO), "h", f"hours {after}"),
            histogram("by_day", f"Reactions by day {after}",
                      f"Posts per day (24 hours) before and after {since}.",
                      by_day, _day_range(by_day), "d", f"days {after}"),
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


DAYS_FROM, DAYS_TO = -30, 60  # the day chart's widest span: a long tail is cut, and said so


def _day_range(rows: list | None) -> range:
    """From the first day with a reaction to the last, within DAYS_FROM and
    DAYS_TO (always holding day 0, so that reactions all outside the span
    still leave a chart to say so)."""
    if not rows:
        return range(0)
    days = [row[0] for row in rows]
    low, high = max(min(min(days), 0), DAYS_FROM), min(max(max(days), 0), DAYS_TO)
    return range(low, high + 1)


def _outside_days(rows: list | None) -> dict:
    """Reactions on days the day chart cuts off, earlier and later."""
    rows = rows or []
    return {"before": sum(n for day, n in rows if day < DAYS_FROM),
            "after": sum(n for day, n in rows if day > DAYS_TO)}


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
