"""Run a farm of simulated printers until interrupted: ``python -m simulator --printers P1S``.

For every printer it prints the host, port, serial, access code and CA file a client needs
(and writes them as JSON with ``--json-out`` for scripts), then runs until SIGINT or SIGTERM
and stops every broker it started. Every run signs with the same CA (``--ca-dir``, by default
the demo's), so a printer started by hand can be added to the running demo in its UI.
"""

import argparse
import asyncio
import ipaddress
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from custom_components.bambu_printer.printer.discovery import DISCOVERY_PORT

from .broker import BrokerError
from .control import ControlServer
from .engine import MODELS, normalize_model
from .farm import KEPT_CA_DIR, PrinterFarm, PrinterSpec


def _models(value: str) -> list[str]:
    try:
        return [normalize_model(name) for name in value.split(",") if name.strip()]
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _serials(value: str) -> list[str]:
    serials = [serial.strip().upper() for serial in value.split(",") if serial.strip()]
    for serial in serials:
        if not serial.isalnum() or len(serial) > 32:
            raise argparse.ArgumentTypeError(f"not a serial number: {serial!r}")
    if len(set(serials)) != len(serials):
        raise argparse.ArgumentTypeError("every printer needs its own serial")
    return serials


def _hosts(value: str) -> list[str | None]:
    hosts: list[str | None] = []
    for host in (part.strip() for part in value.split(",")):
        if host in {"", "-"}:
            hosts.append(None)
            continue
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback or host == "127.0.0.1":
            raise argparse.ArgumentTypeError(f"not an address of its own on loopback: {host!r}")
        hosts.append(host)
    return hosts


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port < 65536:
        raise argparse.ArgumentTypeError("not a UDP port")
    return port


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return number


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (separate so tests and docs can inspect it)."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Run simulated Bambu Lab printers on 127.0.0.1 (MQTT over TLS).",
    )
    parser.add_argument(
        "--printers",
        type=_models,
        default=["P1S"],
        help=f"comma-separated models ({', '.join(MODELS)}); default P1S",
    )
    parser.add_argument(
        "--speedup", type=_positive, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument(
        "--report-interval",
        type=_positive,
        default=1.0,
        help="seconds between status reports (default 1)",
    )
    parser.add_argument("--printing", action="store_true", help="start a print job on each")
    parser.add_argument(
        "--authorization-control",
        action="store_true",
        help="printers refuse print control as firmware from 2025 does without Developer mode",
    )
    parser.add_argument(
        "--access-code", default=None, help="use this access code for every printer"
    )
    parser.add_argument(
        "--serials",
        type=_serials,
        default=None,
        help="comma-separated serial numbers, one per printer in --printers order "
        "(default: random); fixed serials let Home Assistant keep its entries across runs",
    )
    parser.add_argument(
        "--hosts",
        type=_hosts,
        default=None,
        help="comma-separated loopback addresses of their own (127.x.y.z, not 127.0.0.1), one "
        "per printer in --printers order, '-' for none; such a printer listens on the real "
        "ports (MQTT 8883, camera 6000) and can be added from its announcement alone",
    )
    parser.add_argument(
        "--announce-port",
        type=_port,
        default=DISCOVERY_PORT,
        help="UDP port on 127.0.0.1 the printers announce themselves to, as real ones do on the "
        f"LAN (default {DISCOVERY_PORT}; 0: no announcements)",
    )
    parser.add_argument(
        "--camera", action="store_true", help="serve the JPEG camera of P1/A1 printers"
    )
    parser.add_argument(
        "--files",
        action="store_true",
        help="serve each printer's storage card over implicit FTPS (3mf projects, timelapses)",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="listen on a control port of 127.0.0.1 (printed, and in --json-out) through which "
        "`python -m simulator.control` stops and starts a printer's broker or switches its "
        "authorization control",
    )
    parser.add_argument(
        "--json-out", type=Path, default=None, help="also write the endpoints to this JSON file"
    )
    parser.add_argument(
        "--ca-dir",
        type=Path,
        default=KEPT_CA_DIR,
        help="keep the CA that signs the printers' certificates here and reuse it on every run "
        "(default: the demo's, so its Home Assistant accepts these printers)",
    )
    return parser


async def run(args: argparse.Namespace) -> int:
    """Start the farm, print its endpoints, wait for SIGINT/SIGTERM, stop it."""
    serials: list[str | None] = list(args.serials or [])
    if serials and len(serials) != len(args.printers):
        print("simulator: --serials needs one serial per printer", file=sys.stderr)
        return 2
    serials += [None] * (len(args.printers) - len(serials))
    hosts: list[str | None] = list(args.hosts or [])
    if len(hosts) > len(args.printers):
        print("simulator: --hosts names more printers than --printers", file=sys.stderr)
        return 2
    hosts += [None] * (len(args.printers) - len(hosts))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    specs = [
        PrinterSpec(
            model,
            serial=serial,
            access_code=args.access_code,
            printing=args.printing,
            authorization_control=args.authorization_control,
            host=host,
        )
        for model, serial, host in zip(args.printers, serials, hosts, strict=True)
    ]
    farm = PrinterFarm(
        specs,
        speedup=args.speedup,
        report_interval=args.report_interval,
        camera=args.camera,
        files=args.files,
        ca_dir=args.ca_dir,
        announce_port=args.announce_port or None,
    )
    try:
        await farm.start()
    except BrokerError as err:
        print(f"simulator: {err}", file=sys.stderr)
        return 1
    control = ControlServer(farm) if args.control else None
    try:
        if control is not None:
            await control.start()
        endpoints = farm.describe()
        for endpoint in endpoints:
            camera, ftps = endpoint["camera_port"], endpoint["ftps_port"]
            print(
                f"{endpoint['model']:<7} serial={endpoint['serial']} host={endpoint['host']} "
                f"port={endpoint['port']} access_code={endpoint['access_code']} "
                f"ca={endpoint['ca_path']}"
                + (f" camera_port={camera}" if camera else "")
                + (f" ftps_port={ftps}" if ftps else ""),
                flush=True,
            )
        described: dict[str, object] = {"printers": endpoints}
        if control is not None:
            print(f"simulator: control port {control.port}", flush=True)
            described["control_port"] = control.port
        if args.json_out is not None:
            args.json_out.write_text(json.dumps(described, indent=2) + "\n", encoding="utf-8")
        print("simulator: running; press Ctrl-C to stop", flush=True)
        await stop.wait()
    finally:
        if control is not None:
            await control.stop()
        await farm.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    print("simulator: stopped", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the farm."""
    args = build_parser().parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":  # pragma: no cover  (tests run it as a subprocess)
    sys.exit(main())
