"""The reaction-type classifier: pure, explainable, four languages; its
evaluation set; and hypothesis for what no text may do to it."""

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.reaction_types import TYPES, Candidate, Classifier, addressed_candidates, classify, load_lexicon

CANDIDATES = ["Rosa Ficticia", "Marco Inventado"]
ROOT = Path(__file__).resolve().parent.parent


def kind(text, language=None):
    return Classifier(CANDIDATES).classify(text, language).reaction_type


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("Felicito a Rosa Ficticia por su triunfo.", "es", "congratulation"),
        ("Parabéns à presidenta eleita de Valdoria!", "pt", "congratulation"),
        ("Congratulations to President-elect Ficticia.", "en", "congratulation"),
        ("Toutes mes félicitations à la présidente élue.", "fr", "congratulation"),
        ("Reconocemos los resultados oficiales.", "es", "recognition"),
        ("Llamamos a la calma.", "es", "call_for_calm"),
        ("We are concerned by reports of irregularities in the count.", "en", "irregularities"),
        ("Esta elección fue robada.", "es", "rejection"),
        ("Hoy Valdoria vota.", "es", "other"),
    ],
)
def test_each_type_in_each_language(text, language, expected):
    assert kind(text, language) == expected


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("No reconocemos los resultados.", "es", "rejection"),
        ("Não reconhecemos o resultado.", "pt", "rejection"),
        ("We do not recognise the result.", "en", "rejection"),
        ("We don't recognise the result.", "en", "rejection"),
        ("Nous ne reconnaissons pas ce résultat.", "fr", "rejection"),
        ("No hubo fraude.", "es", "recognition"),
        ("There was no fraud.", "en", "recognition"),
        ("Il n'y a pas eu de fraude.", "fr", "recognition"),
    ],
)
def test_negation_turns_the_type(text, language, expected):
    assert kind(text, language) == expected


def test_portuguese_no_is_not_a_negation():
    # "no" is "in the": the allegation stands.
    assert kind("Denunciamos fraude no processo eleitoral.", "pt") == "irregularities"


def test_congratulating_the_people_is_not_congratulating_the_winner():
    people = Classifier(CANDIDATES).classify("We congratulate the people of Valdoria on a peaceful vote.", "en")
    winner = Classifier(CANDIDATES).classify("We congratulate President-elect Rosa Ficticia.", "en")
    assert people.reaction_type == "recognition"
    assert winner.reaction_type == "congratulation"
    assert any("people or the vote" in note for note in people.evidence)
    assert any("addressed to" in note and "rosa ficticia" in note for note in winner.evidence)


def test_people_and_winner_together_is_a_congratulation():
    text = "Felicitamos al pueblo valdoriano y a su presidenta electa Rosa Ficticia."
    assert kind(text, "es") == "congratulation"


def test_a_congratulation_put_off_is_a_call_to_wait():
    assert kind("We will congratulate the winner once the results are certified.", "en") == "call_for_calm"
    assert kind("It is too early to congratulate anyone; we await the official count.", "en") == "call_for_calm"
    # A congratulation is not put off by a step named in passing without a deferral cue.
    assert kind("Congratulations to Rosa Ficticia on the official result!", "en") == "congratulation"


@pytest.mark.parametrize(
    "text, language",
    [
        ("Wait for the official results before congratulating anyone.", "en"),
        ("We ask everyone to wait for the final count before they congratulate a winner.", "en"),
        ("Hay que esperar los resultados oficiales antes de felicitar a nadie.", "es"),
        ("Pedimos aguardar os resultados oficiais antes de felicitar qualquer candidato.", "pt"),
        ("É preciso esperar o resultado oficial antes de parabenizar alguém.", "pt"),
        ("Il faut attendre les résultats officiels avant de féliciter qui que ce soit.", "fr"),
        ("Attendons les résultats définitifs avant de féliciter un vainqueur.", "fr"),
    ],
)
def test_waiting_for_the_official_result_before_congratulating_is_a_call_to_wait(text, language):
    result = classify(text, language, CANDIDATES)
    assert result.reaction_type == "call_for_calm", result.evidence
    assert any("put off until an official step" in note for note in result.evidence)
    assert "congratulation" not in dict(result.scores)


@pytest.mark.parametrize(
    "text, language",
    [
        ("Congratulations to President-elect Rosa Ficticia, proclaimed before midnight by the electoral court.", "en"),
        ("Felicito a la presidenta electa Rosa Ficticia, proclamada antes de lo previsto.", "es"),
        ("Parabéns à presidenta eleita Rosa Ficticia pela vitória, confirmada pelos resultados oficiais.", "pt"),
        ("Je félicite Rosa Ficticia pour sa victoire, confirmée par les résultats officiels.", "fr"),
    ],
)
def test_before_alone_or_an_official_result_named_does_not_put_a_congratulation_off(text, language):
    assert kind(text, language) == "congratulation"


def test_evidence_and_confidence_explain_the_type():
    result = classify("Felicito a Rosa Ficticia. Denunciamos fraude.", "es", CANDIDATES)
    assert result.reaction_type == "irregularities"  # a tie goes to the more consequential type
    assert dict(result.scores) == {"irregularities": 1.0, "congratulation": 1.0}
    assert result.confidence < 0.5  # evidence for two types
    assert [note.split(":")[0] for note in result.evidence] == ["congratulation", "irregularities"]
    alone = classify("Felicito a Rosa Ficticia.", "es", CANDIDATES)
    assert alone.confidence > result.confidence
    assert classify("").reaction_type == "other" and classify(None).evidence == ()


def test_accents_and_case_are_folded():
    assert kind("FELICITACIONES A LA PRESIDENTA ELECTA", "es") == kind("felicitaciones a la presidenta electa", "es")
    assert kind("Félicitations", "fr") == kind("felicitations", "fr") == "congratulation"


def test_addressed_candidates_by_name_alias_surname_and_mention():
    candidates = [
        Candidate("rosa", ("Rosa Ficticia", "Rosa Ficticia Pérez"), ("rosa_ficticia",)),
        Candidate("marco", ("Marco Inventado",), ()),
    ]
    assert addressed_candidates("Felicito a ROSA FICTICIA PEREZ", [], candidates) == ["rosa"]
    assert addressed_candidates("Bravo, Ficticia!", [], candidates) == ["rosa"]
    assert addressed_candidates("Gracias", ["Rosa_Ficticia"], candidates) == ["rosa"]
    assert addressed_candidates("Marco Inventado y Rosa Ficticia", [], candidates) == ["rosa", "marco"]
    assert addressed_candidates("Inventados", [], candidates) == []


def test_the_classifier_version_follows_lexicon_and_candidates():
    assert Classifier(["A B"]).version != Classifier(["A C"]).version
    assert Classifier(["A B"]).version == Classifier(["A B"]).version


def test_lexicon_refuses_a_bare_yaml_boolean(tmp_path):
    text = (ROOT / "scraper" / "data" / "reaction_lexicon.yml").read_text(encoding="utf-8")
    broken = tmp_path / "lexicon.yml"
    broken.write_text(text.replace('before: ["no",', "before: [no,"), encoding="utf-8")
    with pytest.raises(ValueError, match="quote it"):
        load_lexicon(broken)


# --- the evaluation set ---------------------------------------------------------------


def _bench():
    spec = importlib.util.spec_from_file_location("bench_classifier", ROOT / "benchmarks" / "bench_classifier.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_evaluation_set_covers_every_type_in_every_language():
    candidates, parts = _bench().load_eval_set()
    posts = [post for part in parts.values() for post in part]
    for language in ("es", "pt", "en", "fr"):
        own = [post for post in posts if post["lang"] == language]
        assert len(own) >= 40, language
        assert {post["type"] for post in own} == set(TYPES), language
        assert any("negation" in post.get("tags", ()) for post in own), language
        assert any("hard" in post.get("tags", ()) for post in own), language
    assert all(post["type"] in TYPES for post in posts)


def test_precision_of_congratulation_and_rejection_stays_above_0_9():
    """A floor against regressions (the figures are in docs/analysis.md)."""
    bench = _bench()
    candidates, parts = bench.load_eval_set()
    classifier = Classifier(candidates)
    for part, posts in parts.items():
        gold = [post["type"] for post in posts]
        predicted = [classifier.classify(post["text"], post["lang"]).reaction_type for post in posts]
        table = bench.scores_table(gold, predicted)
        for kind_name in ("congratulation", "rejection"):
            assert table[kind_name][0] >= 0.9, (part, kind_name, table[kind_name])


def test_bench_runs(capsys):
    assert _bench().main(["--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "| congratulation |" in out and "held-out" in out


# --- what no text may do --------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=400),
    language=st.one_of(st.none(), st.sampled_from(["es", "pt", "en", "fr", "pt-BR", "", "zz"])),
    names=st.lists(st.text(max_size=30), max_size=3),
)
def test_any_text_gives_a_type_and_evidence(text, language, names):
    result = Classifier(names).classify(text, language)
    assert result.reaction_type in TYPES
    assert 0.0 <= result.confidence <= 1.0
    assert all(isinstance(note, str) for note in result.evidence)
    addressed_candidates(text, [text[:10]], [Candidate("c", tuple(names), tuple(names))])


_WORDS = st.sampled_from(
    "no not ne pas n't felicito congratulate félicitations parabéns fraude fraud calma calm reconocemos "
    "résultats results once cuando oficial official pueblo people @someone Rosa Ficticia ~ * | . ; ! \n"
    .split(" ")
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=60))
def test_word_salads_of_the_lexicon_never_break_it(words):
    result = classify(" ".join(words), "es", CANDIDATES)
    assert result.reaction_type in TYPES
    assert 0.0 <= result.confidence <= 1.0
