"""Key material of Kubernetes auth methods: the RSA-2048 pair whose private half (`prv_key`) the
admin hands to the gateway config as `signing-key`, and whose public half the auth method keeps.

The emulator only needs to prove the two halves belong together, so it compares public keys.
"""
from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def generate() -> tuple[str, str]:
    """A new pair: (prv_key = base64 of the PEM private key, as Akeyless returns it; public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    return base64.b64encode(pem).decode(), _public_pem(key.public_key())


def _public_pem(public_key) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _pem_or_b64(text: str) -> bytes:
    """Accept PEM text, base64 of PEM (what the CLI and docs pass around) or base64 of DER."""
    raw = text.strip()
    if raw.startswith("-----BEGIN"):
        return raw.encode()
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not base64: {exc}") from None


def public_from_private(signing_key: str) -> str:
    """The public PEM of a `signing-key` (base64 PEM or PEM); ValueError naming what is wrong."""
    data = _pem_or_b64(signing_key)
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(data, None)
        else:
            key = serialization.load_der_private_key(data, None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"it is not an unencrypted private key ({exc})") from None
    return _public_pem(key.public_key())


def normalize_public(public_key: str) -> str:
    """A user-supplied public key (base64 or PEM) as canonical PEM; must be RSA-2048."""
    data = _pem_or_b64(public_key)
    try:
        key = (serialization.load_pem_public_key(data) if data.lstrip().startswith(b"-----BEGIN")
               else serialization.load_der_public_key(data))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"it is not a public key ({exc})") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != 2048:
        raise ValueError("the Kubernetes auth method needs an RSA-2048 public key")
    return _public_pem(key)


def ca_pem(k8s_ca_cert: str) -> str:
    """The config's `k8s-ca-cert` (base64 PEM as in kubeconfig, or PEM) as PEM text; checked to parse."""
    from cryptography import x509

    data = _pem_or_b64(k8s_ca_cert)
    try:
        x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ValueError(f"k8s-ca-cert is not a base64 PEM certificate ({exc}); pass the cluster's "
                         "certificate-authority-data from the kubeconfig") from None
    return data.decode()
