"""Never a silent zero: an input that gave no post says so.

After an import (or an article source of a scrape) has been stored, these
checks look at what came of it. An input that yielded nothing at all (no
post, no parse error) is recorded as a parse error that says what the
input looked like and what the reader expected, with the input's first
bytes as its raw payload; an input whose every record failed already has
its parse errors. Either way an import of it has failed (the command says
why on its summary line, and ``reactions import`` exits non-zero when every
input failed); a scrape's article source notes it as an anomaly.

Called from :mod:`scraper.scrape` (one line after each store).
"""

from __future__ import annotations

from .shapes import describe_location, describe_text, expected
from .sources import Unparsed


def check_import(archive, run_id: int, result, format_name: str, location: str) -> None:
    """After ``reactions import FORMAT LOCATION`` stored what it read."""
    if result.status == "failed" or _posts(result) > 0:
        return
    if result.stats.items == 0:
        try:
            described, kept = describe_location(location)
        except OSError as exc:
            described, kept = f"an input that cannot be read again ({exc.strerror or exc})", ""
        reason = f"nothing read: {described}; expected {expected(format_name)}"
        _record(archive, run_id, result, reason, location, kept)
    else:
        reason = _all_failed(archive, run_id, result)
    result.status, result.error = "failed", f"{location}: {reason}"


def check_article(archive, run_id: int, result, article, reactions_found: int, config_loaded: bool,
                  importing: bool) -> None:
    """After an article's embeds were stored and its reported reactions looked for."""
    if _posts(result) > 0 or reactions_found:
        return
    if result.stats.items == 0:
        looked = "no reported reaction" if config_loaded else "no config loaded to find reported reactions in"
        reason = f"nothing read: {_article_shape(article)}, with no embedded post, no plain-text rendering of one and {looked}"
        _record(archive, run_id, result, reason, article.location, article.page.body)
    else:
        reason = _all_failed(archive, run_id, result)
    if importing:
        result.status, result.error = "failed", f"{article.location}: {reason}"
    else:
        result.anomalies.append(reason)


def _posts(result) -> int:
    return result.stats.items - result.stats.parse_errors


def _all_failed(archive, run_id: int, result) -> str:
    """Every record failed: how many, and why the first did (which is the
    whole story when the reader described the input in one error)."""
    errors = result.stats.parse_errors
    # The stream's own first reason: an input imported again records no error
    # twice (they are still unresolved from the first time), so this run's
    # rows may hold none.
    reason = getattr(result.stats, "first_error", None)
    if reason is None:
        first = archive.db.execute(
            "SELECT reason FROM parse_errors WHERE run_id = ? AND source_id = ? ORDER BY id LIMIT 1",
            [run_id, result.source_id],
        ).fetchone()
        reason = first[0] if first else None
    said = f": {reason}" if reason else ""
    if errors == 1:
        return f"no post read, 1 parse error{said}"
    return f"no post read, {errors} parse errors (see parse_errors), the first{said}"


def _record(archive, run_id: int, result, reason: str, location: str, payload: str) -> None:
    stored = archive.store([Unparsed(reason, location, payload, result.source_id)], run_id)
    result.stats.parse_errors += stored.parse_errors


def _article_shape(article) -> str:
    if article.is_html:
        kind = "a Markdown article" if getattr(article, "markdown", False) else describe_text(article.page.body)
    else:
        kind = "a text article"
    paragraphs = len(article.paragraphs)
    return f"{kind} ({paragraphs} paragraph{'s' if paragraphs != 1 else ''})"
