"""SPARQL 1.1 Query Results JSON (https://www.w3.org/TR/sparql11-results-json/),
read strictly enough that a wrong answer is an error, never a silent
"0 rows".

A SELECT answer is ``{"head": {"vars": [...]}, "results": {"bindings": [...]}}``;
each binding maps a variable to a term ``{"type": "uri" | "literal" |
"bnode", "value": ..., "xml:lang"?: ..., "datatype"?: ...}``. A variable
left unbound (an OPTIONAL that did not match) is simply absent from the
binding. Older servers write ``"typed-literal"`` for literals with a
datatype; it is read as a literal.

The Wikidata Query Service streams its answer: when a query runs out of
time after the first rows went out, the body is cut off and a Java stack
trace naming ``TimeoutException`` follows. Such a body, and a 500 answer
naming it, is a :class:`QueryTimeout`, so the caller can split the batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

XSD = "http://www.w3.org/2001/XMLSchema#"
ENTITY = "http://www.wikidata.org/entity/"
TIMEOUT_MARKERS = ("java.util.concurrent.TimeoutException", "QueryTimeoutException", "Query deadline is expired")


class SparqlFormatError(ValueError):
    """The body is not a SPARQL JSON SELECT answer."""


class QueryTimeout(SparqlFormatError):
    """The query ran out of time on the server (the body says so)."""


@dataclass(frozen=True)
class Term:
    type: str  # uri, literal or bnode
    value: str
    lang: str | None = None
    datatype: str | None = None

    @property
    def qid(self) -> str | None:
        """The item id of a Wikidata entity URI (``Q42``), else None."""
        if self.type == "uri" and self.value.startswith(ENTITY):
            local = self.value[len(ENTITY):]
            if local[:1] == "Q" and local[1:].isdigit() and local[1:2] != "0":
                return local
        return None

    def as_int(self) -> int | None:
        try:
            return int(self.value)
        except ValueError:
            return None


@dataclass(frozen=True)
class SparqlResult:
    vars: tuple[str, ...]
    rows: tuple[dict[str, Term], ...]


def looks_like_timeout(body: str) -> bool:
    return any(marker in body for marker in TIMEOUT_MARKERS)


def parse_results(body: str) -> SparqlResult:
    """Parse a SELECT answer; raise :class:`SparqlFormatError` (or
    :class:`QueryTimeout`) saying what is wrong."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        if looks_like_timeout(body):
            raise QueryTimeout("the query ran out of time on the server (60 s limit); the answer was cut off") from None
        raise SparqlFormatError(f"not JSON ({_short(exc)}); starts with {body[:80]!r}") from None
    if not isinstance(document, dict):
        raise SparqlFormatError(f"expected a JSON object, got {type(document).__name__}")
    head = document.get("head")
    if not isinstance(head, dict) or not isinstance(head.get("vars", []), list):
        raise SparqlFormatError("no 'head' with a list of 'vars'")
    variables = head.get("vars", [])
    if not all(isinstance(name, str) for name in variables):
        raise SparqlFormatError("'head.vars' holds something other than variable names")
    if "boolean" in document and "results" not in document:
        raise SparqlFormatError("an ASK answer (a boolean), not a SELECT answer")
    results = document.get("results")
    if not isinstance(results, dict) or not isinstance(results.get("bindings"), list):
        raise SparqlFormatError("no 'results' with a list of 'bindings'")
    known = set(variables)
    rows = []
    for index, binding in enumerate(results["bindings"]):
        if not isinstance(binding, dict):
            raise SparqlFormatError(f"binding {index} is not an object")
        row = {}
        for name, term in binding.items():
            if name not in known:
                raise SparqlFormatError(f"binding {index} names variable {name!r}, which head.vars does not list")
            row[name] = _term(term, index, name)
        rows.append(row)
    return SparqlResult(vars=tuple(variables), rows=tuple(rows))


def _term(raw, index: int, name: str) -> Term:
    where = f"binding {index}, ?{name}"
    if not isinstance(raw, dict):
        raise SparqlFormatError(f"{where}: a term must be an object")
    kind = raw.get("type")
    value = raw.get("value")
    if kind == "typed-literal":  # SPARQL 1.0 JSON, still written by some servers
        kind = "literal"
    if kind not in ("uri", "literal", "bnode"):
        raise SparqlFormatError(f"{where}: unknown term type {kind!r}")
    if not isinstance(value, str):
        raise SparqlFormatError(f"{where}: 'value' must be text")
    lang = raw.get("xml:lang")
    datatype = raw.get("datatype")
    if lang is not None and not isinstance(lang, str) or datatype is not None and not isinstance(datatype, str):
        raise SparqlFormatError(f"{where}: 'xml:lang' and 'datatype' must be text")
    return Term(kind, value, lang, datatype)


def wikidata_time(term: Term | None, precision: Term | None = None) -> tuple[date, int] | None:
    """A Wikibase time value (``xsd:dateTime``, ``2021-07-28T00:00:00Z``)
    and its precision (11 day, 10 month, 9 year, less: coarser) as a date,
    or None when it is not a date we can use (year 0 or before, BCE, a
    precision coarser than a year, not a date at all)."""
    if term is None or term.type != "literal":
        return None
    text = term.value.strip()
    level = precision.as_int() if precision is not None else 11
    if level is None or level < 9:
        return None
    if text.startswith("+"):
        text = text[1:]
    if text.startswith("-"):
        return None
    day_part = text.split("T", 1)[0]
    pieces = day_part.split("-")
    if len(pieces) != 3 or not all(piece.isdigit() and piece.isascii() for piece in pieces):
        return None
    year, month, day = (int(piece) for piece in pieces)
    # Wikidata writes month and day 00 when the precision is coarser.
    month = month if level >= 10 and month else 1
    day = day if level >= 11 and day else 1
    try:
        return date(year, month, day), min(level, 11)
    except ValueError:
        return None


def _short(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0][:120]
