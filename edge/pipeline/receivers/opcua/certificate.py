"""The client certificate the opcua receivers present on a secure channel.

One certificate per appliance, made on first use and kept in `<DATA_DIR>/opcua/`:
`client-certificate.der` (what an operator copies to the server's trusted list) and
`client-key.pem` (its private key, readable by the service user only). It is valid for a year
and made again when it has expired or the host name changed; its SHA-1 thumbprint, which
server trust lists show, is logged whenever a receiver connects with it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
import threading
from pathlib import Path

FOLDER = "opcua"
CERTIFICATE_FILE = "client-certificate.der"
KEY_FILE = "client-key.pem"
# Receivers run their event loops on threads of their own: two making the pair at once would
# leave one's certificate beside the other's key.
_making = threading.Lock()


def application_uri() -> str:
    """The application URI in the certificate and in the session (servers compare the two)."""
    return f"urn:{socket.gethostname()}:edge:opcua-client"


@dataclasses.dataclass(frozen=True)
class ClientCertificate:
    certificate: Path
    key: Path
    thumbprint: str  # SHA-1 of the DER certificate, as AB:CD:...

    def describe(self) -> str:
        return f"{self.certificate} (SHA-1 thumbprint {self.thumbprint})"


def thumbprint(der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha1(der).digest())  # noqa: S324 - what trust lists show


async def ensure_client_certificate(data_dir: Path) -> ClientCertificate:
    """The certificate and key in `data_dir`, made when missing, expired or for another host."""
    from asyncua.crypto import cert_gen  # lazily: only secure connections need it
    from cryptography.x509.oid import ExtendedKeyUsageOID

    folder = Path(data_dir) / FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    certificate, key = folder / CERTIFICATE_FILE, folder / KEY_FILE
    os.chmod(folder, 0o700)  # the key is private from its first byte: cert_gen writes it with the umask
    with _making:  # held across the awaits: it blocks only another receiver's loop, briefly
        await cert_gen.setup_self_signed_certificate(key, certificate, application_uri(), socket.gethostname(),
                                                     [ExtendedKeyUsageOID.CLIENT_AUTH], {"organizationName": "edge"})
        os.chmod(key, 0o600)
        return ClientCertificate(certificate, key, thumbprint(certificate.read_bytes()))
