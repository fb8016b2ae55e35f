"""A total deadline for each HTTP attempt, enforced at the socket.

httpx has timeouts for connecting and for each read, but none for a whole
request: a server that sends a byte every few seconds keeps a request alive
for ever, in its headers as well as in its body. This network backend (the
layer under httpx that owns the sockets) gives every socket operation the
smaller of its own timeout and the time left before the attempt's deadline,
and refuses to start one once the deadline has passed. The deadline is set
per attempt, per thread, by :class:`scraper.http.PoliteClient`.

Imported when a client is made (it needs httpcore, which comes with httpx).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpcore

logger = logging.getLogger(__name__)


class DeadlineExceeded(Exception):
    """The attempt ran past its deadline. Not an httpcore error on purpose:
    it passes through httpx unchanged, so it is never retried as a mere
    network hiccup."""


class DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend | None = None):
        self.inner = inner or httpcore.SyncBackend()
        self._local = threading.local()

    def start(self, seconds: float) -> None:
        self._local.deadline = time.monotonic() + seconds
        self._local.seconds = seconds

    def clear(self) -> None:
        self._local.deadline = None

    def bound(self, timeout: float | None) -> float | None:
        deadline = getattr(self._local, "deadline", None)
        if deadline is None:
            return timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded(f"the {self._local.seconds:g} s deadline passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _Stream(self.inner.connect_tcp(host, port, self.bound(timeout), local_address, socket_options), self)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _Stream(self.inner.connect_unix_socket(path, self.bound(timeout), socket_options), self)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, backend: DeadlineBackend):
        self.inner = inner
        self.backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._timed(self.inner.read, max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        return self._timed(self.inner.write, buffer, timeout)

    def _timed(self, operation, argument, timeout):
        bounded = self.backend.bound(timeout)
        try:
            return operation(argument, bounded)
        except (httpcore.ReadTimeout, httpcore.WriteTimeout):
            if bounded is not None and (timeout is None or bounded < timeout):
                # The deadline, not the read timeout, ran out: say so.
                raise DeadlineExceeded(f"the {self.backend._local.seconds:g} s deadline passed") from None
            raise

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _Stream(self.inner.start_tls(ssl_context, server_hostname, self.backend.bound(timeout)), self.backend)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


def transport_with_deadline(backend: DeadlineBackend):
    """An httpx transport (httpx's defaults) whose connections go through
    ``backend``. httpx takes no network backend, so it is handed to the
    transport's new, still empty connection pool (httpcore's
    ``ConnectionPool``, which keeps it as ``_network_backend``).

    Where an httpx or httpcore release no longer has that attribute, the
    transport is used as it is, with a warning: each read is still bounded
    by limits.request_timeout, and PoliteClient checks the deadline between
    the chunks of a body (a slow drip is cut off at most one timeout after
    the deadline), but headers sent a byte at a time are then bounded only
    per read."""
    import httpx

    transport = httpx.HTTPTransport()
    pool = getattr(transport, "_pool", None)
    if not hasattr(pool, "_network_backend"):
        _warn_once(httpx.__version__)
        return transport
    pool._network_backend = backend  # noqa: SLF001 - no public way in httpx
    return transport


_warned = False


def _warn_once(version: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        logger.warning(
            "httpx %s: cannot give its connection pool a network backend; the request deadline "
            "(limits.request_deadline) is checked between reads only, each read bounded by "
            "limits.request_timeout", version,
        )
