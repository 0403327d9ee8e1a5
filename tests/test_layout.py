"""The house rules a reviewer would check by hand: module size and the library boundary."""

import ast
import shutil
import subprocess
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


@pytest.mark.parametrize("name", [".venv", ".venv-newest"])
def test_virtual_environments_are_ignored_as_links_too(tmp_path: Path, name: str) -> None:
    """A venv may be a symlink (a worktree sharing one), which `.venv/` alone would not ignore."""
    git = shutil.which("git")
    if git is None:  # the newest Home Assistant's Debian root has no git; the oldest's checks
        pytest.skip("git is not installed here")
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run([git, "init", "-q", str(repo)], check=True)  # noqa: S603  (fixed arguments)
    shutil.copy(PACKAGE.parent.parent / ".gitignore", repo / ".gitignore")
    (repo / name).symlink_to(tmp_path)
    result = subprocess.run(  # noqa: S603  (fixed arguments)
        [git, "-C", str(repo), "status", "--porcelain", "--ignored", "--", name],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == f"!! {name}\n"
