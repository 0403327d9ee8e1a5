"""Access to real printer captures used as fixtures."""

import json
from functools import cache
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parent.parent
_SEARCH_PATH = (_REPO.parent / "shared" / "captures", _REPO / "tests" / "fixtures" / "captures")

CAPTURE_NAMES = ("P1P", "MOCK-A1", "MOCK-X1CMULTIAMS", "MOCK-H2D", "MOCK-P1PNOAMS")


@cache
def _load(name: str) -> str:
    for folder in _SEARCH_PATH:
        path = folder / f"{name}.json"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(f"capture {name} not found in {_SEARCH_PATH}")


def load_capture(name: str) -> dict[str, Any]:
    """Return a fresh copy of a capture file's JSON (callers may mutate it)."""
    data: dict[str, Any] = json.loads(_load(name))
    return data


def pushall_report(name: str) -> dict[str, Any]:
    """Return the capture's full status report as the printer sends it: {"print": {...}}."""
    data = load_capture(name)
    report = data.get("pushall", data.get("push_all"))
    assert isinstance(report, dict)
    return report if "print" in report else {"print": report}


def version_report(name: str) -> dict[str, Any]:
    """Return the capture's get_version reply as the printer sends it: {"info": {...}}."""
    report = load_capture(name)["get_version"]
    assert isinstance(report, dict)
    return report if "info" in report else {"info": report}
