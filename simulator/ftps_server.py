"""The printer side of its storage: an implicit-FTPS server over an in-memory card.

Like the printers' server it speaks TLS from the first byte (port 990 on a printer; any port
here) with the printer's certificate, takes user ``bblp`` with the access code, lists folders
in the Unix ``ls -l`` format, and refuses a data connection that does not resume the control
connection's TLS session ("522 SSL connection failed: session reuse required"), as P1, A1 and
P2S printers do. Transfers need ``PROT P``. Faults for tests: ``stall`` (TLS up, no welcome)
and ``slow_delay`` (data dripped in small pieces).
"""

import asyncio
import contextlib
import hmac
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from .issued import remember

__all__ = ["FtpsServer", "Storage", "StoredFile"]

USERNAME: Final = "bblp"
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_DATA_TIMEOUT: Final = 10.0
_LINE_LIMIT: Final = 4096


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file on the simulated card."""

    data: bytes
    mtime: float


class Storage:
    """The card's files by absolute path; folders exist where files are."""

    def __init__(self) -> None:
        self.files: dict[str, StoredFile] = {}

    def put(self, path: str, data: bytes, mtime: float | None = None) -> None:
        """Store (or replace) a file."""
        self.files[path] = StoredFile(data, time.time() if mtime is None else mtime)

    def remove(self, path: str) -> None:
        """Delete a file if it is there."""
        self.files.pop(path, None)

    def is_dir(self, path: str) -> bool:
        """Return whether a folder holds anything (the root always exists)."""
        prefix = path.rstrip("/") + "/"
        return path == "/" or any(name.startswith(prefix) for name in self.files)

    def listing(self, folder: str) -> list[tuple[str, int, float, bool]]:
        """Return (name, size, mtime, is folder) for each entry of a folder."""
        prefix = folder.rstrip("/") + "/"
        entries: dict[str, tuple[str, int, float, bool]] = {}
        for path, stored in self.files.items():
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :]
            name, _, deeper = rest.partition("/")
            if deeper:
                entries.setdefault(name, (name, 0, stored.mtime, True))
            else:
                entries[name] = (name, len(stored.data), stored.mtime, False)
        return sorted(entries.values())


def _list_line(name: str, size: int, mtime: float, is_dir: bool) -> str:
    """Format an entry as the printers do (``ls -l``; the year for older files)."""
    stamp = time.gmtime(mtime)
    when = (
        f"{stamp.tm_hour:02d}:{stamp.tm_min:02d}"
        if time.time() - mtime < 180 * 86400
        else f" {stamp.tm_year}"
    )
    kind = "drwxr-xr-x" if is_dir else "-rw-r--r--"
    month = _MONTHS[stamp.tm_mon - 1]
    return f"{kind}    1 1000     1000     {size:>8} {month} {stamp.tm_mday:>2} {when:>5} {name}"


class FtpsServer:
    """A simulated printer file server on 127.0.0.1; one per simulated printer."""

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        access_code: str,
        storage: Storage,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._ssl_context = ssl_context
        self._access_code = access_code.encode()
        remember(access_code)
        self.storage = storage
        self.host = host
        self._port = port
        self.stall = False
        self.slow_delay = 0.0
        self.refused_reuse = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """Return the listening port (0 until started)."""
        if self._server is None:
            return 0
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def set_access_code(self, code: str) -> None:
        """Accept a new access code from now on."""
        self._access_code = code.encode()
        remember(code)

    async def start(self) -> None:
        """Listen with TLS from the first byte (implicit FTPS).

        Each session does its own handshake, so one a client breaks off ends that session
        quietly instead of reaching the event loop's error handler.
        """
        self._server = await asyncio.start_server(self._accept, self.host, self._port)
        self._port = self.port  # a restart listens on the same port, as the printer does

    async def stop(self) -> None:
        """Close the listener and every session."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._session(reader, writer))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(self, reader, writer)
        try:
            await handshake(writer, self._ssl_context)
            await session.run()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            await session.close_data()
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()

    def check_password(self, user: str, password: str) -> bool:
        """Compare the login in constant time."""
        return user == USERNAME and hmac.compare_digest(password.encode(), self._access_code)

    def ssl_context(self) -> ssl.SSLContext:
        """Return the context data connections use (the same, so sessions can resume)."""
        return self._ssl_context


type _Handler = Callable[["_Session", str], Awaitable[bool]]


async def handshake(writer: asyncio.StreamWriter, context: ssl.SSLContext) -> None:
    """Start TLS on an accepted connection; OSError (SSLError included) when it fails."""
    async with asyncio.timeout(_DATA_TIMEOUT):
        await writer.start_tls(context)


class _Session:
    """One control connection: login, PROT P, passive data connections, LIST/RETR/SIZE."""

    def __init__(
        self, server: FtpsServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._server = server
        self._reader = reader
        self._writer = writer
        self._user: str | None = None
        self._logged_in = False
        self._protected = False
        self._passive: asyncio.Server | None = None
        self._data: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def reply(self, line: str) -> None:
        """Send one reply line."""
        self._writer.write(f"{line}\r\n".encode())
        await self._writer.drain()

    async def run(self) -> None:
        """Greet, then answer commands until QUIT or the end of the connection."""
        if self._server.stall:
            await asyncio.Event().wait()  # TLS is up; the welcome never comes
        await self.reply("220 Service ready")
        while True:
            raw = await self._reader.readline()
            if not raw:
                return
            if len(raw) > _LINE_LIMIT:
                await self.reply("500 Command too long")
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, argument = line.partition(" ")
            if not await self._dispatch(verb.upper(), argument):
                return

    async def _dispatch(self, verb: str, argument: str) -> bool:
        """Answer one command; False ends the session."""
        handler = self._PUBLIC.get(verb)
        if handler is None:
            handler = self._PRIVATE.get(verb)
            if handler is None:
                await self.reply("502 Command not implemented")
                return True
            if not self._logged_in:
                await self.reply("530 Please login with USER and PASS")
                return True
        return await handler(self, argument)

    async def _user_cmd(self, argument: str) -> bool:
        self._user, self._logged_in = argument, False
        await self.reply("331 Please specify the password")
        return True

    async def _pass_cmd(self, argument: str) -> bool:
        if self._user is not None and self._server.check_password(self._user, argument):
            self._logged_in = True
            await self.reply("230 Login successful")
        else:
            await self.reply("530 Login incorrect")
        return True

    async def _quit_cmd(self, _argument: str) -> bool:
        await self.reply("221 Goodbye")
        return False

    async def _ok(self, argument: str) -> bool:
        del argument
        await self.reply("200 OK")
        return True

    async def _prot_cmd(self, argument: str) -> bool:
        self._protected = argument.strip().upper() == "P"
        await self.reply("200 PROT now " + ("Private" if self._protected else "Clear"))
        return True

    async def _pwd_cmd(self, _argument: str) -> bool:
        await self.reply('257 "/" is the current directory')
        return True

    async def _size_cmd(self, argument: str) -> bool:
        stored = self._server.storage.files.get(argument)
        if stored is None:
            await self.reply("550 Could not get file size")
        else:
            await self.reply(f"213 {len(stored.data)}")
        return True

    async def _pasv_cmd(self, _argument: str) -> bool:
        await self.close_data()
        self._passive = await asyncio.start_server(self._data_accepted, self._server.host, 0)
        port: int = self._passive.sockets[0].getsockname()[1]
        address = self._server.host.replace(".", ",")
        await self.reply(f"227 Entering Passive Mode ({address},{port >> 8},{port & 0xFF})")
        return True

    async def _data_accepted(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            await handshake(writer, self._server.ssl_context())
        except (OSError, TimeoutError):
            writer.close()
            return
        self._data.put_nowait((reader, writer))

    async def close_data(self) -> None:
        """Stop listening for a data connection and drop one not yet used."""
        passive, self._passive = self._passive, None
        if passive is not None:
            passive.close()
        while not self._data.empty():
            _reader, writer = self._data.get_nowait()
            writer.close()

    async def _transfer(self, produce: Callable[[], bytes]) -> None:
        """Send ``produce()`` on the data connection, refusing one without session reuse."""
        if self._passive is None:
            await self.reply("425 Use PASV first")
            return
        if not self._protected:
            await self.reply("522 Data connections must be encrypted")
            await self.close_data()
            return
        await self.reply("150 Opening BINARY mode data connection")
        try:
            async with asyncio.timeout(_DATA_TIMEOUT):
                _reader, writer = await self._data.get()
        except TimeoutError:
            await self.reply("425 Failed to establish connection")
            await self.close_data()
            return
        await self.close_data()
        ssl_object = writer.get_extra_info("ssl_object")
        if ssl_object is None or not ssl_object.session_reused:
            self._server.refused_reuse += 1
            writer.close()
            await self.reply("522 SSL connection failed: session reuse required")
            return
        try:
            data = produce()
            step = 512 if self._server.slow_delay else len(data) or 1
            for start in range(0, len(data), step):
                writer.write(data[start : start + step])
                await writer.drain()
                if self._server.slow_delay:
                    await asyncio.sleep(self._server.slow_delay)
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()
        await self.reply("226 Transfer complete")

    async def _list_cmd(self, argument: str) -> bool:
        folder = argument.strip() or "/"
        storage = self._server.storage
        if not storage.is_dir(folder):
            await self.reply("550 Failed to open directory")
            await self.close_data()
            return True
        lines = [_list_line(*entry) for entry in storage.listing(folder)]
        await self._transfer(lambda: "".join(f"{line}\r\n" for line in lines).encode())
        return True

    async def _retr_cmd(self, argument: str) -> bool:
        stored = self._server.storage.files.get(argument)
        if stored is None:
            await self.reply("550 Failed to open file")
            await self.close_data()
            return True
        await self._transfer(lambda: stored.data)
        return True

    _PUBLIC: Final[dict[str, _Handler]] = {"USER": _user_cmd, "PASS": _pass_cmd, "QUIT": _quit_cmd}
    _PRIVATE: Final[dict[str, _Handler]] = {
        "PBSZ": _ok,
        "TYPE": _ok,
        "PROT": _prot_cmd,
        "PWD": _pwd_cmd,
        "SIZE": _size_cmd,
        "PASV": _pasv_cmd,
        "LIST": _list_cmd,
        "RETR": _retr_cmd,
    }
