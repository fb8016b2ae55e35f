"""The one HTTP client every platform adapter uses.

Polite by construction: a descriptive User-Agent, timeouts, retries with
exponential backoff and jitter on connection errors and 5xx, ``Retry-After``
and rate-limit headers honoured on 429, and a request budget per host so that
a night's scrape stays inside each platform's published limits.

Bounded against hostile servers: each attempt has a total deadline (a server
that sends its headers and then one byte every few seconds is cut off, not
waited for), and a body is streamed and refused once it passes a maximum
size, so it is never held whole in memory (:class:`HttpLimits`; config
``limits:``, docs/reliability.md).

Every response comes back as a :class:`~scraper.model.FetchedPage`, which the
archive keeps as provenance. Tokens given in ``headers`` are never copied into
the FetchedPage.

httpx is imported when a client is made, not with this module: the archive
imports :func:`utc_now` from here, and commands that never fetch (status,
serve, reprocess) should not pay for loading an HTTP stack.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from . import __version__
from .errors import SourceError
from .model import FetchedPage

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class HttpLimits:
    """What one request may cost. ``timeout``: seconds to connect and
    between two reads; ``deadline``: seconds for a whole attempt, headers
    and body (checked between reads, so an attempt ends at most ``timeout``
    seconds after it); ``max_response_bytes``: the largest body accepted
    (after decompression), refused past that."""

    timeout: float = 20.0
    deadline: float = 120.0
    max_response_bytes: int = 32 << 20


DEFAULT_CONTACT = "https://github.com/reaction-archive"

# (requests, seconds) per host: inside the published limits, with margin.
DEFAULT_BUDGETS: dict[str, tuple[int, float]] = {
    "mastodon": (250, 300.0),  # servers allow 300 / 5 min / IP without a token
    "public.api.bsky.app": (1500, 300.0),  # AppView unpublished; PDS 3000 / 5 min
    "api.x.com": (50, 900.0),  # per-endpoint windows; user timeline 900 / 15 min app
    "api.twitter.com": (50, 900.0),
    "t.me": (60, 60.0),
    "default": (120, 60.0),
}

# Response headers worth keeping with the raw payload.
KEPT_HEADERS = (
    "content-type",
    "date",
    "last-modified",
    "etag",
    "link",
    "retry-after",
    "x-rate-limit-limit",
    "x-rate-limit-remaining",
    "x-rate-limit-reset",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)


class ResponseRefused(SourceError):
    """A response refused for its own sake (too large, too slow): retrying
    the same request would only cost the same again."""


class HTTPStatusError(SourceError):
    """A response that is an answer, not a transient failure: 4xx (after 429
    retries) or 5xx after every retry."""

    def __init__(self, page: FetchedPage, message: str | None = None):
        self.page = page
        self.status = page.status
        super().__init__(message or f"HTTP {page.status} from {page.url}")


def user_agent(contact: str | None = None) -> str:
    return f"reaction-archive/{__version__} (+{contact or DEFAULT_CONTACT})"


class RequestBudget:
    """At most ``limit`` requests in any ``window`` seconds (sliding window)."""

    def __init__(self, limit: int, window: float, clock=time.monotonic, sleep=time.sleep):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait until a request may go; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return waited
                delay = self.window - (now - self._sent[0])
            self._sleep(delay)
            waited += delay


class PoliteClient:
    """A synchronous httpx client with retries, backoff and budgets.

    ``sleep`` and ``clock`` are injectable so that tests can observe waits
    without spending them.
    """

    def __init__(
        self,
        *,
        contact: str | None = None,
        timeout: float | None = None,
        limits: HttpLimits | None = None,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_wait: float = 900.0,
        budgets: dict[str, tuple[int, float]] | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ):
        import httpx

        from .http_deadline import DeadlineBackend, transport_with_deadline

        limits = limits or HttpLimits()
        if timeout is not None:
            limits = HttpLimits(timeout, limits.deadline, limits.max_response_bytes)
        self.limits = limits
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.budgets_config = {**DEFAULT_BUDGETS, **(budgets or {})}
        self._budgets: dict[str, RequestBudget] = {}
        self._sleep = sleep or wait
        self._clock = clock
        self.requests_made = 0
        self.waited_seconds = 0.0
        self._deadline = DeadlineBackend()
        self._client = httpx.Client(
            headers={"User-Agent": user_agent(contact)},
            timeout=limits.timeout,
            follow_redirects=True,
            transport=transport or transport_with_deadline(self._deadline),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def budget_for(self, url: str, kind: str | None = None) -> RequestBudget:
        host = urlsplit(url).netloc.lower()
        if host not in self._budgets:
            limit, window = self.budgets_config.get(
                host, self.budgets_config.get(kind or "", self.budgets_config["default"])
            )
            self._budgets[host] = RequestBudget(limit, window, self._clock, self._sleep)
        return self._budgets[host]

    def get(
        self,
        url: str,
        *,
        params: dict | None = None,
        headers: dict | None = None,
        kind: str | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> FetchedPage:
        """GET ``url``; retry what is transient; return the page or raise.

        A status in ``ok_statuses`` (say 404 for a tombstone check) is returned
        rather than raised.
        """
        import httpx

        from .http_deadline import DeadlineExceeded

        budget = self.budget_for(url, kind)
        attempt = 0
        while True:
            self.waited_seconds += budget.acquire()
            self.requests_made += 1
            try:
                response, page = self._fetch(url, params, headers)
            except (httpx.TooManyRedirects, httpx.DecodingError, httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise SourceError(f"{url}: {type(exc).__name__}: {exc}") from exc
            except DeadlineExceeded as exc:
                raise ResponseRefused(
                    f"{url}: no complete answer within the {self.limits.deadline:g} s deadline "
                    "(limits.request_deadline); cut off"
                ) from exc
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise SourceError(f"{url}: network error after {attempt + 1} tries: {exc}") from exc
                self._wait(self._backoff_delay(attempt))
                attempt += 1
                continue
            status = response.status_code
            if status < 400 or status in ok_statuses:
                return page
            if status == 429 or status >= 500:
                if attempt >= self.max_retries:
                    raise HTTPStatusError(
                        page, f"HTTP {status} from {page.url} after {attempt + 1} tries"
                    )
                delay = rate_limit_delay(response.headers, self._now())
                if delay is None:
                    delay = self._backoff_delay(attempt)
                if delay > self.max_wait:
                    raise HTTPStatusError(
                        page, f"HTTP {status} from {page.url}: asked to wait {delay:.0f}s, more than {self.max_wait:.0f}s"
                    )
                self._wait(delay)
                attempt += 1
                continue
            raise HTTPStatusError(page)

    def _fetch(self, url: str, params: dict | None, headers: dict | None) -> tuple[httpx.Response, FetchedPage]:
        """One attempt: the body streamed under the deadline and the size
        limit, then decoded as httpx would (charset, else UTF-8; bad bytes
        replaced)."""
        limits = self.limits
        deadline = time.monotonic() + limits.deadline
        self._deadline.start(limits.deadline)
        try:
            return self._stream(url, params, headers, deadline)
        finally:
            self._deadline.clear()

    def _stream(self, url, params, headers, deadline) -> tuple[httpx.Response, FetchedPage]:
        limits = self.limits
        with self._client.stream("GET", url, params=params, headers=headers) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limits.max_response_bytes:
                raise ResponseRefused(_too_large(response, int(declared), limits.max_response_bytes))
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limits.max_response_bytes:
                    raise ResponseRefused(_too_large(response, size, limits.max_response_bytes, streamed=True))
                if time.monotonic() > deadline:  # (the backend cuts off first; a given transport may not)
                    raise ResponseRefused(
                        f"{response.url}: no complete answer within the {limits.deadline:g} s deadline "
                        f"({size:,} bytes received; limits.request_deadline); cut off"
                    )
                chunks.append(chunk)
            body = _decode(b"".join(chunks), response)
        kept = {k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS}
        page = FetchedPage(url=str(response.url), status=response.status_code, headers=kept, body=body,
                           retrieved_at=utc_now())
        return response, page

    def _backoff_delay(self, attempt: int) -> float:
        return self.backoff * (2**attempt) * (1 + random.random() * 0.25)

    def _wait(self, seconds: float) -> None:
        self.waited_seconds += seconds
        self._sleep(seconds)

    @staticmethod
    def _now() -> float:
        return time.time()


def _too_large(response: httpx.Response, size: int, limit: int, streamed: bool = False) -> str:
    what = f"more than {limit:,} bytes" if streamed else f"{size:,} bytes (Content-Length)"
    return (
        f"{response.url}: response of {what}, above the limit of {limit:,} bytes "
        "(limits.max_response_bytes); refused"
    )


def _decode(data: bytes, response: httpx.Response) -> str:
    import codecs

    encoding = response.charset_encoding or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    return data.decode(encoding, errors="replace")


def rate_limit_delay(headers, now: float) -> float | None:
    """Seconds to wait according to Retry-After or the platforms' reset headers."""
    retry_after = headers.get("retry-after")
    if retry_after:
        retry_after = retry_after.strip()
        if retry_after.isdigit():
            return float(retry_after)
        try:
            moment = email.utils.parsedate_to_datetime(retry_after)
            return max(0.0, moment.timestamp() - now)
        except (TypeError, ValueError):
            pass
    for name in ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset"):
        value = headers.get(name)
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return max(0.0, moment.timestamp() - now)
            except ValueError:
                continue
        # X sends an epoch; IETF RateLimit-Reset sends seconds from now.
        return max(0.0, number - now) if number > 1_000_000_000 else number
    return None


def wait(seconds: float) -> None:
    """The default way to wait out a backoff (tests replace it)."""
    time.sleep(seconds)


def utc_now() -> str:
    moment = datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
