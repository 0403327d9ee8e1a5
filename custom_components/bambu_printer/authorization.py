"""Authorization control: firmware from 2025 refuses print commands Bambu's apps did not sign.

While it is on, the print control buttons are unavailable and a repair issue tells the user
how to switch it off (LAN-only mode with Developer mode). See docs/protocol.md.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN

ISSUE_TRANSLATION_KEY = "authorization_control"


def authorization_issue_id(serial: str) -> str:
    """Return the repair issue id of one printer (one issue per printer)."""
    return f"{ISSUE_TRANSLATION_KEY}_{serial}"


@callback
def async_show_authorization_issue(
    hass: HomeAssistant, serial: str, name: str, *, required: bool
) -> None:
    """Raise the repair issue while authorization control is on; remove it once it is off."""
    issue_id = authorization_issue_id(serial)
    if not required:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_TRANSLATION_KEY,
        translation_placeholders={"name": name},
    )
