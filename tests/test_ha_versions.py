"""scripts/ha_versions reads the newest pin and the Home Assistant a test-plugin wheel pins."""

import pytest

from scripts import ha_versions


def test_pin_is_read_from_the_newest_requirements() -> None:
    text = ha_versions.NEWEST_REQUIREMENTS.read_text(encoding="utf-8")
    pinned = ha_versions.pinned_version(text)
    assert f"{ha_versions.PLUGIN}=={pinned}\n" in text
    with pytest.raises(SystemExit):
        ha_versions.pinned_version("hypothesis==6.0\n")


def test_releases_sort_by_number_not_text() -> None:
    versions = ["0.13.99", "0.13.375", "0.13.1000", "0.12.9"]
    assert sorted(versions, key=ha_versions.version_key, reverse=True) == [
        "0.13.1000",
        "0.13.375",
        "0.13.99",
        "0.12.9",
    ]


@pytest.mark.parametrize(
    ("line", "pinned"),
    [
        ("Requires-Dist: homeassistant==2026.10.4", "2026.10.4"),
        ("Requires-Dist: homeassistant (==2026.2.3)", "2026.2.3"),
        ("Requires-Dist: homeassistant==2026.11.0; python_version >= '3.14'", "2026.11.0"),
    ],
)
def test_home_assistant_pin_in_wheel_metadata(line: str, pinned: str) -> None:
    match = ha_versions._REQUIRES_HA.search(f"Name: x\n{line}\nRequires-Dist: pytest==9\n")
    assert match is not None
    assert match.group(1) == pinned
