"""Implicit FTPS client for the printer's storage: 3mf files, plate images, timelapses.

Printers serve their storage card over FTP with implicit TLS on port 990 (user ``bblp``, the
LAN access code). The certificate is the MQTT one, so it is checked the same way: Bambu's CAs
and the serial as the name, TLS 1.2 (the printer contexts of :mod:`.tls`). Data connections are
encrypted (``PROT P``) and resume the control connection's TLS session, which the printers'
server requires (it answers 522 otherwise).

The protocol is the standard library's :mod:`ftplib`, which blocks: every session runs in an
executor thread, one at a time per printer (a lock), each socket operation bounded by a
timeout and the whole session by a deadline, after which its sockets are shut down.
"""

import asyncio
import contextlib
import ftplib
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from .errors import (
    AuthError,
    BambuError,
    ConnectError,
    FileTooLarge,
    FileTransferError,
    FileTransferTimeout,
    RemoteFileNotFound,
)
from .tls import tls_error

__all__ = [
    "FTPS_PORT",
    "FtpsSession",
    "FtpsSettings",
    "PrinterStorage",
    "RemoteFile",
    "parse_list_line",
]

FTPS_PORT: Final = 990
USERNAME: Final = "bblp"
DEFAULT_TIMEOUT: Final = 10.0  # seconds any one socket operation may take
DEFAULT_DEADLINE: Final = 300.0  # seconds a whole session may take (a long timelapse)
_BLOCK: Final = 65536

# One line of a Unix-style LIST answer, as the printers send it:
# "-rw-r--r--    1 1000     1000      1632221 Jun 17  2025 video_2025-06-17_12-12-18.mp4"
# "-rw-r--r--    1 1000     1000      1640240 Jun 18 00:27 video_2025-06-17_14-48-33.mp4"
_LIST_LINE: Final = re.compile(
    r"^(?P<kind>[-dl])\S*\s+\d+\s+\S+\s+\S+\s+(?P<size>\d+)\s+"
    r"(?P<month>[A-Z][a-z]{2})\s+(?P<day>\d{1,2})\s+(?:(?P<time>\d{1,2}:\d{2})|(?P<year>\d{4}))\s"
    r"(?P<name>.+)$"
)
# A date without a year lies within about six months of now; one further ahead is last year's.
_HALF_YEAR: Final = timedelta(days=190)


@dataclass(frozen=True, slots=True)
class FtpsSettings:
    """Where and how to reach one printer's file server."""

    host: str
    serial: str  # the certificate's name
    access_code: str = field(repr=False)
    ssl_context: ssl.SSLContext
    port: int = FTPS_PORT
    timeout: float = DEFAULT_TIMEOUT
    deadline: float = DEFAULT_DEADLINE


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One entry of a folder on the printer."""

    path: str
    size: int
    modified: datetime | None
    is_dir: bool

    @property
    def name(self) -> str:
        """Return the last part of the path."""
        return self.path.rsplit("/", 1)[-1]


def parse_list_line(folder: str, line: str, now: datetime | None = None) -> RemoteFile | None:
    """Read one LIST line; None for lines in another format (logged by nobody: ignored)."""
    match = _LIST_LINE.match(line)
    if match is None:
        return None
    name = match["name"]
    if name in {".", ".."} or "/" in name:
        return None
    if match["kind"] == "l":
        name = name.split(" -> ", 1)[0]
    now = now or datetime.now(UTC)
    try:
        if match["year"] is not None:
            stamp = f"{match['month']} {match['day']} {match['year']}"
            modified = datetime.strptime(stamp, "%b %d %Y").replace(tzinfo=UTC)
        else:
            stamp = f"{now.year} {match['month']} {match['day']} {match['time']}"
            modified = datetime.strptime(stamp, "%Y %b %d %H:%M").replace(tzinfo=UTC)
            if modified - now > _HALF_YEAR:
                modified = modified.replace(year=now.year - 1)
    except ValueError:
        modified = None
    return RemoteFile(
        path=join_path(folder, name),
        size=int(match["size"]),
        modified=modified,
        is_dir=match["kind"] == "d",
    )


def join_path(folder: str, name: str) -> str:
    """Join a folder and a name into an absolute path on the printer."""
    return f"{folder.rstrip('/')}/{name}"


def _check_path(path: str) -> str:
    """Refuse paths that would smuggle a second FTP command (line breaks) or are relative."""
    if not path.startswith("/") or any(ch in path for ch in "\r\n\0"):
        raise ValueError(f"not an absolute printer path: {path!r}")
    return path


class _ImplicitFtps(ftplib.FTP_TLS):
    """ftplib's FTPS with TLS from the first byte and the session resumed on data connections."""

    def __init__(self, context: ssl.SSLContext, server_name: str, timeout: float) -> None:
        super().__init__(context=context, timeout=timeout)
        self._server_name = server_name
        self.protected = False

    def connect(
        self,
        host: str = "",
        port: int = 0,
        timeout: float = -999,
        source_address: tuple[str, int] | None = None,
    ) -> str:
        """Connect and start TLS at once (implicit FTPS), then read the welcome."""
        self.host, self.port = host, port
        if timeout != -999:
            self.timeout = timeout
        raw = socket.create_connection((host, port), self.timeout, source_address=source_address)
        try:
            self.sock = self.context.wrap_socket(raw, server_hostname=self._server_name)
        except BaseException:
            raw.close()
            raise
        self.af = self.sock.family
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome

    def prot_p(self) -> str:
        """Ask for encrypted data connections, and remember that they are."""
        reply = super().prot_p()
        self.protected = True
        return reply

    def ntransfercmd(
        self, cmd: str, rest: int | str | None = None
    ) -> tuple[socket.socket, int | None]:
        """Open the data connection with TLS resuming the control session (name = serial)."""
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)  # noqa: S321  (TLS follows)
        if self.protected:
            control = self.sock
            session = control.session if isinstance(control, ssl.SSLSocket) else None
            try:
                conn = self.context.wrap_socket(
                    conn, server_hostname=self._server_name, session=session
                )
            except BaseException:
                conn.close()
                raise
        return conn, size

    def abort_sockets(self) -> None:
        """Unblock whatever the session thread waits on (called from another thread)."""
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class FtpsSession:
    """One logged-in connection, used from its executor thread only."""

    def __init__(self, ftp: _ImplicitFtps, deadline: float, where: str) -> None:
        self._ftp = ftp
        self._deadline = deadline
        self._where = where

    @contextlib.contextmanager
    def _refusals(self) -> Iterator[None]:
        """Raise a refused command as the library's error, so a job can catch a missing file."""
        try:
            yield
        except ftplib.error_perm as err:
            raise _reply_error(err, self._where) from None

    def _check_deadline(self) -> None:
        if time.monotonic() > self._deadline:
            raise FileTransferTimeout("the printer's file transfer took too long")

    def list(self, folder: str) -> list[RemoteFile]:
        """List a folder (files and subfolders); a missing folder raises RemoteFileNotFound."""
        _check_path(folder)
        self._check_deadline()
        lines: list[str] = []

        def keep(line: str) -> None:
            self._check_deadline()
            if len(lines) < 10_000:
                lines.append(line)

        with self._refusals():
            self._ftp.retrlines(f"LIST {folder}", keep)
        now = datetime.now(UTC)
        return [entry for line in lines if (entry := parse_list_line(folder, line, now))]

    def size(self, path: str) -> int | None:
        """Return a file's size in bytes (None when the server does not say)."""
        _check_path(path)
        self._check_deadline()
        with self._refusals():
            self._ftp.voidcmd("TYPE I")
            return self._ftp.size(path)

    def download(self, path: str, sink: Callable[[bytes], object], *, max_bytes: int) -> int:
        """Pass a file's bytes to ``sink``; FileTooLarge once more than ``max_bytes`` came."""
        _check_path(path)
        self._check_deadline()
        received = 0

        def take(block: bytes) -> None:
            nonlocal received
            received += len(block)
            if received > max_bytes:
                raise FileTooLarge(f"{path} is larger than {max_bytes} bytes")
            self._check_deadline()
            sink(block)

        with self._refusals():
            self._ftp.retrbinary(f"RETR {path}", take, blocksize=_BLOCK)
        return received

    def read(self, path: str, *, max_bytes: int) -> bytes:
        """Return a whole (small) file."""
        parts: list[bytes] = []
        self.download(path, parts.append, max_bytes=max_bytes)
        return b"".join(parts)


def _reply_error(err: ftplib.error_perm, where: str) -> BambuError:
    """Read a refusal's reply code: 530 is the access code, 550 a missing file."""
    reply = str(err)
    if reply.startswith("530"):
        return AuthError(f"{where} refused the access code")
    if reply.startswith("550"):
        return RemoteFileNotFound(f"{where}: no such file or folder")
    return FileTransferError(f"{where} refused: {reply[:120]}")


def _where(settings: FtpsSettings) -> str:
    return f"the file server at {settings.host}:{settings.port}"


def _translate(err: Exception, settings: FtpsSettings) -> BambuError:
    """Turn what ftplib, ssl and socket raise into the library's typed errors."""
    where = _where(settings)
    if isinstance(err, BambuError):
        return err
    if isinstance(err, ssl.SSLError):
        return tls_error(err, where, settings.serial)
    if isinstance(err, TimeoutError):
        return FileTransferTimeout(f"{where} did not answer in time")
    if isinstance(err, ftplib.error_perm):
        return _reply_error(err, where)
    if isinstance(err, ConnectionRefusedError):
        return ConnectError(f"{where} refused the connection")
    detail = (err.strerror if isinstance(err, OSError) else str(err)[:120]) or type(err).__name__
    return FileTransferError(f"{where} failed: {detail}")


class _Connection:
    """The session thread's current connection, so the event loop can cut it off."""

    def __init__(self) -> None:
        self.ftp: _ImplicitFtps | None = None

    def abort(self) -> None:
        """Shut the sockets down; the thread's blocking call then fails at once."""
        if self.ftp is not None:
            self.ftp.abort_sockets()


class PrinterStorage:
    """The printer's storage over FTPS: one session at a time, always off the event loop."""

    def __init__(self, settings: FtpsSettings) -> None:
        self.settings = settings
        self._lock = asyncio.Lock()

    def _run[T](self, job: Callable[[FtpsSession], T], deadline: float, conn: _Connection) -> T:
        """Connect, log in, protect the data channel, run ``job``, say goodbye (blocking)."""
        settings = self.settings
        ftp = conn.ftp = _ImplicitFtps(settings.ssl_context, settings.serial, settings.timeout)
        try:
            ftp.connect(settings.host, settings.port)
            ftp.login(USERNAME, settings.access_code)
            ftp.prot_p()
            result = job(FtpsSession(ftp, deadline, _where(settings)))
            with contextlib.suppress(Exception):
                ftp.quit()
        except (OSError, EOFError, ftplib.Error, BambuError) as err:
            raise _translate(err, settings) from None
        finally:
            ftp.close()
        return result

    async def async_run[T](self, job: Callable[[FtpsSession], T]) -> T:
        """Run ``job`` on one logged-in session in an executor thread; typed errors only."""
        settings = self.settings
        async with self._lock:
            loop = asyncio.get_running_loop()
            conn = _Connection()
            deadline = time.monotonic() + settings.deadline
            future = loop.run_in_executor(None, self._run, job, deadline, conn)
            try:
                done, _ = await asyncio.wait({future}, timeout=settings.deadline + settings.timeout)
            except asyncio.CancelledError:
                conn.abort()  # the thread ends before the lock is released
                await _settled(future)
                raise
            if not done:
                conn.abort()
                await _settled(future)
                raise FileTransferTimeout("the printer's file server did not answer in time")
            return future.result()

    async def async_list(self, folder: str) -> list[RemoteFile]:
        """List one folder."""
        return await self.async_run(lambda session: session.list(folder))

    async def async_read(self, path: str, *, max_bytes: int) -> bytes:
        """Fetch one small file into memory."""
        return await self.async_run(lambda session: session.read(path, max_bytes=max_bytes))


async def _settled(future: asyncio.Future[Any]) -> None:
    """Wait until an aborted session's thread has ended; its outcome no longer matters.

    Waiting (not awaiting) never cancels the thread's future, and nothing is logged for
    it: asyncio.shield would report the aborted session's error as never retrieved.
    """
    await asyncio.wait({future})
    if not future.cancelled():
        future.exception()
