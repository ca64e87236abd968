"""The lab's key material: a CA, serving and client certificates, and the service-account signing key.

Everything is created once under the lab directory and reused on every start, so the CA a learner
copied into an Akeyless gateway config stays valid across `lab down` / `lab up`.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=3650)


def write_private(path: Path, data: bytes | str) -> None:
    """Write a credential file readable by its owner only (0600), atomically."""
    raw = data.encode() if isinstance(data, str) else data
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if org:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _issue(subject: x509.Name, key, ca_cert, ca_key, *, server: bool = False, client: bool = False,
           ca: bool = False) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(ca_cert.subject if ca_cert is not None else subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now)
               .not_valid_after(now + VALIDITY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                        critical=True)
    else:
        usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + \
                 ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        builder = builder.add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                                        critical=True)
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes.default.svc"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
    return builder.sign(ca_key if ca_key is not None else key, hashes.SHA256())


@dataclass(frozen=True)
class LabPKI:
    """Paths of the lab's PEM files, plus a few derived values. Create with `LabPKI.load_or_create(dir)`."""

    dir: Path

    # file names are part of the lab's contract: the real kube-apiserver mode reads them too
    @property
    def ca_cert(self) -> Path: return self.dir / "ca.crt"
    @property
    def ca_key(self) -> Path: return self.dir / "ca.key"
    @property
    def serving_cert(self) -> Path: return self.dir / "serving.crt"
    @property
    def serving_key(self) -> Path: return self.dir / "serving.key"
    @property
    def admin_cert(self) -> Path: return self.dir / "admin.crt"
    @property
    def admin_key(self) -> Path: return self.dir / "admin.key"
    @property
    def sa_key(self) -> Path: return self.dir / "sa.key"
    @property
    def sa_pub(self) -> Path: return self.dir / "sa.pub"
    @property
    def admin_token_file(self) -> Path: return self.dir / "admin.token"

    @classmethod
    def load_or_create(cls, directory: Path) -> "LabPKI":
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        pki = cls(directory)
        if not pki.ca_cert.exists() or not pki.ca_key.exists():
            pki._create_ca()
        if not pki.serving_cert.exists():
            pki._create_leaf(pki.serving_cert, pki.serving_key, _name("akeyless-lab-apiserver"), server=True)
        if not pki.admin_cert.exists():
            # O=system:masters is how a client certificate becomes a cluster admin on a real API server
            pki._create_leaf(pki.admin_cert, pki.admin_key, _name("lab-admin", "system:masters"), client=True)
        if not pki.sa_key.exists():
            # RS256 is what the API server signs service-account tokens with
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            write_private(pki.sa_key, _pem_key(key))
            pki.sa_pub.write_bytes(key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        if not pki.admin_token_file.exists():
            write_private(pki.admin_token_file, secrets.token_urlsafe(32))
        return pki

    def _create_ca(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue(_name("akeyless-lab-ca"), key, None, None, ca=True)
        write_private(self.ca_key, _pem_key(key))
        self.ca_cert.write_bytes(_pem_cert(cert))
        for stale in (self.serving_cert, self.admin_cert, *self.dir.glob("client-*.crt")):
            stale.unlink(missing_ok=True)

    def _create_leaf(self, cert_path: Path, key_path: Path, subject: x509.Name, **usage) -> None:
        ca_key = serialization.load_pem_private_key(self.ca_key.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(self.ca_cert.read_bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _issue(subject, key, ca_cert, ca_key, **usage)
        write_private(key_path, _pem_key(key))
        cert_path.write_bytes(_pem_cert(cert))

    def client_certificate(self, name: str, common_name: str, org: str | None = None) -> tuple[Path, Path]:
        """A client certificate signed by the lab CA (a control-plane component's own identity),
        created once and kept: (cert, key) paths."""
        cert, key = self.dir / f"client-{name}.crt", self.dir / f"client-{name}.key"
        if not cert.exists() or not key.exists():
            self._create_leaf(cert, key, _name(common_name, org), client=True)
        return cert, key

    # --- derived values -------------------------------------------------------------------------

    @property
    def admin_token(self) -> str:
        return self.admin_token_file.read_text().strip()

    def ca_pem(self) -> str:
        return self.ca_cert.read_text()

    def ca_b64(self) -> str:
        """The CA as a kubeconfig / Akeyless `k8s-ca-cert` wants it: base64 of the PEM, one line."""
        return base64.b64encode(self.ca_cert.read_bytes()).decode()

    def sa_private_key(self):
        return serialization.load_pem_private_key(self.sa_key.read_bytes(), None)

    def sa_public_key(self):
        return serialization.load_pem_public_key(self.sa_pub.read_bytes())

    def sa_key_id(self) -> str:
        """The `kid` the real API server puts in token headers: base64url(sha256(DER public key))."""
        der = self.sa_public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()

    def server_ssl_context(self, *, request_client_cert: bool = True) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.serving_cert, self.serving_key)
        if request_client_cert:
            ctx.load_verify_locations(cafile=str(self.ca_cert))
            ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx

    def client_ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_cert))
