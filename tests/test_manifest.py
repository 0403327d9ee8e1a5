"""The integration is a well-formed custom integration that Home Assistant can load."""

import ast
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import homeassistant
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration

from custom_components.bambu_printer.const import DOMAIN

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "custom_components" / DOMAIN


async def test_manifest_loads_through_loader(hass: HomeAssistant) -> None:
    """Home Assistant's loader finds the integration and reads what HACS and HA rely on."""
    integration = await async_get_integration(hass, DOMAIN)

    assert integration.is_built_in is False
    assert integration.name == "Bambu Lab Printer"
    assert integration.config_flow is True
    assert integration.iot_class == "local_push"
    assert integration.version is not None
    assert (
        str(integration.version)
        == json.loads((PACKAGE_DIR / "manifest.json").read_text(encoding="utf-8"))["version"]
    )
    assert integration.documentation
    assert integration.issue_tracker
    component = await integration.async_get_component()
    assert component.__name__ == f"custom_components.{DOMAIN}"


def test_hacs_metadata_matches_manifest() -> None:
    """hacs.json names the integration and the oldest Home Assistant we support."""
    root = PACKAGE_DIR.parent.parent
    hacs = json.loads((root / "hacs.json").read_text(encoding="utf-8"))
    manifest = json.loads((PACKAGE_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert hacs["name"] == manifest["name"]
    assert hacs["homeassistant"] == "2026.2.0"
    assert (PACKAGE_DIR / "brand" / "icon.png").is_file()


# Imports the third-party modules first (argv: theirs, "--", ours), then ours inside a running
# event loop with Home Assistant's guard on, so only our modules' own code is policed.
_IMPORT_CHECK = """
import asyncio, logging, sys
logging.basicConfig(level=logging.WARNING)
split = sys.argv.index("--")
for name in sys.argv[1:split]:
    __import__(name)
from homeassistant import block_async_io
block_async_io.enable()
async def main():
    for name in sys.argv[split + 1:]:
        __import__(name)
asyncio.run(main())
"""


def _third_party_imports() -> list[str]:
    """Return every absolute import of the package that is not the package itself."""
    found: set[str] = set()
    for path in PACKAGE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    return sorted(name for name in found if not name.startswith("custom_components"))


def test_modules_import_without_blocking_io() -> None:
    """Importing any module of the package inside the event loop does no blocking I/O.

    In a fresh interpreter: importing them again in this one would leave two copies of each
    module, and tests that patch one would not reach the other.
    """
    package = f"custom_components.{DOMAIN}"
    names = [package] + [
        info.name for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix=f"{package}.")
    ]
    root = PACKAGE_DIR.parent.parent
    result = subprocess.run(  # noqa: S603  (our own interpreter, our own module names)
        [sys.executable, "-c", _IMPORT_CHECK, *_third_party_imports(), "--", *names],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Detected blocking call" not in result.stderr
    assert len(names) > 5


def test_requirements_match_home_assistant_constraints() -> None:
    """Each manifest requirement is pinned where Home Assistant's own constraints pin it.

    Home Assistant installs what a custom integration asks for next to its own packages; a
    version other than the constrained one would be refused, or would replace Home
    Assistant's copy (paho-mqtt is also its MQTT integration's library).
    """
    manifest = json.loads((PACKAGE_DIR / "manifest.json").read_text(encoding="utf-8"))
    constraints_file = Path(homeassistant.__file__).parent / "package_constraints.txt"
    constraints = {
        line.partition("==")[0].lower(): line.strip()
        for line in constraints_file.read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert manifest["requirements"] == ["paho-mqtt==2.1.0"]
    for requirement in manifest["requirements"]:
        assert constraints[requirement.partition("==")[0].lower()] == requirement
