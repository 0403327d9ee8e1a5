"""The simulator's control socket: another process switches a printer off the network and on."""

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from simulator.control import ControlServer, main, send_control
from simulator.device import SimulatedPrinter
from simulator.farm import PrinterFarm
from simulator.testing import port_answers

REPO = Path(__file__).resolve().parents[2]


async def test_control_stops_and_starts_a_broker_and_switches_authorization(
    leak_check: None, tmp_path: Path
) -> None:
    async with PrinterFarm(["P1S", "A1"], speedup=20, ca_dir=tmp_path / "ca") as farm:
        control = ControlServer(farm)
        await control.start()
        try:
            p1s, a1 = farm.printers

            async def send(printer: SimulatedPrinter, action: str, **extra: Any) -> None:
                request = {"serial": printer.serial, "access_code": printer.access_code}
                await send_control(control.port, {**request, "action": action, **extra})

            await send(p1s, "stop_broker")
            assert not await port_answers(p1s.port)
            assert not p1s.connected
            assert await port_answers(a1.port)  # the other printer is untouched
            await send(p1s, "start_broker")
            assert p1s.connected
            assert await port_answers(p1s.port)

            await send(a1, "authorization_control", on=True)
            assert a1.reject_control
            assert not p1s.reject_control
            await send(a1, "authorization_control", on=False)
            assert not a1.reject_control

            with pytest.raises(RuntimeError, match="no printer with serial 'X'"):
                await send_control(control.port, {"serial": "X", "action": "stop_broker"})
            with pytest.raises(RuntimeError, match="wrong access code"):
                await send_control(
                    control.port,
                    {"serial": p1s.serial, "access_code": "0", "action": "stop_broker"},
                )
            assert p1s.connected
            with pytest.raises(RuntimeError, match="unknown action"):
                await send(p1s, "explode")
            reader, writer = await asyncio.open_connection("127.0.0.1", control.port)
            writer.write(b"[1]\n")
            assert json.loads(await reader.readline()) == {"error": "not a JSON object"}
            writer.close()
            await writer.wait_closed()

            # The command line finds the port and access code in the simulator's JSON file.
            endpoints = tmp_path / "printers.json"
            described = {"printers": farm.describe(), "control_port": control.port}
            endpoints.write_text(json.dumps(described), encoding="utf-8")
            assert await asyncio.to_thread(main, [str(endpoints), "X", "stop_broker"]) == 1
            code = await asyncio.to_thread(
                main, [str(endpoints), a1.serial.lower(), "authorization_control"]
            )
            assert code == 0
            assert a1.reject_control
        finally:
            await control.stop()


async def test_cli_with_control_names_its_port(leak_check: None, tmp_path: Path) -> None:
    json_out = tmp_path / "printers.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",
        "--control",
        "--json-out",
        str(json_out),
        "--ca-dir",
        str(tmp_path / "ca"),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        lines: list[bytes] = []
        async with asyncio.timeout(20):
            while not (line := await process.stdout.readline()).startswith(b"simulator: running"):
                assert line, b"".join(lines)
                lines.append(line)
        described = json.loads(json_out.read_text(encoding="utf-8"))
        assert f"simulator: control port {described['control_port']}\n".encode() in lines
        serial = described["printers"][0]["serial"]
        assert await asyncio.to_thread(main, [str(json_out), serial, "stop_broker"]) == 0
        assert not await port_answers(described["printers"][0]["port"])
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(15):
            await process.communicate()
        assert process.returncode == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_control_plays_job_and_hms_transitions(leak_check: None, tmp_path: Path) -> None:
    """The control port starts, pauses, resumes, stops, fails and finishes jobs, and sets HMS."""
    async with PrinterFarm(["P1S"], speedup=20, ca_dir=tmp_path / "ca") as farm:
        control = ControlServer(farm)
        await control.start()
        try:
            (p1s,) = farm.printers
            engine = p1s.engine

            async def send(action: str, **extra: Any) -> None:
                request = {"serial": p1s.serial, "access_code": p1s.access_code}
                await send_control(control.port, {**request, "action": action, **extra})

            await send("job", do="start", name="Cube")
            assert (engine.gcode_state, engine.job_name) == ("PREPARE", "Cube")
            await send("job", do="pause")
            assert engine.gcode_state == "PAUSE"
            await send("job", do="resume")
            await send("job", do="finish")
            assert engine.gcode_state == "FINISH"
            await send("job", do="start")
            await send("job", do="stop")
            assert (engine.gcode_state, engine.full_report()["print"]["print_error"]) == (
                "FAILED",
                0x0300400C,
            )
            await send("job", do="start")
            await send("job", do="fail", code=0x03004000)
            assert engine.full_report()["print"]["print_error"] == 0x03004000
            with pytest.raises(RuntimeError, match="cannot fail"):
                await send("job", do="fail")
            with pytest.raises(RuntimeError, match="do is start"):
                await send("job", do="explode")
            await send("hms", codes=[[0x03000100, 0x00010007]])
            assert engine.full_report()["print"]["hms"] == [
                {"attr": 0x03000100, "code": 0x00010007}
            ]
            await send("hms", codes=[])
            assert engine.full_report()["print"]["hms"] == []
            with pytest.raises(RuntimeError, match="codes is a list"):
                await send("hms", codes="x")

            endpoints = tmp_path / "printers.json"
            described = {"printers": farm.describe(), "control_port": control.port}
            endpoints.write_text(json.dumps(described), encoding="utf-8")
            base = [str(endpoints), p1s.serial]
            assert await asyncio.to_thread(main, [*base, "job", "--do", "start"]) == 0
            assert (
                await asyncio.to_thread(
                    main, [*base, "job", "--do", "fail", "--code", "0x0300400D"]
                )
                == 0
            )
            assert engine.full_report()["print"]["print_error"] == 0x0300400D
            assert await asyncio.to_thread(main, [*base, "hms", "--hms", "0x0C000300:196615"]) == 0
            assert engine.full_report()["print"]["hms"] == [{"attr": 0x0C000300, "code": 196615}]
        finally:
            await control.stop()
