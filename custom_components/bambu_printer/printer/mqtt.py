"""One asyncio MQTT connection per printer: status reports in, commands out.

The printer runs the MQTT broker itself (MQTT 3.1.1 over TLS on port 8883). This module speaks
to it with the small codec in :mod:`.mqtt_codec` over ``asyncio.open_connection``, so there is
no thread, no executor job and no third-party MQTT loop to keep alive.

:class:`MqttConnection` is one live MQTT session (handshake, keepalive, publish, subscribe);
the simulator reuses it to play the printer's side. :class:`PrinterClient` is what the
integration uses: it merges every report into a :class:`~.state.PrinterState`, answers
``async_request`` calls from the printer's replies, and keeps the link up with exponential
backoff, telling its listeners about availability changes and refused credentials.
"""

import asyncio
import contextlib
import itertools
import json
import logging
import random
import secrets
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping
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
    ProtocolError,
    TlsError,
)
from .mqtt_codec import (
    DEFAULT_MAX_PACKET_SIZE,
    SUBACK_FAILURE,
    ConnAck,
    ConnAckCode,
    Connect,
    Decoder,
    Disconnect,
    Packet,
    PingReq,
    PingResp,
    PubAck,
    Publish,
    SubAck,
    Subscribe,
    encode,
)
from .state import PrinterState

__all__ = [
    "MAX_REPORT_SIZE",
    "Backoff",
    "ConnectionSettings",
    "MqttConnection",
    "PrinterClient",
    "open_mqtt_connection",
]

_LOGGER = logging.getLogger(__name__)

MAX_REPORT_SIZE: Final = 1024 * 1024
"""Reports larger than this are dropped unparsed (real ones are a few kilobytes)."""

_READ_CHUNK: Final = 65536
_CLOSE_TIMEOUT: Final = 2.0


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
    """Reconnect delays: ``initial * 2**attempt`` capped at ``maximum``, +-``jitter`` spread."""

    initial: float = 1.0
    maximum: float = 60.0
    jitter: float = 0.2

    def delay(self, attempt: int, rand: float) -> float:
        """Return the delay before retry number ``attempt`` (0-based); ``rand`` is in [0, 1)."""
        base = min(self.maximum, self.initial * 2.0 ** min(attempt, 32))
        return max(0.0, base * (1.0 + self.jitter * (2.0 * rand - 1.0)))


def _classify_open_error(err: BaseException, host: str, port: int) -> BambuError:
    """Turn what ``open_connection`` raised into the library's error types (no secrets)."""
    if isinstance(err, ssl.SSLCertVerificationError):
        return TlsError(f"the certificate of {host}:{port} was not accepted: {err.verify_message}")
    if isinstance(err, ssl.SSLError):
        return TlsError(f"TLS handshake with {host}:{port} failed: {err.reason or err}")
    if isinstance(err, TimeoutError):
        return ConnectTimeout(f"{host}:{port} did not answer in time")
    if isinstance(err, socket.gaierror):
        return ConnectError(f"cannot resolve {host}: {err.strerror}")
    if isinstance(err, OSError):
        return ConnectError(f"cannot connect to {host}:{port}: {err.strerror or err}")
    return ConnectError(f"cannot connect to {host}:{port}: {err}")  # pragma: no cover


async def open_mqtt_connection(
    *,
    host: str,
    port: int,
    client_id: str,
    username: str | None,
    password: str | None,
    ssl_context: ssl.SSLContext | None,
    server_hostname: str | None = None,
    keepalive: int = 30,
    max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
    name: str = "mqtt",
) -> "MqttConnection":
    """Open a socket (TLS when ``ssl_context`` is given), send CONNECT and await CONNACK.

    Raises :class:`TlsError`, :class:`ConnectError`, :class:`ConnectTimeout` (wrap the call in
    a timeout), :class:`AuthError` (CONNACK 4/5) or :class:`ProtocolError`. The returned
    connection is not yet reading: call :meth:`MqttConnection.start`.
    """
    try:
        reader, writer = await asyncio.open_connection(
            host,
            port,
            ssl=ssl_context,
            server_hostname=server_hostname if ssl_context is not None else None,
        )
    except (OSError, TimeoutError) as err:
        raise _classify_open_error(err, host, port) from err
    connection = MqttConnection(
        reader, writer, keepalive=keepalive, max_packet_size=max_packet_size, name=name
    )
    try:
        await connection.handshake(
            Connect(
                client_id=client_id,
                keepalive=keepalive,
                clean_session=True,
                username=username,
                password=password,
            )
        )
    except BaseException:
        await connection.close(send_disconnect=False)
        raise
    return connection


class MqttConnection:
    """One MQTT 3.1.1 session over an open stream.

    After :meth:`start` a reader task dispatches incoming packets (PUBLISH to the callback,
    acknowledgements to their waiters) and a keepalive task sends PINGREQ every half
    keepalive. The connection ends on EOF, a socket or codec error, a missing PINGRESP, or
    (with ``publish_timeout``) when no PUBLISH arrived for that long; :meth:`wait_closed`
    then returns the reason. :meth:`close` always leaves no task and no socket behind.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        keepalive: float = 30.0,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
        name: str = "mqtt",
    ) -> None:
        self._reader = reader
        self._writer = writer
        # A message over the limit is skipped (and logged), not a reason to drop the link.
        self._decoder = Decoder(max_packet_size, skip_oversized_publish=True)
        self._keepalive = keepalive
        self._name = name
        self._loop = asyncio.get_running_loop()
        self._closed: asyncio.Future[BaseException | None] = self._loop.create_future()
        self._tasks: list[asyncio.Task[None]] = []
        self._acks: dict[int, asyncio.Future[Packet]] = {}
        self._ids = itertools.cycle(range(1, 0x10000))
        self._on_publish: Callable[[Publish], None] | None = None
        self._on_quiet: Callable[[], None] | None = None
        self._close_callbacks: list[Callable[[BaseException | None], None]] = []
        self._early: list[Packet] = []
        self._publish_timeout: float | None = None
        self._ping_sent_at: float | None = None
        self._quiet_notified = False
        self.last_publish_at = self._loop.time()
        self.publishes_received = 0

    @property
    def closed(self) -> bool:
        """Return whether the session has ended (for whatever reason)."""
        return self._closed.done()

    async def _read_packet(self) -> Packet:
        """Read until one packet is complete (handshake only; afterwards the reader task reads).

        Packets that arrived in the same read are kept for the reader task.
        """
        while True:
            data = await self._reader.read(_READ_CHUNK)
            if not data:
                raise ConnectError("the broker closed the connection during the handshake")
            packets = self._decoder.feed(data)
            if packets:
                self._early = packets[1:]
                return packets[0]

    async def handshake(self, connect: Connect) -> None:
        """Send CONNECT and check the CONNACK; raises AuthError for refused credentials."""
        try:
            self._writer.write(encode(connect))
            await self._writer.drain()
            packet = await self._read_packet()
        except ssl.SSLError as err:
            raise TlsError(f"TLS error during the MQTT handshake: {err.reason or err}") from err
        except OSError as err:
            raise ConnectError(f"connection lost during the MQTT handshake: {err}") from err
        if not isinstance(packet, ConnAck):
            raise ProtocolError(f"expected CONNACK, got {type(packet).__name__}")
        code = packet.return_code
        if code in (ConnAckCode.BAD_USERNAME_OR_PASSWORD, ConnAckCode.NOT_AUTHORIZED):
            raise AuthError(f"the broker refused the credentials (CONNACK {code})")
        if code != ConnAckCode.ACCEPTED:
            raise ConnectError(
                f"the broker refused the connection (CONNACK {code}: {ConnAckCode(code).name})"
            )

    def start(
        self,
        on_publish: Callable[[Publish], None],
        *,
        publish_timeout: float | None = None,
        on_quiet: Callable[[], None] | None = None,
    ) -> None:
        """Start reading and pinging.

        ``on_publish`` gets every PUBLISH (exceptions are logged, never propagated). With
        ``publish_timeout`` the session ends after that long without any PUBLISH; ``on_quiet``
        is called once when two thirds of it have passed, so the owner can ask for data.
        """
        if self._tasks or self.closed:
            raise RuntimeError("connection already started or closed")
        self._on_publish = on_publish
        self._publish_timeout = publish_timeout
        self._on_quiet = on_quiet
        self.last_publish_at = self._loop.time()
        self._tasks = [
            self._loop.create_task(self._read_loop(), name=f"{self._name} reader"),
            self._loop.create_task(self._keepalive_loop(), name=f"{self._name} keepalive"),
        ]

    @property
    def close_reason(self) -> BaseException | None:
        """Return why the session ended (None while open or after a local close)."""
        return self._closed.result() if self._closed.done() else None

    def add_close_callback(self, callback: Callable[[BaseException | None], None]) -> None:
        """Call ``callback(reason)`` synchronously when the session ends."""
        self._close_callbacks.append(callback)

    async def wait_closed(self) -> BaseException | None:
        """Wait until the session ends; return why (None after a local close)."""
        return await asyncio.shield(self._closed)

    def _finish(self, reason: BaseException | None) -> None:
        """End the session: record why, fail waiters, stop the other task, close the socket."""
        if self._closed.done():
            return
        self._closed.set_result(reason)
        for future in self._acks.values():
            if not future.done():
                future.set_exception(NotConnected("the MQTT connection closed"))
        self._acks.clear()
        callbacks, self._close_callbacks = self._close_callbacks, []
        for callback in callbacks:
            callback(reason)
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self._writer.close()

    async def close(self, *, send_disconnect: bool = True) -> None:
        """Close the session (DISCONNECT first when still open) and reap tasks and socket.

        The reaping runs to completion even when the caller is cancelled meanwhile (the
        cancellation is re-raised afterwards), so nothing is ever left behind.
        """
        if send_disconnect and not self.closed and not self._writer.is_closing():
            with contextlib.suppress(OSError, RuntimeError):
                self._writer.write(encode(Disconnect()))
        self._finish(None)
        reaper = asyncio.ensure_future(self._reap())
        cancelled = False
        while not reaper.done():
            try:
                await asyncio.shield(reaper)
            except asyncio.CancelledError:
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError

    async def _reap(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await self._writer.wait_closed()
        except (OSError, TimeoutError, ssl.SSLError):
            # A TLS peer that never answers close_notify must not keep us waiting.
            self._writer.transport.abort()

    def _write(self, packet: Packet) -> None:
        if self.closed or self._writer.is_closing():
            raise NotConnected("the MQTT connection is closed")
        self._writer.write(encode(packet))

    def publish_nowait(self, topic: str, payload: bytes) -> None:
        """Queue a QoS 0 PUBLISH without waiting for the socket buffer to drain."""
        self._write(Publish(topic=topic, payload=payload))

    async def _drain(self) -> None:
        try:
            await self._writer.drain()
        except (OSError, RuntimeError) as err:
            raise NotConnected(f"the MQTT connection failed while sending: {err}") from err

    def _next_packet_id(self) -> int:
        while True:
            packet_id = next(self._ids)
            if packet_id not in self._acks:
                return packet_id

    async def _await_ack(self, packet_id: int, ack_timeout: float | None) -> Packet:
        future = self._acks[packet_id]
        try:
            async with asyncio.timeout(ack_timeout):
                return await future
        except TimeoutError as err:
            raise CommandTimeout(f"no acknowledgement within {ack_timeout:g} s") from err
        finally:
            self._acks.pop(packet_id, None)

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, ack_timeout: float | None = 10.0
    ) -> None:
        """Publish; for QoS 1 wait (up to ``ack_timeout`` seconds) for the PUBACK."""
        if qos == 0:
            self._write(Publish(topic=topic, payload=payload))
            await self._drain()
            return
        packet_id = self._next_packet_id()
        self._write(Publish(topic=topic, payload=payload, qos=qos, packet_id=packet_id))
        self._acks[packet_id] = self._loop.create_future()
        try:
            await self._drain()
        except BaseException:
            self._acks.pop(packet_id, None)
            raise
        await self._await_ack(packet_id, ack_timeout)

    async def subscribe(
        self, topics: Iterable[tuple[str, int]], *, ack_timeout: float | None = 10.0
    ) -> tuple[int, ...]:
        """Subscribe and return the granted QoS per filter (0x80 = refused)."""
        packet_id = self._next_packet_id()
        self._write(Subscribe(packet_id=packet_id, topics=tuple(topics)))
        self._acks[packet_id] = self._loop.create_future()
        try:
            await self._drain()
        except BaseException:
            self._acks.pop(packet_id, None)
            raise
        ack = await self._await_ack(packet_id, ack_timeout)
        assert isinstance(ack, SubAck)  # noqa: S101  (_dispatch only resolves with SubAck)
        return ack.return_codes

    async def _read_loop(self) -> None:
        reason: BaseException | None
        try:
            early, self._early = self._early, []
            for packet in early:
                self._dispatch(packet)
            while True:
                data = await self._reader.read(_READ_CHUNK)
                if not data:
                    reason = ConnectError("the broker closed the connection")
                    break
                skipped = self._decoder.skipped
                for packet in self._decoder.feed(data):
                    self._dispatch(packet)
                if self._decoder.skipped != skipped:
                    _LOGGER.debug(
                        "%s: dropped a %d byte message (over the %d byte limit)",
                        self._name,
                        self._decoder.last_skipped_size,
                        self._decoder.max_packet_size,
                    )
        except ProtocolError as err:  # malformed or unexpected packets
            reason = err
        except ssl.SSLError as err:
            reason = TlsError(f"TLS error on the connection: {err.reason or err}")
        except (OSError, NotConnected) as err:
            reason = ConnectError(f"connection lost: {err}")
        self._finish(reason)

    def _dispatch(self, packet: Packet) -> None:
        match packet:
            case Publish():
                self.last_publish_at = self._loop.time()
                self.publishes_received += 1
                self._quiet_notified = False
                if packet.qos == 1 and packet.packet_id is not None:
                    self._write(PubAck(packet.packet_id))
                if self._on_publish is not None:
                    try:
                        self._on_publish(packet)
                    except Exception:
                        _LOGGER.exception("%s: error while handling a message", self._name)
            case PubAck(packet_id=packet_id) | SubAck(packet_id=packet_id):
                future = self._acks.get(packet_id)
                if future is not None and not future.done():
                    future.set_result(packet)
                else:
                    _LOGGER.debug("%s: unexpected acknowledgement %s", self._name, packet_id)
            case PingResp():
                self._ping_sent_at = None
            case _:
                raise ProtocolError(f"unexpected {type(packet).__name__} from the broker")

    async def _keepalive_loop(self) -> None:
        interval = max(self._keepalive / 2, 0.05)
        while True:
            await asyncio.sleep(interval)
            now = self._loop.time()
            if self._ping_sent_at is not None and now - self._ping_sent_at >= self._keepalive:
                self._finish(ConnectTimeout("no PINGRESP within the keepalive interval"))
                return
            if self._publish_timeout is not None:
                quiet = now - self.last_publish_at
                if quiet >= self._publish_timeout:
                    self._finish(
                        ConnectTimeout(f"no message for {self._publish_timeout:g} s; link stale")
                    )
                    return
                if (
                    quiet >= self._publish_timeout * 2 / 3
                    and not self._quiet_notified
                    and self._on_quiet is not None
                ):
                    self._quiet_notified = True
                    self._on_quiet()
            if self._ping_sent_at is None:
                self._ping_sent_at = now
                try:
                    self._write(PingReq())
                except NotConnected:
                    return


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
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
    ) -> None:
        self.settings = settings
        self.state = state if state is not None else PrinterState()
        self.commands = commands if commands is not None else CommandFactory()
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._rand = rand
        self._stable_after = stable_after
        self._max_packet_size = max_packet_size
        self._client_id = settings.client_id or f"bambu_printer_{secrets.token_hex(6)}"
        self._available = False
        self._connection: MqttConnection | None = None
        self._connected_at = 0.0
        self._supervisor: asyncio.Task[None] | None = None
        self._reconnect = False
        self._attempt = 0
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
        if available:
            _LOGGER.info("Connected to printer %s at %s", self.serial, self.settings.host)
        elif reason is not None:
            _LOGGER.warning("Lost connection to printer %s: %s", self.serial, reason)
        else:
            _LOGGER.info("Disconnected from printer %s", self.serial)
        for callback in list(self._availability_listeners):
            try:
                callback(available)
            except Exception:
                _LOGGER.exception("Availability listener failed")

    # ---------------------------------------------------------------------------- lifecycle

    async def async_connect(self, timeout: float = 10) -> None:  # noqa: ASYNC109  (contract API)
        """Connect, subscribe, ask for the full state and return once it was merged.

        Returns at once when already connected (or reconnecting in the background).
        Raises :class:`AuthError`, :class:`TlsError`, :class:`ConnectError` or
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
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
        self._fail_pending("the client was stopped")
        self._set_available(False)

    def _install(self, connection: MqttConnection) -> None:
        """Adopt a freshly connected session and watch it from the supervisor task."""
        self._connection = connection
        self._connected_at = asyncio.get_running_loop().time()
        self.connects += 1
        self._set_available(True)
        self._supervisor = asyncio.get_running_loop().create_task(
            self._supervise(connection), name=f"bambu_printer {self.serial} supervisor"
        )

    async def _connect_once(self, connect_timeout: float) -> MqttConnection:
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
        connection: MqttConnection | None = None
        try:
            async with asyncio.timeout(connect_timeout):
                connection = await open_mqtt_connection(
                    host=settings.host,
                    port=settings.port,
                    client_id=self._client_id,
                    username=settings.username,
                    password=settings.password,
                    ssl_context=settings.ssl_context,
                    server_hostname=settings.tls_server_hostname,
                    keepalive=settings.keepalive,
                    max_packet_size=self._max_packet_size,
                    name=f"printer {self.serial}",
                )
                self._first_report = first
                connection.add_close_callback(first.fail)
                connection.start(
                    self._on_publish,
                    publish_timeout=3 * settings.keepalive,
                    on_quiet=self._on_quiet,
                )
                _check_suback(await connection.subscribe([(settings.report_topic, 0)]))
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

    async def _supervise(self, connection: MqttConnection) -> None:
        """Wait for the link to drop; then reconnect with backoff while asked to."""
        loop = asyncio.get_running_loop()
        while True:
            reason = await connection.wait_closed()
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

    async def _reconnect_with_backoff(self) -> MqttConnection | None:
        """Retry until connected (returned) or the credentials are refused (None).

        Only ``async_stop`` ends it otherwise, by cancelling the supervisor.
        """
        while True:
            delay = self._backoff.delay(self._attempt, self._rand())
            self._attempt += 1
            _LOGGER.debug("Reconnecting to printer %s in %.1f s", self.serial, delay)
            await self._sleep(delay)
            try:
                return await self._connect_once(self._connect_timeout)
            except AuthError:
                self._auth_failed()
                return None
            except BambuError as err:
                _LOGGER.debug("Reconnect to printer %s failed: %s", self.serial, err)

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

    # ---------------------------------------------------------------------------- messages

    def _on_quiet(self) -> None:
        """Ask a printer that stopped reporting for its state before declaring it dead."""
        connection = self._connection
        if connection is None or connection.closed:
            return
        _LOGGER.debug("Printer %s is quiet; asking for its full state", self.serial)
        payload = self.commands.pushall().encode()
        with contextlib.suppress(NotConnected):
            connection.publish_nowait(self.settings.request_topic, payload)

    def _on_publish(self, publish: Publish) -> None:
        if publish.topic != self.settings.report_topic:
            _LOGGER.debug("Ignoring message on %s", publish.topic)
            return
        if len(publish.payload) > MAX_REPORT_SIZE:
            _LOGGER.debug("Dropping a %d byte report (too large)", len(publish.payload))
            return
        try:
            message = json.loads(publish.payload)
        except (ValueError, RecursionError):
            _LOGGER.debug("Dropping a report that is not valid JSON")
            return
        if not isinstance(message, dict):
            _LOGGER.debug("Dropping a report that is not a JSON object")
            return
        self.reports_received += 1
        self._handle_report(message)

    def _handle_report(self, message: Mapping[str, Any]) -> None:
        _LOGGER.debug("Report from %s: %s", self.serial, ", ".join(map(str, message)))
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

    async def _send(self, connection: MqttConnection, command: Command) -> None:
        payload = command.encode()
        _LOGGER.debug(
            "Sending %s/%s (seq %s) to %s",
            command.module,
            command.command,
            command.sequence_id,
            self.serial,
        )
        await connection.publish(self.settings.request_topic, payload, qos=command.qos)

    def _live_connection(self) -> MqttConnection:
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


_FULL_REPORT_GRACE: Final = 3.0
_PUSHALL_RETRY: Final = 1.0
# Present together only in full reports (pushall answers, X1/H2 periodic reports).
_FULL_REPORT_KEYS: Final = frozenset(
    {"gcode_state", "nozzle_temper", "bed_temper", "wifi_signal", "lights_report", "upgrade_state"}
)


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
        if not self.full.done() and body.keys() >= _FULL_REPORT_KEYS:
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


def _check_suback(codes: tuple[int, ...]) -> None:
    if not codes or codes[0] == SUBACK_FAILURE:
        raise AuthError("the broker refused the subscription to the printer's reports")


def _add[T](listeners: list[T], callback: T) -> Callable[[], None]:
    listeners.append(callback)

    def remove() -> None:
        with contextlib.suppress(ValueError):
            listeners.remove(callback)

    return remove
