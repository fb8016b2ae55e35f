"""The SPARQL queries ``reactions roster wikidata`` sends to the Wikidata
Query Service. Pure text: docs/configuration.md shows them as written here
(a test keeps the two in step), so that anyone can paste them into
https://query.wikidata.org/ and see what the tool saw.

Four queries, each batched (never one query per person):

1. **countries**: the country items by ISO 3166-1 alpha-2 code (P297), or
   the members of a group (UN members, a continent), and the offices each
   names: office held by head of state (P1906), by head of government
   (P1313), and the positions that are a minister of foreign affairs
   (subclass of Q7330070) for the country (applies to jurisdiction, P1001).
2. **positions**: the positions given by QID (``--position``), with the
   country they apply to.
3. **holders**: who held those offices (position held, P39, with start and
   end qualifiers P580/P582 and their precision), and the country items'
   own head of state (P35) and head of government (P6) statements. Only
   people who held the office on or after the date come back, with every
   one of their terms, so that former heads of state get their dates right.
   Deprecated statements are left out.
4. **people**: names (labels and aliases in the chosen languages), date of
   death (P570), citizenship (P27, for positions without a country) and
   accounts: X (P2002, with the numeric id qualifier P6552), Mastodon
   (P4033), Bluesky (P12361), Telegram (P3789), Facebook (P2013),
   Instagram (P2003), YouTube channel (P2397), with their rank and end time
   (P582), so that deprecated and ended accounts can be left out.

Each query begins with a comment naming it; the service ignores it.
"""

from __future__ import annotations

from datetime import date

OFFICE_KINDS = ("head_of_state", "head_of_government", "foreign_minister")

# Groups Wikidata knows by membership (P463) or continent (P30).
WIKIDATA_GROUPS = {
    "un": ("wdt:P463", "wd:Q1065", "member states of the United Nations"),
    "africa": ("wdt:P30", "wd:Q15", "sovereign states in Africa"),
    "asia": ("wdt:P30", "wd:Q48", "sovereign states in Asia"),
    "europe": ("wdt:P30", "wd:Q46", "sovereign states in Europe"),
    "north-america": ("wdt:P30", "wd:Q49", "sovereign states in North America, Central America and the Caribbean"),
    "south-america": ("wdt:P30", "wd:Q18", "sovereign states in South America"),
    "oceania": ("wdt:P30", "wd:Q538", "sovereign states in Oceania"),
}

# Groups we define ourselves, by ISO code (no query needed to know them).
CODE_GROUPS = {
    # The twenty sovereign states where Spanish, Portuguese or French is the
    # main language, from Mexico to Argentina.
    "latin-america": (
        "AR", "BO", "BR", "CL", "CO", "CR", "CU", "DO", "EC", "GT",
        "HN", "HT", "MX", "NI", "PA", "PE", "PY", "SV", "UY", "VE",
    ),
}

ACCOUNT_PROPERTIES = (
    ("x", "P2002"),
    ("mastodon", "P4033"),
    ("bluesky", "P12361"),
    ("telegram", "P3789"),
    ("facebook", "P2013"),
    ("instagram", "P2003"),
    ("youtube", "P2397"),
)

X_NUMERIC_ID = "P6552"  # qualifier of P2002


def label_languages(languages: list[str]) -> str:
    """The label service's language list: the first language, then the
    language-neutral ``mul`` labels, then the others."""
    ordered: list[str] = []
    for language in (languages[0], "mul", *languages[1:]):
        if language not in ordered:
            ordered.append(language)
    return ",".join(ordered)


def _label_service(languages: list[str]) -> str:
    return f'  SERVICE wikibase:label {{ bd:serviceParam wikibase:language "{label_languages(languages)}". }}'


def _values(items: list[str], quote: bool = False) -> str:
    return " ".join(f'"{item}"' if quote else f"wd:{item}" for item in items)


def _office_branches(offices: tuple[str, ...]) -> list[str]:
    branches = []
    if "head_of_state" in offices:
        branches.append('{ ?country wdt:P1906 ?office . BIND("head_of_state" AS ?kind) }')
    if "head_of_government" in offices:
        branches.append('{ ?country wdt:P1313 ?office . BIND("head_of_government" AS ?kind) }')
    if "foreign_minister" in offices:
        branches.append(
            '{ ?office wdt:P279 wd:Q7330070 ; wdt:P1001 ?country . BIND("foreign_minister" AS ?kind) }'
        )
    return branches


def countries_query(offices: tuple[str, ...], languages: list[str], *, codes: list[str] | None = None,
                    group: str | None = None) -> str:
    """Country items with their ISO code, label and offices: by ``codes``,
    or every sovereign state of a Wikidata ``group``."""
    lines = ["#reaction-archive roster: countries and their offices",
             "SELECT ?country ?iso ?countryLabel ?kind ?office ?officeLabel WHERE {"]
    if codes is not None:
        lines += [f"  VALUES ?iso {{ {_values(codes, quote=True)} }}",
                  "  ?country wdt:P297 ?iso ."]
    elif group == "un":
        lines += ["  ?country wdt:P463 wd:Q1065 ;",
                  "           wdt:P297 ?iso ."]
    else:  # a continent: its sovereign states
        predicate, value, _ = WIKIDATA_GROUPS[group]
        lines += [f"  ?country {predicate} {value} ;",
                  "           wdt:P31 wd:Q3624078 ;",
                  "           wdt:P297 ?iso ."]
    lines.append("  FILTER NOT EXISTS { ?country wdt:P576 ?dissolved . }")
    branches = _office_branches(offices)
    if branches:
        lines.append("  OPTIONAL {")
        lines.append("    " + "\n    UNION ".join(branches))
        lines.append("  }")
    lines += [_label_service(languages), "}"]
    return "\n".join(lines) + "\n"


def positions_query(positions: list[str], languages: list[str]) -> str:
    """Positions named by QID, with the country each applies to (P1001, or
    P17 country) and its ISO code."""
    return "\n".join([
        "#reaction-archive roster: positions",
        "SELECT ?office ?officeLabel ?country ?iso WHERE {",
        f"  VALUES ?office {{ {_values(positions)} }}",
        "  OPTIONAL {",
        "    ?office wdt:P1001|wdt:P17 ?country .",
        "    ?country wdt:P297 ?iso .",
        "  }",
        _label_service(languages),
        "}",
    ]) + "\n"


def holders_query(offices: list[str], countries: list[str], since: date, languages: list[str],
                  statements: tuple[str, ...] = ("P35", "P6")) -> str:
    """Holders of ``offices`` (P39) and the ``statements`` of ``countries``
    (P35 head of state, P6 head of government), for people who held them on
    or after ``since``."""
    moment = f'"{since.isoformat()}T00:00:00Z"^^xsd:dateTime'
    branches = []
    if offices:
        branches.append("\n".join([
            "  {",
            f"    VALUES ?office {{ {_values(offices)} }}",
            "    ?person p:P39 ?statement .",
            "    ?statement ps:P39 ?office .",
            '    BIND("P39" AS ?source)',
            "    FILTER EXISTS {",
            "      ?person p:P39 ?recent .",
            "      ?recent ps:P39 ?office .",
            f"      FILTER NOT EXISTS {{ ?recent pq:P582 ?recentEnd . FILTER(?recentEnd < {moment}) }}",
            "    }",
            "  }",
        ]))
    for prop in statements:
        if countries:
            branches.append("\n".join([
                "  {",
                f"    VALUES ?country {{ {_values(countries)} }}",
                f"    ?country p:{prop} ?statement .",
                f"    ?statement ps:{prop} ?person .",
                f'    BIND("{prop}" AS ?source)',
                f"    FILTER NOT EXISTS {{ ?statement pq:P582 ?statementEnd . FILTER(?statementEnd < {moment}) }}",
                "  }",
            ]))
    return "\n".join([
        "#reaction-archive roster: office holders",
        "SELECT ?source ?office ?country ?person ?personLabel ?start ?startPrecision ?end ?endPrecision WHERE {",
        "\n  UNION\n".join(branches),
        "  ?statement wikibase:rank ?rank .",
        "  FILTER(?rank != wikibase:DeprecatedRank)",
        "  ?person wdt:P31 wd:Q5 .",
        "  OPTIONAL {",
        "    ?statement pqv:P580 ?startNode .",
        "    ?startNode wikibase:timeValue ?start ; wikibase:timePrecision ?startPrecision .",
        "  }",
        "  OPTIONAL {",
        "    ?statement pqv:P582 ?endNode .",
        "    ?endNode wikibase:timeValue ?end ; wikibase:timePrecision ?endPrecision .",
        "  }",
        _label_service(languages),
        "}",
    ]) + "\n"


def people_query(people: list[str], languages: list[str]) -> str:
    """Names, date of death, citizenship and accounts of ``people``."""
    language_list = ", ".join(f'"{language}"' for language in dict.fromkeys([*languages, "mul"]))
    accounts = " ".join(f'("{platform}" wd:{prop})' for platform, prop in ACCOUNT_PROPERTIES)
    return "\n".join([
        "#reaction-archive roster: people",
        "SELECT ?person ?personLabel ?name ?alias ?died ?citizenship ?platform ?account ?rank ?accountEnd ?xUserId WHERE {",
        f"  VALUES ?person {{ {_values(people)} }}",
        "  {",
        f"    ?person rdfs:label ?name . FILTER(LANG(?name) IN ({language_list}))",
        "  } UNION {",
        f"    ?person skos:altLabel ?alias . FILTER(LANG(?alias) IN ({language_list}))",
        "  } UNION {",
        "    ?person wdt:P570 ?died .",
        "  } UNION {",
        "    ?person wdt:P27/wdt:P297 ?citizenship .",
        "  } UNION {",
        f"    VALUES (?platform ?property) {{ {accounts} }}",
        "    ?property wikibase:claim ?claim ; wikibase:statementProperty ?statementValue .",
        "    ?person ?claim ?statement .",
        "    ?statement ?statementValue ?account ; wikibase:rank ?rank .",
        "    OPTIONAL { ?statement pq:P582 ?accountEnd . }",
        f"    OPTIONAL {{ ?statement pq:{X_NUMERIC_ID} ?xUserId . }}",
        "  }",
        _label_service(languages),
        "}",
    ]) + "\n"
