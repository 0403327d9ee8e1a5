"""The demo's HTTP port: held from the check until Home Assistant listens, and who took it.

A port that was only checked and released can be handed to the next program that asks the
system for any free port (the simulator's brokers and cameras do), and then Home Assistant
cannot bind it. So the demo keeps the port bound, without listening, until Home Assistant
answers: the system gives a bound port to nobody who asks for "any free port", while Home
Assistant, which binds with SO_REUSEADDR like every asyncio server, may still listen on it.
If another program listens there anyway, Home Assistant only logs an error and runs on without
its web server, so the demo looks for the listener itself (Linux /proc) to stop at once.
"""

import contextlib
import socket
from pathlib import Path
from typing import Final

_PROC: Final = Path("/proc")
_TCP_LISTEN: Final = "0A"  # the state column of /proc/net/tcp for a listening socket


def reserve_port(host: str, port: int) -> socket.socket:
    """Bind host:port (0: one the system picks) without listening; OSError when taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # The same option Home Assistant's server sets, which lets it listen next to this
        # idle socket; a program asking for any free port still never gets this one.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _listening_inodes(port: int) -> set[int]:
    """Return the inodes of the sockets listening on this TCP port (any address)."""
    inodes: set[int] = set()
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            lines = (_PROC / "net" / table).read_text(encoding="ascii").splitlines()[1:]
            for line in lines:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == _TCP_LISTEN:
                    inodes.add(int(fields[9]))
    return inodes


def _socket_inodes(pid: int) -> set[int]:
    """Return the inodes of the sockets a process has open."""
    inodes: set[int] = set()
    with contextlib.suppress(OSError):
        for fd in (_PROC / str(pid) / "fd").iterdir():
            with contextlib.suppress(OSError):
                target = fd.readlink().name
                if target.startswith("socket:["):
                    inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def listened_by_other(port: int, pid: int) -> bool:
    """Return whether a process other than ``pid`` listens on the port (False without /proc)."""
    listening = _listening_inodes(port)
    return bool(listening) and not listening <= _socket_inodes(pid)


def free_udp_port(host: str) -> int:
    """Return a UDP port free on ``host`` right now (for the printers' announcements)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
