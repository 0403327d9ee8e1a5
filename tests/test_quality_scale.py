"""quality_scale.yaml names every Integration Quality Scale rule with a valid status."""

from pathlib import Path
from typing import Any

import homeassistant.components
import yaml

OURS = Path(__file__).resolve().parent.parent / "custom_components/bambu_printer/quality_scale.yaml"
STATUSES = {"done", "todo", "exempt"}
# Rules that newer supported releases check but the oldest one does not know yet.
ADDED_AFTER_OLDEST = {"docs-conditions", "docs-triggers"}


def _rules(path: Path) -> dict[str, Any]:
    rules: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    return rules


def test_every_rule_is_listed_with_a_status() -> None:
    """The rule set is the one Home Assistant core's integrations list (hassfest's set), plus
    the rules of newer supported releases."""
    core_dir = Path(homeassistant.components.__path__[0])
    known: set[str] = set()
    for path in core_dir.glob("*/quality_scale.yaml"):
        known.update(_rules(path))
    ours = _rules(OURS)
    assert known <= set(ours)
    assert set(ours) - known <= ADDED_AFTER_OLDEST
    for rule, value in ours.items():
        status = value["status"] if isinstance(value, dict) else value
        assert status in STATUSES, rule
        if status != "done":
            assert isinstance(value, dict), f"{rule}: say why it is {status}"
            assert value.get("comment"), f"{rule}: say why it is {status}"
