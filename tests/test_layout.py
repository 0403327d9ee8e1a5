"""The house rules a reviewer would check by hand: module size and the library boundary."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "custom_components" / "bambu_printer"
LIBRARY = PACKAGE / "printer"
MAX_LINES = 700


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(PACKAGE), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_over_700_lines(path: Path) -> None:
    """Small modules with one job each: none grows past 700 lines."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


@pytest.mark.parametrize("path", _modules(LIBRARY), ids=lambda path: str(path.relative_to(LIBRARY)))
def test_library_never_imports_home_assistant(path: Path) -> None:
    """printer/ is a protocol library that could be published alone."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module)
    assert not {name for name in imported if name.split(".")[0] == "homeassistant"}
    assert not {name for name in imported if name.startswith("custom_components")}
