"""One MQTT connection per printer: status reports in, commands out, kept up in the background.

The printer runs the MQTT broker itself (MQTT 3.1.1 over TLS on port 8883); the protocol comes
from paho-mqtt through :mod:`.mqtt_link`. :class:`PrinterClient` is what the integration uses:
it merges every report into a :class:`~.state.PrinterState`, answers ``async_request`` calls
from the printer's replies, and keeps the link up with exponential backoff, telling its
listeners about availability changes and refused credentials.
"""

import asyncio
import contextlib
import json
import logging
import random
import secrets
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .commands import Command, CommandFactory, Reply, match_reply
from .errors import (
    AuthError,
    BambuError,
    CommandRejected,
    CommandTimeout,
    ConnectError,
    ConnectTimeout,
    NotConnected,
    SubscriptionRefused,
)
from .mqtt_link import MqttLink, open_mqtt_link
from .state import PrinterState, is_full_report

__all__ = [
    "MAX_REPORT_SIZE",
    "Backoff",
    "ConnectionSettings",
    "PrinterClient",
]

_LOGGER = logging.getLogger(__name__)

MAX_REPORT_SIZE: Final = 1024 * 1024
"""Reports larger than this are dropped unparsed (real ones are a few kilobytes)."""


@dataclass(frozen=True, kw_only=True)
class ConnectionSettings:
    """Where and how to reach one printer's MQTT broker; the password stays out of the repr.

    LAN: ``username="bblp"``, ``password=<access code>``, TLS name = the serial.
    Cloud: ``username="u_<uid>"``, ``password=<token>``, ``server_hostname=<broker host>``.
    """

    host: str
    serial: str
    password: str = field(repr=False)
    ssl_context: ssl.SSLContext | None = field(repr=False)
    port: int = 8883
    username: str = "bblp"
    server_hostname: str | None = None
    keepalive: int = 30
    client_id: str | None = None

    @property
    def tls_server_hostname(self) -> str:
        """Return the name the certificate must carry (the serial for a LAN printer)."""
        return self.server_hostname or self.serial

    @property
    def report_topic(self) -> str:
        """Return the topic the printer publishes its reports on."""
        return f"device/{self.serial}/report"

    @property
    def request_topic(self) -> str:
        """Return the topic the printer takes commands from."""
        return f"device/{self.serial}/request"


@dataclass(frozen=True)
class Backoff:
    """Reconnect delays: ``initial * 2**attempt`` capped at ``maximum``, +-``jitter`` spread.

    The cap is low so a printer that was off for hours is back seconds after it answers; each
    attempt starts with a plain TCP probe, so retrying an absent printer stays cheap.
    """

    initial: float = 1.0
    maximum: float = 5.0
    jitter: float = 0.2

    def delay(self, attempt: int, rand: float) -> float:
        """Return the delay before retry number ``attempt`` (0-based); ``rand`` is in [0, 1)."""
        base = min(self.maximum, self.initial * 2.0 ** min(attempt, 32))
        return max(0.0, base * (1.0 + self.jitter * (2.0 * rand - 1.0)))


type UpdateListener = Callable[[], None]
type AvailabilityListener = Callable[[bool], None]
type AuthFailureListener = Callable[[], None]


class PrinterClient:
    """The integration's one connection to one printer.

    ``state`` is merged from every report; ``add_update_listener`` callbacks run after each
    report that changed it. ``async_start`` connects and then keeps reconnecting with
    exponential backoff until ``async_stop``, or until the printer refuses the credentials
    (then the auth-failure listeners run and the client stays down: retrying a wrong access
    code helps nobody). ``sleep`` and ``rand`` are injectable so tests can run the backoff fast.
    ``loads`` parses a report's bytes: Home Assistant hands in its own, faster JSON parser.

    Another client can stop the printer's report stream (``pushing.stop``); the link then
    stays up but no status report comes. After ``restart_pushes_after`` seconds without one
    the client sends ``pushing.start``, and again each such period while none comes.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        state: PrinterState | None = None,
        commands: CommandFactory | None = None,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        stable_after: float = 60.0,
        restart_pushes_after: float = 20.0,
        loads: Callable[[bytes | str], Any] = json.loads,
    ) -> None:
        self.settings = settings
        self._loads = loads
        self.state = state if state is not None else PrinterState()
        self.commands = commands if commands is not None else CommandFactory()
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._rand = rand
        self._stable_after = stable_after
        self._restart_pushes_after = restart_pushes_after
        self._last_push = 0.0
        self._push_watch: asyncio.TimerHandle | None = None
        self._client_id = settings.client_id or f"bambu_printer_{secrets.token_hex(6)}"
        self._available = False
        self.lost_reason: BaseException | None = None  # why the link is down (None while up)
        self._connection: MqttLink | None = None
        self._connected_at = 0.0
        self._supervisor: asyncio.Task[None] | None = None
        self._reconnect = False
        self._attempt = 0
        self._wake: asyncio.Future[None] | None = None
        self._attempt_waiters: list[asyncio.Future[None]] = []
        self._connect_timeout = 10.0
        self._first_report: _FirstReport | None = None
        self._pending: list[tuple[Command, asyncio.Future[Reply]]] = []
        self._update_listeners: list[UpdateListener] = []
        self._availability_listeners: list[AvailabilityListener] = []
        self._auth_failure_listeners: list[AuthFailureListener] = []
        self.reports_received = 0
        self.connects = 0

    def __repr__(self) -> str:
        return (
            f"<PrinterClient serial={self.serial} host={self.settings.host}:"
            f"{self.settings.port} available={self._available}>"
        )

    @property
    def serial(self) -> str:
        """Return the printer's serial number."""
        return self.settings.serial

    @property
    def available(self) -> bool:
        """Return whether the link is up and the printer has reported since connecting."""
        return self._available

    # ---------------------------------------------------------------------------- listeners

    def add_update_listener(self, callback: UpdateListener) -> Callable[[], None]:
        """Call ``callback()`` after every report that changed the state; returns a remover."""
        return _add(self._update_listeners, callback)

    def add_availability_listener(self, callback: AvailabilityListener) -> Callable[[], None]:
        """Call ``callback(available)`` on every availability transition; returns a remover."""
        return _add(self._availability_listeners, callback)

    def add_auth_failure_listener(self, callback: AuthFailureListener) -> Callable[[], None]:
        """Call ``callback()`` when a reconnect is refused for bad credentials; returns remover."""
        return _add(self._auth_failure_listeners, callback)

    def _set_available(self, available: bool, reason: BaseException | None = None) -> None:
        if available == self._available:
            return
        self._available = available
        self.lost_reason = reason
        # Debug only: the integration logs availability once, at info level (printers are
        # switched off every day; that is no warning).
        if available:
            _LOGGER.debug("Connected to printer %s at %s", self.serial, self.settings.host)
        elif reason is not None:
            _LOGGER.debug("Lost connection to printer %s: %s", self.serial, reason)
        else:
            _LOGGER.debug("Disconnected from printer %s", self.serial)
        for callback in list(self._availability_listeners):
            try:
                callback(available)
            except Exception:
                _LOGGER.exception("Availability listener failed")

    # ---------------------------------------------------------------------------- lifecycle

    async def async_connect(self, timeout: float = 10) -> None:  # noqa: ASYNC109  (contract API)
        """Connect, subscribe, ask for the full state and return once it was merged.

        Returns at once when already connected (or reconnecting in the background).
        Raises :class:`AuthError`, :class:`TlsError`, :class:`ConnectError` (its subclass
        :class:`SubscriptionRefused` when the login worked but the subscription did not) or
        :class:`ConnectTimeout` (nothing useful within ``timeout`` seconds).
        """
        if self._supervisor is not None and not self._supervisor.done():
            return  # connected, or reconnecting in the background
        self._connect_timeout = timeout
        connection = await self._connect_once(timeout)
        self._install(connection)

    async def async_start(self, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Connect as :meth:`async_connect` does, then keep the link up in the background."""
        self._reconnect = True
        try:
            await self.async_connect(timeout)
        except BaseException:
            self._reconnect = False
            raise

    async def async_stop(self) -> None:
        """Close the connection and the supervisor; pending requests fail with NotConnected.

        Idempotent; after it returns no task, timer or socket of this client is left.
        """
        self._reconnect = False
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None and not supervisor.done():
            supervisor.cancel()
            await asyncio.wait([supervisor])
        self._unwatch_pushes()
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
        self._fail_pending("the client was stopped")
        self._set_available(False)

    def _install(self, connection: MqttLink) -> None:
        """Adopt a freshly connected session and watch it from the supervisor task."""
        self._connection = connection
        self._connected_at = asyncio.get_running_loop().time()
        self.connects += 1
        self._set_available(True)
        self._watch_pushes()
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(connection), name=f"bambu_printer {self.serial} supervisor"
        )

    async def _connect_once(self, connect_timeout: float) -> MqttLink:
        """Open a session, subscribe, ask for the state and wait until it was merged.

        Done at the first full report (the pushall answer). If only deltas arrive, pushall is
        sent once more after ``_PUSHALL_RETRY`` seconds, and the first delta is accepted after
        ``_FULL_REPORT_GRACE`` seconds, so firmware whose full report looks different can still
        connect.
        """
        settings = self.settings
        loop = asyncio.get_running_loop()
        deadline = loop.time() + connect_timeout
        first = _FirstReport(loop)
        connection: MqttLink | None = None
        try:
            async with asyncio.timeout(connect_timeout):
                self._first_report = first
                connection = await open_mqtt_link(
                    host=settings.host,
                    port=settings.port,
                    client_id=self._client_id,
                    username=settings.username,
                    password=settings.password,
                    ssl_context=settings.ssl_context,
                    server_hostname=settings.tls_server_hostname,
                    keepalive=settings.keepalive,
                    on_message=self._on_message,
                    name=f"printer {self.serial}",
                )
                connection.add_close_callback(first.fail)
                connection.watch_silence(3 * settings.keepalive, self._on_quiet)
                self._check_suback(await connection.subscribe([(settings.report_topic, 0)]))
                await self._send(connection, self.commands.pushall())
                await self._send(connection, self.commands.get_version())
                await first.any
            grace_end = min(loop.time() + _FULL_REPORT_GRACE, deadline)
            retry = min(_PUSHALL_RETRY, grace_end - loop.time())
            if not first.full.done() and retry > 0:
                await asyncio.wait([first.full], timeout=retry)
                if not first.full.done():
                    # The pushall may have been lost (e.g. sent before the printer's own
                    # link was back): ask once more before settling for deltas.
                    await self._send(connection, self.commands.pushall())
                    await asyncio.wait([first.full], timeout=max(0.0, grace_end - loop.time()))
            if first.full.done():
                first.full.result()  # raises when the link dropped meanwhile
        except BaseException as err:
            if connection is not None:
                await connection.close()
            if isinstance(err, TimeoutError):
                raise ConnectTimeout(
                    f"printer {self.serial} did not send its state within {connect_timeout:g} s"
                ) from err
            if isinstance(err, NotConnected):
                reason = connection.close_reason if connection is not None else None
                if isinstance(reason, BambuError):
                    raise reason from err
                raise ConnectError(f"connection to printer {self.serial} lost: {err}") from err
            raise
        finally:
            self._first_report = None
            first.discard()
        return connection

    async def _supervise(self, connection: MqttLink) -> None:
        """Wait for the link to drop; then reconnect with backoff while asked to."""
        loop = asyncio.get_running_loop()
        while True:
            reason = await connection.wait_closed()
            self._unwatch_pushes()
            await connection.close()
            self._connection = None
            self._fail_pending("the connection to the printer was lost")
            self._set_available(False, reason)
            if not self._reconnect:
                return
            if loop.time() - self._connected_at >= self._stable_after:
                self._attempt = 0
            new_connection = await self._reconnect_with_backoff()
            if new_connection is None:
                return
            connection = self._connection = new_connection
            self._connected_at = loop.time()
            self.connects += 1
            self._set_available(True)
            self._watch_pushes()

    async def _reconnect_with_backoff(self) -> MqttLink | None:
        """Retry until connected (returned) or the credentials are refused (None).

        Only ``async_stop`` ends it otherwise, by cancelling the supervisor.
        """
        while True:
            delay = self._backoff.delay(self._attempt, self._rand())
            self._attempt += 1
            _LOGGER.debug("Reconnecting to printer %s in %.1f s", self.serial, delay)
            await self._pause(delay)
            try:
                if await self._probe():
                    return await self._connect_once(self._connect_timeout)
            except AuthError:
                self._auth_failed()
                return None
            except BambuError as err:
                _LOGGER.debug("Reconnect to printer %s failed: %s", self.serial, err)
            finally:
                self._attempt_over()

    async def _pause(self, delay: float) -> None:
        """Wait ``delay`` seconds before the next attempt, or until ``async_retry_now``."""
        loop = asyncio.get_running_loop()
        wake = self._wake = loop.create_future()
        sleeper = asyncio.ensure_future(self._sleep(delay))
        try:
            await asyncio.wait([sleeper, wake], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._wake = None
            wake.cancel()
            if not sleeper.done():
                sleeper.cancel()
                await asyncio.wait([sleeper])

    async def _probe(self) -> bool:
        """Return whether the broker's port takes a TCP connection (no TLS, no thread).

        An absent printer refuses or ignores the connect; the full attempt, which holds an
        executor thread for up to its connect timeout, is saved for one that answers.
        """
        settings = self.settings
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(_PROBE_TIMEOUT):
                transport, _protocol = await loop.create_connection(
                    asyncio.Protocol, settings.host, settings.port
                )
        except (OSError, TimeoutError, ValueError) as err:
            reason = (err.strerror if isinstance(err, OSError) else None) or type(err).__name__
            _LOGGER.debug(
                "Printer %s does not answer at %s:%s: %s",
                self.serial,
                settings.host,
                settings.port,
                reason,
            )
            return False
        transport.close()
        return True

    async def async_retry_now(self) -> None:
        """Make a client that is reconnecting try at once; return when that attempt is over.

        For a refresh the user asked for: the printer may be back long before the next retry
        is due. Does nothing when connected, stopped, or stopped by refused credentials;
        read ``available`` afterwards.
        """
        supervisor = self._supervisor
        if self._available or not self._reconnect or supervisor is None or supervisor.done():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._attempt_waiters.append(waiter)
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)
        try:
            await asyncio.wait([waiter, supervisor], return_when=asyncio.FIRST_COMPLETED)
        finally:
            with contextlib.suppress(ValueError):
                self._attempt_waiters.remove(waiter)
            waiter.cancel()

    def _attempt_over(self) -> None:
        """Tell whoever waits in ``async_retry_now`` that an attempt has ended."""
        waiters, self._attempt_waiters = self._attempt_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _auth_failed(self) -> None:
        _LOGGER.error(
            "Printer %s refused the credentials; not retrying until they are updated",
            self.serial,
        )
        self._reconnect = False
        for callback in list(self._auth_failure_listeners):
            try:
                callback()
            except Exception:
                _LOGGER.exception("Auth failure listener failed")

    def _check_suback(self, codes: tuple[int, ...]) -> None:
        """Raise SubscriptionRefused when the broker refused the report subscription.

        The login succeeded before this, so the access code is right: no reauth for it.
        """
        if codes and codes[0] < _SUBACK_FAILURE:
            return
        _LOGGER.warning(
            "Printer %s accepted the login but refused the subscription to its reports; "
            "this is not an access code problem, retrying later",
            self.serial,
        )
        raise SubscriptionRefused(f"printer {self.serial} refused the subscription to its reports")

    # ---------------------------------------------------------------------------- messages

    def _watch_pushes(self) -> None:
        """Start looking out for a stopped report stream on the current connection."""
        self._unwatch_pushes()
        loop = asyncio.get_running_loop()
        self._last_push = loop.time()
        self._push_watch = loop.call_later(self._restart_pushes_after, self._check_pushes)

    def _unwatch_pushes(self) -> None:
        if self._push_watch is not None:
            self._push_watch.cancel()
            self._push_watch = None

    def _check_pushes(self) -> None:
        """Ask for the report stream again when none came for ``restart_pushes_after`` s.

        The timer wakes once per period while reports flow; it re-arms itself.
        """
        self._push_watch = None
        connection = self._connection
        if connection is None or connection.closed:
            return
        loop = asyncio.get_running_loop()
        wait = self._restart_pushes_after - (loop.time() - self._last_push)
        if wait <= 0:
            _LOGGER.debug(
                "Printer %s sent no report for %.0f s; asking it to push again",
                self.serial,
                self._restart_pushes_after,
            )
            with contextlib.suppress(NotConnected):
                connection.publish_nowait(
                    self.settings.request_topic, self.commands.push_start().encode()
                )
            wait = self._restart_pushes_after
        self._push_watch = loop.call_later(wait, self._check_pushes)

    def _on_quiet(self) -> None:
        """Ask a printer that stopped reporting for its state before declaring it dead."""
        connection = self._connection
        if connection is None or connection.closed:
            return
        _LOGGER.debug("Printer %s is quiet; asking for its full state", self.serial)
        payload = self.commands.pushall().encode()
        with contextlib.suppress(NotConnected):
            connection.publish_nowait(self.settings.request_topic, payload)

    def _on_message(self, topic: str, payload: bytes) -> None:
        if topic != self.settings.report_topic:
            _LOGGER.debug("Ignoring message on %s", topic)
            return
        if len(payload) > MAX_REPORT_SIZE:
            _LOGGER.debug("Dropping a %d byte report (too large)", len(payload))
            return
        try:
            message = self._parse(payload)
        except (ValueError, RecursionError):
            _LOGGER.debug("Dropping a report that is not valid JSON")
            return
        if not isinstance(message, dict):
            _LOGGER.debug("Dropping a report that is not a JSON object")
            return
        self.reports_received += 1
        self._handle_report(message)

    def _parse(self, payload: bytes) -> Any:
        """Parse the bytes as they came; only a failed parse pays for decoding them first."""
        try:
            return self._loads(payload)
        except ValueError:
            return self._loads(_decode(payload, self.serial))

    def _handle_report(self, message: Mapping[str, Any]) -> None:
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug("Report from %s: %s", self.serial, ", ".join(map(str, message)))
        body = message.get("print")
        if isinstance(body, Mapping) and body.get("command") == "push_status":
            self._last_push = asyncio.get_running_loop().time()
        try:
            changed = self.state.apply(message)
        except Exception:
            _LOGGER.exception("Could not merge a report from printer %s", self.serial)
            changed = False
        if changed:
            for callback in list(self._update_listeners):
                try:
                    callback()
                except Exception:
                    _LOGGER.exception("Update listener failed")
        for command, future in list(self._pending):
            if future.done():
                continue
            try:
                reply = match_reply(command, message)
            except Exception:
                _LOGGER.exception("Could not match a reply from printer %s", self.serial)
                continue
            if reply is not None:
                future.set_result(reply)
        first = self._first_report
        if first is not None:
            first.seen(message)

    def _fail_pending(self, why: str) -> None:
        for _command, future in self._pending:
            if not future.done():
                future.set_exception(NotConnected(why))

    async def _send(self, connection: MqttLink, command: Command) -> None:
        payload = command.encode()
        _LOGGER.debug(
            "Sending %s/%s (seq %s) to %s",
            command.module,
            command.command,
            command.sequence_id,
            self.serial,
        )
        await connection.publish(self.settings.request_topic, payload, qos=command.qos)

    def _live_connection(self) -> MqttLink:
        connection = self._connection
        if connection is None or connection.closed or not self._available:
            raise NotConnected(f"printer {self.serial} is not connected")
        return connection

    async def async_publish(self, command: Command) -> None:
        """Send a command without waiting for a reply (QoS 1 still waits for the PUBACK)."""
        await self._send(self._live_connection(), command)

    async def async_request(self, command: Command, timeout: float = 10) -> Reply:  # noqa: ASYNC109
        """Send a command and return the printer's successful reply.

        Raises :class:`CommandRejected` (with the printer's reason), :class:`CommandTimeout`
        or :class:`NotConnected` (also when the link drops while waiting).
        """
        connection = self._live_connection()
        if not command.expects_reply:
            await self._send(connection, command)
            return Reply(ok=True, reason=None, data={})
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        entry = (command, future)
        self._pending.append(entry)
        try:
            async with asyncio.timeout(timeout):
                await self._send(connection, command)
                reply = await future
        except TimeoutError as err:
            raise CommandTimeout(
                f"printer {self.serial} did not answer {command.command} within {timeout:g} s"
            ) from err
        finally:
            self._pending.remove(entry)
        if not reply.ok:
            raise CommandRejected(reply.reason or "no reason given")
        return reply


_SUBACK_FAILURE: Final = 0x80
_FULL_REPORT_GRACE: Final = 3.0
_PUSHALL_RETRY: Final = 1.0
# A printer on the LAN answers a TCP connect within milliseconds; one that is off never does.
_PROBE_TIMEOUT: Final = 2.0


class _FirstReport:
    """Tracks the first status report after (re)connecting: any at all, and a full one."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.any: asyncio.Future[None] = loop.create_future()
        self.full: asyncio.Future[None] = loop.create_future()

    def seen(self, message: Mapping[str, Any]) -> None:
        body = message.get("print")
        if not isinstance(body, Mapping):
            return
        if not self.any.done():
            self.any.set_result(None)
        if not self.full.done() and is_full_report(body):
            self.full.set_result(None)

    def fail(self, reason: BaseException | None) -> None:
        error = (
            reason
            if isinstance(reason, BambuError)
            else ConnectError("the connection closed before the first report")
        )
        for future in (self.any, self.full):
            if not future.done():
                future.set_exception(error)

    def discard(self) -> None:
        for future in (self.any, self.full):
            if future.done() and not future.cancelled():
                future.exception()  # mark retrieved: nobody else awaits it
            else:
                future.cancel()


def _decode(payload: bytes, serial: str) -> str:
    """Decode a report as UTF-8, replacing the bytes that are not, so the report is kept.

    P1 and A1 firmware sometimes sends such bytes (a file name). Replacing only them keeps
    every valid character of the same report, where a latin-1 reading of the whole report
    would garble them all (Chinese job names have been seen that way).
    """
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        _LOGGER.debug("Report from %s has bytes that are not UTF-8; replaced them", serial)
        return payload.decode("utf-8", "replace")


def _add[T](listeners: list[T], callback: T) -> Callable[[], None]:
    listeners.append(callback)

    def remove() -> None:
        with contextlib.suppress(ValueError):
            listeners.remove(callback)

    return remove
