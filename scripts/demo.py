"""The demo behind ``scripts/develop``: simulated printers in a real Home Assistant.

It starts the simulator (an X1C, a P1S and an A1, each with its own TLS Mosquitto on
127.0.0.1, printing at a visible speed-up), starts Home Assistant from ``config/`` with this
integration linked in, completes onboarding, adds the printers through the integration's own
config flow over Home Assistant's REST API, prints the dashboard's URL and runs until SIGINT
or SIGTERM, then stops Home Assistant and the simulator (which stops its brokers).

A fourth printer, a P1P, is left for the user: it listens on a loopback address of its own
with a real printer's ports and announces itself like one, so Home Assistant lists it under
"Discovered" and adds it with the access code alone. The announcements go to 127.0.0.1 on a
free UDP port, where Home Assistant's listener is moved for the demo (``scripts/demo_hass``).

Running it again reuses ``config/``: the printers keep their serial numbers and access code, so
the existing entries are updated through the reconfigure flow (the simulator's ports change on
every start) instead of being added twice. The end-to-end tests drive the same code.
"""

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

import aiohttp
from homeassistant.const import MAJOR_VERSION, MINOR_VERSION

from custom_components.bambu_printer.const import (
    DOMAIN,
)
from scripts.demo_api import (
    OWNER_USERNAME,
    DemoError,
    HomeAssistantApi,
    find_entry,
    printer_form,
)
from scripts.demo_hass import DISCOVERY_PORT_ENV
from scripts.demo_ports import free_udp_port, listened_by_other, reserve_port
from simulator.farm import KEPT_CA_DIR
from simulator.testing import own_loopback_address

ROOT: Final = Path(__file__).resolve().parents[1]
TEMPLATE_CONFIG: Final = ROOT / "config"  # committed: configuration.yaml and the dashboard
HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8123
PORT_ENV: Final = "BAMBU_DEMO_PORT"  # configuration.yaml reads the port from here
DEFAULT_SPEEDUP: Final = 10.0
DASHBOARD: Final = "bambu-printers"

HA_START_TIMEOUT: Final = 180.0  # the first start compiles translations and writes .storage
SIMULATOR_START_TIMEOUT: Final = 30.0
ENTRY_LOAD_TIMEOUT: Final = 60.0
HA_STOP_TIMEOUT: Final = 30.0
SIMULATOR_STOP_TIMEOUT: Final = 15.0
_PR_SET_PDEATHSIG: Final = 1
# Onboarding steps marked done before the first start. Finishing "core_config" over the API
# would set up met.no weather, radio browser and Google Translate, which reach the internet;
# the location they would ask for is in configuration.yaml instead. "user" is done over the API.
_PRESET_ONBOARDING: Final = ("core_config", "analytics", "integration")
_ONBOARDING_STORAGE_VERSION: Final = 4
# From 2026.8 Home Assistant keeps its HTTP settings in .storage/http. It moves an `http:` block
# of configuration.yaml there once, as a five-minute trial that must be confirmed in the UI or
# it exits (code 100) and falls back to port 8123 on every interface; later YAML changes are
# ignored. So on those releases the demo writes the stored settings itself before each start
# and keeps `http:` out of configuration.yaml.
HTTP_STORE_SINCE: Final = (2026, 8)
_HTTP_STORAGE_VERSION: Final = (2, 2)
_YAML_HTTP_BLOCK: Final = re.compile(r"^http:[^\n]*\n(?:[ \t]+[^\n]*\n|[ \t]*\n)*", re.MULTILINE)
USES_HTTP_STORE: Final = (MAJOR_VERSION, MINOR_VERSION) >= HTTP_STORE_SINCE
# Those releases also run the demo in a folder of their own: the committed config/ keeps its
# `http:` block for the older release, which could not read the newer one's .storage either.
DEFAULT_CONFIG: Final = ROOT / "config-newest" if USES_HTTP_STORE else TEMPLATE_CONFIG


@dataclass(frozen=True)
class DemoPrinter:
    """A simulated printer of the demo; fixed serials keep entity ids stable across runs."""

    model: str
    serial: str


PRINTERS: Final = (
    DemoPrinter("X1C", "00M00A000000001"),
    DemoPrinter("P1S", "01P00A000000001"),
    DemoPrinter("A1", "03900A000000001"),
)
# Not added by the demo: found on the "network" and added by the user with the access code.
DISCOVERED: Final = DemoPrinter("P1P", "01S00A000000001")


def _die_with_parent() -> None:  # pragma: no cover  (runs in the forked child)
    """Ask Linux to SIGTERM a child when the demo dies without cleaning up (e.g. SIGKILL)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _write_private(path: Path, text: str) -> None:
    """Write a file only the owner can read (the demo's access code and password)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


async def wait_for(
    predicate: Callable[[], Awaitable[bool]], *, within: float, interval: float = 0.25, what: str
) -> None:
    """Await ``predicate()`` (a coroutine function) until it is truthy, or raise DemoError."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await predicate():
        if loop.time() > deadline:
            raise DemoError(f"gave up waiting for {what} after {within:.0f} s")
        await asyncio.sleep(interval)


class DemoStack:
    """The simulator and Home Assistant as child processes, started and stopped together."""

    def __init__(
        self,
        config_dir: Path = DEFAULT_CONFIG,
        *,
        port: int = DEFAULT_PORT,
        speedup: float = DEFAULT_SPEEDUP,
        printers: Sequence[DemoPrinter] = PRINTERS,
        discovered: DemoPrinter | None = DISCOVERED,
        ca_dir: Path = KEPT_CA_DIR,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.config_dir = config_dir.resolve()
        self.ca_dir = ca_dir.resolve()
        self.state_dir = self.config_dir / ".demo"
        self.port = port
        self.speedup = speedup
        self.printers = tuple(printers)
        self.discovered = discovered
        self.discovered_host = ""  # its own loopback address, chosen in prepare()
        self.discovery_port = 0  # where Home Assistant listens for announcements
        self._say = say or (lambda message: print(f"[demo] {message}", flush=True))  # noqa: T201
        self.simulator: asyncio.subprocess.Process | None = None
        self.hass: asyncio.subprocess.Process | None = None
        self.endpoints: list[dict[str, Any]] = []
        self._access_code = ""
        self._password = ""
        self._simulator_log: IO[bytes] | None = None
        self._hass_log: IO[bytes] | None = None
        self._drain: asyncio.Task[None] | None = None
        self._reservation: socket.socket | None = None
        self.started_at = time.monotonic()

    @property
    def base_url(self) -> str:
        """Return Home Assistant's address."""
        return f"http://{HOST}:{self.port}"

    @property
    def endpoints_file(self) -> Path:
        """Return the simulator's JSON file: printers, access code, control port."""
        return self.state_dir / "printers.json"

    @property
    def url(self) -> str:
        """Return the dashboard's address."""
        return f"{self.base_url}/{DASHBOARD}"

    def say(self, message: str) -> None:
        """Tell the person running the demo what is happening."""
        self._say(message)

    # ------------------------------------------------------------------ preparation (sync)

    def prepare(self) -> None:
        """Lay out the config folder: configuration, integration link, onboarding, secrets.

        Synchronous on purpose: it runs once before the event loop starts.
        """
        try:
            self._reservation = reserve_port(HOST, self.port)
        except OSError as err:
            raise DemoError(
                f"port {self.port} on {HOST} is in use (another Home Assistant?); "
                f"choose another with --port or {PORT_ENV}"
            ) from err
        self.port = int(self._reservation.getsockname()[1])  # --port 0: the one picked
        try:
            self._prepare_config()
        except BaseException:
            self.release_port()
            raise

    def release_port(self) -> None:
        """Let go of the port held since prepare(); Home Assistant listens on it by now."""
        reservation, self._reservation = self._reservation, None
        if reservation is not None:
            reservation.close()

    def _prepare_config(self) -> None:
        """Lay out the config folder (prepare() holds the port meanwhile)."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir.mkdir(exist_ok=True)
        if USES_HTTP_STORE and self.config_dir == TEMPLATE_CONFIG.resolve():
            raise DemoError(
                f"Home Assistant {MAJOR_VERSION}.{MINOR_VERSION} keeps its own demo folder; "
                f"leave out --config or choose another folder than {TEMPLATE_CONFIG}"
            )
        if not (self.config_dir / "configuration.yaml").exists():
            shutil.copy2(TEMPLATE_CONFIG / "configuration.yaml", self.config_dir)
            shutil.copytree(
                TEMPLATE_CONFIG / "dashboards", self.config_dir / "dashboards", dirs_exist_ok=True
            )
        self._link_integration()
        self._seed_onboarding()
        if USES_HTTP_STORE:
            self._store_http_config()
        self._access_code = self._secret("access_code", lambda: f"{secrets.randbelow(10**8):08d}")
        if self.discovered is not None:
            self.discovered_host = self._discovered_address()
            self.discovery_port = free_udp_port(HOST)
        self._password = self._secret("owner_password", lambda: secrets.token_urlsafe(18))
        self._simulator_log = (self.state_dir / "simulator.log").open("wb")
        self._hass_log = (self.state_dir / "home-assistant.console.log").open("wb")

    def _link_integration(self) -> None:
        """Make config/custom_components/bambu_printer point at the working tree's code."""
        link = self.config_dir / "custom_components" / DOMAIN
        target = ROOT / "custom_components" / DOMAIN
        link.parent.mkdir(exist_ok=True)
        if link.is_symlink():
            if link.resolve() == target.resolve():
                return
            link.unlink()
        elif link.exists():
            raise DemoError(f"{link} exists and is not a link to {target}: move it away")
        link.symlink_to(target, target_is_directory=True)

    def _seed_onboarding(self) -> None:
        """Before the very first start, mark the onboarding steps done that we must not run."""
        path = self.config_dir / ".storage" / "onboarding"
        if path.exists():
            return
        path.parent.mkdir(exist_ok=True)
        data = {
            "version": _ONBOARDING_STORAGE_VERSION,
            "minor_version": 1,
            "key": "onboarding",
            "data": {"done": list(_PRESET_ONBOARDING)},
        }
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    def _store_http_config(self) -> None:
        """Bind Home Assistant 2026.8+ to 127.0.0.1:port through its HTTP store, confirmed."""
        yaml_path = self.config_dir / "configuration.yaml"
        text = yaml_path.read_text(encoding="utf-8")
        without_http = _YAML_HTTP_BLOCK.sub("", text)
        if without_http != text:
            yaml_path.write_text(without_http, encoding="utf-8")
        # Home Assistant's defaults for a stored config (components/http), but host and port.
        settings = {
            "server_host": [HOST],
            "server_port": self.port,
            "cors_allowed_origins": ["https://cast.home-assistant.io"],
            "login_attempts_threshold": -1,
            "ip_ban_enabled": True,
            "ssl_profile": "modern",
            "use_x_frame_options": True,
            "created_at": datetime.now(UTC).isoformat(),
            "error": None,
            "error_message": None,
        }
        version, minor = _HTTP_STORAGE_VERSION
        data = {
            "version": version,
            "minor_version": minor,
            "key": "http",
            "data": {"stable": settings, "pending": None, "yaml_migration_done": True},
        }
        _write_private(self.config_dir / ".storage" / "http", json.dumps(data, indent=2) + "\n")

    def _discovered_address(self) -> str:
        """Return the discovered printer's address: last run's while free, else a new one.

        Kept across runs so an entry added from the discovered card stays where it is; when
        the address is taken, the new one reaches that entry through its announcements.
        """
        path = self.state_dir / "discovered_host"
        if path.exists():
            with contextlib.suppress(ValueError, RuntimeError):
                kept = path.read_text(encoding="utf-8").strip()
                return own_loopback_address(only=kept)
        host = own_loopback_address()
        path.write_text(host + "\n", encoding="utf-8")
        return host

    def _secret(self, name: str, make: Callable[[], str]) -> str:
        """Return a value kept in .demo/ across runs, creating it the first time."""
        path = self.state_dir / name
        if path.exists():
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value
        value = make()
        _write_private(path, value + "\n")
        return value

    # ------------------------------------------------------------------ start

    async def start(self) -> None:
        """Start everything and add (or update) the printers; returns when all are loaded."""
        self.started_at = time.monotonic()
        await self._start_simulator()
        await self._start_hass()
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            api = HomeAssistantApi(session, self.base_url)
            try:
                await wait_for(self._hass_up(api), within=HA_START_TIMEOUT, what="Home Assistant")
            finally:
                self.release_port()
            self.say(f"Home Assistant answers after {self.elapsed():.1f} s")
            if await api.needs_owner():
                await api.create_owner(self._password)
                self.say(
                    f"created the owner account {OWNER_USERNAME!r} (its password is in "
                    f"{self.state_dir / 'owner_password'}; this machine needs none)"
                )
            await api.login()
            await self._add_printers(api)
        ca_option = "" if self.ca_dir == KEPT_CA_DIR.resolve() else f" --ca-dir {self.ca_dir}"
        self.say(
            f"more printers: `python -m simulator{ca_option}`, then add them under Settings > "
            "Devices & services (README: Adding a printer by hand)"
        )
        if self.discovered is not None:
            self.say(
                f"the {self.discovered.model} {self.discovered.serial} waits under Settings > "
                "Devices & services, Discovered: add it with the access code in "
                f"{self.state_dir / 'access_code'}"
            )
        self.say(
            f"switch a printer off and on: `python -m simulator.control {self.endpoints_file} "
            "SERIAL stop_broker` (then start_broker; authorization_control [--off] too)"
        )

    def elapsed(self) -> float:
        """Return the seconds since start() began."""
        return time.monotonic() - self.started_at

    async def _start_simulator(self) -> None:
        printers = [*self.printers, *([self.discovered] if self.discovered else [])]
        models = ",".join(printer.model for printer in printers)
        self.say(f"starting simulated printers {models} at {self.speedup:g}x speed")
        json_out = self.endpoints_file
        # The discovered printer on its own address, the others on 127.0.0.1.
        hosts = ["-"] * len(self.printers) + [self.discovered_host] * (self.discovered is not None)
        self.simulator = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "simulator",
            "--printers",
            models,
            "--serials",
            ",".join(printer.serial for printer in printers),
            f"--hosts={','.join(hosts)}",
            "--announce-port",
            str(self.discovery_port),
            "--access-code",
            self._access_code,
            "--speedup",
            str(self.speedup),
            "--printing",
            "--camera",
            "--files",  # each printer's card over FTPS: cover images, timelapses
            "--control",  # for `python -m simulator.control` and the end-to-end tests
            "--json-out",
            str(json_out),
            "--ca-dir",  # the CA Home Assistant trusts, kept for printers started by hand
            str(self.ca_dir),
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._simulator_log,
            preexec_fn=_die_with_parent,  # this process has no threads
            # A session of its own: Ctrl-C in the terminal reaches the demo and Home Assistant,
            # not the printers, which the demo stops only once Home Assistant has let go of
            # them (else Home Assistant could see them vanish first and report an outage).
            start_new_session=True,
        )
        stdout = self.simulator.stdout
        assert stdout is not None  # noqa: S101  (PIPE above)
        try:
            async with asyncio.timeout(SIMULATOR_START_TIMEOUT):
                while not (line := await stdout.readline()).startswith(b"simulator: running"):
                    if not line:
                        raise DemoError(
                            f"the simulator exited; see {self.state_dir / 'simulator.log'}"
                        )
        except TimeoutError as err:
            raise DemoError("the simulator did not start within 30 s") from err
        self._drain = asyncio.create_task(self._drain_simulator(stdout), name="demo drain")
        added = {printer.serial for printer in self.printers}
        self.endpoints = [e for e in _read_json(json_out)["printers"] if e["serial"] in added]

    async def _drain_simulator(self, stdout: asyncio.StreamReader) -> None:
        """Keep reading the simulator's output so it never blocks on a full pipe."""
        while await stdout.readline():
            pass

    async def _start_hass(self) -> None:
        ca_path = str(self.endpoints[0]["ca_path"])
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            PORT_ENV: str(self.port),
            DISCOVERY_PORT_ENV: str(self.discovery_port),
        }
        self.say(f"starting Home Assistant from {self.config_dir}")
        self.hass = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "scripts.demo_hass",  # Home Assistant, trusting the simulator's CA
            ca_path,
            "--config",
            str(self.config_dir),
            "--skip-pip",
            cwd=self.config_dir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._hass_log,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # this process has no threads
        )

    def _hass_up(self, api: HomeAssistantApi) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            if self.hass is None or self.hass.returncode is not None:
                raise DemoError(
                    "Home Assistant exited during start-up; see "
                    f"{self.config_dir / 'home-assistant.log'}"
                )
            if listened_by_other(self.port, self.hass.pid):
                raise DemoError(
                    f"port {self.port} on {HOST} was taken by another program before Home "
                    f"Assistant could listen on it; start again, or choose another with --port"
                )
            return await api.is_up()

        return check

    async def _add_printers(self, api: HomeAssistantApi) -> None:
        entries = await api.entries()

        async def add_or_update(endpoint: Mapping[str, Any]) -> str:
            form = printer_form(endpoint)
            entry = find_entry(entries, str(endpoint["serial"]))
            if entry is None:
                title = await api.add_printer(form)
                return f"added {title}"
            await api.reconfigure_printer(str(entry["entry_id"]), form)
            return f"updated {entry['title']} (new ports)"

        for message in await asyncio.gather(*map(add_or_update, self.endpoints)):
            self.say(message)

        serials = [str(endpoint["serial"]) for endpoint in self.endpoints]

        async def all_loaded() -> bool:
            current = await api.entries()
            found = [find_entry(current, serial) for serial in serials]
            return all(entry is not None and entry["state"] == "loaded" for entry in found)

        await wait_for(all_loaded, within=ENTRY_LOAD_TIMEOUT, what="the printers to connect")

    # ------------------------------------------------------------------ run and stop

    async def wait_exited(self) -> str:
        """Return when Home Assistant or the simulator exits by itself, naming it."""
        waits = {
            asyncio.ensure_future(process.wait()): name
            for process, name in ((self.hass, "Home Assistant"), (self.simulator, "the simulator"))
            if process is not None
        }
        try:
            done, _pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in waits:
                future.cancel()
        return waits[next(iter(done))]

    async def stop(self) -> None:
        """Stop Home Assistant, then the simulator (and so its brokers); idempotent."""
        started = time.monotonic()
        hass, self.hass = self.hass, None
        if hass is not None:
            await _terminate(hass, HA_STOP_TIMEOUT)
        hass_stopped = time.monotonic()
        simulator, self.simulator = self.simulator, None
        if simulator is not None:
            await _terminate(simulator, SIMULATOR_STOP_TIMEOUT)
        if hass is not None or simulator is not None:
            self.say(
                f"Home Assistant was down {hass_stopped - started:.1f} s into the stop, "
                f"the simulator {time.monotonic() - hass_stopped:.1f} s later"
            )
        drain, self._drain = self._drain, None
        if drain is not None:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain
        for log in (self._simulator_log, self._hass_log):
            if log is not None:
                log.close()
        self._simulator_log = self._hass_log = None


async def _terminate(process: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM a child and reap it; SIGKILL when it does not stop in time."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            async with asyncio.timeout(grace):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
    await process.wait()


async def run(stack: DemoStack) -> int:
    """Start the stack, print its URL, run until SIGINT/SIGTERM or a child dies, stop it."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    stopping = asyncio.ensure_future(stop.wait())
    code = 0
    try:
        code = await _run_until_stopped(stack, stopping)
    except DemoError as err:
        stack.say(f"error: {err}")
        code = 1
    finally:
        stopping.cancel()
        await stack.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    stack.say("stopped")
    return code


async def _run_until_stopped(stack: DemoStack, stopping: asyncio.Future[Any]) -> int:
    starting = asyncio.ensure_future(stack.start())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        stack.say("interrupted during start-up; stopping")
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError, DemoError):
            await starting
        return 0
    starting.result()
    stack.say(f"ready after {stack.elapsed():.1f} s: open {stack.url}  (Ctrl-C stops everything)")
    exited = asyncio.ensure_future(stack.wait_exited())
    await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if exited.done():
        stack.say(f"{exited.result()} exited unexpectedly; stopping")
        return 1
    exited.cancel()
    stack.say("stopping")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of ``scripts/develop``."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description="Run Home Assistant with three simulated Bambu Lab printers on 127.0.0.1.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help=f"Home Assistant config folder (default: {DEFAULT_CONFIG.relative_to(ROOT)}/ in the "
        "repository)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get(PORT_ENV, DEFAULT_PORT)),
        help=f"Home Assistant's HTTP port on {HOST}, 0 for any free one (default: ${PORT_ENV} or "
        f"{DEFAULT_PORT})",
    )
    parser.add_argument(
        "--speedup",
        type=float,
        default=DEFAULT_SPEEDUP,
        help=f"simulated seconds per real second (default {DEFAULT_SPEEDUP:g})",
    )
    parser.add_argument(
        "--ca-dir",
        type=Path,
        default=KEPT_CA_DIR,
        help="the simulator's CA, which Home Assistant trusts; `python -m simulator` uses the "
        f"same by default (default: {KEPT_CA_DIR.relative_to(ROOT)}/ in the repository)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo until interrupted."""
    args = build_parser().parse_args(argv)
    stack = DemoStack(args.config, port=args.port, speedup=args.speedup, ca_dir=args.ca_dir)
    try:
        stack.prepare()
    except DemoError as err:
        print(f"[demo] error: {err}", file=sys.stderr)  # noqa: T201
        return 1
    return asyncio.run(run(stack))


if __name__ == "__main__":
    sys.exit(main())
