"""The repository installs through HACS and through Home Assistant's built-in marketplace.

Home Assistant 2026.11 moved HACS into core as the `marketplace` integration. Both read
`hacs.json` at the repository root and the one integration below `custom_components/`; these
tests check our files against what each reads (from HACS's `utils/validate.py` and the
marketplace's `utils/validate.py` and `repositories/integration.py`):

- HACS validates `hacs.json` with a closed schema: `name` (text, required), `content_in_root`,
  `zip_release`, `hide_default_branch`, `render_readme` (flags), `filename`, `hacs`,
  `homeassistant`, `persistent_directory` (text), `country`; any other key fails.
- The marketplace keeps `name`, `homeassistant` (a version), `content_in_root`, `zip_release`,
  `hide_default_branch`, `filename`, `hacs`, `persistent_directory`; it silently drops the rest
  (`render_readme`, `country`) and a value of the wrong type.
- Both install `custom_components/<domain>/` (one integration per repository). The marketplace
  takes a domain of `[a-z0-9_-]+` only, refuses one that shadows a built-in integration and a
  `manifest.json` whose `version` the loader would not load; HACS requires `codeowners`,
  `documentation`, `domain`, `issue_tracker`, `name` and `version` in `manifest.json`.
"""

import json
import re
from pathlib import Path
from typing import Any

import homeassistant.components
from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant.const import __version__ as HA_VERSION  # noqa: N812

ROOT = Path(__file__).resolve().parent.parent
BOTH_READ: dict[str, type] = {
    "name": str,
    "homeassistant": str,
    "content_in_root": bool,
    "zip_release": bool,
    "hide_default_branch": bool,
    "filename": str,
    "hacs": str,
    "persistent_directory": str,
}
MARKETPLACE_DOMAIN = re.compile(r"^[a-z0-9_-]+$")
LOADABLE_VERSIONS = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]
HACS_MANIFEST_KEYS = {"codeowners", "documentation", "domain", "issue_tracker", "name", "version"}


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_hacs_json_holds_only_what_both_read() -> None:
    hacs = _json(ROOT / "hacs.json")
    assert set(hacs) <= set(BOTH_READ), "a key HACS rejects or the marketplace ignores"
    for key, value in hacs.items():
        assert isinstance(value, BOTH_READ[key]), key
    assert hacs["name"]
    assert hacs.get("content_in_root", False) is False
    assert hacs.get("zip_release", False) is False  # HACS then requires `filename`


def test_minimum_release_is_a_version_this_release_meets() -> None:
    minimum = AwesomeVersion(_json(ROOT / "hacs.json")["homeassistant"])
    assert minimum.valid
    assert AwesomeVersion(HA_VERSION) >= minimum


def test_one_integration_below_custom_components() -> None:
    folders = [
        path
        for path in (ROOT / "custom_components").iterdir()
        if path.is_dir() and path.name != "__pycache__"
    ]
    assert [folder.name for folder in folders] == ["bambu_printer"]
    manifest = _json(folders[0] / "manifest.json")
    assert manifest["domain"] == folders[0].name
    assert MARKETPLACE_DOMAIN.match(manifest["domain"])
    core = Path(homeassistant.components.__path__[0])
    assert not (core / manifest["domain"] / "manifest.json").exists(), "shadows a core domain"


def test_manifest_has_what_hacs_and_the_marketplace_need() -> None:
    manifest = _json(ROOT / "custom_components" / "bambu_printer" / "manifest.json")
    assert set(manifest) >= HACS_MANIFEST_KEYS
    assert all(isinstance(owner, str) for owner in manifest["codeowners"])
    assert isinstance(manifest["config_flow"], bool)
    assert isinstance(manifest["name"], str)
    for key in ("documentation", "issue_tracker"):
        assert manifest[key].startswith("https://"), key
    assert AwesomeVersion(manifest["version"], ensure_strategy=LOADABLE_VERSIONS).valid
