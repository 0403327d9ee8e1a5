"""A registry of every secret the simulator hands out, so tests can prove none reaches a log.

Simulated printers record their access codes (and their own broker password), the fake cloud
records passwords, tokens, sign-in keys and emailed or two-factor codes. The test suite's log
check (``tests/conftest.py``) reads :func:`issued_since` after each test and fails the test if
any of them appears in a log record. The registry is bounded (oldest entries fall out), so a
long-running simulator does not grow with it.
"""

import itertools
from typing import Final

__all__ = ["MAX_REMEMBERED", "issued_since", "latest", "mark", "remember"]

MAX_REMEMBERED: Final = 10_000

_counter = itertools.count(1)
_issued: dict[str, int] = {}  # secret -> when it was last handed out (a counter value)
_latest = 0


def remember(secret: object) -> None:
    """Record a secret that was just handed out (non-strings and empty values are ignored)."""
    if not isinstance(secret, str) or not secret:
        return
    global _latest  # noqa: PLW0603  (one process-wide registry)
    _issued.pop(secret, None)
    _latest = _issued[secret] = next(_counter)
    while len(_issued) > MAX_REMEMBERED:
        del _issued[next(iter(_issued))]


def mark() -> int:
    """Return a position: :func:`issued_since` with it lists only secrets handed out later."""
    return next(_counter)


def latest() -> int:
    """Return the position of the newest secret (cheap: callers cache on it)."""
    return _latest


def issued_since(position: int = 0) -> frozenset[str]:
    """Return the secrets handed out (or handed out again) after ``position``."""
    return frozenset(secret for secret, when in _issued.items() if when > position)
