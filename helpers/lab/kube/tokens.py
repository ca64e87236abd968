"""Service-account tokens: mint them as the API server's TokenRequest does, and verify them as its
service-account authenticator does (TokenReview and bearer authentication share this code).

Checks run in the upstream order (issuer, key id, signature, audience, time, then the ServiceAccount's
existence and uid), and failures carry the upstream error text, because a gateway such as Akeyless passes
`status.error` through to the learner.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Callable

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from .status import go_quote

LEEWAY = 60     # go-jose's jwt.DefaultLeeway, which the API server's claim validation uses for exp and nbf
INVALID = "invalid bearer token"
SA_GROUPS = ("system:serviceaccounts",)
CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"
POD_NAME = "authentication.kubernetes.io/pod-name"
POD_UID = "authentication.kubernetes.io/pod-uid"


def sa_username(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def sa_groups(namespace: str) -> list[str]:
    return ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]


@dataclass
class Verdict:
    """The outcome of authenticating one token: TokenReview's status, or who a bearer token is."""

    authenticated: bool
    error: str = ""
    username: str = ""
    uid: str = ""
    groups: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    audiences: list = field(default_factory=list)


def _failed(reason: str | None) -> Verdict:
    # The API server authenticates a review through its request authenticator chain; one of its bearer
    # authenticators always reports the generic error, so specific failures are aggregated behind it.
    return Verdict(False, INVALID if reason is None else f"[{INVALID}, {reason}]")


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url(segment: str) -> bytes:
    """Unpadded base64url as go-jose reads a compact JWS (RawURLEncoding): padding, whitespace or any other
    character is an error, never skipped, so one signature has one spelling."""
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64json(segment: str):
    try:
        return json.loads(b64url(segment))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None


def _go_list(values: list[str]) -> str:
    """Go's %q for a []string: ["a" "b"]."""
    return "[" + " ".join(go_quote(v) for v in values) + "]"


class TokenAuthority:
    """Signs with the lab's service-account key (ctx.pki) under one issuer; verifies the same."""

    def __init__(self, pki, issuer: str):
        self.issuer = issuer
        self.kid = pki.sa_key_id()
        self._private = pki.sa_private_key()
        self._public = self._private.public_key()
        self.api_audiences = [issuer]

    def jwks(self) -> dict:
        numbers = self._public.public_numbers()

        def b64uint(value: int) -> str:
            raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        return {"keys": [{"use": "sig", "kty": "RSA", "kid": self.kid, "alg": "RS256",
                          "n": b64uint(numbers.n), "e": b64uint(numbers.e)}]}

    def mint(self, sa: dict, audiences: list[str], expiration_seconds: int, now: float,
             bound: dict | None = None) -> tuple[str, int]:
        """A TokenRequest token for ServiceAccount `sa`; returns (jwt, exp)."""
        issued = int(now)
        expires = issued + int(expiration_seconds)
        private = {"namespace": sa["metadata"]["namespace"],
                   "serviceaccount": {"name": sa["metadata"]["name"], "uid": sa["metadata"]["uid"]}}
        if bound is not None:
            private[bound["kind"].lower()] = {"name": bound["name"], "uid": bound["uid"]}
        claims = {                  # sorted, as go-jose serialises the merged claim map
            "aud": list(audiences),
            "exp": expires,
            "iat": issued,
            "iss": self.issuer,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": dict(sorted(private.items())),
            "nbf": issued,
            "sub": sa_username(sa["metadata"]["namespace"], sa["metadata"]["name"]),
        }
        token = jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self.kid, "typ": None})
        return token, expires

    def verify(self, token: str, now: float, audiences: list[str] | None,
               lookup: Callable[[str, str, str], dict | None]) -> Verdict:
        """Authenticate `token` for `audiences` (None: the API server's own audiences).

        `lookup(kind, namespace, name)` returns the stored ServiceAccount/Secret, or None.
        """
        if not isinstance(token, str) or token.strip().startswith("{"):
            return _failed(None)
        parts = token.split(".")
        if len(parts) != 3 or not all(_B64URL.fullmatch(part) for part in parts):
            return _failed(None)
        claims = _b64json(parts[1])
        if not isinstance(claims, dict) or claims.get("iss") != self.issuer:
            return _failed(None)                     # not ours: another authenticator's business
        header = _b64json(parts[0])
        if not isinstance(header, dict) or header.get("alg") != "RS256":
            return _failed(None)
        kid = header.get("kid") or ""
        if kid and kid != self.kid:
            return _failed("invalid signature, no keys found")
        try:
            signature = b64url(parts[2])
            self._public.verify(signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            return _failed("go-jose/go-jose: error in cryptographic primitive")

        token_auds = claims.get("aud")
        token_auds = [token_auds] if isinstance(token_auds, str) else list(token_auds or [])
        if not token_auds:
            token_auds = list(self.api_audiences)
        requested = list(audiences) if audiences else list(self.api_audiences)
        granted = [a for a in token_auds if a in requested]
        if not granted:
            return _failed(f"token audiences {_go_list(token_auds)} is invalid for the target audiences "
                           f"{_go_list(requested)}")

        try:
            if "exp" in claims and now - LEEWAY > float(claims["exp"]):
                return _failed("service account token has expired")
            if "nbf" in claims and now + LEEWAY < float(claims["nbf"]):
                return _failed("service account token is not valid yet")
            if "iat" in claims and now + LEEWAY < float(claims["iat"]):
                return _failed("service account token is issued in the future")
        except (TypeError, ValueError):
            return _failed("service account token claims could not be validated due to unexpected validation error")

        private = claims.get("kubernetes.io")
        if not isinstance(private, dict):
            return _failed("service account token claims could not be validated due to unexpected private claim")
        namespace = str(private.get("namespace") or "")
        ref = private.get("serviceaccount") if isinstance(private.get("serviceaccount"), dict) else {}
        name, uid = str(ref.get("name") or ""), str(ref.get("uid") or "")
        sa = lookup("ServiceAccount", namespace, name)
        if sa is None:
            return _failed(f'serviceaccounts "{name}" not found')
        if sa["metadata"]["uid"] != uid:
            return _failed(f"service account UID ({sa['metadata']['uid']}) does not match claim ({uid})")
        for claim, kind in (("secret", "Secret"), ("pod", "Pod")):       # the objects a token can be bound to
            bound_ref = private.get(claim)
            if not isinstance(bound_ref, dict):
                continue
            bound = lookup(kind, namespace, str(bound_ref.get("name") or ""))
            if bound is None:
                return _failed("service account token has been invalidated")
            if bound["metadata"]["uid"] != bound_ref.get("uid"):
                return _failed(f"{claim} UID ({bound['metadata']['uid']}) does not match service account {claim} "
                               f"ref claim ({bound_ref.get('uid')})")

        pod_ref = private.get("pod")
        extra = {CREDENTIAL_ID: [f"JTI={claims['jti']}"]} if claims.get("jti") else {}
        if isinstance(pod_ref, dict):
            extra.update({POD_NAME: [pod_ref["name"]], POD_UID: [pod_ref["uid"]]})
        return Verdict(True, username=sa_username(namespace, name), uid=uid, groups=sa_groups(namespace),
                       extra=extra, audiences=granted)
