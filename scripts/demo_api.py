"""The few REST calls the demo makes to its Home Assistant: onboarding, login, config flows.

Everything goes through Home Assistant's public HTTP API, the way a person's browser would
(the end-to-end tests use the same calls to look at the result).
"""

from collections.abc import Mapping, Sequence
from typing import Any, Final

import aiohttp
from homeassistant.const import CONF_HOST, CONF_PORT

from custom_components.bambu_printer.const import (
    CONF_ACCESS_CODE,
    CONF_CAMERA_PORT,
    CONF_FTPS_PORT,
    CONF_SERIAL,
    DOMAIN,
    SECTION_ADVANCED,
)

OWNER_NAME: Final = "Demo"
OWNER_USERNAME: Final = "demo"


class DemoError(Exception):
    """Something the person running the demo has to fix; the message says what."""


def _flow_error(what: str, result: Mapping[str, Any]) -> DemoError:
    """Describe a config flow that did not end the way the demo needs."""
    detail = result.get("errors") or result.get("reason") or result.get("type")
    return DemoError(f"{what}: the config flow answered {detail!r}")


class HomeAssistantApi:
    """The few REST calls the demo and its tests make to a local Home Assistant."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._headers: dict[str, str] = {}

    @property
    def client_id(self) -> str:
        """Return the OAuth client id: Home Assistant accepts its own URL."""
        return f"{self.base_url}/"

    async def _request(
        self, method: str, path: str, *, json_body: Any = None, data: Any = None
    ) -> Any:
        try:
            async with self._session.request(
                method, f"{self.base_url}{path}", json=json_body, data=data, headers=self._headers
            ) as response:
                if response.status >= 400:
                    text = await response.text()
                    raise DemoError(f"{method} {path} failed: HTTP {response.status} {text[:200]}")
                return await response.json()
        except aiohttp.ClientError as err:
            raise DemoError(f"{method} {path} failed: {err}") from err

    async def is_up(self) -> bool:
        """Return whether Home Assistant answers HTTP yet.

        Its auth API is there from the start; before onboarding it answers 400.
        """
        try:
            async with self._session.get(f"{self.base_url}/auth/providers") as response:
                return response.status < 500
        except aiohttp.ClientError:
            return False

    async def needs_owner(self) -> bool:
        """Return whether onboarding still waits for the owner account.

        Once onboarding is complete, Home Assistant no longer serves its onboarding API.
        """
        async with self._session.get(f"{self.base_url}/api/onboarding") as response:
            if response.status == 404:
                return False
            if response.status != 200:
                raise DemoError(f"GET /api/onboarding failed: HTTP {response.status}")
            steps = await response.json()
        return any(step["step"] == "user" and not step["done"] for step in steps)

    async def create_owner(self, password: str) -> None:
        """Create the owner account (the onboarding's "user" step)."""
        await self._request(
            "POST",
            "/api/onboarding/users",
            json_body={
                "client_id": self.client_id,
                "name": OWNER_NAME,
                "username": OWNER_USERNAME,
                "password": password,
                "language": "en",
            },
        )

    async def login(self) -> None:
        """Log in as the owner through the trusted-networks provider (loopback only)."""
        flow = await self._request(
            "POST",
            "/auth/login_flow",
            json_body={
                "client_id": self.client_id,
                "handler": ["trusted_networks", None],
                "redirect_uri": self.client_id,
            },
        )
        if flow.get("type") == "form":
            # More than one user: Home Assistant asks which one. Prefer the demo's owner.
            users: dict[str, str] = dict(flow["data_schema"][0].get("options", []))
            user = next((uid for uid, name in users.items() if name == OWNER_NAME), None)
            flow = await self._request(
                "POST",
                f"/auth/login_flow/{flow['flow_id']}",
                json_body={"client_id": self.client_id, "user": user or next(iter(users), "")},
            )
        if flow.get("type") != "create_entry":
            raise DemoError(f"the trusted-networks login did not complete: {flow.get('type')}")
        token = await self._request(
            "POST",
            "/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": flow["result"],
                "client_id": self.client_id,
            },
        )
        self._headers = {"Authorization": f"Bearer {token['access_token']}"}

    async def entries(self) -> list[dict[str, Any]]:
        """Return this integration's config entries."""
        entries = await self._request("GET", f"/api/config/config_entries/entry?domain={DOMAIN}")
        return list(entries)

    async def states(self) -> dict[str, dict[str, Any]]:
        """Return every entity's state by entity id."""
        states = await self._request("GET", "/api/states")
        return {state["entity_id"]: state for state in states}

    async def state(self, entity_id: str) -> dict[str, Any]:
        """Return one entity's state."""
        return dict(await self._request("GET", f"/api/states/{entity_id}"))

    async def _flow(self, flow_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        return dict(
            await self._request(
                "POST", f"/api/config/config_entries/flow/{flow_id}", json_body=dict(data)
            )
        )

    async def add_printer(self, form: Mapping[str, Any]) -> str:
        """Add a printer through the user flow ("local" step); return the entry's title."""
        what = f"adding printer {form[CONF_SERIAL]}"
        result = dict(
            await self._request(
                "POST", "/api/config/config_entries/flow", json_body={"handler": DOMAIN}
            )
        )
        for _ in range(4):
            if result.get("type") == "menu":
                result = await self._flow(result["flow_id"], {"next_step_id": "local"})
            elif result.get("type") == "form" and result.get("step_id") == "local":
                if result.get("errors"):
                    raise _flow_error(what, result)
                result = await self._flow(result["flow_id"], form)
            elif result.get("type") == "create_entry":
                return str(result["title"])
            else:
                break
        raise _flow_error(what, result)

    async def set_options(self, entry_id: str, options: Mapping[str, Any]) -> None:
        """Change a printer's options through its options flow, like the Configure dialog."""
        what = f"changing the options of {entry_id}"
        result = dict(
            await self._request(
                "POST", "/api/config/config_entries/options/flow", json_body={"handler": entry_id}
            )
        )
        if result.get("type") != "form":
            raise _flow_error(what, result)
        result = dict(
            await self._request(
                "POST",
                f"/api/config/config_entries/options/flow/{result['flow_id']}",
                json_body=dict(options),
            )
        )
        if result.get("type") != "create_entry":
            raise _flow_error(what, result)

    async def reconfigure_printer(self, entry_id: str, form: Mapping[str, Any]) -> None:
        """Point an existing entry at the printer's current address through reconfigure."""
        what = f"updating printer {form[CONF_SERIAL]}"
        result = dict(
            await self._request(
                "POST",
                "/api/config/config_entries/flow",
                json_body={"handler": DOMAIN, "entry_id": entry_id},
            )
        )
        if result.get("type") != "form":
            raise _flow_error(what, result)
        fields = {key: value for key, value in form.items() if key != CONF_SERIAL}
        result = await self._flow(result["flow_id"], fields)
        if result.get("type") != "abort" or result.get("reason") != "reconfigure_successful":
            raise _flow_error(what, result)


def printer_form(endpoint: Mapping[str, Any]) -> dict[str, Any]:
    """Return the local config flow's form for one of the simulator's printers."""
    advanced: dict[str, Any] = {CONF_PORT: int(endpoint["port"])}
    if endpoint.get("camera_port"):
        advanced[CONF_CAMERA_PORT] = int(endpoint["camera_port"])
    if endpoint.get("ftps_port"):
        advanced[CONF_FTPS_PORT] = int(endpoint["ftps_port"])
    return {
        CONF_HOST: endpoint["host"],
        CONF_SERIAL: endpoint["serial"],
        CONF_ACCESS_CODE: endpoint["access_code"],
        SECTION_ADVANCED: advanced,
    }


def find_entry(entries: Sequence[Mapping[str, Any]], serial: str) -> Mapping[str, Any] | None:
    """Return the entry of the printer with this serial (the flow titles it "<model> <serial>")."""
    return next((e for e in entries if str(e.get("title", "")).endswith(f" {serial}")), None)
