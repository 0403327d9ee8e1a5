"""An in-memory stand-in for the printer's FTPS storage, for tests with a mocked client.

It runs the integration's storage jobs against a simulated card (``simulator.ftps_server.
Storage``) with the session API of ``printer.ftps.FtpsSession``, without sockets or threads.
Tests with the simulator use the real FTPS client instead.
"""

from collections.abc import Callable

from custom_components.bambu_printer.printer.errors import FileTooLarge, RemoteFileNotFound
from custom_components.bambu_printer.printer.ftps import RemoteFile, join_path
from simulator.ftps_server import Storage


class FakeSession:
    """The session API over an in-memory card."""

    def __init__(self, card: Storage) -> None:
        self.card = card

    def list(self, folder: str) -> list[RemoteFile]:
        """List a folder like the printer (a missing folder is RemoteFileNotFound)."""
        from datetime import UTC, datetime  # noqa: PLC0415

        if not self.card.is_dir(folder):
            raise RemoteFileNotFound(folder)
        return [
            RemoteFile(join_path(folder, name), size, datetime.fromtimestamp(mtime, UTC), is_dir)
            for name, size, mtime, is_dir in self.card.listing(folder)
        ]

    def size(self, path: str) -> int | None:
        """Return a file's size."""
        stored = self.card.files.get(path)
        if stored is None:
            raise RemoteFileNotFound(path)
        return len(stored.data)

    def download(self, path: str, sink: Callable[[bytes], object], *, max_bytes: int) -> int:
        """Pass the file to ``sink`` (in one piece)."""
        stored = self.card.files.get(path)
        if stored is None:
            raise RemoteFileNotFound(path)
        if len(stored.data) > max_bytes:
            raise FileTooLarge(path)
        sink(stored.data)
        return len(stored.data)

    def read(self, path: str, *, max_bytes: int) -> bytes:
        """Return a whole file."""
        parts: list[bytes] = []
        self.download(path, parts.append, max_bytes=max_bytes)
        return b"".join(parts)


class FakeStorage:
    """``printer.ftps.PrinterStorage`` over an in-memory card."""

    def __init__(self, card: Storage | None = None) -> None:
        self.card = card if card is not None else Storage()
        self.sessions = 0

    async def async_run[T](self, job: Callable[[FakeSession], T]) -> T:
        """Run a job on the card."""
        self.sessions += 1
        return job(FakeSession(self.card))

    async def async_list(self, folder: str) -> list[RemoteFile]:
        """List one folder."""
        return await self.async_run(lambda session: session.list(folder))

    async def async_read(self, path: str, *, max_bytes: int) -> bytes:
        """Read one file."""
        return await self.async_run(lambda session: session.read(path, max_bytes=max_bytes))
