"""Reading a large line-based collection (twarc2 or snscrape JSONL) in worker processes.

Reading a post (JSON parsing, normalisation, match hashes, relevance: see
:mod:`scraper.prepare`) needs no archive and costs about as much as storing
it, which SQLite does in one writing process. So for formats whose every
line stands alone, the main process cuts the file into chunks of whole
lines, by byte offsets, and hands the offsets out to worker processes,
which read their chunks from the file themselves (the lines never cross
between processes); their :class:`~scraper.model.ReadItem` results come
back in file order and are stored as they arrive, while the workers read
ahead. A bounded number of chunks is in flight, so memory does not grow
with the file.

Workers only read and compute; everything that touches the archive stays in
the main process, in the same order as a serial import, so the archive
ends up the same either way (tests check this).
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from . import formats, limits
from .errors import SourceError
from .model import PreparedPost, RawItem, ReadItem
from .prepare import read_items
from .relevance import ElectionMatcher
from .sources import Unparsed
from .sources.decoding import ItemGate
from .sources.filestream import numbered_lines

logger = logging.getLogger(__name__)

# A chunk is this many bytes, then to the end of its last line (a twarc2
# page is about 90 KB: a chunk is a few pages; flattened, about 500 posts).
CHUNK_BYTES = 1 << 19
# Chunks handed out and not yet stored. New chunks are handed out only while
# the archive takes items, not while it writes a batch (5000 items, about
# ten chunks): the workers need more than a batch's worth queued to keep
# working meanwhile. (About 10 MB of results at most.)
CHUNKS_IN_FLIGHT = 24
# The writing process stores about 20,000 posts/s at most (docs/performance.md):
# more than three workers would only wait.
MAX_DEFAULT_WORKERS = 3
# Seconds to wait for one chunk's results (a chunk takes well under one).
CHUNK_TIMEOUT = 300
# Below this size a file is read in this process: starting workers costs more.
MIN_PARALLEL_BYTES = 4 << 20


def worker_count(path: str | Path, requested: int | None) -> int:
    """How many worker processes to read ``path`` with; 0 reads it here.
    ``requested``: None picks (one per usable CPU up to three, none for a
    small file)."""
    if requested is not None:
        return max(0, requested)
    try:
        if Path(path).stat().st_size < MIN_PARALLEL_BYTES:
            return 0
    except OSError:
        return 0  # the serial reader reports it
    return min(MAX_DEFAULT_WORKERS, _usable_cpus())


def _usable_cpus() -> int:
    """CPUs this process may run on (taskset, a container's cpuset), not the
    machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def read_in_workers(
    path: str, format_name: str, source_id: str, matchers: list[ElectionMatcher], match_quotes: bool, workers: int
) -> Iterator[ReadItem | Unparsed]:
    """The items of a line-based file, read and prepared by ``workers``
    processes, in file order.

    A worker that dies (killed, out of memory) loses nothing: the chunks it
    and the others held are read again in this process, in order, and so
    is the rest of the file."""
    context = multiprocessing.get_context(_start_method())
    # (The limits in force go along: a spawned worker does not inherit them.)
    setup = (format_name, source_id, matchers, match_quotes, limits.current())
    in_flight: deque = deque()  # (chunk, future or None), in file order
    here: _Reader | None = None  # reads in this process once the pool is broken

    def results_in_order(keep: int) -> Iterator[ReadItem | Unparsed]:
        """The results of the chunks in flight, oldest first, until ``keep`` are left."""
        nonlocal here
        while len(in_flight) > keep:
            chunk, future = in_flight.popleft()
            results = None if here is not None or future is None else _results(future, path, source_id)
            if results is None:  # the pool broke: this chunk, and all after it, are read here
                here = here or _Reader(path, setup, in_flight)
                results = here.read(chunk)
            yield from results

    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(*setup, os.getpid())) as pool:
        for chunk in chunks_of(path):
            future = None
            if here is None:
                try:
                    future = pool.submit(_read_range, path, *chunk)
                except BrokenProcessPool:  # a worker died since the last chunk was handed out
                    pass
            in_flight.append((chunk, future))
            yield from results_in_order(CHUNKS_IN_FLIGHT - 1)
        yield from results_in_order(0)


def chunks_of(path: str) -> Iterator[tuple[int, int, int]]:
    """(number of its first line, byte offset, byte length) of each chunk of
    whole lines. Only line ends are looked for: nothing is decoded, and a
    line longer than a chunk is skipped through, not held. A chunk ends
    after a newline; lines are counted as the text reader splits them
    (newline, carriage return and newline, or a lone carriage return), so
    that a line has the same number as in a reading in one process."""
    with open(path, "rb") as stream:
        number, offset = 1, 0
        while True:
            block = stream.read(CHUNK_BYTES)
            if not block:
                return
            length, lines = len(block), _line_ends(block)
            while not block.endswith(b"\n"):  # to the end of the last line
                previous = block
                block = stream.readline(CHUNK_BYTES)
                if not block:
                    break
                length += len(block)
                lines += _line_ends(block) - (previous.endswith(b"\r") and block.startswith(b"\n"))
            yield number, offset, length
            number, offset = number + lines, offset + length


def _line_ends(block: bytes) -> int:
    lines = block.count(b"\n")
    returns = block.count(b"\r")
    return lines + returns - block.count(b"\r\n") if returns else lines


class _Reader:
    """Reads chunks in this process, as a worker would."""

    def __init__(self, path: str, setup: tuple, abandoned: deque):
        for _, future in abandoned:
            if future is not None:
                future.cancel()
        logger.warning("%s: a worker process died; reading the rest of the file in this process", path)
        self.path = path
        self.source_id = setup[1]
        _set_up(*setup)

    def read(self, chunk: tuple[int, int, int]) -> list[ReadItem | Unparsed]:
        return _as_read_items(_read_range(self.path, *chunk), self.source_id)


def _results(future, path: str, source_id: str) -> list | None:
    """A chunk's results; None when the pool broke (a worker died). A worker
    that hangs would keep the import waiting: after CHUNK_TIMEOUT the import
    fails with a clear error instead (what was stored stays)."""
    try:
        return _as_read_items(future.result(timeout=CHUNK_TIMEOUT), source_id)
    except BrokenProcessPool:
        return None
    except TimeoutError:
        raise SourceError(
            f"{path}: a worker process reading the file gave no answer in {CHUNK_TIMEOUT} s; "
            "run the import again, with --workers 0 to read in one process"
        ) from None


def _start_method() -> str:
    """fork is cheapest (nothing to import again), but forking a process that
    runs other threads (a progress display) can copy a held lock."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


# --- in the worker processes ------------------------------------------------

_worker: dict = {}


def _start_worker(format_name: str, source_id: str, matchers: list[ElectionMatcher], match_quotes: bool,
                  in_force: limits.Limits, importer: int) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the import in the main process, quietly here
    threading.Thread(target=_end_with, args=(importer,), daemon=True, name="end-with-importer").start()
    _set_up(format_name, source_id, matchers, match_quotes, in_force)


def _end_with(importer: int, every: float = 0.5) -> None:
    """A worker ends when the importing process does, however it ends: one
    killed with -9 (or by the kernel) cannot tell its workers, which would
    otherwise wait for work for ever (a forked worker holds the writing end
    of its own task queue, so it never sees the queue close)."""
    while os.getppid() == importer:
        time.sleep(every)
    os._exit(0)


def _set_up(format_name: str, source_id: str, matchers: list[ElectionMatcher], match_quotes: bool,
            in_force: limits.Limits) -> None:
    limits.apply(in_force)
    _worker.update(reader=formats.line_reader(format_name), source_id=source_id, matchers=matchers,
                   match_quotes=match_quotes)


# A chunk this large is read through a window on the file rather than whole:
# its last line is a long one (chunks_of runs to the end of a line).
WHOLE_CHUNK_BYTES = 4 * CHUNK_BYTES


def _read_range(path: str, first_line: int, offset: int, length: int) -> list:
    """The results of one chunk of the file (see chunks_of), read here,
    decoded as open_text decodes the whole file in one process (a
    byte-order mark at its start ignored, undecodable bytes kept as lone
    surrogates) and cut into lines by the same numbered_lines: a line too
    long (an Oversize) or not UTF-8 is the same parse error either way,
    and never held whole."""
    encoding = "utf-8-sig" if offset == 0 else "utf-8"
    with open(path, "rb") as stream:
        stream.seek(offset)
        if length <= WHOLE_CHUNK_BYTES:
            text = io.StringIO(stream.read(length).decode(encoding, errors="surrogateescape"), newline="")
        else:
            text = io.TextIOWrapper(io.BufferedReader(_Window(stream, length)), encoding=encoding,
                                    errors="surrogateescape", newline="")
        return _read_chunk(path, ((first_line - 1 + number, line) for number, line in numbered_lines(text)))


class _Window(io.RawIOBase):
    """``length`` bytes of an open file, from where it stands."""

    def __init__(self, stream, length: int):
        self.stream, self.left = stream, length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), self.left)
        if size <= 0:
            return 0
        data = self.stream.read(size)
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)


def _read_chunk(path: str, chunk: Iterator[tuple[int, str]]) -> list:
    reader, source_id, matchers, match_quotes = (
        _worker[k] for k in ("reader", "source_id", "matchers", "match_quotes"))
    gate = ItemGate((), source_id, path)  # the check a serial import's items pass (scraper.scrape._read_file)
    items = (gate.check(item) for number, line in chunk for item in reader(line, source_id, f"{path}:{number}"))
    results: list = []
    for read in read_items(items, matchers, match_quotes):
        if isinstance(read, Unparsed):
            results.append(read)
            continue
        item = read.item
        if read.failure is None and item.page is None:
            # What crosses is what storing needs: the item's place, the
            # post's values (its reaction types included), its raw payload
            # (a page's hash and compressed bytes once per page). As plain
            # tuples: unpickling a dataclass (the item, its page) runs Python
            # code per object, and the writing process pays for it (13.5 ->
            # 1 us a post, measured).
            place = (item.format, item.location, item.fetched_url, item.retrieved_at, item.pointer)
            results.append((place, astuple_prepared(read.prepared), read.raw))
        else:
            results.append(read)
    return results


def _as_read_items(results: list, source_id: str) -> list[ReadItem | Unparsed]:
    """A chunk's results as the archive takes them (see _read_chunk)."""
    items: list[ReadItem | Unparsed] = []
    for entry in results:
        if type(entry) is tuple:
            (format_name, location, fetched_url, retrieved_at, pointer), prepared, raw = entry
            item = RawItem(format_name, None, source_id, location, fetched_url, retrieved_at, pointer=pointer)
            entry = ReadItem(item, PreparedPost(*prepared), None, raw)
        items.append(entry)
    return items


_PREPARED_FIELDS = tuple(PreparedPost.__dataclass_fields__)


def astuple_prepared(prepared: PreparedPost) -> tuple:
    """The fields in order, shallow (``PreparedPost(*fields)`` makes it again)."""
    return tuple(getattr(prepared, name) for name in _PREPARED_FIELDS)
