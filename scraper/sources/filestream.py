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
"""

from __future__ import annotations

import io
import re
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

CHUNK_SIZE = 1 << 20

# Characters that matter to the structure; everything else is skipped fast.
_STRUCTURE = re.compile(r'["{}\[\],]')
# The rest of a string after its opening quote (escapes included).
_STRING_REST = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)


def open_text(path: str | Path) -> IO[str]:
    """A text file as UTF-8, a byte-order mark ignored, newlines kept as written."""
    return open(path, encoding="utf-8-sig", newline="")


def numbered_lines(stream: IO[str]) -> Iterator[tuple[int, str]]:
    """(line number, line) for the non-blank lines of a JSONL stream."""
    for number, line in enumerate(stream, start=1):
        if line and not line.isspace():  # (strip() would copy a 90 KB line to find out)
            yield number, line


class JsonArrayItems:
    """The elements of a JSON array, one text at a time, with the line each
    starts on: the top-level array, or with ``key`` the array under that key
    of the top-level object (``orderedItems``). Text before the JSON (an X
    archive's ``window.YTD.tweets.part0 =``) is skipped.

    Splitting only tracks strings and brackets, so an element that is not
    valid JSON inside still comes out whole and fails alone when parsed.
    ``found`` tells afterwards whether the array was there at all.
    """

    def __init__(self, stream: IO[str], key: str | None = None, chunk_size: int = CHUNK_SIZE):
        self.stream = stream
        self.key = key
        self.chunk_size = chunk_size
        self.found = False

    def __iter__(self) -> Iterator[tuple[int, str]]:
        buf, pos, eof = "", 0, False
        line, counted = 1, 0  # the line number of buf[counted]
        depth, target = 0, None  # target: the depth just inside the wanted array
        expect_key, last_key = False, None
        start = None  # where the current element starts in buf
        while True:
            match = _STRUCTURE.search(buf, pos)
            if match is None or (match.group() == '"' and _STRING_REST.match(buf, match.end()) is None):
                if eof:
                    break
                # Drop what is done with; keep the element or string under way.
                resume = match.start() if match else len(buf)
                keep = start if start is not None else resume
                line += buf.count("\n", counted, keep)
                buf, pos, counted = buf[keep:], resume - keep, 0
                if start is not None:
                    start = 0
                chunk = self.stream.read(self.chunk_size)
                eof = not chunk
                buf += chunk
                continue
            char, pos = match.group(), match.end()
            if char == '"':
                pos = _STRING_REST.match(buf, pos).end()
                if depth == 1 and target is None and expect_key:
                    last_key, expect_key = buf[match.end() : pos - 1], False
                continue
            if depth == target and char in ",]":
                if buf[start : match.start()].strip():
                    line += buf.count("\n", counted, start)
                    counted = start
                    yield self._element(buf[start : match.start()], line)
                if char == "]":
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
        if start is not None and buf[start:].strip():  # the file ends inside an element
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

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
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
        if self._zip is not None:
            raw = self._zip.open(name)
        elif self._tar is not None:
            raw = self._tar.extractfile(name)
        elif self.path.is_dir():
            raw = open(self.path / PurePosixPath(name), "rb")
        else:
            raw = open(self.path, "rb")
        with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
            yield text

    def close(self) -> None:
        for archive in (self._zip, self._tar):
            if archive is not None:
                archive.close()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
