"""Helpers of the fault suite (tests/test_fault_*.py)."""

from __future__ import annotations

import signal
from contextlib import contextmanager


class Hang(AssertionError):
    """The code under test ran past its hang guard."""


@contextmanager
def hang_guard(seconds: float, what: str = "the call"):
    """Fail the test if the block runs longer than ``seconds``: not a timing
    assertion (the guard is far above any normal time), a bound on a hang."""

    def expired(_signum, _frame):
        raise Hang(f"{what} still running after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
