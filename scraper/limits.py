"""The limits in force: how much one request and one input element may cost.

Defaults suit every platform's real answers with a wide margin; a config
may change them under ``limits:`` (docs/configuration.md). The command
layer puts the config's limits in force with :func:`apply` before it reads
or fetches anything; readers ask :func:`current`. (A module setting rather
than a parameter: the readers' signature, ``(path, source_id)``, is shared
by every format, and worker processes inherit it.)
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, replace

MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    request_timeout: float = 20.0  # seconds to connect, and between two reads
    request_deadline: float = 120.0  # seconds for a whole attempt, headers and body
    max_response_bytes: int = 32 * MIB  # a larger body is refused (streamed, never held whole)
    max_element_bytes: int = 16 * MIB  # a larger line, array element or file is a parse error
    kept_error_bytes: int = 1 * MIB  # what a parse error keeps of an element too large or undecodable

    def http(self):
        from .http import HttpLimits

        return HttpLimits(self.request_timeout, self.request_deadline, self.max_response_bytes)


DEFAULT = Limits()
KEYS = ("request_timeout", "request_deadline", "max_response_bytes", "max_element_bytes", "kept_error_bytes")
SIZE_KEYS = ("max_response_bytes", "max_element_bytes", "kept_error_bytes")

_current = DEFAULT


def current() -> Limits:
    return _current


def apply(limits: Limits | None) -> Limits:
    """Put ``limits`` (None: the defaults) in force; return the previous ones."""
    global _current
    previous, _current = _current, limits or DEFAULT
    return previous


@contextmanager
def in_force(limits: Limits | None):
    """``with in_force(config.limits):`` the limits hold inside, and the
    previous ones again after."""
    previous = apply(limits)
    try:
        yield limits or DEFAULT
    finally:
        apply(previous)


def with_values(**values) -> Limits:
    return replace(DEFAULT, **values)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1000, "kib": 1 << 10, "mb": 1000**2, "mib": MIB, "gb": 1000**3, "gib": 1 << 30}


def parse_size(value) -> int | None:
    """Bytes from ``1048576``, ``"64 MiB"``, ``"50MB"``; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        return None
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])
