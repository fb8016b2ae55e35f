"""Reading a large line-based collection (twarc2 or snscrape JSONL) in worker processes.

Reading a post (JSON parsing, normalisation, match hashes, relevance: see
:mod:`scraper.prepare`) needs no archive and costs about as much as storing
it, which SQLite does in one writing process. So for formats whose every
line stands alone, the main process reads the file's lines and hands them
out in chunks to worker processes; their :class:`~scraper.prepare.ReadItem`
results come back in file order and are stored as they arrive, while the
workers read ahead. A bounded number of chunks is in flight, so memory does
not grow with the file.

Workers only read and compute; everything that touches the archive stays in
the main process, in the same order as a serial import, so the archive
ends up the same either way (tests check this).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from .errors import SourceError
from .prepare import PreparedPost, ReadItem, astuple_prepared, read_item
from .relevance import ElectionMatcher
from .sources import Unparsed
from . import formats
from .sources.filestream import numbered_lines, open_text

# A chunk closes after this many characters of lines (a twarc2 page is about
# 90 KB: a chunk is a few pages) ...
CHUNK_CHARS = 1 << 19
# ... or this many lines (flattened files: one post a line).
CHUNK_LINES = 500
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
    path: str, format_name: str, source_id: str, matchers: list[ElectionMatcher], nearby: bool, workers: int
) -> Iterator[ReadItem | Unparsed]:
    """The items of a line-based file, read and prepared by ``workers``
    processes, in file order."""
    context = multiprocessing.get_context(_start_method())
    in_flight: deque = deque()
    with open_text(path) as stream, context.Pool(
        workers, initializer=_start_worker, initargs=(format_name, source_id, matchers, nearby)
    ) as pool:
        for chunk in _chunks(numbered_lines(stream)):
            in_flight.append(pool.apply_async(_read_chunk, (path, chunk)))
            if len(in_flight) >= CHUNKS_IN_FLIGHT:
                yield from _results(in_flight.popleft(), path)
        while in_flight:
            yield from _results(in_flight.popleft(), path)


def _results(pending, path: str) -> list:
    """A chunk's results. A worker that died (killed, out of memory) takes its
    chunk with it and the pool would wait forever: after CHUNK_TIMEOUT the
    import fails with a clear error instead (what was stored stays)."""
    try:
        return _as_read_items(pending.get(timeout=CHUNK_TIMEOUT))
    except multiprocessing.TimeoutError:
        raise SourceError(
            f"{path}: a worker process reading the file gave no answer in {CHUNK_TIMEOUT} s "
            "(killed, or out of memory?); run the import again, with --workers 0 to read in one process"
        ) from None


def _start_method() -> str:
    """fork is cheapest (nothing to import again), but forking a process that
    runs other threads (a progress display) can copy a held lock."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


def _chunks(lines: Iterator[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    size = 0
    for number, line in lines:
        chunk.append((number, line))
        size += len(line)
        if size >= CHUNK_CHARS or len(chunk) >= CHUNK_LINES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


# --- in the worker processes ------------------------------------------------

_worker: dict = {}


def _start_worker(format_name: str, source_id: str, matchers: list[ElectionMatcher], nearby: bool) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the import in the main process, quietly here

    _worker.update(reader=formats.line_reader(format_name), source_id=source_id, matchers=matchers, nearby=nearby)


def _read_chunk(path: str, chunk: list[tuple[int, str]]) -> list[ReadItem | Unparsed]:
    reader, source_id, matchers, nearby = (_worker[k] for k in ("reader", "source_id", "matchers", "nearby"))
    results: list[ReadItem | Unparsed] = []
    for number, line in chunk:
        for item in reader(line, source_id, f"{path}:{number}"):
            if isinstance(item, Unparsed):
                results.append(item)
                continue
            read = read_item(item, matchers, keep_post=False, nearby=nearby)
            if read.failure is None and item.raw_page is not None:
                # What crosses is what storing needs: the page's hash and
                # compressed bytes, the post's values. (The archive cuts the
                # page up again in the rare case it needs the whole post.)
                item.raw_page.drop_text()
                item.payload, item.context = None, {}
                # As plain tuples: unpickling a NamedTuple or a dataclass runs
                # Python code per object, and the writing process pays for it.
                results.append((item, astuple_prepared(read.prepared)))
            else:
                results.append(read)
    return results


def _as_read_items(results: list) -> list[ReadItem | Unparsed]:
    """A chunk's results as the archive takes them (see _read_chunk)."""
    return [ReadItem(entry[0], PreparedPost(*entry[1]), None) if type(entry) is tuple else entry
            for entry in results]
