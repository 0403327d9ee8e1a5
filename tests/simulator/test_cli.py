"""`python -m simulator`: prints its endpoints, serves clients, exits cleanly on SIGINT."""

import asyncio
import contextlib
import json
import os
import signal
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from custom_components.bambu_printer.printer.mqtt import ConnectionSettings, PrinterClient
from custom_components.bambu_printer.printer.tls import create_ssl_context
from simulator import __main__ as cli
from simulator.testing import child_processes, wait_until

pytestmark = pytest.mark.usefixtures("socket_enabled")

REPO = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def _read_until(stream: asyncio.StreamReader, marker: str, lines: list[str]) -> None:
    async with asyncio.timeout(20):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"simulator exited early: {lines}")
            lines.append(line)
            if marker in line:
                return


async def test_cli_runs_until_sigint(leak_check: None, tmp_path: Path) -> None:
    json_out = tmp_path / "endpoints.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--printers",
        "P1S",
        "--speedup",
        "50",
        "--json-out",
        str(json_out),
        "--ca-dir",
        str(tmp_path / "ca"),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        lines: list[str] = []
        await _read_until(process.stdout, "running", lines)
        endpoint = json.loads(json_out.read_text())["printers"][0]
        assert endpoint["model"] == "P1S"
        assert f"port={endpoint['port']}" in lines[0]
        assert f"serial={endpoint['serial']}" in lines[0]
        assert f"access_code={endpoint['access_code']}" in lines[0]
        assert f"ca={endpoint['ca_path']}" in lines[0]
        brokers = child_processes(parent=process.pid)
        assert len(brokers) == 1
        # A real client can use what it printed.
        settings = ConnectionSettings(
            host=endpoint["host"],
            port=endpoint["port"],
            serial=endpoint["serial"],
            password=endpoint["access_code"],
            ssl_context=create_ssl_context(Path(endpoint["ca_path"])),
        )
        client = PrinterClient(settings)
        await client.async_connect(timeout=5)
        assert client.state.print_data.get("gcode_state") == "IDLE"
        await client.async_stop()
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(15):
            out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        assert "stopped" in out.decode()
        assert not any(_alive(pid) for pid in brokers)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_cli_rejects_unknown_models() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--printers",
        "P1S,Ender3",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await process.communicate()
    assert process.returncode == 2
    assert "unknown printer model" in err.decode()


def test_parser_defaults() -> None:
    args = cli.build_parser().parse_args([])
    assert args.printers == ["P1S"]
    assert args.speedup == 1.0
    assert args.printing is False
    args = cli.build_parser().parse_args(
        ["--printers", "x1c, a1 mini", "--printing", "--report-interval", "0.5", "--camera"]
    )
    assert args.printers == ["X1C", "A1MINI"]
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--speedup", "0"])
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--printers", "Ender3"])


async def test_run_in_process(
    leak_check: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = cli.build_parser().parse_args(
        [
            "--printers",
            "A1,X1C",
            "--speedup",
            "20",
            "--printing",
            "--camera",
            "--access-code",
            "11223344",
            "--json-out",
            str(tmp_path / "out.json"),
            "--ca-dir",
            str(tmp_path / "ca"),
        ]
    )
    task = asyncio.create_task(cli.run(args))
    await wait_until((tmp_path / "out.json").exists, within=20)
    printers = json.loads((tmp_path / "out.json").read_text())["printers"]
    assert [p["access_code"] for p in printers] == ["11223344", "11223344"]
    assert printers[0]["camera_port"] is not None
    assert len(child_processes()) == 2
    os.kill(os.getpid(), signal.SIGTERM)  # run() handles it: stop the farm
    assert await task == 0
    out = capsys.readouterr().out
    assert "camera_port=" in out
    assert "stopped" in out
    assert child_processes() == []


async def test_run_reports_broker_failures(
    leak_check: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from simulator.broker import BrokerError, MosquittoNotFoundError  # noqa: PLC0415

    def missing() -> Path:
        raise MosquittoNotFoundError("mosquitto not found")

    monkeypatch.setattr("simulator.broker.find_mosquitto", missing)
    assert issubclass(MosquittoNotFoundError, BrokerError)
    args = cli.build_parser().parse_args(["--ca-dir", str(tmp_path / "ca")])
    assert await cli.run(args) == 1
    assert "mosquitto not found" in capsys.readouterr().err


def test_main_runs_the_farm(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    async def fake_run(args: object) -> int:
        seen.append(getattr(args, "printers", []))
        return 0

    monkeypatch.setattr(cli, "run", fake_run)
    assert cli.main(["--printers", "P1P"]) == 0
    assert seen == [["P1P"]]
    with contextlib.suppress(SystemExit):
        cli.main(["--help"])


def test_parser_serials() -> None:
    args = cli.build_parser().parse_args(
        ["--printers", "X1C,P1S", "--serials", "00m00a000000001, 01P00A000000001"]
    )
    assert args.serials == ["00M00A000000001", "01P00A000000001"]
    assert cli.build_parser().parse_args([]).serials is None
    for bad in ("01P/../x", "01P00A000000001,01P00A000000001", "A" * 33):
        with pytest.raises(SystemExit):
            cli.build_parser().parse_args(["--serials", bad])


async def test_run_with_fixed_serials(leak_check: None, tmp_path: Path) -> None:
    json_out = tmp_path / "out.json"
    serials = "03900A000000001,01P00A000000001"
    output = ["--json-out", str(json_out), "--ca-dir", str(tmp_path / "ca")]
    args = cli.build_parser().parse_args(["--printers", "A1,P1S", "--serials", serials, *output])
    task = asyncio.create_task(cli.run(args))
    await wait_until(json_out.exists, within=20)
    printers = json.loads(json_out.read_text())["printers"]
    assert [(p["model"], p["serial"]) for p in printers] == [
        ("A1", "03900A000000001"),
        ("P1S", "01P00A000000001"),
    ]
    os.kill(os.getpid(), signal.SIGTERM)
    assert await task == 0
    assert child_processes() == []


async def test_run_needs_one_serial_per_printer(capsys: pytest.CaptureFixture[str]) -> None:
    args = cli.build_parser().parse_args(["--printers", "A1,P1S", "--serials", "03900A000000001"])
    assert await cli.run(args) == 2
    assert "one serial per printer" in capsys.readouterr().err


def _read(path: str) -> bytes:
    return Path(path).read_bytes()


async def _run_once(tmp_path: Path, name: str, *extra: str) -> dict[str, Any]:
    """Run the command line in this process until its endpoints are written; return them."""
    json_out = tmp_path / f"{name}.json"
    args = cli.build_parser().parse_args(["--printers", "P1P", "--json-out", str(json_out), *extra])
    task = asyncio.create_task(cli.run(args))
    await wait_until(json_out.exists, within=20)
    endpoint: dict[str, Any] = json.loads(json_out.read_text())["printers"][0]
    try:
        settings = ConnectionSettings(
            host=endpoint["host"],
            port=endpoint["port"],
            serial=endpoint["serial"],
            password=endpoint["access_code"],
            ssl_context=create_ssl_context(Path(endpoint["ca_path"])),
        )
        client = PrinterClient(settings)
        await client.async_connect(timeout=5)
        await client.async_stop()
    finally:
        os.kill(os.getpid(), signal.SIGTERM)
        assert await task == 0
    return endpoint


async def test_runs_keep_one_ca_so_a_client_trusts_every_later_printer(
    leak_check: None, tmp_path: Path
) -> None:
    ca_dir = tmp_path / "ca"
    first = await _run_once(tmp_path, "first", "--ca-dir", str(ca_dir))
    trusted = _read(first["ca_path"])
    second = await _run_once(tmp_path, "second", "--ca-dir", str(ca_dir))
    # The same CA file, unchanged: what Home Assistant trusts from the first run still holds.
    assert second["ca_path"] == first["ca_path"]
    assert _read(second["ca_path"]) == trusted
    assert Path(first["ca_path"]).parent == ca_dir
    assert stat.S_IMODE((ca_dir / "ca.key").stat().st_mode) == 0o600
    # Only the CA is kept there; each run's printer certificates go with the run.
    assert sorted(path.name for path in ca_dir.iterdir() if path.suffix != ".lock") == [
        "ca.key",
        "ca.pem",
    ]


def test_the_simulator_keeps_its_ca_where_the_demo_does() -> None:
    from scripts import demo  # noqa: PLC0415  (imports Home Assistant)

    assert cli.build_parser().parse_args([]).ca_dir == demo.build_parser().parse_args([]).ca_dir
