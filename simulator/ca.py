"""A throwaway certificate authority, so simulated printers speak TLS like real ones.

Real printers present a certificate whose Common Name is the serial number, without a
subjectAltName and without an Authority Key Identifier (so it is not X.509-strict). The leaf
certificates issued here look the same, which lets tests exercise exactly the verification the
client does against real hardware. The CA carries the extensions of Bambu's "BBL CA" (the root
of X1, P1 and A1 certificates): basic constraints without a path limit and key identifiers, but
no keyUsage, which X.509-strict verification also refuses. For the TLS failure tests, issue
the server certificate from a *different* :class:`TestCA`, or for a different serial.
"""

import contextlib
import datetime
import fcntl
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["CertPair", "TestCA"]

_VALIDITY = datetime.timedelta(days=365)
_BACKDATE = datetime.timedelta(days=1)


@dataclass(frozen=True)
class CertPair:
    """A PEM certificate and its unencrypted PEM private key, as files."""

    cert_path: Path
    key_path: Path


def _write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600)
    path.write_bytes(data)


def _is_key_id(extension: x509.Extension[x509.ExtensionType]) -> bool:
    """Return whether an extension names a key (it differs from one CA key to the next)."""
    return isinstance(extension.value, (x509.SubjectKeyIdentifier, x509.AuthorityKeyIdentifier))


def _kept(
    directory: Path, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
) -> tuple[Path, ec.EllipticCurvePrivateKey, x509.Certificate]:
    """Return the CA kept in ``directory`` (ca.pem, ca.key), else keep the one given there.

    A client that trusts the kept ca.pem once (the demo's Home Assistant) then trusts every
    printer any later simulator run starts. A lock lets two runs start together.
    """
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "ca.pem", directory / "ca.key"
    with (directory / "ca.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with contextlib.suppress(OSError, ValueError):
            kept_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            kept = x509.load_pem_x509_certificate(cert_path.read_bytes())
            fresh = kept.not_valid_after_utc > datetime.datetime.now(datetime.UTC) + _VALIDITY
            # A CA made before the extensions changed is made again.
            same_kind = [ext.value for ext in kept.extensions if not _is_key_id(ext)] == [
                ext.value for ext in certificate.extensions if not _is_key_id(ext)
            ]
            if (
                isinstance(kept_key, ec.EllipticCurvePrivateKey)
                and kept.public_key() == kept_key.public_key()
                and fresh
                and same_kind
            ):
                return cert_path, kept_key, kept
        key_path.unlink(missing_ok=True)
        _write_private(
            key_path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key, certificate


class TestCA:
    """A self-signed CA (EC P-256) writing its files into ``directory``.

    With ``keep_in`` the CA itself (not the certificates it issues) is kept in that folder and
    reused by later instances, so a client keeps trusting one file across simulator runs.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        directory: Path,
        *,
        name: str = "bambu_printer simulator CA",
        keep_in: Path | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bambu_printer simulator"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        public_key = self._key.public_key()
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + 10 * _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )
        self.cert_path = self.directory / "ca.pem"
        if keep_in is not None:
            self.cert_path, self._key, self.certificate = _kept(
                Path(keep_in), self._key, self.certificate
            )
        else:
            self.cert_path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        self._issued = 0

    def __repr__(self) -> str:
        return f"<TestCA {self.name!r} at {self.directory}>"

    def issue(
        self,
        common_name: str,
        *,
        dns_names: tuple[str, ...] = (),
        ip_addresses: tuple[str, ...] = (),
    ) -> CertPair:
        """Issue a server certificate like a printer's: CN = ``common_name``, no AKI.

        ``dns_names`` and ``ip_addresses`` add a subjectAltName (real printers have none; then
        only the CN counts). With a subjectAltName the CN is no longer checked, so list the CN
        among ``dns_names`` when clients must still reach the server under that name.
        """
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if dns_names or ip_addresses:
            names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
            names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        certificate = builder.sign(self._key, hashes.SHA256())
        self._issued += 1
        stem = f"server-{self._issued}"
        pair = CertPair(
            cert_path=self.directory / f"{stem}.pem", key_path=self.directory / f"{stem}.key"
        )
        pair.cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        _write_private(
            pair.key_path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        return pair
