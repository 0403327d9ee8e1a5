"""The FTPS client against the simulator's file server: listing, downloads, refusals, timeouts.

Real TLS with the simulated printer's certificate (its serial as the name), the session reuse
the printers demand on data connections, a man in the middle with another CA, and servers that
never answer or answer too slowly.
"""

import asyncio
import ftplib
import io
import socket
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from custom_components.bambu_printer.printer import ftps
from custom_components.bambu_printer.printer.errors import (
    AuthError,
    FileTooLarge,
    FileTransferError,
    FileTransferTimeout,
    RemoteFileNotFound,
    TlsUntrusted,
)
from custom_components.bambu_printer.printer.ftps import (
    FtpsSettings,
    PrinterStorage,
    parse_list_line,
)
from custom_components.bambu_printer.printer.project import PNG_MAGIC, parse_project
from custom_components.bambu_printer.printer.tls import create_ssl_context
from simulator.ca import TestCA
from simulator.device import SimulatedPrinter
from simulator.testing import printer_ssl_context, start_printer

from ..mitm import MitmProxy


@pytest.fixture
async def card_printer(leak_check: None) -> AsyncIterator[SimulatedPrinter]:
    """A P1S serving its storage card over implicit FTPS."""
    async with start_printer("P1S", files=True) as printer:
        yield printer


def _settings(printer: SimulatedPrinter, **changes: object) -> FtpsSettings:
    assert printer.ftps_port is not None
    settings = FtpsSettings(
        host=printer.host,
        serial=printer.serial,
        access_code=printer.access_code,
        ssl_context=printer_ssl_context(printer),
        port=printer.ftps_port,
        timeout=2.0,
        deadline=10.0,
    )
    return replace(settings, **changes)  # type: ignore[arg-type]


async def test_lists_folders_and_files(card_printer: SimulatedPrinter) -> None:
    """The root shows the card's projects and folders; /timelapse its video (P1: AVI)."""
    storage = PrinterStorage(_settings(card_printer))
    root = {entry.path: entry for entry in await storage.async_list("/")}
    assert root["/timelapse"].is_dir
    project = root["/Cable clips.gcode.3mf"]
    assert not project.is_dir
    assert project.size == len(card_printer.card.storage.files[project.path].data)  # type: ignore[union-attr]
    assert project.modified is not None
    videos = await storage.async_list("/timelapse")
    assert [entry.name.rsplit(".", 1)[-1] for entry in videos if not entry.is_dir] == ["avi"]


async def test_downloads_a_project_and_reads_it(card_printer: SimulatedPrinter) -> None:
    """A 3mf fetched over FTPS gives its plate, weight, length, objects and cover."""
    storage = PrinterStorage(_settings(card_printer))
    data = await storage.async_read("/Cable clips.gcode.3mf", max_bytes=1 << 20)
    details = parse_project(io.BytesIO(data), "/Cable clips.gcode.3mf")
    assert details.plate == 1
    assert details.weight_g == pytest.approx(12.5)
    assert details.length_m == pytest.approx(4.1)
    assert [obj.identify_id for obj in details.objects] == [151, 251, 351]
    assert details.cover is not None
    assert details.cover.startswith(PNG_MAGIC)


async def test_several_commands_share_one_login(card_printer: SimulatedPrinter) -> None:
    """A session lists, sizes and reads in one connection (one at a time per printer)."""
    storage = PrinterStorage(_settings(card_printer))

    def job(session: ftps.FtpsSession) -> tuple[int | None, int]:
        entries = session.list("/timelapse/thumbnail")
        return session.size(entries[0].path), len(session.read(entries[0].path, max_bytes=1 << 20))

    size, length = await storage.async_run(job)
    assert size == length > 0


async def test_sessions_run_one_at_a_time(card_printer: SimulatedPrinter) -> None:
    """Concurrent requests queue on the printer's lock instead of opening more connections."""
    storage = PrinterStorage(_settings(card_printer))
    running = 0
    most = 0

    def job(session: ftps.FtpsSession) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        session.list("/")
        time.sleep(0.05)
        running -= 1

    await asyncio.gather(*(storage.async_run(job) for _ in range(3)))
    assert most == 1


async def test_data_connection_without_session_reuse_is_refused(
    card_printer: SimulatedPrinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like P1/A1 printers, the server answers 522 to a data connection with a new session."""

    class NoReuse(ftps._ImplicitFtps):
        def ntransfercmd(
            self, cmd: str, rest: int | str | None = None
        ) -> tuple[socket.socket, int | None]:
            conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)  # noqa: S321
            return self.context.wrap_socket(conn, server_hostname=card_printer.serial), size

    monkeypatch.setattr(ftps, "_ImplicitFtps", NoReuse)
    storage = PrinterStorage(_settings(card_printer))
    with pytest.raises(FileTransferError, match="522"):
        await storage.async_list("/")
    assert card_printer.card is not None
    assert card_printer.card.server.refused_reuse == 1


async def test_wrong_access_code_is_an_auth_error(card_printer: SimulatedPrinter) -> None:
    """530 after PASS becomes AuthError, with no secret in the message."""
    storage = PrinterStorage(_settings(card_printer, access_code="00000000"))
    with pytest.raises(AuthError) as caught:
        await storage.async_list("/")
    assert "00000000" not in str(caught.value)


async def test_missing_file_and_oversized_file(card_printer: SimulatedPrinter) -> None:
    """550 is RemoteFileNotFound; a file over the caller's limit is cut off."""
    storage = PrinterStorage(_settings(card_printer))
    with pytest.raises(RemoteFileNotFound):
        await storage.async_read("/cache/nothing.3mf", max_bytes=1000)
    with pytest.raises(FileTooLarge):
        await storage.async_read("/Cable clips.gcode.3mf", max_bytes=100)
    assert await storage.async_list("/timelapse")  # the next session works as before


async def test_paths_with_line_breaks_are_refused(card_printer: SimulatedPrinter) -> None:
    """A path cannot smuggle a second command (DELE) through a line break."""
    storage = PrinterStorage(_settings(card_printer))
    with pytest.raises(ValueError, match="not an absolute printer path"):
        await storage.async_read("/a.3mf\r\nDELE /b.3mf", max_bytes=10)


async def test_man_in_the_middle_is_refused_before_the_login(
    card_printer: SimulatedPrinter, tmp_path: Path
) -> None:
    """A certificate from another CA (right serial) ends the handshake: no access code sent."""
    assert card_printer.ftps_port is not None
    async with MitmProxy(
        tmp_path,
        card_printer.serial,
        card_printer.host,
        card_printer.ftps_port,
        card_printer.ca_path,
    ) as mitm:
        storage = PrinterStorage(_settings(card_printer, host=mitm.host, port=mitm.port))
        with pytest.raises(TlsUntrusted):
            await storage.async_list("/")
    assert card_printer.access_code.encode() not in mitm.received


async def test_dead_server_times_out(leak_check: None) -> None:
    """A port that takes the connection and never answers TLS fails within the timeout."""
    accepted: list[asyncio.StreamWriter] = []

    async def swallow(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = FtpsSettings(
        "127.0.0.1", "01P00A000000001", "12345678", ssl.create_default_context(), port, 0.3, 5.0
    )
    started = time.monotonic()
    try:
        with pytest.raises(FileTransferTimeout):
            await PrinterStorage(settings).async_list("/")
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert time.monotonic() - started < 3


async def test_silent_server_after_tls_times_out(card_printer: SimulatedPrinter) -> None:
    """TLS up, but no welcome: the socket timeout ends the session."""
    assert card_printer.card is not None
    card_printer.card.server.stall = True
    started = time.monotonic()
    with pytest.raises(FileTransferTimeout):
        await PrinterStorage(_settings(card_printer, timeout=0.3)).async_list("/")
    assert time.monotonic() - started < 3


async def test_slow_transfer_hits_the_deadline(card_printer: SimulatedPrinter) -> None:
    """A server dripping data keeps each read short but not the whole transfer: cut off."""
    assert card_printer.card is not None
    card_printer.card.server.slow_delay = 0.3
    storage = PrinterStorage(_settings(card_printer, deadline=0.5))
    started = time.monotonic()
    with pytest.raises(FileTransferTimeout):
        await storage.async_read("/Cable clips.gcode.3mf", max_bytes=1 << 20)
    assert time.monotonic() - started < 3
    card_printer.card.server.slow_delay = 0.0
    assert await PrinterStorage(_settings(card_printer)).async_list("/timelapse")


def test_list_lines_as_printers_send_them() -> None:
    """Both date forms of ``ls -l``; a date ahead of now by months is last year's."""
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    old = parse_list_line(
        "/timelapse",
        "-rw-r--r--    1 1000     1000      1632221 Jun 17  2025 video_2025-06-17_12-12-18.mp4",
        now,
    )
    assert old is not None
    assert (old.path, old.size, old.is_dir) == (
        "/timelapse/video_2025-06-17_12-12-18.mp4",
        1632221,
        False,
    )
    assert old.modified == datetime(2025, 6, 17, tzinfo=UTC)
    recent = parse_list_line(
        "/", "drwxr-xr-x    2 1000     1000         4096 Dec 30 23:10 cache", now
    )
    assert recent is not None
    assert recent.is_dir
    assert recent.modified == datetime(2025, 12, 30, 23, 10, tzinfo=UTC)
    assert parse_list_line("/", "total 12", now) is None
    assert parse_list_line("/", "drwxr-xr-x 2 0 0 0 Jan 1 2025 ..", now) is None


async def test_a_job_can_catch_a_missing_file_and_go_on(card_printer: SimulatedPrinter) -> None:
    """Inside one session, a 550 is RemoteFileNotFound (typed), and the next command works."""
    storage = PrinterStorage(_settings(card_printer))

    def job(session: ftps.FtpsSession) -> int:
        try:
            session.read("/cache/missing.3mf", max_bytes=1000)
        except RemoteFileNotFound:
            return len(session.read("/Cable clips.gcode.3mf", max_bytes=1 << 20))
        return 0

    assert await storage.async_run(job) > 0


async def test_a_dripping_welcome_hits_the_deadline(leak_check: None, tmp_path: Path) -> None:
    """TLS up, then the welcome a byte at a time: each read is quick, the session is not."""
    ca = TestCA(tmp_path / "ca")
    pair = ca.issue("01P00A000000001")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pair.cert_path, pair.key_path)
    handlers: list[asyncio.Task[object]] = []

    async def drip(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.append(task)
        for byte in b"220-" + b"x" * 1000:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)

    server = await asyncio.start_server(drip, "127.0.0.1", 0, ssl=context)
    settings = FtpsSettings(
        "127.0.0.1",
        "01P00A000000001",
        "12345678",
        create_ssl_context(ca.cert_path),
        server.sockets[0].getsockname()[1],
        timeout=0.5,
        deadline=0.5,
    )
    storage = PrinterStorage(settings)
    started = time.monotonic()
    try:
        with pytest.raises(FileTransferTimeout):
            await storage.async_list("/")
    finally:
        server.close()
        for handler in handlers:
            handler.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()
    assert time.monotonic() - started < 3


async def test_cancelling_a_session_frees_the_printer(card_printer: SimulatedPrinter) -> None:
    """A cancelled request cuts its connection; the next one runs at once."""
    assert card_printer.card is not None
    card_printer.card.server.stall = True
    storage = PrinterStorage(_settings(card_printer, timeout=5.0))
    task = asyncio.create_task(storage.async_list("/"))
    await asyncio.sleep(0.3)
    task.cancel()
    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 2
    card_printer.card.server.stall = False
    assert await storage.async_list("/timelapse")
