"""Is a post about an election? Pure matching of a post against an
election's terms, candidates and capture window.

Terms are matched case- and accent-insensitively on word boundaries
("peru" matches "Perú" and "#Perú", not "Peruvian"... unless listed).
A post is relevant when it falls inside the capture window and matches at
least one term; the score weighs what matched: a candidate's account
mentioned (3), a candidate's name (2), an election hashtag (1.5), a keyword (1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .model import Post
from .normalise import fold
from .reaction_types import ElectionClassifier

WEIGHTS = {"candidate_account": 3.0, "candidate_name": 2.0, "hashtag": 1.5, "keyword": 1.0}


@dataclass
class ElectionMatcher:
    """One election's relevance terms; ``classifier``: its reaction-type
    classifier, which the preparing step runs on the posts this matches
    (None when the archive keeps no reaction types)."""

    election_id: str
    window_start: str | None
    window_end: str | None
    keywords: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    candidate_names: list[str] = field(default_factory=list)
    candidate_handles: list[str] = field(default_factory=list)
    classifier: ElectionClassifier | None = None

    def __post_init__(self):
        # One entry per folded form: "Perú" (es) and "Peru" (pt) are one term.
        terms: dict[str, tuple[str, str]] = {}
        for kind, listed in (("candidate_name", self.candidate_names), ("keyword", self.keywords)):
            for term in listed:
                terms.setdefault(fold(term), (kind, term))
        # One-word terms are looked up in the post's set of words; the others
        # (several words, hyphens) each get a word-bounded pattern.
        self._words = {folded: entry for folded, entry in terms.items() if _ONE_WORD.match(folded)}
        self._patterns = [
            (kind, term, folded, _word_pattern(term))
            for folded, (kind, term) in terms.items()
            if folded not in self._words
        ]
        self._hashtags: dict[str, str] = {}
        for tag in self.hashtags:
            self._hashtags.setdefault(fold(tag.lstrip("#")), tag.lstrip("#"))
        self._handles = {fold(handle.lstrip("@")): handle.lstrip("@") for handle in self.candidate_handles}

    def in_window(self, created_at: str | None) -> bool:
        if not created_at:
            return True  # undated posts are judged by their words alone
        day_precision = len(created_at) == 10
        start = (self.window_start or "")[: 10 if day_precision else None]
        end = (self.window_end or "9999")[: 10 if day_precision else None]
        return start <= created_at <= end

    def match(self, post: Post) -> tuple[list[str], float] | None:
        """(matched terms, score), or None when the post is not relevant."""
        if not self.in_window(post.created_at):
            return None
        matched: dict[str, str] = {}
        for mention in post.mentions:
            handle = self._handles.get(fold(mention.lstrip("@")))
            if handle:
                matched.setdefault("@" + handle, "candidate_account")
        for tag in post.hashtags:
            original = self._hashtags.get(fold(tag))
            if original:
                matched.setdefault("#" + original, "hashtag")
        folded = fold(post.text)
        for word in set(_WORD.findall(folded)) & self._words.keys():
            kind, term = self._words[word]
            matched.setdefault(term, kind)
        for kind, term, folded_term, pattern in self._patterns:
            if folded_term in folded and pattern.search(folded):  # substring test first: cheap
                matched.setdefault(term, kind)
        if not matched:
            return None
        score = sum(WEIGHTS[kind] for kind in matched.values())
        return sorted(matched, key=fold), round(score, 2)


_ONE_WORD = re.compile(r"^\w+$")
_WORD = re.compile(r"\w+")


def _word_pattern(term: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(fold(term)) + r"(?!\w)")
