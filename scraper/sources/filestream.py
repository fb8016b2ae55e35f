"""Reading saved collections piece by piece, whatever their size.

The importers share three needs: the lines of a JSONL file with their
numbers, the elements of a JSON array that may be one line of a gigabyte
(a Mastodon ``outbox.json`` is written minified, an X archive's
``tweets.js`` is a JavaScript assignment around an array), and files
inside an export given as a folder, a ``.zip`` or a ``.tar.gz``.

Nothing here parses records: each function hands back the text of one
record and where it starts, so a bad record is reported with its line
number and the records after it are still read. Python's ``json`` keeps
integers exact at any size, so ids above 2**53 never pass through a float.

Whatever the input, memory and time stay bounded: text is decoded with
``surrogateescape`` (a byte that is not UTF-8 never stops the reading; see
:mod:`.decoding`, which makes the record holding it a parse error), and a
line or array element longer than ``limits.max_element_bytes`` is not
held: its first ``limits.kept_error_bytes`` come back as an
:class:`~.decoding.Oversize` and the rest is skipped.
"""

from __future__ import annotations

import io
import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from ..errors import SourceError
from ..limits import current as current_limits
from .decoding import Oversize

CHUNK_SIZE = 1 << 20

# Characters that matter to the structure; everything else is skipped fast.
_STRUCTURE = re.compile(r'["{}\[\],]')
# The inside of a string, as far as it goes in the buffer: stops before the
# closing quote, at the end of the buffer, or before a final lone backslash
# (whose escaped character is still to come).
# (Written as an unrolled loop: twenty times faster than an alternation.)
_STRING_BODY = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)


def open_text(path: str | Path) -> IO[str]:
    """A text file as UTF-8, a byte-order mark ignored, newlines kept as
    written, undecodable bytes kept as lone surrogates (never an error)."""
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")


def numbered_lines(stream: IO[str]) -> Iterator[tuple[int, str]]:
    """(line number, line) for the non-blank lines of a JSONL stream; a line
    longer than limits.max_element_bytes comes as an Oversize."""
    limits = current_limits()
    limit = limits.max_element_bytes
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith("\n"):
            size, kept = len(line), line[: limits.kept_error_bytes]
            while line and not line.endswith("\n"):  # the rest of the line, not held
                line = stream.readline(CHUNK_SIZE)
                size += len(line)
            yield number, Oversize(kept, size)
        elif not line.isspace():  # (strip() would copy a 90 KB line to find out)
            yield number, line


class JsonArrayItems:
    """The elements of a JSON array, one text at a time, with the line each
    starts on: the top-level array, or with ``key`` the array under that key
    of the top-level object (``orderedItems``). Text before the JSON (an X
    archive's ``window.YTD.tweets.part0 =``) is skipped.

    Splitting only tracks strings and brackets, so an element that is not
    valid JSON inside still comes out whole and fails alone when parsed.
    Each character is looked at once, however the chunks cut strings, and
    an element longer than limits.max_element_bytes comes as an Oversize
    (its first characters) without being held. ``found`` tells afterwards
    whether the array was there at all.
    """

    def __init__(self, stream: IO[str], key: str | None = None, chunk_size: int = CHUNK_SIZE):
        self.stream = stream
        self.key = key
        self.chunk_size = chunk_size
        self.found = False
        self.closed = False  # the array's closing bracket was reached

    def __iter__(self) -> Iterator[tuple[int, str]]:
        limits = current_limits()
        max_chars, kept_chars = limits.max_element_bytes, limits.kept_error_bytes
        buf, pos, eof = "", 0, False
        line, counted = 1, 0  # the line number of buf[counted]
        depth, target = 0, None  # target: the depth just inside the wanted array
        expect_key, last_key = False, None
        start = None  # where the current element starts in buf
        string_start = None  # where the open string's text starts in buf (None: no string open)
        skipped = 0  # characters of the current element dropped (it is over the limit)
        kept = ""  # its first characters
        element_line = 0
        while True:
            if string_start is not None:
                pos = _STRING_BODY.match(buf, pos).end()
                if pos < len(buf) and buf[pos] == '"':
                    pos += 1
                    if depth == 1 and target is None and expect_key:
                        last_key, expect_key = buf[string_start : pos - 1], False
                    string_start = None
                    continue
            else:
                match = _STRUCTURE.search(buf, pos)
                if match is not None:
                    char, pos = match.group(), match.end()
                    if char == '"':
                        end = _STRING_BODY.match(buf, pos).end()
                        if end < len(buf) and buf[end] == '"':  # closed here (the usual case)
                            if depth == 1 and target is None and expect_key:
                                last_key, expect_key = buf[pos:end], False
                            pos = end + 1
                        else:
                            string_start, pos = pos, end
                        continue
                    if depth == target and char in ",]":
                        if skipped:
                            yield element_line, Oversize(kept, skipped + match.start())
                            skipped, kept = 0, ""
                        elif buf[start : match.start()].strip():
                            line += buf.count("\n", counted, start)
                            counted = start
                            yield self._element(buf[start : match.start()], line)
                        if char == "]":
                            self.closed = True
                            return
                        start = pos
                        continue
                    if char in "{[":
                        if target is None and char == "[" and self._wanted(depth, last_key):
                            target, self.found, start = depth + 1, True, pos
                        elif depth == 0 and char == "{":
                            expect_key = True
                        depth += 1
                    elif char in "}]":
                        depth -= 1
                    elif depth == 1:  # a comma between the members of the top-level object
                        expect_key = True
                    continue
                pos = len(buf)
            # The buffer is used up (or ends inside a string): read on.
            if eof:
                break
            if start is not None and not skipped and pos - start > max_chars:
                # Too large to hold: keep its start, skip the rest.
                line += buf.count("\n", counted, start)
                counted = start
                element_line = self._element(buf[start : start + kept_chars], line)[0]
                kept = buf[start : start + kept_chars].lstrip()
                skipped, start = pos - start, pos
            elif skipped:
                skipped += pos - start
                start = pos
            keep = start if start is not None else pos
            if string_start is not None and start is None:
                # A key (or other string) outside the array: kept only while short.
                if pos - string_start <= max_chars:
                    keep = string_start
                else:
                    expect_key = False
            line += buf.count("\n", counted, keep)
            buf, pos, counted = buf[keep:], pos - keep, 0
            if string_start is not None:
                string_start = max(0, string_start - keep)
            if start is not None:
                start -= keep
            chunk = self.stream.read(self.chunk_size)
            eof = not chunk
            buf += chunk
        if skipped:  # the file ends inside an element too large to hold
            yield element_line, Oversize(kept, skipped + len(buf))
        elif start is not None and buf[start:].strip():  # the file ends inside an element
            line += buf.count("\n", counted, start)
            yield self._element(buf[start:], line)

    def _wanted(self, depth: int, last_key: str | None) -> bool:
        if self.key is None:
            return depth == 0
        return depth == 1 and last_key == self.key

    @staticmethod
    def _element(text: str, line: int) -> tuple[int, str]:
        """(line of the element's first character, its text without the
        blanks around it); ``text`` starts just after the separator."""
        stripped = text.lstrip()
        return line + text[: len(text) - len(stripped)].count("\n"), stripped.rstrip()


def json_array_items(stream: IO[str], key: str | None = None) -> Iterator[tuple[int, str]]:
    return iter(JsonArrayItems(stream, key))


class _FirstLine:
    """A stream's first line only, read in chunks (never held whole)."""

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self.done = False

    def read(self, size: int) -> str:
        if self.done:
            return ""
        text = self.stream.readline(size)
        self.done = not text or text.endswith(("\n", "\r"))
        return text


def array_on_first_line_only(path: str | Path) -> bool:
    """Does a file that starts with ``[`` hold a whole array on its first
    line and more after it? Then it is JSONL whose first record is a list,
    not one JSON array."""
    with open_text(path) as stream:
        items = JsonArrayItems(_FirstLine(stream))
        for _ in items:
            pass
        if not items.closed:
            return False
        return any(not line.isspace() for _number, line in numbered_lines(stream))


def first_char(path: str | Path) -> str:
    """The first non-blank character of a text file ('' if empty)."""
    with open_text(path) as stream:
        while True:
            chunk = stream.read(4096)
            if not chunk:
                return ""
            stripped = chunk.lstrip()
            if stripped:
                return stripped[0]


# --- exports: a folder, a zip or a tar.gz ------------------------------------------


class Bundle:
    """An export given as a folder, a ``.zip`` or a ``.tar.gz``: names of its
    files (POSIX paths) and a text stream for one of them."""

    # What a damaged or unsupported .zip or .tar.gz raises.
    DAMAGED = (zipfile.BadZipFile, tarfile.TarError, NotImplementedError, EOFError, zlib.error, OSError)

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        try:
            self._list()
        except FileNotFoundError:
            raise
        except self.DAMAGED as exc:
            raise SourceError(f"{self.path}: cannot be read as a folder, .zip or .tar.gz ({exc})") from None

    def _list(self) -> None:
        if self.path.is_dir():
            self._names = sorted(
                p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()
            )
        elif zipfile.is_zipfile(self.path):
            self._zip = zipfile.ZipFile(self.path)
            self._names = [n for n in self._zip.namelist() if not n.endswith("/")]
        elif tarfile.is_tarfile(self.path):
            self._tar = tarfile.open(self.path, "r:*")
            self._names = [m.name for m in self._tar.getmembers() if m.isfile()]
        else:
            self._names = [self.path.name]  # a single file given directly

    @property
    def names(self) -> list[str]:
        return self._names

    def find(self, pattern: re.Pattern) -> list[str]:
        return [name for name in self._names if pattern.search(name)]

    def where(self, name: str) -> str:
        """How a location names a file of the bundle: ``export.zip!data/tweets.js``."""
        if self._zip is not None or self._tar is not None:
            return f"{self.path}!{name}"
        if self.path.is_dir():
            return str(self.path / name)
        return str(self.path)

    @contextmanager
    def open(self, name: str) -> Iterator[IO[str]]:
        try:
            if self._zip is not None:
                raw = self._zip.open(name)
            elif self._tar is not None:
                raw = self._tar.extractfile(name)
            elif self.path.is_dir():
                raw = open(self.path / PurePosixPath(name), "rb")
            else:
                raw = open(self.path, "rb")
        except self.DAMAGED as exc:
            raise SourceError(f"{self.where(name)}: cannot be read ({exc})") from None
        with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="") as text:
            yield text

    def close(self) -> None:
        for archive in (self._zip, self._tar):
            if archive is not None:
                archive.close()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
