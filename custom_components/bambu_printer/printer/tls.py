"""TLS contexts for printer connections, so certificates are verified instead of ignored.

A Bambu printer presents a certificate issued by Bambu Lab's own CA (shipped in ``certs/``) whose
Common Name is the printer's *serial number*, not its IP address. Correct verification therefore
means: trust the Bambu CA bundle (not the system store) and check the name against the serial,
which callers do by passing ``server_hostname=<serial>`` when they connect. Python's hostname
check falls back to the Common Name when a certificate has no subjectAltName, which is exactly
the case for printer certificates.

Printer contexts speak TLS 1.2 only. Every printer accepts it, while the P2S on firmware
01.02.00.00 never answers a ClientHello that offers TLS 1.3 (the handshake hangs). The cloud
context (Bambu's public services) is no printer connection and keeps TLS 1.3.

Building an :class:`ssl.SSLContext` and loading certificates is blocking file I/O, so
:func:`async_get_ssl_context` builds each context once in the executor and caches it.
"""

import asyncio
import socket
import ssl
from pathlib import Path
from typing import Any, Final

from .errors import TlsError, TlsHandshakeFailed, TlsNameMismatch, TlsUntrusted

__all__ = [
    "async_get_public_ssl_context",
    "async_get_ssl_context",
    "bambu_ca_files",
    "bambu_ca_path",
    "clear_ssl_context_cache",
    "create_public_ssl_context",
    "create_ssl_context",
    "explain_name_mismatch",
    "tls_error",
]

_CERTS_DIR = Path(__file__).resolve().parent / "certs"

_cache: dict[str | None, ssl.SSLContext] = {}
_public_cache: list[ssl.SSLContext] = []


def bambu_ca_path() -> Path:
    """Return the folder holding the shipped Bambu Lab CA certificates (``*.cert`` files)."""
    return _CERTS_DIR


def bambu_ca_files() -> list[Path]:
    """Return every shipped CA file: the Bambu root CAs and the per-model device CAs."""
    return sorted(_CERTS_DIR.glob("*.cert"))


def _base_context() -> ssl.SSLContext:
    """Speak TLS 1.2 only: every printer takes it, and a P2S never answers a TLS 1.3 offer."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def create_ssl_context(cafile: Path | None = None) -> ssl.SSLContext:
    """Build a client context for a printer (blocking: loads certificate files).

    The chain and the name are always checked; connect with ``server_hostname=<serial>``.
    ``cafile`` trusts that CA instead of the shipped Bambu bundle (a printer of one's own CA,
    such as the simulator's).
    """
    context = _base_context()
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    if cafile is not None:
        context.load_verify_locations(cafile=str(cafile))
    else:
        files = bambu_ca_files()
        if not files:
            raise FileNotFoundError(f"no Bambu CA certificates in {_CERTS_DIR}")
        for path in files:
            context.load_verify_locations(cafile=str(path))
    # Real printer certificates are not RFC 5280 strict: the leaf has no Authority Key
    # Identifier (and the like), which OpenSSL rejects under VERIFY_X509_STRICT (set by
    # Python 3.13's default contexts). Clearing only this flag keeps full chain verification
    # against the Bambu CAs and the serial-number name check; it relaxes nothing else.
    context.verify_flags &= ~ssl.VERIFY_X509_STRICT
    return context


def create_public_ssl_context() -> ssl.SSLContext:
    """Build a context trusting the system CA store, for the Bambu cloud broker (blocking)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _cache_key(cafile: Path | None) -> str | None:
    return None if cafile is None else str(Path(cafile).absolute())


async def async_get_ssl_context(cafile: Path | None = None) -> ssl.SSLContext:
    """Return a cached printer context, building it in the executor the first time."""
    key = _cache_key(cafile)
    context = _cache.get(key)
    if context is None:
        loop = asyncio.get_running_loop()
        built = await loop.run_in_executor(None, create_ssl_context, cafile)
        context = _cache.setdefault(key, built)
    return context


async def async_get_public_ssl_context() -> ssl.SSLContext:
    """Return the cached public-CA context, building it in the executor the first time."""
    if not _public_cache:
        loop = asyncio.get_running_loop()
        context = await loop.run_in_executor(None, create_public_ssl_context)
        if not _public_cache:
            _public_cache.append(context)
    return _public_cache[0]


def clear_ssl_context_cache() -> None:
    """Forget cached contexts (after the CA files changed, and between tests)."""
    _cache.clear()
    _public_cache.clear()


# -- why a handshake failed ------------------------------------------------------------------

# OpenSSL's verify codes for "trusted, but issued to another name" (host name, IP address).
_NAME_MISMATCH: Final = frozenset({62, 64})


def tls_error(err: ssl.SSLError, where: str, expected_name: str) -> TlsError:
    """Tell an untrusted certificate, another name, and a failed handshake apart.

    OpenSSL checks the name before the signatures, so a name mismatch does not yet prove the
    certificate trusted: :func:`explain_name_mismatch` settles that and reads the name.
    """
    if isinstance(err, ssl.SSLCertVerificationError):
        if err.verify_code in _NAME_MISMATCH:
            return TlsNameMismatch(
                f"the certificate of {where} was not accepted: {err.verify_message}",
                expected=expected_name,
                presented=None,
            )
        return TlsUntrusted(f"the certificate of {where} was not accepted: {err.verify_message}")
    return TlsHandshakeFailed(f"TLS handshake with {where} failed: {err.reason or err}")


def _certificate_name(cert: Any) -> str | None:
    """Return the names a certificate is for: its DNS names, else its Common Name."""
    dns = [value for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"]
    if dns:
        return ", ".join(dns)
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def explain_name_mismatch(
    err: TlsNameMismatch, context: ssl.SSLContext, host: str, port: int, *, timeout: float = 5.0
) -> TlsError:
    """Connect once more, name check off, to learn whose certificate failed the name check.

    Blocking. The chain is verified against the CAs ``context`` trusts: a chain that fails
    (a look-alike CA) makes the error :class:`TlsUntrusted`; a trusted one gives the name it
    carries. Nothing is sent. ``err`` comes back unchanged when the probe cannot tell.
    """
    where = f"{host}:{port}"
    authorities = context.get_ca_certs(binary_form=True)
    if not authorities:
        return err
    probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    probe.check_hostname = False
    probe.verify_mode = ssl.CERT_REQUIRED
    probe.verify_flags = context.verify_flags
    probe.minimum_version = context.minimum_version
    probe.maximum_version = context.maximum_version
    for der in authorities:
        probe.load_verify_locations(cadata=der)
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as sock,
            probe.wrap_socket(sock, server_hostname=err.expected) as tls_sock,
        ):
            name = _certificate_name(tls_sock.getpeercert())
    except ssl.SSLCertVerificationError as probed:
        return TlsUntrusted(f"the certificate of {where} was not accepted: {probed.verify_message}")
    except (OSError, ValueError):
        return err
    if name is None:
        return err
    return TlsNameMismatch(
        f"the certificate of {where} was not accepted: name mismatch "
        f"(it is for {name}, not {err.expected})",
        expected=err.expected,
        presented=name,
    )
