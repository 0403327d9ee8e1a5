"""The kept simulator CA: reused while it is sound, made again when it is not."""

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from simulator.ca import TestCA


def _pem(path: Path) -> bytes:
    return path.read_bytes()


def test_a_kept_ca_is_reused_and_issues_into_its_own_folder(tmp_path: Path) -> None:
    first = TestCA(tmp_path / "run-1", keep_in=tmp_path / "kept")
    second = TestCA(tmp_path / "run-2", keep_in=tmp_path / "kept")
    assert first.cert_path == second.cert_path == tmp_path / "kept" / "ca.pem"
    assert first.certificate == second.certificate
    pair = second.issue("01P00A000000001")
    assert pair.cert_path.parent == tmp_path / "run-2"
    issued = x509.load_pem_x509_certificate(_pem(pair.cert_path))
    issued.verify_directly_issued_by(first.certificate)


def test_a_damaged_or_different_kept_ca_is_made_again(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "ca.key").write_text("not a key")
    (kept / "ca.pem").write_text("not a certificate")
    ca = TestCA(tmp_path / "run-1", keep_in=kept)
    assert _pem(kept / "ca.pem") == ca.certificate.public_bytes(serialization.Encoding.PEM)

    # A CA with other extensions (made by an older simulator) is replaced too.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "older simulator CA")])
    now = datetime.datetime.now(datetime.UTC)
    older = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    (kept / "ca.pem").write_bytes(older.public_bytes(serialization.Encoding.PEM))
    (kept / "ca.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    again = TestCA(tmp_path / "run-2", keep_in=kept)
    assert again.certificate != older
    assert again.certificate != ca.certificate
