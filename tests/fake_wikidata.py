"""A stand-in for the Wikidata Query Service on 127.0.0.1 (pytest-httpserver).

It answers each of the roster's queries (named by their first comment line)
from the recorded answers in tests/fixtures/wikidata/, in the service's JSON
results format, keeping only the rows for the items the query names: so a
batch of countries or people gets its own rows, as from the real service.
The people, countries and QIDs there are fictional.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from werkzeug import Request, Response

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wikidata"
ENTITY = "http://www.wikidata.org/entity/"


def entity(term: dict | None) -> str | None:
    if term and term.get("type") == "uri" and term["value"].startswith(ENTITY):
        return term["value"][len(ENTITY):]
    return None


class FakeWikidata:
    def __init__(self, httpserver, fixtures: Path = FIXTURES):
        self.fixtures = fixtures
        self.queries: list[str] = []
        self.requests: list[Request] = []
        self.answer: Callable[[str, str], Response | None] | None = None  # (kind, query) -> a response to send instead
        httpserver.expect_request("/sparql").respond_with_handler(self.handle)
        self.url = httpserver.url_for("/sparql")

    def kinds(self) -> list[str]:
        return [self.kind(query) for query in self.queries]

    @staticmethod
    def kind(query: str) -> str:
        match = re.search(r"^#reaction-archive roster: (.+)$", query, re.MULTILINE)
        return match.group(1) if match else "?"

    def handle(self, request: Request) -> Response:
        query = request.args.get("query", "")
        self.queries.append(query)
        self.requests.append(request)
        kind = self.kind(query)
        if self.answer is not None:
            response = self.answer(kind, query)
            if response is not None:
                return response
        name = {"countries and their offices": "countries", "positions": "positions", "office holders": "holders",
                "people": "people"}.get(kind)
        if name is None:
            return Response("MalformedQueryException: unknown query", status=400)
        document = json.loads((self.fixtures / f"{name}.json").read_text(encoding="utf-8"))
        keep = getattr(self, f"_keep_{name}")
        document["results"]["bindings"] = [row for row in document["results"]["bindings"] if keep(row, query)]
        return Response(json.dumps(document, ensure_ascii=False), content_type="application/sparql-results+json")

    @staticmethod
    def _keep_countries(row: dict, query: str) -> bool:
        if "VALUES ?iso" in query:
            return f'"{row["iso"]["value"]}"' in query
        return True  # a group (UN members, a continent): every country recorded

    @staticmethod
    def _keep_positions(row: dict, query: str) -> bool:
        return f"wd:{entity(row['office'])} " in query + " "

    @staticmethod
    def _keep_holders(row: dict, query: str) -> bool:
        source = row["source"]["value"]
        if source == "P39":
            values = re.search(r"VALUES \?office \{([^}]*)\}", query)
            return bool(values) and f"wd:{entity(row['office'])} " in values.group(1) + " "
        values = re.search(r"VALUES \?country \{([^}]*)\}", query)
        return f"p:{source} " in query and bool(values) and f"wd:{entity(row['country'])} " in values.group(1) + " "

    @staticmethod
    def _keep_people(row: dict, query: str) -> bool:
        values = re.search(r"VALUES \?person \{([^}]*)\}", query)
        return bool(values) and f"wd:{entity(row['person'])} " in values.group(1) + " "
