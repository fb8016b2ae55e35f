"""The SPARQL JSON results parser and the transforms, on answers in the
service's real shape (fictional items), and fuzzed with hypothesis: any
body gives rows or a SparqlFormatError, never another exception; any rows
give people whose roles make sense, never a crash."""

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.countries import is_country_code
from scraper.roster.sparql import QueryTimeout, SparqlFormatError, Term, parse_results, wikidata_time
from scraper.roster.transform import (
    Country,
    Office,
    build_people,
    transform_countries,
    transform_holders,
    transform_people,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "wikidata"
E = "http://www.wikidata.org/entity/"
XSD = "http://www.w3.org/2001/XMLSchema#"


def test_recorded_answers_parse_with_absent_optional_variables():
    result = parse_results((FIXTURES / "holders.json").read_text(encoding="utf-8"))
    assert result.vars[:3] == ("source", "office", "country")
    first = result.rows[0]
    assert first["person"] == Term("uri", E + "Q99990002")
    assert first["person"].qid == "Q99990002"
    assert first["personLabel"] == Term("literal", "Tomás Imaginario", lang="en")
    assert first["start"].datatype == XSD + "dateTime"
    assert "country" not in first  # an OPTIONAL that did not match is simply absent
    assert any("end" not in row for row in result.rows)


def test_one_row_per_combination_is_grouped_by_qid():
    people = transform_people(parse_results((FIXTURES / "people.json").read_text(encoding="utf-8")).rows)
    rosa = people["Q99990001"]
    assert rosa.label == "Rosa Ficticia"
    assert rosa.names["es"] == {"Rosa Ficticia Pérez"}
    assert {claim.value for claim in rosa.accounts if claim.platform == "x"} == {"rosa_ficticia", "rosa_old", "RosaCampaign"}
    assert people["Q99990006"].died == date(2012, 5, 1)
    assert people["Q99990007"].label is None  # the label service answered with the QID: no English label


def test_typed_literal_of_older_servers_and_boolean_answers():
    body = json.dumps({"head": {"vars": ["n"]}, "results": {"bindings": [
        {"n": {"type": "typed-literal", "datatype": XSD + "integer", "value": "11"}}]}})
    assert parse_results(body).rows[0]["n"] == Term("literal", "11", datatype=XSD + "integer")
    with pytest.raises(SparqlFormatError, match="ASK"):
        parse_results('{"head": {}, "boolean": true}')


@pytest.mark.parametrize("body,message", [
    ("<html>Service unavailable</html>", "not JSON"),
    ("[]", "expected a JSON object"),
    ('{"results": {"bindings": []}}', "head"),
    ('{"head": {"vars": ["a"]}}', "results"),
    ('{"head": {"vars": ["a"]}, "results": {"bindings": [{"b": {"type": "uri", "value": "x"}}]}}', "does not list"),
    ('{"head": {"vars": ["a"]}, "results": {"bindings": [{"a": {"type": "iri", "value": "x"}}]}}', "unknown term type"),
    ('{"head": {"vars": ["a"]}, "results": {"bindings": [{"a": {"type": "literal", "value": 3}}]}}', "must be text"),
])
def test_malformed_answers_say_what_is_wrong(body, message):
    with pytest.raises(SparqlFormatError, match=message):
        parse_results(body)


def test_an_answer_cut_off_by_a_timeout_is_a_timeout():
    body = ('{"head": {"vars": ["a"]}, "results": {"bindings": [{"a": {"type": "uri", "value": "'
            'SPARQL-QUERY: queryStr=SELECT ...\njava.util.concurrent.TimeoutException\n\tat java.util.concurrent.'
            'FutureTask.get(FutureTask.java:205)')
    with pytest.raises(QueryTimeout):
        parse_results(body)


@pytest.mark.parametrize("value,precision,expected", [
    ("2021-07-28T00:00:00Z", "11", (date(2021, 7, 28), 11)),
    ("2021-07-00T00:00:00Z", "10", (date(2021, 7, 1), 10)),
    ("2021-00-00T00:00:00Z", "9", (date(2021, 1, 1), 9)),
    ("+2021-07-28T00:00:00Z", "11", (date(2021, 7, 28), 11)),
    ("2020-01-01T00:00:00Z", "8", None),  # a decade: too coarse
    ("-0044-03-15T00:00:00Z", "11", None),  # BCE
    ("0000-01-01T00:00:00Z", "11", None),
    ("not a date", "11", None),
    ("2021-02-30T00:00:00Z", "11", None),
])
def test_wikidata_time(value, precision, expected):
    term = Term("literal", value, datatype=XSD + "dateTime")
    assert wikidata_time(term, Term("literal", precision, datatype=XSD + "integer")) == expected


# --- fuzzing --------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(st.text(max_size=300))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_any_text_parses_or_fails_cleanly(text):
    try:
        parse_results(text)
    except SparqlFormatError:
        pass


@given(json_values, st.lists(st.sampled_from(["head", "results", "vars", "bindings", "type", "value"]), max_size=3))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_any_json_parses_or_fails_cleanly(value, keys):
    document = {"head": {"vars": ["a", "b"]}, "results": {"bindings": [value]}}
    for key in keys:
        document = {key: document}
    for body in (json.dumps(value), json.dumps(document)):
        try:
            parse_results(body)
        except SparqlFormatError:
            pass


qids = st.integers(min_value=1, max_value=99999999).map(lambda n: f"Q{n}")
date_texts = st.one_of(
    st.dates(min_value=date(1, 1, 1)).map(lambda d: d.isoformat() + "T00:00:00Z"),
    st.text(max_size=25),
    st.from_regex(r"[+-]?\d{1,6}-\d{2}-\d{2}T00:00:00Z", fullmatch=True),
)


def literal(value, **extra):
    return {"type": "literal", "value": value, **extra}


@st.composite
def holder_rows(draw):
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        row = {"person": {"type": "uri", "value": E + draw(st.sampled_from(["Q1", "Q2", "Q3", draw(qids)]))}}
        source = draw(st.sampled_from(["P39", "P35", "P6", "P999", ""]))
        row["source"] = literal(source)
        if draw(st.booleans()):
            row["office"] = {"type": "uri", "value": E + draw(st.sampled_from(["Q10", "Q11", "Q12"]))}
        if draw(st.booleans()):
            row["country"] = {"type": "uri", "value": E + draw(st.sampled_from(["Q20", "Q21"]))}
        if draw(st.booleans()):
            row["personLabel"] = literal(draw(st.text(max_size=15)), **{"xml:lang": "en"})
        for name in ("start", "end"):
            if draw(st.booleans()):
                row[name] = literal(draw(date_texts), datatype=XSD + "dateTime")
                row[name + "Precision"] = literal(draw(st.sampled_from(["9", "10", "11", "7", "x"])))
        rows.append(row)
    return rows


@st.composite
def people_rows(draw):
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        row = {"person": {"type": "uri", "value": E + draw(st.sampled_from(["Q1", "Q2", "Q3"]))}}
        choice = draw(st.sampled_from(["name", "alias", "died", "citizenship", "account"]))
        if choice in ("name", "alias"):
            row[choice] = literal(draw(st.text(max_size=15)), **{"xml:lang": draw(st.sampled_from(["en", "es", "mul"]))})
        elif choice == "died":
            row["died"] = literal(draw(date_texts), datatype=XSD + "dateTime")
        elif choice == "citizenship":
            row["citizenship"] = literal(draw(st.sampled_from(["UY", "AR", "XX", "", "uy"])))
        else:
            row["platform"] = literal(draw(st.sampled_from(["x", "mastodon", "bluesky", "telegram", "youtube", "?"])))
            row["account"] = literal(draw(st.text(max_size=20)))
            row["rank"] = {"type": "uri", "value": "http://wikiba.se/ontology#" + draw(
                st.sampled_from(["PreferredRank", "NormalRank", "DeprecatedRank", "Other"]))}
            if draw(st.booleans()):
                row["accountEnd"] = literal(draw(date_texts), datatype=XSD + "dateTime")
            if draw(st.booleans()):
                row["xUserId"] = literal(draw(st.text(max_size=12)))
        rows.append(row)
    return rows


OFFICES = {
    "Q10": Office("Q10", "head_of_state", "President of Valdoria", "UY"),
    "Q11": Office("Q11", "foreign_minister", "Foreign minister of Valdoria", "UY"),
    "Q12": Office("Q12", "other", "Secretary General", None),
}
COUNTRIES = {
    "UY": Country("UY", ["Q20"], "Valdoria", [OFFICES["Q10"], OFFICES["Q11"]]),
    "AR": Country("AR", ["Q21"], "Ostravia", []),
}


@given(holder_rows(), people_rows(), st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 1, 1)))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_transforms_never_crash_and_give_sensible_roles(holders, people, since):
    document = {"head": {"vars": ["source", "office", "country", "person", "personLabel", "start", "startPrecision",
                                  "end", "endPrecision"]}, "results": {"bindings": holders}}
    rows = parse_results(json.dumps(document)).rows
    found = transform_holders(rows, OFFICES, COUNTRIES, since)
    document = {"head": {"vars": ["person", "name", "alias", "died", "citizenship", "platform", "account", "rank",
                                  "accountEnd", "xUserId"]}, "results": {"bindings": people}}
    details = transform_people(parse_results(json.dumps(document)).rows)
    built, notes = build_people(found, details, date(2026, 3, 1), ["en"])
    for person in built:
        assert person.roles and person.name and is_country_code(person.country)
        for role in person.roles:
            assert role.end is None or role.end >= role.start
            assert role.country is None or is_country_code(role.country)
        assert len({account.platform for account in person.accounts}) == len(person.accounts)
        for account in person.accounts:
            assert account.handle or account.platform_id
    assert all(isinstance(note, str) for note in notes)


def test_countries_transform_checks_codes_against_our_table():
    rows = parse_results((FIXTURES / "countries.json").read_text(encoding="utf-8")).rows
    countries, notes = transform_countries(rows, ("head_of_state", "head_of_government", "foreign_minister"))
    assert sorted(countries) == ["AR", "BR", "UY"]
    assert any("'XK'" in note for note in notes)
    valdoria = countries["UY"]
    assert valdoria.one_office_heads  # one office serves as head of state and of government
    assert [(o.kind, o.label) for o in valdoria.offices] == [
        ("foreign_minister", "Minister of Foreign Affairs of Valdoria"), ("head_of_state", "President of Valdoria")]
