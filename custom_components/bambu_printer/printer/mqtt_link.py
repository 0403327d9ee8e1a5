"""One MQTT 3.1.1 session on paho-mqtt, driven from the running asyncio event loop.

paho-mqtt speaks the protocol; this module only moves its socket events through the loop, the
way Home Assistant's own MQTT client does: the blocking socket connect and TLS handshake run in
the executor, then ``add_reader``/``add_writer`` call ``loop_read``/``loop_write`` and a timer
calls ``loop_misc`` (pings, keepalive). No thread of our own, none left behind.

Two things paho does not do for us. A printer's certificate names its serial, not the address
we dial, so the TLS context is handed to paho wrapped: every socket it wraps is checked against
the name we choose (:class:`_VerifiedAs`). And TLS decrypts whole records: a record can hold
several MQTT packets, while ``loop_read`` takes one, so the rest would sit in OpenSSL's buffer
with no socket event to wake us; the reader keeps reading while the socket has data pending.
"""

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, Final, cast

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from .errors import (
    AuthError,
    BambuError,
    CommandTimeout,
    ConnectError,
    ConnectTimeout,
    NotConnected,
    ProtocolError,
    TlsNameMismatch,
)
from .tls import explain_name_mismatch, tls_error

__all__ = ["MessageHandler", "MqttLink", "open_mqtt_link"]

_LOGGER = logging.getLogger(__name__)

type MessageHandler = Callable[[str, bytes], None]
"""Called with (topic, payload) for every message that arrives."""

_CLOSE_TIMEOUT: Final = 2.0
# paho's keepalive work (pings) and our silence watch need a look a few times per keepalive,
# not every second: with a farm of printers each look is a wake-up of the event loop.
_MISC_PER_KEEPALIVE: Final = 4
# Packets read in one go while OpenSSL holds decrypted data; then other callbacks get a turn.
_READS_PER_WAKEUP: Final = 64
_REFUSED: Final = frozenset({"Bad user name or password", "Not authorized"})
# paho's callbacks; each is served by the method of the same name with a leading underscore.
_CALLBACKS: Final = (
    "on_connect",
    "on_disconnect",
    "on_message",
    "on_publish",
    "on_subscribe",
    "on_socket_close",
    "on_socket_register_write",
    "on_socket_unregister_write",
)


class _VerifiedAs:
    """Hands paho a TLS context whose sockets check the certificate against our name.

    paho passes the address it dials as ``server_hostname``; a printer's certificate carries
    its serial instead. Replacing the name keeps full verification (chain and name) on.
    """

    def __init__(self, context: ssl.SSLContext, server_name: str) -> None:
        self._context = context
        self._server_name = server_name

    @property
    def check_hostname(self) -> bool:
        """Tell paho whether the context checks names itself (it then skips its own check)."""
        return self._context.check_hostname

    def wrap_socket(self, sock: socket.socket, **kwargs: Any) -> ssl.SSLSocket:
        """Wrap like ``SSLContext.wrap_socket``, with our name for SNI and the name check."""
        kwargs["server_hostname"] = self._server_name
        return self._context.wrap_socket(sock, **kwargs)


def _classify_connect_error(
    err: BaseException, host: str, port: int, server_name: str
) -> BambuError:
    """Turn what the socket connect or TLS handshake raised into the library's errors."""
    if isinstance(err, ssl.SSLError):
        return tls_error(err, f"{host}:{port}", server_name)
    if isinstance(err, TimeoutError):
        return ConnectTimeout(f"{host}:{port} did not answer in time")
    if isinstance(err, socket.gaierror):
        return ConnectError(f"cannot resolve {host}: {err.strerror}")
    if isinstance(err, OSError):
        return ConnectError(f"cannot connect to {host}:{port}: {err.strerror or err}")
    return ConnectError(f"cannot connect to {host}:{port}: {err}")


async def open_mqtt_link(
    *,
    host: str,
    port: int,
    client_id: str,
    username: str | None,
    password: str | None,
    ssl_context: ssl.SSLContext | None,
    on_message: MessageHandler,
    server_hostname: str | None = None,
    keepalive: int = 30,
    name: str = "mqtt",
) -> "MqttLink":
    """Connect (TLS when ``ssl_context`` is given) and return once the broker accepted us.

    Raises :class:`TlsError`, :class:`ConnectError`, :class:`ConnectTimeout`, or
    :class:`AuthError` when the broker refuses the credentials. Wrap the call in a timeout;
    a cancelled open leaves no socket behind.
    """
    link = MqttLink(client_id=client_id, keepalive=keepalive, on_message=on_message, name=name)
    if username is not None:
        link.client.username_pw_set(username, password)
    server_name = server_hostname or host
    if ssl_context is not None:
        verified = _VerifiedAs(ssl_context, server_name)
        link.client.tls_set_context(cast(ssl.SSLContext, verified))
    try:
        await link.connect(host, port, server_name)
    except TlsNameMismatch as err:
        link.abort()
        if ssl_context is None:  # pragma: no cover  (a name check needs TLS)
            raise
        # Whose certificate is it? Usually another printer's (the IP address moved on).
        loop = asyncio.get_running_loop()
        explained = await loop.run_in_executor(
            None, partial(explain_name_mismatch, err, ssl_context, host, port)
        )
        if explained is err:
            raise
        raise explained from err
    except BaseException:
        link.abort()
        raise
    return link


class MqttLink:
    """One paho-mqtt client whose socket is served by the event loop.

    Messages go to ``on_message`` as they arrive. The session ends on a socket error, a
    missing PINGRESP, the broker closing it, :meth:`watch_silence` seeing no message for too
    long, or :meth:`close`; :meth:`wait_closed` then returns why (None after a local close).
    """

    def __init__(
        self, *, client_id: str, keepalive: int, on_message: MessageHandler, name: str
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._name = name
        self._keepalive = keepalive
        self._handler = on_message
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv311,
            clean_session=True,
        )
        self._closed: asyncio.Future[BaseException | None] = self._loop.create_future()
        self._connack: asyncio.Future[None] = self._loop.create_future()
        self._acks: dict[int, asyncio.Future[tuple[int, ...]]] = {}
        self._close_callbacks: list[Callable[[BaseException | None], None]] = []
        self._sock: socket.socket | None = None
        self._misc: asyncio.TimerHandle | None = None
        self._silence_timeout: float | None = None
        self._on_quiet: Callable[[], None] | None = None
        self._quiet_told = False
        self._closing = False
        self.last_message_at = self._loop.time()

    # ------------------------------------------------------------------------------ connect

    async def connect(self, host: str, port: int, server_name: str | None = None) -> None:
        """Connect off the loop, then serve the socket here and wait for the CONNACK."""
        client = self.client
        client.connect_timeout = 10.0
        connecting = self._loop.run_in_executor(None, client.connect, host, port, self._keepalive)
        try:
            await asyncio.shield(connecting)
        except asyncio.CancelledError:
            # The thread cannot be stopped; close whatever socket it opens once it is done.
            connecting.add_done_callback(self._abandoned)
            raise
        except (OSError, ValueError) as err:  # ssl.SSLError is an OSError, ssl names ValueError
            raise _classify_connect_error(err, host, port, server_name or host) from err
        self._serve(client)
        await self._connack

    def _abandoned(self, connecting: "asyncio.Future[Any]") -> None:
        """Close the socket of a connect nobody waits for any more, and drop its error."""
        if not connecting.cancelled():
            connecting.exception()
        self.abort()

    def _serve(self, client: paho.Client) -> None:
        """Hand the connected socket to the event loop and install paho's callbacks."""
        sock = client.socket()
        if not isinstance(sock, socket.socket):  # pragma: no cover  (connect() made one)
            raise ConnectError("the MQTT client has no socket after connecting")
        self._sock = sock
        for name in _CALLBACKS:
            setattr(client, name, getattr(self, f"_{name}"))
        self._loop.add_reader(sock, self._on_readable)
        if client.want_write():
            self._loop.add_writer(sock, self._on_writable)
        self._misc = self._loop.call_later(self._misc_interval, self._on_misc)
        # The CONNACK may already wait in OpenSSL's buffer, where no socket event reports it.
        self._loop.call_soon(self._on_readable)

    @property
    def _misc_interval(self) -> float:
        return max(self._keepalive / _MISC_PER_KEEPALIVE, 0.05)

    # ------------------------------------------------------------------------------ state

    @property
    def closed(self) -> bool:
        """Return whether the session has ended (for whatever reason)."""
        return self._closed.done()

    @property
    def close_reason(self) -> BaseException | None:
        """Return why the session ended (None while open or after a local close)."""
        return self._closed.result() if self._closed.done() else None

    def add_close_callback(self, callback: Callable[[BaseException | None], None]) -> None:
        """Call ``callback(reason)`` when the session ends."""
        self._close_callbacks.append(callback)

    async def wait_closed(self) -> BaseException | None:
        """Wait until the session ends; return why (None after a local close)."""
        return await asyncio.shield(self._closed)

    def watch_silence(self, timeout: float, on_quiet: Callable[[], None]) -> None:
        """End the session after ``timeout`` s without a message; call ``on_quiet`` at 2/3."""
        self._silence_timeout = timeout
        self._on_quiet = on_quiet
        self.last_message_at = self._loop.time()

    # ------------------------------------------------------------------------------ sending

    def _check_open(self) -> None:
        if self.closed or self._closing:
            raise NotConnected("the MQTT connection is closed")

    def publish_nowait(self, topic: str, payload: bytes, qos: int = 0) -> int:
        """Queue a message (it leaves as soon as the socket takes it); return its message id."""
        self._check_open()
        info = self.client.publish(topic, payload, qos=qos)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise NotConnected(f"the MQTT client refused the message ({info.rc.name})")
        return info.mid

    async def publish(
        self, topic: str, payload: bytes, *, qos: int = 0, ack_timeout: float | None = 10.0
    ) -> None:
        """Publish; for QoS 1 wait (up to ``ack_timeout`` seconds) for the PUBACK."""
        mid = self.publish_nowait(topic, payload, qos)
        if qos > 0:
            await self._await_ack(mid, ack_timeout)

    async def subscribe(
        self, topics: Iterable[tuple[str, int]], *, ack_timeout: float | None = 10.0
    ) -> tuple[int, ...]:
        """Subscribe and return the granted QoS per filter (0x80 = refused)."""
        self._check_open()
        result, mid = self.client.subscribe(list(topics))
        if result != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            raise NotConnected(f"the MQTT client refused the subscription ({result.name})")
        return await self._await_ack(mid, ack_timeout)

    async def _await_ack(self, mid: int, ack_timeout: float | None) -> tuple[int, ...]:
        future = self._acks.setdefault(mid, self._loop.create_future())
        try:
            async with asyncio.timeout(ack_timeout):
                return await future
        except TimeoutError as err:
            raise CommandTimeout(f"no acknowledgement within {ack_timeout:g} s") from err
        finally:
            self._acks.pop(mid, None)

    # ------------------------------------------------------------------------------ closing

    async def close(self) -> None:
        """Say DISCONNECT when still connected, then release the socket and the timer.

        Runs to completion even when the caller is cancelled meanwhile (the cancellation is
        re-raised afterwards), so nothing is ever left behind.
        """
        if not self.closed and not self._closing:
            self._closing = True
            with contextlib.suppress(OSError, ValueError):
                self.client.disconnect()
                self.client.loop_write()
        cancelled = False
        if not self.closed:
            try:
                await asyncio.wait([self._closed], timeout=_CLOSE_TIMEOUT)
            except asyncio.CancelledError:
                cancelled = True
        self.abort()
        if cancelled:
            raise asyncio.CancelledError

    def abort(self, reason: BaseException | None = None) -> None:
        """End the session at once: no DISCONNECT, the socket closed, every waiter failed."""
        self._finish(reason)
        self._release()

    def _cancel_misc(self) -> None:
        if self._misc is not None:
            self._misc.cancel()
            self._misc = None

    def _release(self) -> None:
        """Stop serving the socket and close it; paho calls nothing of ours afterwards."""
        self._cancel_misc()
        client = self.client
        for name in _CALLBACKS:
            setattr(client, name, None)
        sock = self._sock or client.socket()
        self._sock = None
        if isinstance(sock, socket.socket):
            self._unwatch(sock)
            sock.close()

    def _unwatch(self, sock: socket.socket) -> None:
        if sock.fileno() != -1:
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)

    def _finish(self, reason: BaseException | None) -> None:
        """Record why the session ended and fail whoever waits for an answer."""
        if self._closed.done():
            return
        self._closed.set_result(reason)
        error = reason if isinstance(reason, BambuError) else ConnectError("connection closed")
        if not self._connack.done():
            self._connack.set_exception(error)
            self._connack.exception()  # retrieved here: the opener may be gone already
        for future in self._acks.values():
            if not future.done():
                future.set_exception(NotConnected("the MQTT connection closed"))
        callbacks, self._close_callbacks = self._close_callbacks, []
        for callback in callbacks:
            try:
                callback(reason)
            except Exception:
                _LOGGER.exception("%s: close callback failed", self._name)

    # ------------------------------------------------------------------------------ events

    def _on_readable(self) -> None:
        """Let paho read; go on while OpenSSL still holds decrypted bytes."""
        for _ in range(_READS_PER_WAKEUP):
            if self._sock is None or self._step(self.client.loop_read):
                return
            sock = self._sock
            if not isinstance(sock, ssl.SSLSocket) or not sock.pending():
                return
        self._loop.call_soon(self._on_readable)

    def _on_writable(self) -> None:
        if self._sock is not None:
            self._step(self.client.loop_write)

    def _step(self, step: Callable[[], MQTTErrorCode]) -> bool:
        """Run one paho step; True when the link cannot go on (paho closed it, or failed).

        paho raises on some malformed packets instead of reporting them: that ends the link
        like any other protocol error, and never escapes into the event loop.
        """
        try:
            return step() != MQTTErrorCode.MQTT_ERR_SUCCESS
        except Exception as err:  # noqa: BLE001  (whatever paho raised, the link is unusable)
            self.abort(ProtocolError(f"{self._name}: unreadable MQTT data ({err!r})"))
            return True

    def _on_misc(self) -> None:
        """Pings and keepalive (paho), then the silence watch; then schedule the next tick."""
        self._misc = None
        if self._sock is None or self._step(self.client.loop_misc) or self.closed:
            return
        timeout = self._silence_timeout
        if timeout is not None:
            quiet = self._loop.time() - self.last_message_at
            if quiet >= timeout:
                self.abort(ConnectTimeout(f"no message for {timeout:g} s; link stale"))
                return
            if quiet >= timeout * 2 / 3 and not self._quiet_told and self._on_quiet is not None:
                self._quiet_told = True
                self._on_quiet()
        self._misc = self._loop.call_later(self._misc_interval, self._on_misc)

    def _on_socket_register_write(self, _client: paho.Client, _userdata: Any, sock: Any) -> None:
        self._loop.add_writer(sock, self._on_writable)

    def _on_socket_unregister_write(self, _client: paho.Client, _userdata: Any, sock: Any) -> None:
        if sock.fileno() != -1:
            self._loop.remove_writer(sock)

    def _on_socket_close(self, _client: paho.Client, _userdata: Any, sock: Any) -> None:
        if isinstance(sock, socket.socket):
            self._unwatch(sock)
        if sock is self._sock:
            self._sock = None
            self._cancel_misc()

    def _on_connect(
        self,
        _client: paho.Client,
        _userdata: Any,
        _flags: Any,
        reason: ReasonCode,
        _properties: Any,
    ) -> None:
        if self._connack.done():
            return
        if not reason.is_failure:
            self._connack.set_result(None)
        elif str(reason) in _REFUSED:
            self._connack.set_exception(AuthError(f"the broker refused the credentials ({reason})"))
        else:
            refused = ConnectError(f"the broker refused the connection ({reason})")
            self._connack.set_exception(refused)

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: Any,
        _flags: Any,
        reason: ReasonCode,
        _properties: Any,
    ) -> None:
        if self._closing:
            self._finish(None)
        elif str(reason) == "Keep alive timeout":
            self._finish(ConnectTimeout("no PINGRESP within the keepalive interval"))
        else:  # MQTT 3.1.1 names no reason: paho's "Unspecified error" would tell nobody anything
            self._finish(ConnectError("the connection closed"))

    def _on_message(self, _client: paho.Client, _userdata: Any, message: Any) -> None:
        self.last_message_at = self._loop.time()
        self._quiet_told = False
        try:
            self._handler(message.topic, message.payload)
        except Exception:
            _LOGGER.exception("%s: error while handling a message", self._name)

    def _on_publish(
        self, _client: paho.Client, _userdata: Any, mid: int, _reason: Any, _properties: Any
    ) -> None:
        future = self._acks.get(mid)
        if future is not None and not future.done():
            future.set_result(())

    def _on_subscribe(
        self,
        _client: paho.Client,
        _userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        _properties: Any,
    ) -> None:
        future = self._acks.get(mid)
        if future is not None and not future.done():
            future.set_result(tuple(0x80 if code.is_failure else code.value for code in reasons))
