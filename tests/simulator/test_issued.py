"""The registry of secrets the simulator hands out (read by the suite's log check)."""

import pytest

from simulator import issued


def test_remembers_strings_after_a_mark() -> None:
    before = issued.mark()
    issued.remember("registry-secret-1")
    issued.remember(None)
    issued.remember(12345678)
    issued.remember("")
    after = issued.mark()
    assert "registry-secret-1" in issued.issued_since(before)
    assert issued.latest() < after
    assert issued.issued_since(after) == frozenset()
    issued.remember("registry-secret-1")  # handed out again: new again
    assert issued.issued_since(after) == {"registry-secret-1"}


def test_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(issued, "MAX_REMEMBERED", 3)
    start = issued.mark()
    for number in range(5):
        issued.remember(f"bounded-secret-{number}")
    assert issued.issued_since(start) == {f"bounded-secret-{n}" for n in (2, 3, 4)}
