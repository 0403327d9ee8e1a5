"""A private Mosquitto broker per simulated printer, because a real printer is its own broker.

Each :class:`Broker` runs ``mosquitto -c <its own config>`` on 127.0.0.1 with a TLS listener
(the simulated printer's certificate), password authentication (no anonymous access) and no
persistence, plus a plain loopback listener through which the simulated printer itself connects
(with its own account). It can be stopped and restarted on the *same* port (clients see the
printer reboot) and its passwords changed at run time (SIGHUP makes Mosquitto reload them).
Every process it starts is reaped; on Linux the broker also dies with its parent.
"""

import asyncio
import base64
import contextlib
import ctypes
import hashlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

from custom_components.bambu_printer.printer.errors import AuthError, BambuError
from custom_components.bambu_printer.printer.mqtt_link import open_mqtt_link

from .tls_front import Tls13Silent

__all__ = ["Broker", "BrokerError", "MosquittoNotFoundError", "find_mosquitto", "hash_password"]

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0
_PBKDF2_ITERATIONS = 101  # what mosquitto_passwd writes
_PR_SET_PDEATHSIG = 1
# The largest remaining length MQTT 3.1.1 can express (four length bytes).
MQTT_MAX_PACKET_SIZE = 268_435_455


class BrokerError(RuntimeError):
    """The broker could not be started or reconfigured."""


class MosquittoNotFoundError(BrokerError):
    """No Mosquitto executable on this machine."""


def find_mosquitto() -> Path:
    """Return the mosquitto executable (PATH, then /usr/sbin and /usr/local/sbin)."""
    found = shutil.which("mosquitto")
    if found:
        return Path(found)
    for candidate in (Path("/usr/sbin/mosquitto"), Path("/usr/local/sbin/mosquitto")):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise MosquittoNotFoundError(
        "mosquitto not found (looked on PATH, /usr/sbin and /usr/local/sbin); "
        "run scripts/setup or install the 'mosquitto' package"
    )


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Hash like ``mosquitto_passwd`` does: ``$7$<iterations>$<salt>$<PBKDF2-SHA512>``."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ITERATIONS)
    encoded_salt = base64.b64encode(salt).decode()
    return f"$7${_PBKDF2_ITERATIONS}${encoded_salt}${base64.b64encode(digest).decode()}"


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover  (runs in the forked child)
    """Ask Linux to SIGTERM the broker when the process that started it dies."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


async def _close_quietly(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


class Broker:
    """One Mosquitto process: a TLS listener for clients, a plain one for the printer itself."""

    def __init__(
        self,
        *,
        directory: Path,
        certfile: Path,
        keyfile: Path,
        cafile: Path,
        users: Mapping[str, str],
        host: str = "127.0.0.1",
        port: int = 0,
        answers_tls13: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.certfile = certfile
        self.keyfile = keyfile
        self.cafile = cafile
        self.host = host
        self._requested_port = port
        self._port = port
        self._users = dict(users)
        self.config_path = self.directory / "mosquitto.conf"
        self.password_path = self.directory / "passwd"
        self.log_path = self.directory / "mosquitto.log"
        self._internal_port = 0
        # Firmware that ignores TLS 1.3 ClientHellos: Mosquitto's TLS listener moves to a
        # private port and a front that stays silent to such hellos takes the public one.
        self._answers_tls13 = answers_tls13
        self._tls_port = 0
        self._front: Tls13Silent | None = None
        self._process: asyncio.subprocess.Process | None = None
        self.starts = 0

    def __repr__(self) -> str:
        return f"<Broker {self.host}:{self._port} running={self.running}>"

    @property
    def port(self) -> int:
        """Return the TLS listener's port (fixed after the first start)."""
        return self._port

    @property
    def internal_port(self) -> int:
        """Return the plain-TCP loopback port the simulated printer itself connects to."""
        return self._internal_port

    @property
    def running(self) -> bool:
        """Return whether the Mosquitto process is alive."""
        return self._process is not None and self._process.returncode is None

    @property
    def pid(self) -> int | None:
        """Return the running process id (for tests that check nothing is left)."""
        return self._process.pid if self.running and self._process else None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def _write_passwords(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        lines = "".join(f"{user}:{hash_password(pw)}\n" for user, pw in self._users.items())
        tmp = self.password_path.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(lines, encoding="utf-8")
        tmp.replace(self.password_path)

    def _write_config(self) -> None:
        user = pwd.getpwuid(os.geteuid()).pw_name
        self.config_path.write_text(
            "\n".join(
                [
                    "# written by simulator.broker; one private broker per simulated printer",
                    "per_listener_settings false",
                    "allow_anonymous false",
                    f"password_file {self.password_path}",
                    "persistence false",
                    f"user {user}",  # stay the current user even when run as root
                    f"log_dest file {self.log_path}",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "log_type information",
                    "connection_messages true",
                    "log_timestamp true",
                    "set_tcp_nodelay true",
                    # Any packet MQTT allows, whatever this Mosquitto's default (2.1 lowered it
                    # to 2 MB): the client's own size limit is what the tests exercise.
                    f"max_packet_size {MQTT_MAX_PACKET_SIZE}",
                    "",
                    f"listener {self._tls_port} {self.host}",
                    f"cafile {self.cafile}",
                    f"certfile {self.certfile}",
                    f"keyfile {self.keyfile}",
                    "tls_version tlsv1.2",
                    "",
                    f"listener {self._internal_port} {self.host}",  # plain, for the printer itself
                    "",
                ]
            ),
            encoding="utf-8",
        )

    def log_tail(self, lines: int = 20) -> str:
        """Return the end of the broker's log (for error messages)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def start(self) -> None:
        """Start Mosquitto and return once both listeners accept connections."""
        if self.running:
            return
        executable = find_mosquitto()
        self.directory.mkdir(parents=True, exist_ok=True)
        attempts = 3
        for attempt in range(attempts):
            self._choose_ports()
            with contextlib.suppress(FileNotFoundError):
                self.log_path.replace(self.log_path.with_suffix(".log.1"))
            self._write_passwords()
            self._write_config()
            self._process = await asyncio.create_subprocess_exec(
                str(executable),
                "-c",
                str(self.config_path),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            try:
                await self._wait_ready()
                await self._start_front()
            except (BrokerError, OSError):
                await self._terminate()
                if attempt + 1 == attempts:
                    raise
                continue
            self.starts += 1
            return

    def _choose_ports(self) -> None:
        """Pick the public port once (unless given) and fresh private ones for every start.

        The public port stays, so clients see a reboot. The private ones are chosen again:
        while the broker was down, another socket may have been given a released one.
        """
        if self.starts == 0:
            self._port = self._requested_port or free_port(self.host)
        taken = {self._port}
        private = []
        for _ in range(1 if self._answers_tls13 else 2):
            port = free_port(self.host)
            while port in taken:  # pragma: no cover  (unlikely)
                port = free_port(self.host)
            taken.add(port)
            private.append(port)
        self._internal_port = private[0]
        self._tls_port = self._port if self._answers_tls13 else private[1]

    async def _start_front(self) -> None:
        """Put the TLS 1.3-ignoring front on the public port, where the firmware needs one."""
        if self._answers_tls13:
            return
        front = Tls13Silent(self.host, self._port, self._tls_port)
        await front.start()
        self._front = front

    async def _wait_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _START_TIMEOUT
        while True:
            process = self._process
            if process is None or process.returncode is not None:
                raise BrokerError(f"mosquitto exited during start-up:\n{self.log_tail()}")
            if self._log_says_running() and await self._accepts():
                return
            if loop.time() > deadline:
                raise BrokerError(f"mosquitto did not open its listeners:\n{self.log_tail()}")
            await asyncio.sleep(0.01)

    def _log_says_running(self) -> bool:
        # Mosquitto logs "running" after installing its signal handlers; a SIGHUP before
        # that would kill it instead of reloading the passwords.
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
        return " running" in text

    async def _accepts(self) -> bool:
        for port in (self._tls_port, self._internal_port):
            try:
                _reader, writer = await asyncio.open_connection(self.host, port)
            except OSError:  # pragma: no cover  (mosquitto logs "running" after listening)
                return False
            await _close_quietly(writer)
        return True

    async def _terminate(self) -> None:
        front, self._front = self._front, None
        if front is not None:
            await front.stop()
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            async with asyncio.timeout(_STOP_TIMEOUT):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def stop(self) -> None:
        """Stop Mosquitto (SIGTERM, then SIGKILL) and reap it; idempotent."""
        process = self._process
        try:
            await self._terminate()
        finally:
            if process is not None and process.returncode is None:  # cancelled mid-way
                with contextlib.suppress(ProcessLookupError):
                    process.kill()

    async def restart(self, downtime: float = 0.0) -> None:
        """Stop and start again on the same port; every client is disconnected."""
        await self.stop()
        if downtime > 0:
            await asyncio.sleep(downtime)
        await self.start()

    async def set_password(self, username: str, password: str) -> None:
        """Add or change a user's password; a running broker reloads it (SIGHUP).

        Returns once the new password is accepted. Mosquitto re-checks connected clients on
        the reload, so sessions logged in with the old password are closed, and refused when
        they reconnect with it.
        """
        self._users[username] = password
        self._write_passwords()
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGHUP)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _START_TIMEOUT
        while not await self._password_works(username, password):
            if loop.time() > deadline:
                raise BrokerError(f"mosquitto did not reload its passwords:\n{self.log_tail()}")
            await asyncio.sleep(0.01)

    async def _password_works(self, username: str, password: str) -> bool:
        try:
            connection = await open_mqtt_link(
                host=self.host,
                port=self._internal_port,
                client_id=f"sim-check-{secrets.token_hex(4)}",
                username=username,
                password=password,
                ssl_context=None,
                keepalive=5,
                on_message=lambda _topic, _payload: None,
                name="broker password check",
            )
        except AuthError:
            return False
        except BambuError as err:
            raise BrokerError(f"cannot reach the broker: {err}") from err
        await connection.close()
        return True
