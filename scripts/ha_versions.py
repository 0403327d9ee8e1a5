"""Show which pytest-homeassistant-custom-component releases are newer than our "newest" pin.

``.venv/bin/python -m scripts.ha_versions`` asks the package index (through pip, as setup
does) for the test plugin's releases, and for each one newer than the pin in
``requirements/newest.txt`` the Home Assistant release it pins. Bumping the newest supported
release is then one line in that file and one run: ``scripts/setup --ha newest && scripts/test
--ha newest`` (then update the README's supported range and the requirements the demo pins).
"""

import argparse
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[1]
NEWEST_REQUIREMENTS: Final = ROOT / "requirements" / "newest.txt"
PLUGIN: Final = "pytest-homeassistant-custom-component"
# Wheels are chosen for the newest environment's interpreter (scripts/environments.sh).
TARGET_PYTHON: Final = "3.14.8"
_PIN: Final = re.compile(rf"^{re.escape(PLUGIN)}==(\S+)\s*$", re.MULTILINE)
_REQUIRES_HA: Final = re.compile(
    r"^Requires-Dist: homeassistant\s*\(?==\s*([^\s;)]+)", re.MULTILINE
)


def version_key(version: str) -> tuple[int, ...]:
    """Return a sortable key for a plain dotted release number (pre-releases sort as 0)."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def pinned_version(requirements: str) -> str:
    """Return the plugin version a requirements text pins."""
    match = _PIN.search(requirements)
    if match is None:
        raise SystemExit(f"{NEWEST_REQUIREMENTS} pins no {PLUGIN}==<version>")
    return match.group(1)


def _pip(*args: str) -> str:
    """Run pip of this interpreter and return its output; exit with its message on failure."""
    result = subprocess.run(  # noqa: S603  (fixed arguments, this interpreter's pip)
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"pip {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout


def released_versions() -> list[str]:
    """Return every release of the plugin the index offers for the newest Python, newest first."""
    out = _pip(
        "index", "versions", PLUGIN, "--python-version", TARGET_PYTHON, "--only-binary=:all:"
    )
    match = re.search(r"Available versions:\s*(.+)", out)
    if match is None:
        raise SystemExit(f"pip index versions printed no version list:\n{out}")
    versions = [part.strip() for part in match.group(1).split(",") if part.strip()]
    return sorted(versions, key=version_key, reverse=True)


def pinned_home_assistant(plugin_version: str) -> str:
    """Return the homeassistant version that one plugin release pins (from its wheel)."""
    with tempfile.TemporaryDirectory() as folder:
        _pip(
            "download", "--quiet", "--no-deps", "--only-binary=:all:",
            "--python-version", TARGET_PYTHON, "--dest", folder, f"{PLUGIN}=={plugin_version}",
        )  # fmt: skip
        wheel = next(Path(folder).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            metadata = archive.read(name).decode("utf-8")
    match = _REQUIRES_HA.search(metadata)
    return match.group(1) if match else "(no homeassistant pin)"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the pin, the newer releases and the Home Assistant each pins."""
    parser = argparse.ArgumentParser(prog="python -m scripts.ha_versions", description=__doc__)
    parser.add_argument(
        "--most", type=int, default=5, help="look up at most this many newer releases (5)"
    )
    args = parser.parse_args(argv)
    pinned = pinned_version(NEWEST_REQUIREMENTS.read_text(encoding="utf-8"))
    print(f"pinned: {PLUGIN}=={pinned} (homeassistant {pinned_home_assistant(pinned)})")
    newer = [v for v in released_versions() if version_key(v) > version_key(pinned)]
    if not newer:
        print("newer:  none; the pin is the newest release")
        return 0
    print(f"newer:  {len(newer)} release(s); the newest {min(len(newer), args.most)}:")
    for version in newer[: args.most]:
        print(f"  {PLUGIN}=={version}  (homeassistant {pinned_home_assistant(version)})")
    print(
        f"to move: set that line in {NEWEST_REQUIREMENTS.relative_to(ROOT)}, then run "
        "scripts/setup --ha newest && scripts/test --ha newest"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
