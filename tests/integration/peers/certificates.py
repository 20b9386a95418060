"""Certificates for the TLS peers, made at test time: a plant's own CA and a database server
certificate it signs for loopback (127.0.0.1 and localhost), as a plant without a public CA
sets them up."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import os
import pwd
import shutil
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclasses.dataclass(frozen=True)
class Authority:
    name: str
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclasses.dataclass(frozen=True)
class ServerCertificate:
    cert_path: Path  # what the server shows (a client trusts the CA's `pem`)
    key_path: Path

    def install(self, folder: Path, user: str) -> tuple[Path, Path]:
        """Copies of the certificate and key in `folder` for a server running as `user`: its
        own, readable by it alone (PostgreSQL refuses a key others may read)."""
        account = pwd.getpwnam(user)
        copies = []
        for source in (self.cert_path, self.key_path):
            target = folder / source.name
            shutil.copyfile(source, target)
            os.chown(target, account.pw_uid, account.pw_gid)
            target.chmod(0o600)
            copies.append(target)
        return copies[0], copies[1]


def authority(name: str = "Plant Test CA") -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                content_commitment=False, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .sign(key, hashes.SHA256()))
    return Authority(name, key, certificate)


def server_certificate(ca: Authority, folder: Path) -> ServerCertificate:
    """A certificate for 127.0.0.1 and localhost signed by `ca`, written to `folder` (the key
    readable by its owner only, as PostgreSQL demands)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
                   .issuer_name(ca.certificate.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                               x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .sign(ca.key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return ServerCertificate(cert_path, key_path)
