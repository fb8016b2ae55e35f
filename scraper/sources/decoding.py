"""The one path from input bytes to items, for every reader: what cannot be
read becomes a recorded parse error, and the rest of the input goes on.

* Files are opened with ``errors="surrogateescape"`` (:mod:`.filestream`):
  decoding never raises, and a byte that is not UTF-8 travels as a lone
  surrogate, from which the exact byte is recovered.
* Each element (a line, an array element, a whole-file document) is
  checked before it is parsed (:func:`unreadable`): undecodable bytes or
  more than ``limits.max_element_bytes`` make it an :class:`Unparsed` whose
  payload keeps the element's first ``limits.kept_error_bytes``, with each
  undecodable byte written ``\\xNN``.
* :func:`read_element` runs a reader on one element and turns what it
  raises on hostile input (JSON nested too deeply, a value it did not
  expect) into an Unparsed for that element alone.
* :class:`ItemGate` is the last check on a whole stream, between any reader
  or platform adapter and the archive: an item whose payload still holds
  undecodable bytes becomes an Unparsed, an Unparsed payload is made
  storable, and an exception that escapes a reader ends the stream with a
  recorded error (``error``), the items before it kept.

Nothing here knows a format; docs/reliability.md lists the limits.
"""

from __future__ import annotations

import json
import re
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import orjson

from ..errors import InputError, ParseFailure, SourceError
from ..limits import current as current_limits
from ..model import RawItem
from . import Unparsed

_SURROGATE = re.compile("[\ud800-\udfff]")

# What a reader may raise on hostile input, for one element: JSON nested
# deeper than the parser or a re-serialisation can go (RecursionError), a
# value of an unexpected shape (ValueError, TypeError, KeyError...).
ELEMENT_ERRORS = (RecursionError, ValueError, TypeError, KeyError, AttributeError, IndexError, UnicodeError,
                  ArithmeticError)


class Oversize(str):
    """The first characters of an element too large to read, standing for
    it; ``size`` is the element's whole length in characters. (A str, so it
    travels wherever a line does, to worker processes too.)"""

    size: int

    def __new__(cls, kept: str, size: int) -> "Oversize":
        value = super().__new__(cls, kept)
        value.size = size
        return value

    def __reduce__(self):
        return (Oversize, (str(self), self.size))


def has_bad_bytes(text: str) -> bool:
    """Does ``text`` hold a surrogate code point (an undecodable byte kept
    as one, see the module docstring), which UTF-8 cannot encode?"""
    if text.isascii():
        return False
    try:
        # Text whose characters all fit in one byte (accented Latin letters,
        # no emoji) holds no surrogate, and Python encodes such a string to
        # Latin-1 by copying it: 5 us for a page of 100 posts, against 50 to
        # 240 for the UTF-8 encoding below. Other text stops at its first
        # character past U+00FF (at worst, one that ends the page: the
        # check then costs twice as much).
        text.encode("latin-1")
        return False
    except UnicodeEncodeError:
        pass
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def storable(text: str, limit: int | None = None) -> str:
    """``text`` as the archive can keep it: each undecodable byte written
    ``\\xNN``, cut to ``limit`` characters (default: limits.kept_error_bytes)."""
    limit = current_limits().kept_error_bytes if limit is None else limit
    text = str(text)[:limit]
    if has_bad_bytes(text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        # (a lone surrogate that came from no byte, as JSON's "\ud800", is written \udXXX)
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def bad_bytes_reason(text: str) -> str:
    match = _SURROGATE.search(text)
    position = match.start() if match else 0
    value = ord(match.group()) if match else 0
    byte = f"byte 0x{value - 0xDC00:02x}" if 0xDC80 <= value <= 0xDCFF else f"code point U+{value:04X}"
    return f"not UTF-8: undecodable {byte} at character {position:,} (kept with each such byte written \\xNN)"


def unreadable(text: str, location: str, source_id: str) -> Unparsed | None:
    """The element as a parse error if it cannot be read at all: larger than
    limits.max_element_bytes (an :class:`Oversize`, or a text past the limit),
    or holding undecodable bytes. None when it can be parsed."""
    limits = current_limits()
    if isinstance(text, Oversize) or len(text) > limits.max_element_bytes:
        size = text.size if isinstance(text, Oversize) else len(text)
        kept = min(len(text), limits.kept_error_bytes)
        return Unparsed(
            f"element of {size:,} characters, above limits.max_element_bytes ({limits.max_element_bytes:,}); "
            f"its first {kept:,} kept",
            location, storable(text), source_id,
        )
    if has_bad_bytes(text):
        return Unparsed(bad_bytes_reason(text), location, storable(text), source_id)
    return None


def loads(text: str, fast: bool = False):
    """JSON from one element's text, with the standard library (integers
    exact at any size) or, ``fast``, as :func:`scraper.jsonio.loads` reads it
    (orjson first). What is not text raises JSONDecodeError like any other
    bad JSON: undecodable bytes, lone surrogates written as escapes
    (``"\\ud800"``), nesting too deep for the parser."""
    if fast:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # orjson refuses all three; the reason comes from below
    if has_bad_bytes(text):
        raise json.JSONDecodeError(bad_bytes_reason(text), "", 0)
    try:
        value = json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply to read", "", 0) from None
    if "\\ud" in text or "\\uD" in text:  # an escaped surrogate: keep only pairs (JSON writes \u, never \U)
        try:
            again = json.dumps(value, ensure_ascii=False)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply to read", "", 0) from None
        if has_bad_bytes(again):
            raise json.JSONDecodeError("a string holds a lone surrogate (\\udXXX), which is not text", "", 0)
    return value


def read_element(text: str, source_id: str, location: str,
                 read: Callable[[str, str, str], Iterable[RawItem | Unparsed]]) -> list[RawItem | Unparsed]:
    """``read(text, source_id, location)``'s items for one element, or one
    Unparsed for the element if it cannot be read or its reader fails on it."""
    bad = unreadable(text, location, source_id)
    if bad is not None:
        return [bad]
    try:
        return list(read(text, source_id, location))
    except ParseFailure as exc:
        return [Unparsed(str(exc), location, storable(text), source_id)]
    except ELEMENT_ERRORS as exc:
        return [Unparsed(element_error(exc), location, storable(text), source_id)]


def element_error(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    return f"unreadable ({type(exc).__name__}: {str(exc)[:300]})"


def looks_like_jsonl(lines: Iterable[str], probe: int = 50) -> bool:
    """Is a text that is not one JSON value a JSONL file? Yes if one of its
    first ``probe`` non-blank lines is a JSON object on its own: then one bad
    line (even the first) never makes the whole file one error. (A
    pretty-printed object cut short has no such line.)"""
    seen = 0
    for line in lines:
        if not line.strip():
            continue
        seen += 1
        if seen > probe:
            return False
        try:
            if isinstance(loads(line), dict):
                return True
        except json.JSONDecodeError:
            continue
    return False


def read_whole(path: str | Path) -> str:
    """A whole-file format's text: every byte kept (undecodable ones as lone
    surrogates, see :func:`unreadable`), refused past limits.max_element_bytes.
    (Opened as filestream.open_text opens a file, which imports this module.)"""
    limit = current_limits().max_element_bytes
    try:
        size = Path(path).stat().st_size
        if size > limit:
            raise InputError(
                f"{path}: {size:,} bytes, above limits.max_element_bytes ({limit:,}) for a file read whole; "
                "split it, or raise the limit in the config"
            )
        with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
            return stream.read()
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file of this format") from None
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None


def too_large(path: str | Path) -> bool:
    try:
        return Path(path).stat().st_size > current_limits().max_element_bytes
    except OSError:
        return False


# --- the last check before the archive -----------------------------------------------


class ItemGate:
    """Wraps a stream of items on its way to the archive (see the module
    docstring). ``error`` tells afterwards why the stream ended early."""

    # What may escape a reader on hostile input (a damaged zip or tar.gz
    # included); anything else is a bug and propagates.
    STOPPERS = (SourceError, ParseFailure, *ELEMENT_ERRORS, OSError, EOFError, zipfile.BadZipFile,
                tarfile.TarError, zlib.error)

    def __init__(self, stream: Iterable, source_id: str, location: str, label: str | None = None):
        self.stream = stream
        self.source_id = source_id
        self.location = location
        self.label = label
        self.error: str | None = None
        # The items of a page come one after another: each page is looked at once.
        self._page = None  # the last FetchedPage made storable
        self._raw_page = None  # the last RawPage looked at ...
        self._raw_page_bad = False  # ... and whether its text holds undecodable bytes

    def __iter__(self) -> Iterator:
        try:
            for entry in self.stream:
                yield self.check(entry)
        except self.STOPPERS as exc:
            self.error = self._describe(exc)
            if not isinstance(exc, (SourceError, ParseFailure)):  # (those two are a source's own answer)
                yield Unparsed(f"reading stopped: {self.error}", self.location, "", self.source_id)

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, (SourceError, ParseFailure)):
            text = str(exc)
        elif isinstance(exc, OSError):
            text = f"{self.location}: cannot read ({exc.strerror or exc})"
        else:
            text = f"{self.location}: {element_error(exc)}"
        return f"{self.label}: {text}" if self.label else text

    def check(self, entry):
        """One entry on its way to the preparing step. (Worker processes
        run the same check on the items they read: scraper.parallel.)"""
        if isinstance(entry, Unparsed):
            entry.payload = storable(entry.payload or "")
            entry.reason = storable(entry.reason, 4000)
            return entry
        if not isinstance(entry, RawItem):
            return entry  # read and prepared by a worker process, which checked it
        item = entry
        # Provenance a file gave (twarc's __twarc.url, retrieved_at) is kept
        # only as text; the raw payload keeps whatever it was.
        if item.fetched_url is not None and not isinstance(item.fetched_url, str):
            item.fetched_url = None
        if item.retrieved_at is not None and not isinstance(item.retrieved_at, str):
            item.retrieved_at = None
        page = item.page
        if page is not None and page is not self._page:
            # A response or saved page kept as provenance: stored readable.
            self._page = page
            if has_bad_bytes(page.body):
                page.body = storable(page.body, len(page.body))
        payload = item.payload
        if payload is None:
            raw_page = item.raw_page
            if raw_page is None:
                return entry
            if raw_page is not self._raw_page:
                self._raw_page, self._raw_page_bad = raw_page, has_bad_bytes(raw_page.text)
            if not self._raw_page_bad:
                return entry
            payload = raw_page.text
        elif not has_bad_bytes(payload):
            return entry
        return Unparsed(bad_bytes_reason(payload), item.location, storable(payload), item.source_id,
                        item.fetched_url, item.page)
