"""The ``_search=`` pages of the reactions table, answered by our own plan.

Datasette 0.65 uses one WHERE clause for a search page's rows and for its
``count(*)``: ``post_rowid in (select rowid from posts_fts where ... match
...)``. Whatever form that clause takes, one of the two queries pays (see
docs/performance.md, issue 11): fetched by post, the rows are all read and
sorted (66 ms for 10,000 matching posts, 2 s for 500,000); read in the
page's order, the count reads the whole table. So on the reactions table
this module owns the search:

- **The rows** are read in the form that suits how many posts match
  (:func:`rows_form`, decided by one capped FTS query per request): a few
  matches by post, as Datasette does; more of them by reading the
  reactions in the page's order (the index by posting time) and keeping
  those whose post is among the matches (``+post_rowid in (...)``, which
  SQLite collects once); and when the matches are so many that the first
  page is found within a few hundred reactions, by asking the full-text
  index about each reaction's post as the page is read (``exists (...
  rowid = post_rowid)``), without collecting the matches at all. The
  page-order forms are used only when the page is sorted by posting time
  (the default), the order the indexes hold.
- **The count** is ours: Datasette's is skipped (``_nocount``, which
  :class:`ReactionsTableView` sets without putting it in any link) and
  :meth:`SearchPlan.count` counts with the matches collected by post
  (``post_rowid in (...)``, through the index by post rowid), exactly up to
  :data:`EXACT_COUNT` matching posts. Beyond, it is estimated from an evenly
  spread sample of the matching posts (the facets' sample, see
  ``CountedColumnFacet`` in :mod:`scraper.web.plugin`) and marked so: the
  JSON carries ``"filtered_table_rows_count_approximate": true`` and the
  sample's size; the page says "about".

The plan is computed once per request, in the ``filters_from_request`` hook
wrapper (:func:`plan_search`), and kept in the request's scope for the
facets and the view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from datasette.filters import Filters
from datasette.utils import MultiParams, tilde_decode
from datasette.utils.asgi import Request
from datasette.views.base import ureg
from datasette.views.table import TableView

TABLE = "reactions"
FTS_TABLE = "posts_fts"
FTS_PK = "post_rowid"
# Datasette's clause for ?_search= on the reactions table (fts_table and
# fts_pk from metadata.yml), with the match expression of its escaped or raw mode.
SEARCH_CLAUSE = "post_rowid in (select rowid from posts_fts where posts_fts match "
MATCH_EXPRESSIONS = ("escape_fts(:search)", ":search")
SCOPE_KEY = "reaction_archive.search"

# Up to this many matching posts, the rows are fetched by post and sorted
# (a few thousand rows at most); a page-order read could scan the whole
# index to fill a page that holds only a few matches.
SMALL_SEARCH = 2_000
# Up to this many matching posts, the facets are counted exactly.
BROAD_SEARCH = 20_000
# Up to this many matching posts, the number of rows is counted exactly
# (about 25 ms at 50,000 on the 1M benchmark archive).
EXACT_COUNT = 50_000
# Beyond BROAD_SEARCH (facets) and EXACT_COUNT (the count), estimates come
# from an evenly spread sample of about this many matching posts.
SEARCH_FACET_SAMPLE = 10_000
# Ask the full-text index reaction by reaction when matches^2 > this *
# (page size + 1) * posts: collecting the matches costs about 0.2 us per
# matching post; one question to the index about 100 us, and a page needs
# about (page size + 1) * posts / matches of them. Measured on the 1M archive.
PROBE_FACTOR = 500

# The two page-order forms of the search clause, for a match expression.
_IN_PAGE_ORDER = "+" + SEARCH_CLAUSE + "{match})"
_PROBED = ("exists (select 1 from posts_fts where posts_fts match {match} "
           "and posts_fts.rowid = reactions.post_rowid)")
# A post is in the sample when a hash of its rowid falls below a threshold:
# the same sample on every request, and no period of the rowids lines up with it.
SAMPLED = " and (rowid * 2654435761) % 4294967296 < :_sample_below"


def owns_search(request, datasette, database: str) -> bool:
    """Whether this request is a search of the reactions table that the plan
    answers: Datasette's own ?_search=, on the metadata's full-text table."""
    args = request.args
    if "_search" not in args or any(key in args for key in ("_fts_table", "_fts_pk")):
        return False
    if any(key.startswith("_search_") for key in args):
        return False
    metadata = datasette.table_metadata(database, TABLE)
    return metadata.get("fts_table") == FTS_TABLE and metadata.get("fts_pk") == FTS_PK


def search_clause(match: str) -> str:
    return SEARCH_CLAUSE + match + ")"


def sampled_clause(match: str) -> str:
    return SEARCH_CLAUSE + match + SAMPLED + ")"


def rows_form(matches: int, posts: int, page_size: int, page_order: bool) -> str:
    """'post' (Datasette's form), 'order' (collect the matches, read in page
    order) or 'probe' (read in page order, ask the index per reaction)."""
    if not page_order or matches <= SMALL_SEARCH:
        return "post"
    if matches * matches > PROBE_FACTOR * (page_size + 1) * max(posts, 1):
        return "probe"
    return "order"


@dataclass
class Count:
    value: int
    approximate: bool = False
    sample: int | None = None  # matching reactions in the sample, for an estimate


@dataclass
class SearchPlan:
    """How one request's search is answered; kept in the request's scope."""

    db: object
    match: str  # the match expression: Datasette's escaped or raw mode
    matches: int  # matching posts: exact up to EXACT_COUNT, estimated beyond
    form: str  # see rows_form
    column_filters: tuple = ([], {})  # (where clauses, params) of ?column= filters
    hook_filters: list = field(default_factory=list)  # of every filters_from_request hook, as Datasette awaits them
    # The facets' grouped query counts every row of the page (its sample
    # when facets_sampled): the count, for free, when it ran without pagination.
    facet_total: int | None = None
    _count: Count | None = None

    @property
    def exact_matches(self) -> bool:
        return self.matches <= EXACT_COUNT

    @property
    def facets_sampled(self) -> bool:
        return self.matches > BROAD_SEARCH

    @property
    def share(self) -> float:
        """The share of matching posts in the sample."""
        return min(1.0, SEARCH_FACET_SAMPLE / max(self.matches, 1))

    @property
    def sample_below(self) -> int:
        return int(self.share * 2**32)

    def rows_clause(self) -> str:
        if self.form == "probe":
            return _PROBED.format(match=self.match)
        if self.form == "order":
            return _IN_PAGE_ORDER.format(match=self.match)
        return search_clause(self.match)

    def where(self, sampled: bool = False) -> tuple[str, dict]:
        """The page's WHERE clause (without pagination), its search collected by post."""
        ours = self.rows_clause()
        clauses, params = [], {}
        for where_clauses, values in [self.column_filters, *self.hook_filters]:
            for clause in where_clauses:
                if clause == ours:
                    clause = sampled_clause(self.match) if sampled else search_clause(self.match)
                clauses.append(clause)
            params.update(values)
        if sampled:
            params["_sample_below"] = self.sample_below
        return " and ".join(clauses), params

    async def count(self) -> Count:
        if self._count is None:
            if self.exact_matches:
                counted = self.facet_total if not self.facets_sampled else None
                if counted is None:
                    where, params = self.where()
                    counted = (await self.db.execute(f"select count(*) from reactions where {where}",
                                                     params)).first()[0]
                self._count = Count(counted)
            else:
                sampled = self.facet_total
                if sampled is None:
                    where, params = self.where(sampled=True)
                    sampled = (await self.db.execute(f"select count(*) from reactions where {where}",
                                                     params)).first()[0]
                self._count = Count(round(sampled / self.share), approximate=True, sample=sampled)
        return self._count


def plan_of(request) -> SearchPlan | None:
    return request.scope.get(SCOPE_KEY) if request is not None else None


async def plan_search(request, datasette, database: str, gathered: list, arguments) -> None:
    """Called for each filters_from_request result of a search page, in
    order: keeps them for the count and, for Datasette's search clause,
    makes the plan and puts the rows' form of the clause in its place."""
    clauses = getattr(arguments, "where_clauses", None)
    if clauses is None:
        return
    gathered.append((clauses, getattr(arguments, "params", {}) or {}))
    for i, clause in enumerate(clauses):
        match = next((m for m in MATCH_EXPRESSIONS if clause == search_clause(m)), None)
        if match is None:
            continue
        db = datasette.get_database(database)
        try:
            n, last = (await db.execute(
                f"select count(*), max(rowid) from (select rowid from posts_fts where posts_fts match {match} "
                f"limit {EXACT_COUNT + 1})", arguments.params)).first()
        except Exception:  # a search SQLite refuses: the page's own query reports it
            request.scope.pop(SCOPE_KEY, None)
            return
        posts = (await db.execute("select max(rowid) from posts")).first()[0] or 0
        # More than EXACT_COUNT: estimated from the density of the first matches.
        matches = n if n <= EXACT_COUNT else max(n, round(n * posts / max(last or 1, 1)))
        form = rows_form(matches, posts, _page_size(request, datasette, database),
                         _page_order(request, datasette, database))
        # gathered grows as Datasette awaits the rest of the hooks, before any count
        plan = SearchPlan(db, match, matches, form, _column_filters(request, datasette, database), gathered)
        clauses[i] = plan.rows_clause()
        request.scope[SCOPE_KEY] = plan
        return


def _column_filters(request, datasette, database: str) -> tuple[list, dict]:
    """The clauses of column filters (?country=...), built as Datasette builds them."""
    args = [(key, value) for key in request.args if not (key.startswith("_") and "__" not in key)
            for value in request.args.getlist(key)]
    units = datasette.table_metadata(database, TABLE).get("units", {})
    return Filters(sorted(args), units, ureg).build_where_clauses(TABLE)


def _page_order(request, datasette, database: str) -> bool:
    """Whether the page is sorted by posting time, the order of the indexes."""
    sort, sort_desc = request.args.get("_sort"), request.args.get("_sort_desc")
    if not sort and not sort_desc:
        metadata = datasette.table_metadata(database, TABLE)
        sort, sort_desc = metadata.get("sort"), metadata.get("sort_desc")
    return (sort or sort_desc) == "created_at"


def _page_size(request, datasette, database: str) -> int:
    size = request.args.get("_size") or datasette.table_metadata(database, TABLE).get("size")
    if size == "max":
        return datasette.max_returned_rows
    try:
        return max(int(size), 0) if size else datasette.page_size
    except ValueError:
        return datasette.page_size


def page_sql(sql: str, request) -> str:
    """A facet's SQL with the page's form of the search put back into
    Datasette's (collected by post): facets group every matching row."""
    plan = plan_of(request)
    if plan is None or plan.form == "post":
        return sql
    return sql.replace(plan.rows_clause(), search_clause(plan.match))


# --- the view -----------------------------------------------------------------------


class _Uncounted(MultiParams):
    """Request arguments that ask Datasette not to count (``_nocount``)
    without listing it, so no link or form of the page carries it."""

    def get(self, name, default=None):
        return "1" if name == "_nocount" else super().get(name, default)


class _UncountedRequest(Request):
    @property
    def args(self):
        return _Uncounted(super().args._data)


def _uncounted(request) -> Request:
    uncounted = _UncountedRequest(request.scope, request.receive)
    uncounted.__dict__.update({k: v for k, v in request.__dict__.items() if k not in ("scope", "receive")})
    return uncounted


class ReactionsTableView(TableView):
    """Datasette's table view of the reactions table, with the count of a
    search page ours (see the module's docstring). Served for
    ``/DATABASE/reactions`` by a route of the plugin."""

    async def data(self, request, *args, **kwargs):
        try:
            database = self.ds.get_database(route=tilde_decode(request.url_vars["database"])).name
        except KeyError:
            database = None
        if database is None or not owns_search(request, self.ds, database):
            return await super().data(request, *args, **kwargs)
        wanted = not request.args.get("_nocount") and request.args.get("_shape") not in ("array", "object")
        result = await super().data(_uncounted(request), *args, **kwargs)
        plan = plan_of(request)
        if not wanted or plan is None or not isinstance(result, tuple):
            return result
        data, extra, *rest = result
        count = await plan.count()
        data["filtered_table_rows_count"] = count.value
        if count.approximate:
            data["filtered_table_rows_count_approximate"] = True
            data["filtered_table_rows_count_sample"] = count.sample
        return (data, _with_count_said(extra, data, count), *rest)


def _with_count_said(extra, data, count: Count):
    """The HTML page's context: an estimated count said as one."""

    async def context():
        values = await extra() if callable(extra) else dict(extra or {})
        values["count_approximate"] = count.approximate
        if count.approximate:
            said = f"about {_rounded(count.value):,} rows"
            # Datasette's heading prints the count as a number: say it in the description instead
            values["filtered_table_rows_count"] = None
            values["human_description_en"] = " ".join(filter(None, [said, data.get("human_description_en")]))
        return values

    return context


def _rounded(value: int) -> int:
    """Three significant digits: 334,587 -> 335,000."""
    if value < 1000:
        return value
    digits = len(str(value)) - 3
    return round(value, -digits)
