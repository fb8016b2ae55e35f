"""The Datasette plugin of `reactions serve` (loaded from scraper/web/plugins/).

- **Quiet, fast errors.** Datasette 0.65 prints every error, a 404 included,
  with ``rich`` and the local variables of every frame when rich can be
  imported (it can: the CLI uses it): 1 to 2 s and 17 KB of log per error,
  a cheap denial of service on a public instance. :func:`handle_exception`
  answers every error itself (a hook wrapper, so the default handler never
  runs): a short message, the status, one log line for a 5xx and no
  traceback. Errors that come from what the request asked (a bad value, SQL
  that SQLite refuses) are 400s, not 500s.
- **Read-only.** Any method but GET, HEAD and OPTIONS answers 405 (newer
  Datasette versions have write endpoints; this archive has none), and
  ``.blob`` downloads follow the ``allow_download`` setting like the
  database download does (:func:`asgi_wrapper`).
- **Pages of our own.** Template variables for the reactions cards, the post
  page (versions, captures, elections) and the index (the ready-made
  queries); Jinja filters that only ever link http(s) addresses; and the
  charts page, ``/DATABASE/-/charts`` (:mod:`scraper.web.charts`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import urllib.parse

from datasette import hookimpl
from datasette.facets import ColumnFacet
from datasette.utils import add_cors_headers, await_me_maybe, path_with_added_args, path_with_removed_args, tilde_encode
from datasette.utils.asgi import Base400, Response
from markupsafe import Markup

from ..reaction_rows import COUNTS_TABLE, FACETS
from . import charts, search

READ_METHODS = ("GET", "HEAD", "OPTIONS")
# Exceptions raised by what a request asked for (a value that is not a
# number, SQL or a search that SQLite refuses): the client's error.
CLIENT_ERRORS = (ValueError, OverflowError, UnicodeError, LookupError, sqlite3.Error)
# The reactions table view, one click from the cards: about ten columns.
# A filtered page keeping more rows than this counts its facets from a sample
# of about FILTER_SAMPLE rows of the table (hashed post rowids), marked approximate.
FILTER_EXACT_UP_TO = 50_000  # (as search pages count exactly up to 50,000 matching posts)
FILTER_SAMPLE = 10_000
FILTER_SAMPLED = " and ([post_rowid] * 2654435761) % 4294967296 < :_sample_below"

TABLE_VIEW_COLUMNS = ("created_at", "author", "country", "role", "platform", "text", "reaction_type", "timing",
                      "hours_after_result", "language", "url")


@hookimpl
def startup(datasette):
    """Keep rich's tracebacks (with every local variable) out of the server:
    the CLI installs them as the process's exception hook."""
    import datasette.handle_exception as default_handler

    default_handler.rich = None
    sys.excepthook = sys.__excepthook__


@hookimpl(hookwrapper=True)
def handle_exception(datasette, request, exception):
    outcome = yield
    outcome.force_result([_error_response(datasette, request, exception)])


def status_and_message(exception) -> tuple[int, str, str | None]:
    from datasette.views.base import DatasetteError

    if isinstance(exception, Base400):
        return exception.status, str(exception.args[0]) if exception.args else "Bad request", None
    if isinstance(exception, DatasetteError):
        message = Markup(exception.message) if exception.message_is_html else exception.message
        # Datasette 0.65 raises these for what a request asked (a column it
        # cannot sort by, two sorts at once) with its default status, 500.
        return (exception.status if exception.status < 500 else 400), message, exception.title
    if isinstance(exception, CLIENT_ERRORS):
        return 400, f"Bad request: {_short(exception)}", None
    return 500, "Internal error: the archive could not answer this request.", None


def _short(exception) -> str:
    text = " ".join(str(exception).split()) or type(exception).__name__
    return text if len(text) <= 200 else text[:199] + "…"


def _error_response(datasette, request, exception):
    async def respond():
        status, message, title = status_and_message(exception)
        if status >= 500:
            print(f"reactions serve: {status} {request.method} {request.path}: "
                  f"{type(exception).__name__}: {_short(exception)}", file=sys.stderr, flush=True)
        info = {"ok": False, "error": message, "status": status, "title": title}
        headers = {}
        if datasette.cors:
            add_cors_headers(headers)
        if request.path.endswith(".json"):
            return Response.json(info, status=status, headers=headers)
        template = datasette.jinja_env.select_template([f"{status}.html", "error.html"])
        context = dict(info, urls=datasette.urls, app_css_hash=datasette.app_css_hash(), menu_links=lambda: [])
        return Response.html(await template.render_async(context), status=status, headers=headers)

    return respond


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def read_only(scope, receive, send):
            if scope.get("type") == "http":
                refused = refusal(datasette, scope)
                if refused is not None:
                    await _send_refusal(send, scope, *refused)
                    return
            await app(scope, receive, send)

        return read_only

    return wrap


def refusal(datasette, scope) -> tuple[int, str, dict] | None:
    """(status, message, headers) for a request this instance never answers."""
    if scope.get("method", "GET") not in READ_METHODS:
        return 405, "This archive is read-only: it answers GET requests only.", {"allow": "GET, HEAD, OPTIONS"}
    last = scope.get("path", "").rsplit("/", 1)[-1]
    query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if (last.endswith(".blob") or "blob" in query.get("_format", [])) and not datasette.setting("allow_download"):
        return 403, "Downloads are turned off on this instance (the allow_download setting).", {}
    return None


async def _send_refusal(send, scope, status: int, message: str, headers: dict) -> None:
    if scope.get("path", "").endswith(".json"):
        import json

        body = json.dumps({"ok": False, "error": message, "status": status}).encode("utf-8")
        content_type = b"application/json; charset=utf-8"
    else:
        body = (message + "\n").encode("utf-8")
        content_type = b"text/plain; charset=utf-8"
    raw_headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    raw_headers += [(name.encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body if scope.get("method") != "HEAD" else b""})


# --- templates ------------------------------------------------------------------


def web_url(value) -> str | None:
    """The value when it is an http(s) address, else None: a post's URL
    comes from a platform or a page and is never trusted as a link target
    (``javascript:`` and ``data:`` addresses stay text)."""
    if not isinstance(value, str):
        return None
    scheme = value.strip().split(":", 1)[0].lower()
    return value.strip() if scheme in ("http", "https") and "://" in value else None


def hours_label(value) -> str:
    if value is None:
        return ""
    hours = float(value)
    if abs(hours) < 48:
        text = f"{abs(hours):.1f} h"
    else:
        text = f"{abs(hours) / 24:.1f} days"
    return f"{text} {'before' if hours < 0 else 'after'} the result"


def type_note(row) -> str:
    """Where a reaction's type comes from, with the evidence behind it (the
    tooltip of the type on a card): never a label without its evidence."""
    try:
        evidence = json.loads(row["type_evidence"] or "[]")
    except (KeyError, IndexError, TypeError, ValueError):
        evidence = []
    source = "set by hand" if row_value(row, "type_source") == "label" else "the classifier's"
    classified = row_value(row, "classified_type")
    if source == "set by hand" and classified:
        source += f"; the classifier said {classified}"
    confidence = row_value(row, "type_confidence")
    if confidence is not None and row_value(row, "type_source") != "label":
        source += f", confidence {float(confidence):.2f}"
    return "; ".join([source, *(str(note) for note in evidence if note)])


def row_value(row, name):
    try:
        return row[name]
    except (KeyError, IndexError):
        return None


def when(value) -> str:
    """'2021-06-08T15:00:00.000Z' -> '2021-06-08 15:00 UTC'; a plain date stays."""
    if not isinstance(value, str) or len(value) < 16 or value[10] != "T":
        return "" if value is None else str(value)
    return f"{value[:10]} {value[11:16]} UTC" if value.endswith(("Z", "+00:00")) else value


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["when"] = when
    env.filters["web_url"] = web_url
    env.filters["tilde"] = lambda value: tilde_encode(str(value))
    env.filters["hours_label"] = hours_label
    env.filters["type_note"] = type_note


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    async def variables():
        if request is None:
            return {}
        if view_name == "table" and table == "reactions":
            return _reactions_links(datasette, database, request)
        if view_name == "row" and table == "posts":
            return await _post_details(datasette, database, request)
        if view_name == "index":
            return {"archives": await _archives(datasette)}
        return {}

    return variables


def _reactions_links(datasette, database: str, request) -> dict:
    args = [(key, value) for key, value in request.args._data.items() for value in value]
    kept = [(k, v) for k, v in args if k not in ("_view", "_col", "_nocol", "_next")]
    table_args = kept + [("_view", "table")] + [("_col", column) for column in TABLE_VIEW_COLUMNS]
    base = datasette.urls.table(database, "reactions")
    return {
        "cards_url": base + ("?" + urllib.parse.urlencode(kept) if kept else ""),
        "table_view_url": base + "?" + urllib.parse.urlencode(table_args),
        "as_table": request.args.get("_view") == "table",
        "charts_url": datasette.urls.database(database) + "/-/charts",
        "feed_url": datasette.urls.database(database) + "/new_reactions.atom",
    }


async def _post_details(datasette, database: str, request) -> dict:
    from datasette.utils import tilde_decode

    post_id = tilde_decode(request.url_vars.get("pks", ""))
    db = datasette.get_database(database)
    versions = await db.execute(
        "SELECT version, text, reply_count, repost_count, like_count, edited_at, first_seen_at, last_seen_at "
        "FROM post_states WHERE post_id = ? ORDER BY version", [post_id])
    captures = await db.execute(
        "SELECT c.id, c.retrieved_at, c.source_id, s.kind AS source_kind, s.title AS source_title, c.format, "
        "c.location, c.fetched_url, c.tool_version, c.raw_sha256 FROM capture_details c "
        "LEFT JOIN sources s ON s.id = c.source_id WHERE c.post_id = ? ORDER BY c.retrieved_at, c.id", [post_id])
    reactions = await db.execute(
        "SELECT election, author, role, role_kind, country, hours_after_result, matched_terms, score, "
        "reaction_type, type_source, classified_type, type_confidence, type_evidence, timing "
        "FROM reactions WHERE post_id = ? ORDER BY election", [post_id])
    return {"versions": list(versions), "captures": list(captures), "reactions_of_post": list(reactions)}


async def _archives(datasette) -> list[dict]:
    """Per database with a reactions table: its count, latest election and queries."""
    found = []
    for name, db in datasette.databases.items():
        if name == "_internal" or not await db.table_exists("reactions"):
            continue
        count = (await db.execute("SELECT count(*) FROM reactions")).first()[0]
        elections = list(await db.execute("SELECT id, name FROM elections ORDER BY loaded_at DESC, id"))
        queries = await datasette.get_canned_queries(name, None)
        found.append({
            "name": name,
            "reactions": count,
            "elections": elections,
            "queries": [{"name": key, "title": q.get("title") or key, "description": q.get("description")}
                        for key, q in queries.items()],
        })
    return found


@hookimpl
def menu_links(datasette, actor):
    databases = [name for name in datasette.databases if name != "_internal"]
    if not databases:
        return []
    return [{"href": datasette.urls.database(databases[0]) + "/-/charts", "label": "Charts of the reactions"}]


@hookimpl
def register_routes(datasette):
    # Plugin routes come before Datasette's static mounts: /assets/reactions.css is not a table.
    not_mounted = "".join(f"(?!{re.escape(path)}/)" for path, _ in datasette.static_mounts)
    return [
        (r"^/(?P<database>[^/]+)/-/charts$", charts.charts_page),
        # Datasette's table route, for the reactions table only: its view
        # with the count of a search page ours (scraper/web/search.py)
        (rf"^/{not_mounted}(?!-/)(?P<database>[^/.]+)/(?P<table>reactions)(\.(?P<format>\w+))?$", reactions_table),
    ]


async def reactions_table(datasette, request, send):
    return await search.ReactionsTableView.as_view(datasette)(request, send)


# --- fast facets and searches on the reactions table ----------------------------


class _PageFormOfSearch:
    """A facet of a search page groups every matching row: its SQL gets the
    search collected by post back, whatever form the page's rows use
    (see :mod:`scraper.web.search`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.table == search.TABLE and self.sql:
            self.sql = search.page_sql(self.sql, self.request)


class CountedColumnFacet(_PageFormOfSearch, ColumnFacet):
    """Datasette's column facet, except on the reactions table:

    - unfiltered (or filtered on one election only), the default facets'
      counts are read from reactions_facet_counts (kept exact by triggers,
      see scraper/reaction_rows.py) instead of grouping every row;
    - on a search page, the default facets are counted together, in one
      query that reads the full-text matches once and groups them through
      the index of the reactions by post rowid (which holds the facet
      columns), instead of one query per facet each evaluating the search
      again and reading every matching row. Exact up to
      ``search.BROAD_SEARCH`` matching posts; beyond, estimated from an
      evenly spread sample of the matching posts, and marked so."""

    async def facet_results(self):
        configs = self.get_configs()
        counted = [c for c in configs if (c["config"].get("column") or c["config"].get("simple")) in FACETS]
        db = self.ds.get_database(self.database)
        plan = search.plan_of(self.request)
        if counted and self.table == search.TABLE and plan and search.search_clause(plan.match) in self.sql:
            return await self._with_rest(configs, counted, self._searched(db, counted, plan))
        election = self._only_election()
        if election is False and counted and self.table == search.TABLE and plan is None:
            share = await self._broad_filter_share(db)
            if share is not None:
                where = self.sql.partition(" from reactions ")[2] + FILTER_SAMPLED
                params = {**self.params, "_sample_below": int(share * 2**32)}
                return await self._with_rest(configs, counted, self._grouped(db, counted, where, params, share))
        if election is False or not counted or not await db.table_exists(COUNTS_TABLE):
            return await super().facet_results()
        return await self._with_rest(configs, counted, self._all_counted(db, counted, election))

    async def _with_rest(self, configs, counted, counting):
        """The counted facets (``counting``: their results and the names of
        those that timed out) with Datasette's for the others, in the
        configured order."""
        results, timed_out = [], []
        rest = [c for c in configs if c not in counted]
        if rest:
            self.get_configs = lambda: rest  # Datasette computes the others as usual
            try:
                results, timed_out = await super().facet_results()
            except BaseException:
                counting.close()  # not started: closed, so that no "never awaited" warning follows the error
                raise
        found, late = await counting
        results += found
        timed_out += late
        order = [c["config"].get("column") or c["config"].get("simple") for c in configs]
        results.sort(key=lambda facet: order.index(facet["name"]))
        return results, timed_out

    async def _all_counted(self, db, counted, election):
        return [await self._counted(db, config, election) for config in counted], []

    def _only_election(self):
        """None unfiltered, the election's id when it is the only filter, False otherwise."""
        if self.table != "reactions":
            return False
        head, _, where = self.sql.partition(" from reactions ")
        where = where.strip()
        if not where:
            return None
        if where == 'where "election" = :p0' and set(self.params) == {"p0"}:
            return self.params["p0"]
        return False

    async def _counted(self, db, source_and_config, election) -> dict:
        column = source_and_config["config"].get("column") or source_and_config["config"]["simple"]
        size = self.get_facet_size()
        if election is None:
            sql = (f"SELECT value, sum(n) AS count FROM [{COUNTS_TABLE}] WHERE facet = :facet GROUP BY value "
                   "HAVING count > 0 ORDER BY count DESC, value LIMIT :limit")
        else:
            sql = (f"SELECT value, n AS count FROM [{COUNTS_TABLE}] WHERE election = :election AND facet = :facet "
                   "AND n > 0 ORDER BY count DESC, value LIMIT :limit")
        rows = list(await db.execute(sql, {"facet": column, "election": election, "limit": size + 1}))
        return self._facet(source_and_config, [(value, count) for value, count in rows], size)

    async def _searched(self, db, counted, plan):
        """The counted facets of a search page, from one grouped query over
        the page's own WHERE clause (the same rows Datasette would group)."""
        where = self.sql.partition(" from reactions ")[2]
        params = dict(self.params)
        if plan.facets_sampled:
            # A broad search: count the facets over an evenly spread sample
            # of the matching posts, and give the counts as estimates.
            where = where.replace(search.search_clause(plan.match), search.sampled_clause(plan.match))
            params["_sample_below"] = plan.sample_below
        results, timed_out, sampled = await self._grouped_counts(
            db, counted, where, params, plan.share if plan.facets_sampled else None)
        if "_next" not in self.request.args and not timed_out:
            plan.facet_total = sampled  # every row of the page (or of its sample): the count, for free
        return results, timed_out

    async def _broad_filter_share(self, db) -> float | None:
        """A filtered page (not a search, not one election): None when it
        keeps few enough rows for Datasette to count its facets exactly;
        else the share of the table to sample them from (about
        ``FILTER_SAMPLE`` rows of the whole table, so that a filter keeping
        most rows is counted from that many and not from all of them)."""
        from datasette.database import QueryInterrupted

        where = self.sql.partition(" from reactions ")[2]
        try:
            capped = await db.execute(
                f"select count(*) from (select 1 from reactions {where} limit {FILTER_EXACT_UP_TO + 1})", self.params,
                custom_time_limit=self.ds.setting("facet_time_limit_ms"))
        except QueryInterrupted:
            capped = None
        if capped is not None and capped.first()[0] <= FILTER_EXACT_UP_TO:
            return None
        if not await db.table_exists(COUNTS_TABLE):
            return None
        total = (await db.execute(
            f"SELECT coalesce(sum(n), 0) FROM [{COUNTS_TABLE}] WHERE facet = 'election'")).first()[0]
        return min(1.0, FILTER_SAMPLE / max(total, 1))

    async def _grouped(self, db, counted, where, params, share):
        results, timed_out, _ = await self._grouped_counts(db, counted, where, params, share)
        return results, timed_out

    async def _grouped_counts(self, db, counted, where, params, share):
        """The counted facets from one grouped query over ``where``; with a
        ``share`` (the rows are a sample), the counts are scaled to
        estimates and marked approximate. Returns the facets, those that
        timed out, and the rows grouped."""
        from datasette.database import QueryInterrupted

        columns = [c["config"].get("column") or c["config"]["simple"] for c in counted]
        listed = ", ".join(f"[{column}]" for column in columns)
        sql = f"select {listed}, count(*) from reactions {where} group by {listed}"
        try:
            rows = await db.execute(sql, params, truncate=False,
                                    custom_time_limit=self.ds.setting("facet_time_limit_ms"))
        except QueryInterrupted:
            return [], columns, 0
        sampled = sum(row[-1] for row in rows.rows)
        totals = [{} for _ in columns]
        for row in rows.rows:
            n = row[-1]
            for i, value in enumerate(row[:-1]):
                if value is not None:
                    totals[i][value] = totals[i].get(value, 0) + n
        size = self.get_facet_size()
        results = []
        for config, counts in zip(counted, totals):
            if share is not None:
                counts = {value: round(n / share) for value, n in counts.items()}
            ordered = sorted(counts.items(), key=lambda item: (-item[1], _sort_key(item[0])))
            facet = self._facet(config, ordered[:size + 1], size)
            if share is not None:
                facet.update({"approximate": True, "sample": sampled})
            results.append(facet)
        return results, [], sampled

    def _facet(self, source_and_config, rows, size) -> dict:
        """A facet's result as Datasette gives it, from (value, count) pairs in order."""
        column = source_and_config["config"].get("column") or source_and_config["config"]["simple"]
        chosen = self.get_querystring_pairs()
        values = []
        for value, count in rows[:size]:
            selected = (column, str(value)) in chosen
            toggle = (path_with_removed_args(self.request, {column: str(value)}) if selected
                      else path_with_added_args(self.request, {column: value}))
            values.append({"value": value, "label": value, "count": count, "selected": selected,
                           "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(toggle))})
        return {
            "name": column, "type": self.type, "hideable": source_and_config["source"] != "metadata",
            "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet": column})),
            "results": values, "truncated": len(rows) > size,
        }


def _sort_key(value):
    """SQLite's order of values of different kinds: numbers, text, blobs."""
    if isinstance(value, (int, float)):
        return (0, value, "")
    if isinstance(value, str):
        return (1, 0, value)
    return (2, 0, str(value))



@hookimpl(hookwrapper=True)
def register_facet_classes():
    outcome = yield
    outcome.force_result([[CountedColumnFacet if klass is ColumnFacet else _in_page_form(klass) for klass in classes]
                          for classes in outcome.get_result()])


def _in_page_form(klass):
    return type(klass.__name__, (_PageFormOfSearch, klass), {"__doc__": klass.__doc__})


@hookimpl(hookwrapper=True, specname="filters_from_request")
def reactions_search_plan(request, database, table, datasette):
    """A search of the reactions table is answered by our plan
    (:mod:`scraper.web.search`): the rows' form of the search clause in
    place of Datasette's, and every filter kept for our own count."""
    outcome = yield
    if table != search.TABLE or not search.owns_search(request, datasette, database):
        return
    gathered = []

    def planned(original):
        async def plan():
            arguments = await await_me_maybe(original)
            await search.plan_search(request, datasette, database, gathered, arguments)
            return arguments
        return plan

    outcome.force_result([planned(original) for original in outcome.get_result()])
