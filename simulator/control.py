"""Control a running ``python -m simulator --control`` from another process.

Whoever watches the printers from outside (the demo's browser tests, a developer at the demo)
can switch a printer off the network and on again, or switch its authorization control, while
the simulator keeps running. The simulator listens on a TCP port of 127.0.0.1 (printed, and in
its ``--json-out`` file as ``control_port``) and takes one JSON request per connection,
answering one JSON line once the change is done. A request names the printer by serial and
carries its access code, which whoever may control the printer over MQTT knows anyway::

    {"serial": "01P00A000000001", "access_code": "12345678", "action": "stop_broker"}
    {"serial": "...", "access_code": "...", "action": "authorization_control", "on": true}
    {"serial": "...", "access_code": "...", "action": "job", "do": "start", "name": "Benchy"}
    {"serial": "...", "access_code": "...", "action": "hms", "codes": [[50331904, 65543]]}

``job`` plays a job's transitions: ``do`` is ``start``, ``finish`` (runs it to the end at once),
``fail`` (a fault with print error ``code``), ``stop`` (a user cancel), ``pause`` or ``resume``.

From a shell: ``python -m simulator.control ENDPOINTS.json SERIAL stop_broker``.
"""

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from .device import SimulatedPrinter
from .farm import PrinterFarm

__all__ = ["ACTIONS", "ControlServer", "send_control"]

HOST: Final = "127.0.0.1"
_READ_TIMEOUT: Final = 5.0
_ANSWER_TIMEOUT: Final = 60.0  # stopping or starting a broker waits for the printer's link


async def _stop_broker(printer: SimulatedPrinter, _request: Mapping[str, Any]) -> None:
    await printer.stop_broker()


async def _start_broker(printer: SimulatedPrinter, _request: Mapping[str, Any]) -> None:
    await printer.start_broker()


async def _authorization_control(printer: SimulatedPrinter, request: Mapping[str, Any]) -> None:
    printer.reject_control = bool(request.get("on", True))


_FINISH_SECONDS: Final = 7 * 24 * 3600.0  # longer than any simulated job


async def _job(printer: SimulatedPrinter, request: Mapping[str, Any]) -> None:
    engine = printer.engine
    step = str(request.get("do"))
    if step == "start":
        engine.start_job(
            str(request.get("name", "Benchy")), minutes=float(request.get("minutes", 30))
        )
    elif step == "finish":
        engine.advance(_FINISH_SECONDS / engine.speedup)
    elif step == "fail":
        engine.fail_job(int(request.get("code", 0x03004000)))
    elif step in {"stop", "pause", "resume"}:
        engine.handle_request({"print": {"command": step, "sequence_id": "0", "param": ""}})
    else:
        raise _BadRequest("job: do is start, finish, fail, stop, pause or resume")


async def _hms(printer: SimulatedPrinter, request: Mapping[str, Any]) -> None:
    codes = request.get("codes", [])
    if not isinstance(codes, list):
        raise _BadRequest("hms: codes is a list of [attr, code] pairs")
    printer.engine.set_hms([(int(attr), int(code)) for attr, code in codes])


type _Action = Callable[[SimulatedPrinter, Mapping[str, Any]], Awaitable[None]]

ACTIONS: Final[Mapping[str, _Action]] = {
    "stop_broker": _stop_broker,  # the printer is off the network (switched off, rebooting)
    "start_broker": _start_broker,  # it answers again on the same port; returns once it reports
    "authorization_control": _authorization_control,  # "on": true/false, as a firmware switch
    "job": _job,  # a job's transitions (see the module docstring)
    "hms": _hms,  # replace the health messages: "codes": [[attr, code], ...]
}


class _BadRequest(Exception):
    """A request the control port cannot carry out; the message says why."""


class ControlServer:
    """The simulator's control port for one farm (loopback only); ``port`` once started."""

    def __init__(self, farm: PrinterFarm) -> None:
        self._farm = farm
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        self._server = await asyncio.start_server(self._serve, HOST, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening; idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_READ_TIMEOUT):
                line = await reader.readline()
            answer = await self._answer(line)
            writer.write(json.dumps(answer).encode() + b"\n")
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, line: bytes) -> dict[str, Any]:
        """Carry out one request; say what was wrong with it instead of raising."""
        try:
            request, printer, action = self._parse(line)
            await action(printer, request)
        except _BadRequest as err:
            return {"error": str(err)}
        except Exception as err:  # noqa: BLE001  (the caller reads why; the simulator runs on)
            return {"error": f"{type(err).__name__}: {err}"}
        return {"ok": True}

    def _parse(self, line: bytes) -> tuple[dict[str, Any], SimulatedPrinter, _Action]:
        """Return the request, its printer and its action; raise _BadRequest saying why not."""
        try:
            request = json.loads(line)
        except ValueError as err:
            raise _BadRequest("not JSON") from err
        if not isinstance(request, dict):
            raise _BadRequest("not a JSON object")
        action = ACTIONS.get(str(request.get("action")))
        if action is None:
            raise _BadRequest(f"unknown action; known: {', '.join(ACTIONS)}")
        try:
            printer = self._farm.by_serial(str(request.get("serial")))
        except KeyError as err:
            raise _BadRequest(f"no printer with serial {request.get('serial')!r}") from err
        if not secrets.compare_digest(str(request.get("access_code")), printer.access_code):
            raise _BadRequest("wrong access code")
        return request, printer, action


async def send_control(port: int, request: Mapping[str, Any]) -> None:
    """Send one request to a simulator's control port; raise RuntimeError if it failed."""
    async with asyncio.timeout(_ANSWER_TIMEOUT):
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(json.dumps(dict(request)).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
    answer = json.loads(line) if line else {"error": "the simulator closed the connection"}
    if answer.get("ok") is not True:
        raise RuntimeError(f"simulator control {request.get('action')}: {answer.get('error')}")


def main(argv: Sequence[str] | None = None) -> int:
    """Send one request from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator.control",
        description="Change a printer of a running `python -m simulator --control`.",
    )
    parser.add_argument(
        "endpoints",
        type=Path,
        help="the simulator's --json-out file (the demo's: .demo/printers.json in its config)",
    )
    parser.add_argument("serial", help="the printer's serial number")
    parser.add_argument("action", choices=list(ACTIONS))
    parser.add_argument(
        "--off", action="store_true", help="authorization_control: switch it off (default on)"
    )
    parser.add_argument(
        "--do",
        choices=["start", "finish", "fail", "stop", "pause", "resume"],
        help="job: which transition",
    )
    parser.add_argument(
        "--code", type=lambda text: int(text, 0), help="job --do fail: the print error (0x...)"
    )
    parser.add_argument(
        "--hms",
        action="append",
        default=[],
        metavar="ATTR:CODE",
        help="hms: a message to report (repeat; none clears them), e.g. 0x03000100:0x00010007",
    )
    args = parser.parse_args(argv)
    serial = args.serial.upper()
    try:
        described = json.loads(args.endpoints.read_text(encoding="utf-8"))
        printer = next(p for p in described["printers"] if p["serial"] == serial)
        request = {
            "serial": serial,
            "access_code": printer["access_code"],
            "action": args.action,
            "on": not args.off,
            "do": args.do,
            "codes": [[int(part, 0) for part in pair.split(":", 1)] for pair in args.hms],
        }
        if args.code is not None:
            request["code"] = args.code
        asyncio.run(send_control(int(described["control_port"]), request))
    except StopIteration:
        print(f"simulator.control: no printer {serial} in {args.endpoints}", file=sys.stderr)  # noqa: T201
        return 1
    except (OSError, KeyError, ValueError, RuntimeError, TimeoutError) as err:
        print(f"simulator.control: {err}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover  (tests call main())
    sys.exit(main())
