"""What kind of reaction a post is: an explainable classifier.

Types (TYPES): ``congratulation`` (of a winner or candidate), ``recognition``
(of the result or of the vote, without congratulating a person),
``call_for_calm`` (calm, patience, respect for institutions, waiting for the
official result), ``irregularities`` (concern about or allegation of
irregularities), ``rejection`` (rejection or non-recognition of the result)
and ``other`` (the post mentions the election and none of the above).

How it decides, sentence by sentence, on words with case and accents folded
(scraper/normalise.fold):

1. The lexicons (scraper/data/reaction_lexicon.yml, Spanish, Portuguese,
   English and French) are matched; every match is a piece of evidence for
   a type, weighing 1 (strong) or 0.5 (weak).
2. A match with a negation word in the three words before it ("no
   reconocemos", "there was no fraud"), or in French a ``pas`` just after
   its verb, is negated: it becomes evidence for another type (a negated
   recognition is a rejection; a negated allegation of fraud weak evidence
   of recognition) or is dropped.
3. A congratulation put off ("once", "not yet", "too early" in its
   sentence) in a post that names an official step ("the official result",
   "proclaimed", "certified") is a call to wait, i.e. a call for calm: "we
   will congratulate the winner once the result is official".
4. A congratulation whose sentence names no person (a candidate, a
   president-elect, the winner, an @account) and whose first words after
   it are the people, the country or the vote ("congratulate the people of
   Peru on a peaceful vote") is recognition of the vote.
5. The type with the highest weight wins; ties go to the more consequential
   type (rejection, irregularities, congratulation, recognition, call for
   calm). Confidence grows with the winner's weight and shrinks with the
   weight of competing types (see :func:`_confidence`).

Everything here is pure: text in, :class:`Classification` out. The
evidence (which words matched, as which type, negated or not) comes with
every result, so a reader can check any classification.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

from . import jsonio
from .normalise import fold

TYPES = ("congratulation", "recognition", "call_for_calm", "irregularities", "rejection", "other")
# Which type wins a tie, most consequential first.
PRIORITY = ("rejection", "irregularities", "congratulation", "recognition", "call_for_calm")
LANGUAGES = ("es", "pt", "en", "fr")
# Raise when the rules below change what they decide (the lexicon has its own version).
RULES_VERSION = 1
_TYPE_KINDS = frozenset(TYPES)
LEXICON_PATH = Path(__file__).resolve().parent / "data" / "reaction_lexicon.yml"
STRONG, WEAK = 1.0, 0.5
NEGATION_WINDOW = 3  # words before a match that can negate it
OBJECT_WINDOW = 2  # content words after a congratulation that say whom it addresses
MAX_GAP = 4  # words a "~" in a pattern may skip

_SENTENCE_END = re.compile(r"[.!?;:\n\u2026\u3002]+")
_WORD = re.compile(r"\w+")
_NOT = re.compile(r"n['\u2019]t\b", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w")


@dataclass(frozen=True)
class Classification:
    reaction_type: str
    confidence: float
    evidence: tuple[str, ...]  # "type: matched words", in the order found
    scores: tuple[tuple[str, float], ...] = ()  # weight per type that had evidence

    def as_dict(self) -> dict:
        return {
            "reaction_type": self.reaction_type,
            "confidence": self.confidence,
            "evidence": list(self.evidence),
            "scores": dict(self.scores),
        }


# --- patterns -----------------------------------------------------------------


@dataclass(frozen=True)
class _Pattern:
    """Words to match: each a set of exact words and of prefixes; None is a gap."""

    kind: str  # a type, or "person" / "people" for addressees
    weight: float
    steps: tuple  # tuple of (frozenset exact, tuple prefixes, prefix regex or None) or None for "~"
    source: str  # the entry as written in the lexicon


def _compile(entry: str, kind: str, weight: float) -> _Pattern:
    if not isinstance(entry, str):  # YAML reads a bare no, on or yes as a boolean
        raise ValueError(f"lexicon entry {entry!r} is not text: quote it")
    steps = []
    for word in fold(str(entry)).split():
        if word == "~":
            steps.append(None)
            continue
        exact, prefixes = set(), []
        for alternative in word.split("|"):
            if alternative.endswith("*"):
                prefixes.append(alternative[:-1])
            else:
                exact.add(alternative)
        prefix_rx = re.compile("|".join(re.escape(prefix) for prefix in prefixes)) if prefixes else None
        steps.append((frozenset(exact), tuple(prefixes), prefix_rx))
    if not steps or steps[0] is None or steps[-1] is None:
        raise ValueError(f"lexicon entry {entry!r}: a pattern must start and end with a word")
    return _Pattern(kind, weight, tuple(steps), str(entry))


def _word_matches(step, word: str) -> bool:
    exact, _, prefix_rx = step
    return word in exact or (prefix_rx is not None and prefix_rx.match(word) is not None)


class _PatternIndex:
    """Patterns looked up by their first word: exact words in a dict, prefixes
    by length, so a sentence costs a few dict lookups per word."""

    CACHE_SIZE = 50_000  # words whose candidate patterns are remembered

    def __init__(self, patterns: Iterable[_Pattern]):
        self.exact: dict[str, list[_Pattern]] = {}
        self.prefixes: dict[int, dict[str, list[_Pattern]]] = {}
        self._candidates: dict[str, tuple[_Pattern, ...]] = {}
        for pattern in patterns:
            exact, prefixes, _ = pattern.steps[0]
            for word in exact:
                self.exact.setdefault(word, []).append(pattern)
            for prefix in prefixes:
                self.prefixes.setdefault(len(prefix), {}).setdefault(prefix, []).append(pattern)

    def matches(self, words: list[str]) -> list[tuple[_Pattern, int, int]]:
        """(pattern, first word, last word + 1) of every match."""
        found = []
        for start, word in enumerate(words):
            candidates = self._candidates.get(word)
            if candidates is None:
                candidates = self._candidates_of(word)
            if not candidates:
                continue
            for pattern in candidates:
                end = start + 1 if len(pattern.steps) == 1 else _match_from(pattern.steps, 1, words, start + 1)
                if end is not None:
                    found.append((pattern, start, end))
        return found

    def _candidates_of(self, word: str) -> tuple[_Pattern, ...]:
        """Patterns whose first word this word can be (words repeat: remembered)."""
        candidates = list(self.exact.get(word, ()))
        for length, by_prefix in self.prefixes.items():
            if len(word) >= length:
                candidates.extend(by_prefix.get(word[:length], ()))
        if len(self._candidates) >= self.CACHE_SIZE:
            self._candidates.clear()
        self._candidates[word] = found = tuple(candidates)
        return found


def _match_from(steps: tuple, index: int, words: list[str], position: int) -> int | None:
    """Where a match of steps[index:] starting at ``position`` ends, or None."""
    count = len(words)
    while index < len(steps):
        step = steps[index]
        if step is None:  # a gap of up to MAX_GAP words before the next step
            following = steps[index + 1]
            for at in range(position, min(count, position + MAX_GAP + 1)):
                if _word_matches(following, words[at]):
                    end = _match_from(steps, index + 2, words, at + 1)
                    if end is not None:
                        return end
            return None
        if position >= count or not _word_matches(step, words[position]):
            return None
        index += 1
        position += 1
    return position


# --- the lexicon ----------------------------------------------------------------


@dataclass(frozen=True)
class Lexicon:
    version: str
    patterns: tuple[_Pattern, ...]  # types, addressees (person, people), deferral cues and official steps
    types: _PatternIndex
    addressees: _PatternIndex
    function_words: frozenset[str]
    negation_before: frozenset[str]
    negation_after: frozenset[str]
    negation_except: dict
    deferral_cues: _PatternIndex
    deferral_steps: _PatternIndex
    negated: dict
    fingerprint: str


@lru_cache(maxsize=4)
def load_lexicon(path: str | Path = LEXICON_PATH) -> Lexicon:
    """The lexicons, compiled once per file."""
    text = Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    patterns = []
    for kind, weights in data["types"].items():
        if kind not in TYPES:
            raise ValueError(f"{path}: unknown reaction type {kind!r}")
        for strength, weight in (("strong", STRONG), ("weak", WEAK)):
            for language, entries in (weights.get(strength) or {}).items():
                patterns.extend(_compile(entry, kind, weight) for entry in entries)
    addressees = [
        _compile(entry, kind, STRONG)
        for kind, per_language in data["addressees"].items()
        for entries in per_language.values()
        for entry in entries
    ]
    negation = data["negation"]
    deferral = data["deferral"]
    cues = [_compile(e, "deferral", STRONG) for e in deferral["cues"]]
    steps = [_compile(e, "step", STRONG) for e in deferral["steps"]]
    return Lexicon(
        version=str(data["version"]),
        patterns=tuple(patterns + addressees + cues + steps),
        types=_PatternIndex(patterns),
        addressees=_PatternIndex(addressees),
        function_words=_words(data["function_words"]),
        negation_before=_words(negation["before"]),
        negation_after=_words(negation["after"]),
        negation_except={lang: _words(words) for lang, words in (negation.get("except") or {}).items()},
        deferral_cues=_PatternIndex(cues),
        deferral_steps=_PatternIndex(steps),
        negated=dict(data["negated"]),
        fingerprint=hashlib.sha256(text.encode("utf-8")).hexdigest()[:12],
    )


def _words(listed: list) -> frozenset[str]:
    for word in listed:
        if not isinstance(word, str):
            raise ValueError(f"lexicon word {word!r} is not text: quote it")
    return frozenset(fold(word) for word in listed)


# --- classifying ------------------------------------------------------------------


class Classifier:
    """A classifier for one election: its candidates' names count as persons
    a congratulation can address."""

    def __init__(self, candidate_names: Iterable[str] = (), lexicon: Lexicon | None = None):
        self.lexicon = lexicon or load_lexicon()
        names = set()
        for name in candidate_names:
            names.update(_name_forms([name]))  # "Pedro Castillo", and "Castillo"
        self.candidate_names = sorted(names)
        # One pass over each sentence finds everything: the lexicon's
        # patterns and the candidates' names.
        self._index = _PatternIndex(
            [*self.lexicon.patterns, *(_compile(name, "person", STRONG) for name in self.candidate_names)]
        )

    @cached_property
    def version(self) -> str:
        """Names the lexicon and the candidates: a change of either calls for
        classifying again."""
        names = hashlib.sha256(json.dumps(self.candidate_names).encode("utf-8")).hexdigest()[:8]
        return f"rules-{RULES_VERSION}.{self.lexicon.version}-{self.lexicon.fingerprint}-{names}"

    def classify(self, text: str | None, language: str | None = None) -> Classification:
        scores: dict[str, float] = {}
        evidence: list[str] = []
        dropped = False
        sentences = [(words, self._index.matches(words)) for words in _sentences(text or "")]
        # An official step named anywhere in the post ("...; we await the official count").
        official_step = any(pattern.kind == "step" for _, found in sentences for pattern, _, _ in found)
        for words, found in sentences:
            for kind, weight, note in self._sentence_evidence(words, found, (language or "").lower()[:2], official_step):
                if kind is None:
                    dropped = True
                else:
                    scores[kind] = scores.get(kind, 0.0) + weight
                evidence.append(note)
        if not scores:
            return Classification("other", 0.5 if dropped else 0.6, tuple(evidence))
        winner = max(scores, key=lambda kind: (scores[kind], -PRIORITY.index(kind)))
        ordered = tuple(sorted(scores.items(), key=lambda item: PRIORITY.index(item[0])))
        return Classification(winner, _confidence(winner, scores), tuple(evidence), ordered)

    def _sentence_evidence(self, words: list[str], found: list, language: str, official_step: bool):
        """(type or None when dropped, weight, evidence note) for each match."""
        lexicon = self.lexicon
        matches = [match for match in found if match[0].kind in _TYPE_KINDS]
        if not matches:
            return
        # A longer match inside the same words wins over a shorter one of the
        # same type ("mensajes de felicitacion" and "felicitacion" once).
        matches = _without_nested(matches)
        persons: list[tuple[int, int]] = []
        people: set[int] = set()
        deferred = False
        if any(pattern.kind == "congratulation" for pattern, _, _ in matches):
            persons = [(start, end) for pattern, start, end in found if pattern.kind == "person"]
            people = {start for pattern, start, _ in found if pattern.kind == "people"}
            deferred = official_step and any(pattern.kind == "deferral" for pattern, _, _ in found)
        not_words = lexicon.negation_before - lexicon.negation_except.get(language, frozenset())
        for pattern, start, end in matches:
            matched = " ".join(words[start:end])
            kind, weight = pattern.kind, pattern.weight
            negated = _negated(words, start, not_words, lexicon.negation_after)
            if kind == "congratulation" and deferred:
                yield "call_for_calm", weight, f"call_for_calm: {matched} (a congratulation put off until an official step)"
                continue
            if negated:
                turned = lexicon.negated.get(kind)
                if turned is None:
                    yield None, 0.0, f"dropped: {matched} (negated {kind})"
                else:
                    weight = weight if turned == "rejection" else min(weight, WEAK)
                    yield turned, weight, f"{turned}: {matched} (negated {kind})"
                continue
            if kind == "congratulation":
                named = _persons_named(persons, words)
                if named:
                    yield kind, weight, f"congratulation: {matched} (addressed to: {named})"
                    continue
                if _addressed_to_people(words, end, people, lexicon.function_words):
                    yield "recognition", weight, f"recognition: {matched} (a congratulation of the people or the vote)"
                    continue
            yield kind, weight, f"{kind}: {matched}"


def _sentences(text: str) -> Iterable[list[str]]:
    """The folded words of each sentence; "n't" read as "not"."""
    text = _NOT.sub(" not", unicodedata.normalize("NFC", text))
    mention = _MENTION.search(text) is not None
    for sentence in _SENTENCE_END.split(fold(text)):
        words = _WORD.findall(sentence)
        if mention and _MENTION.search(sentence):
            words.append("@")  # an account named: a person addressed (see _persons_named)
        if words:
            yield words


def _without_nested(matches: list) -> list:
    kept = []
    for pattern, start, end in sorted(matches, key=lambda m: (m[1], -(m[2] - m[1]))):
        if any(p.kind == pattern.kind and s <= start and end <= e for p, s, e in kept):
            continue
        kept.append((pattern, start, end))
    return kept


def _negated(words: list[str], start: int, before: frozenset, after: frozenset) -> bool:
    if any(word in before for word in words[max(0, start - NEGATION_WINDOW):start]):
        return True
    return any(word in after for word in words[start + 1:start + 3])


def _persons_named(persons: list[tuple[int, int]], words: list[str]) -> str:
    named = [" ".join(words[s:e]) for s, e in persons]
    if words and words[-1] == "@":
        named.append("an @account")
    return ", ".join(dict.fromkeys(named))


def _addressed_to_people(words: list[str], end: int, people: set[int], function_words: frozenset) -> bool:
    """Are the first content words after a congratulation the people, the
    country or the vote?"""
    seen = 0
    for position in range(end, len(words)):
        if words[position] in function_words:
            continue
        if position in people:
            return True
        seen += 1
        if seen >= OBJECT_WINDOW:
            return False
    return False


def _confidence(winner: str, scores: dict[str, float]) -> float:
    """Strength of the winner's evidence (one strong match 0.75, two 0.95)
    times its share of all the evidence found."""
    strength = min(0.95, 0.5 + 0.25 * scores[winner])
    share = scores[winner] / sum(scores.values())
    return round(strength * share, 2)


# --- whom a post addresses --------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    id: str
    names: tuple[str, ...]  # name and aliases
    handles: tuple[str, ...] = ()  # account handles, without @


def addressed_candidates(text: str | None, mentions: Iterable[str], candidates: Iterable[Candidate]) -> list[str]:
    """Ids of the candidates a post names (name, alias or surname, whole
    words, case and accents folded) or tags (a mention of one of their
    accounts)."""
    folded = " " + " ".join(_WORD.findall(fold(text or ""))) + " "
    mentioned = {fold(m.lstrip("@")) for m in mentions if m}
    found = []
    for candidate in candidates:
        if any(f" {name} " in folded for name in _name_forms(candidate.names)) or (
            mentioned & {fold(h.lstrip("@")) for h in candidate.handles}
        ):
            found.append(candidate.id)
    return found


def _name_forms(names: Iterable[str]) -> list[str]:
    """A candidate's names as folded words, and the surname of the first
    ("castillo" for "Pedro Castillo") when it has four letters or more."""
    forms = []
    for index, name in enumerate(names):
        words = _WORD.findall(fold(name or ""))
        if words:
            forms.append(" ".join(words))
            if index == 0 and len(words) > 1 and len(words[-1]) >= 4:
                forms.append(words[-1])
    return forms


# --- one election's classes, as the archive stores them ---------------------------------


# (reaction_type, confidence, evidence as JSON, addressed candidates as JSON,
# classifier version): the columns of a post's ``reaction_classes`` row that
# the classifier decides.
PostClass = tuple[str, float, str, str, str]


@dataclass(frozen=True)
class ElectionClassifier:
    """What classifies the posts of one election: its candidates (names,
    aliases and handles, as the archive holds them) and the classifier made
    from their names and the lexicon.

    Built from the archive in the writing process
    (:func:`scraper.classify_store.election_classifier`) and handed with the
    relevance matchers to the preparing step, which may run in worker
    processes: it pickles as its id and candidates, and each process makes
    the classifier again from them (:func:`classifier_for` keeps one per
    process). Pure."""

    election_id: str
    candidates: tuple[Candidate, ...]

    def __post_init__(self):
        self.classifier  # made here, where the archive is read (a forked worker inherits it)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for candidate in self.candidates for name in candidate.names)

    @property
    def classifier(self) -> Classifier:
        return classifier_for(self.names)

    @property
    def version(self) -> str:
        return self.classifier.version

    def classify_post(self, text: str | None, mentions: str | None, language: str | None) -> PostClass:
        """A post's class from the values the archive stores for it: its
        text, its mentions (the ``mentions`` column, JSON) and its language.
        The same values give the same class wherever this runs."""
        classifier = self.classifier
        result = classifier.classify(text, language)
        addressed = addressed_candidates(text, json.loads(mentions or "[]"), self.candidates)
        return (result.reaction_type, result.confidence, jsonio.dumps(result.evidence), jsonio.dumps(addressed),
                classifier.version)


def classify(text: str | None, language: str | None = None, candidate_names: Iterable[str] = ()) -> Classification:
    """Classify one text (a post, or a report's sentence)."""
    return classifier_for(tuple(candidate_names)).classify(text, language)


@lru_cache(maxsize=16)
def classifier_for(candidate_names: tuple[str, ...]) -> Classifier:
    """One classifier per set of candidate names, kept: it remembers the
    patterns each word can start, which pays over many posts."""
    return Classifier(candidate_names)


__all__ = [
    "TYPES", "Candidate", "Classification", "Classifier", "ElectionClassifier", "PostClass", "addressed_candidates",
    "classifier_for", "classify", "load_lexicon",
]
