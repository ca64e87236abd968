"""JSON Web Tokens as a learner needs to see them: split, decoded, explained, redacted, tampered.

Pure functions, no network and no signature verification: verifying is the API server's job
(TokenReview), and showing *why* an unverified decode proves nothing is part of the lesson.
"""
from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import html
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from .display import MASK, Result, html_table
from .errors import LabError

# The claims a Kubernetes service-account token carries, in the order a learner should read them.
CLAIM_MEANINGS = {
    "iss": "issuer: who signed the token; the Akeyless gateway compares it with the cluster's issuer",
    "sub": "subject: the identity, system:serviceaccount:<namespace>:<name>",
    "aud": "audiences: who the token is meant for; a reviewer with other audiences must reject it",
    "exp": "expires at: after this instant TokenReview answers authenticated=false",
    "iat": "issued at: when the API server minted the token",
    "nbf": "not before: the token is invalid before this instant",
    "jti": "token id: a unique id for this one token (audit logs)",
    "kubernetes.io.namespace": "the namespace of the ServiceAccount (Akeyless sub-claim `namespace`)",
    "kubernetes.io.serviceaccount.name": "the ServiceAccount's name (Akeyless sub-claim `service_account_name`)",
    "kubernetes.io.serviceaccount.uid": "the ServiceAccount's uid: a recreated ServiceAccount gets a new one, "
                                        "so old tokens stop working",
    "kubernetes.io.pod.name": "the pod the token is bound to: deleting the pod revokes the token",
    "kubernetes.io.pod.uid": "the uid of that pod",
    "kubernetes.io.secret.name": "the Secret the token is bound to: deleting it revokes the token",
    "kubernetes.io.secret.uid": "the uid of that Secret",
    "kubernetes.io.node.name": "the node the pod runs on",
    "kubernetes.io.node.uid": "the uid of that node",
    "kubernetes.io.warnafter": "after this instant the API server logs a warning: the kubelet should have "
                               "refreshed the token by now",
    "kubernetes.io.credential-id": "an id for this credential, for audit logs",
}
TIME_CLAIMS = ("exp", "iat", "nbf", "kubernetes.io.warnafter")
HEADER_MEANINGS = {
    "alg": "signing algorithm (Kubernetes signs with RS256 or ES256)",
    "kid": "key id: which of the API server's public keys (JWKS) verifies the signature",
    "typ": "token type",
}


class TokenError(LabError):
    hint = "pass the whole JWT: three base64url parts separated by dots (header.payload.signature)"


# --- encoding ----------------------------------------------------------------------------------

def b64url_decode(part: str) -> bytes:
    """Decode one JWT segment (base64url without padding)."""
    padded = part + "=" * (-len(part) % 4)
    try:
        return base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise TokenError(f"segment {part[:12]!r}... is not base64url: {exc}") from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def to_b64(token: str) -> str:
    """Standard base64 of the JWT: what ESO sends to Akeyless as `k8s-service-account-token`."""
    return base64.b64encode(token.encode("ascii")).decode("ascii")


def from_b64(value: str) -> str:
    """The JWT inside a standard-base64 value (the reverse of `to_b64`)."""
    try:
        text = base64.b64decode(value.strip().encode("ascii"), validate=True).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise TokenError(f"not a base64-encoded token: {exc}",
                         hint="Akeyless expects base64(JWT); pass the value ESO sent, unchanged") from None
    if text.count(".") != 2:
        raise TokenError("the base64 value decodes to something that is not a JWT",
                         hint="Akeyless expects base64(JWT); pass the value ESO sent, unchanged")
    return text


def _json_segment(part: str, what: str) -> dict:
    raw = b64url_decode(part)
    try:
        value = json.loads(raw)
    except ValueError:
        raise TokenError(f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise TokenError(f"the {what} is JSON but not an object")
    return value


def _compact_json(value: Mapping) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def split(token: str) -> tuple[str, str, str]:
    """The three base64url segments: header, payload, signature."""
    if not isinstance(token, str) or not token.strip():
        raise TokenError("the token is empty")
    token = token.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError(f"a JWT has 3 dot-separated parts, this value has {len(parts)}")
    return parts[0], parts[1], parts[2]


# --- the decoded view --------------------------------------------------------------------------

def _flat(claims: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested claims as dotted names (`kubernetes.io` -> `kubernetes.io.namespace`)."""
    out = []
    for key, value in claims.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.extend(_flat(value, name + "."))
        else:
            out.append((name, value))
    return out


def _utc(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes)
    return " ".join(parts + [f"{secs} s"] * (bool(secs) or not parts))


def _now(now: float | dt.datetime | None) -> float:
    if now is None:
        return dt.datetime.now(dt.timezone.utc).timestamp()
    if isinstance(now, dt.datetime):
        return now.timestamp()
    return float(now)


def _render(name: str, value: Any, now: float | None) -> str:
    if name in TIME_CLAIMS and isinstance(value, (int, float)) and not isinstance(value, bool):
        text = f"{_utc(value)} ({value})"
        if now is not None:
            delta = value - now
            text += f", in {_duration(delta)}" if delta >= 0 else f", {_duration(delta)} ago"
        return text
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def explain(claims: Mapping[str, Any], now: float | dt.datetime | None = None) -> list[tuple[str, str, str]]:
    """Rows (claim, value, meaning) for every claim, known ones first in reading order.

    With `now` the time claims also say how far away they are ("in 9 min 58 s", "3 min ago").
    """
    flat = dict(_flat(claims))
    at = _now(now) if now is not None else None
    order = [name for name in CLAIM_MEANINGS if name in flat] + [name for name in flat if name not in CLAIM_MEANINGS]
    return [(name, _render(name, flat[name], at), CLAIM_MEANINGS.get(name, "not a standard Kubernetes claim"))
            for name in order]


def seconds_to_expiry(claims: Mapping[str, Any], now: float | dt.datetime | None = None) -> float | None:
    """Seconds left before `exp` (negative once expired); None when the token has no `exp`."""
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        return None
    return exp - _now(now)


def audiences(claims: Mapping[str, Any]) -> list[str]:
    """`aud` is a string or a list in JWTs; always a list here."""
    aud = claims.get("aud")
    if aud is None:
        return []
    return [aud] if isinstance(aud, str) else [str(a) for a in aud]


def redact(token: str) -> str:
    """header.payload.<masked signature>: the readable parts stay, the signature's length stays visible.

    Without a valid signature the token cannot be replayed, so a redacted token is safe to show.
    """
    header, payload, signature = split(token)
    return f"{header}.{payload}.{MASK}({len(signature)} chars)"


def _merge(target: dict, changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def tamper(token: str, changes: Mapping[str, Any]) -> str:
    """The same token with some claims changed but the ORIGINAL signature.

    `changes` is merged into the claims; nested dicts merge, e.g.
    `{"kubernetes.io": {"namespace": "prod"}}` changes only the namespace. The result decodes fine,
    but any verifier (TokenReview) rejects it: the signature no longer matches the payload.
    """
    if not changes:
        raise TokenError("tamper() needs at least one claim to change",
                         hint='e.g. tamper(token, {"sub": "system:serviceaccount:prod:admin"})')
    header, payload, signature = split(token)
    claims = _json_segment(payload, "payload")
    changed = copy.deepcopy(claims)
    _merge(changed, changes)
    if changed == claims:
        raise TokenError("the changes leave every claim as it was, so nothing would be tampered",
                         hint="change a claim to a different value")
    return f"{header}.{b64url_encode(_compact_json(changed))}.{signature}"


@dataclass(frozen=True)
class DecodedToken(Result):
    """A JWT split into its parts. Decoded, NOT verified: anyone can decode, only the issuer can sign."""

    header: dict
    claims: dict
    signature: str = field(repr=False)
    raw: str = field(repr=False)
    now: float | None = None

    title = "decoded token (not verified)"

    @property
    def token(self) -> str:
        return self.raw

    @property
    def subject(self) -> str | None:
        return self.claims.get("sub")

    @property
    def audiences(self) -> list[str]:
        return audiences(self.claims)

    @property
    def issuer(self) -> str | None:
        return self.claims.get("iss")

    @property
    def kubernetes(self) -> dict:
        value = self.claims.get("kubernetes.io")
        return value if isinstance(value, dict) else {}

    @property
    def namespace(self) -> str | None:
        return self.kubernetes.get("namespace")

    @property
    def service_account(self) -> str | None:
        return (self.kubernetes.get("serviceaccount") or {}).get("name")

    @property
    def service_account_uid(self) -> str | None:
        return (self.kubernetes.get("serviceaccount") or {}).get("uid")

    @property
    def lifetime_seconds(self) -> int | None:
        exp, iat = self.claims.get("exp"), self.claims.get("iat")
        if isinstance(exp, (int, float)) and isinstance(iat, (int, float)):
            return int(exp - iat)
        return None

    def seconds_to_expiry(self, now: float | dt.datetime | None = None) -> float | None:
        return seconds_to_expiry(self.claims, now if now is not None else self.now)

    def redacted(self) -> str:
        return redact(self.raw)

    def explain(self, now: float | dt.datetime | None = None) -> list[tuple[str, str, str]]:
        return explain(self.claims, now if now is not None else self.now)

    def summary(self) -> str:
        who = self.subject or "no subject"
        lifetime = self.lifetime_seconds
        parts = [f"{self.header.get('alg', '?')} JWT for {who}",
                 f"audiences {self.audiences}"]
        if lifetime is not None:
            parts.append(f"lifetime {lifetime} s")
        return ", ".join(parts)

    def rows(self):
        rows = [(f"header.{k}", _render(k, v, None), HEADER_MEANINGS.get(k, "")) for k, v in self.header.items()]
        rows += self.explain()
        rows.append(("signature", f"{MASK}({len(self.signature)} chars)",
                     "proves the issuer signed exactly this header and payload; masked, since a whole "
                     "token is a credential"))
        return rows

    def _repr_html_(self) -> str:
        colour = "#2e7d32"
        return (f"<div style='border-left:4px solid {colour};padding:4px 8px'>"
                f"<b style='color:{colour}'>{html.escape(self.title)}</b>: {html.escape(self.summary())}"
                + html_table(self.rows(), header=("claim", "value", "meaning")) + "</div>")


def decode(token: str, now: float | dt.datetime | None = None) -> DecodedToken:
    """Split and decode a JWT without verifying it. Accepts the base64-wrapped form ESO sends, too."""
    text = token.strip() if isinstance(token, str) else token
    if isinstance(text, str) and text and "." not in text:
        text = from_b64(text)
    header, payload, signature = split(text)
    return DecodedToken(header=_json_segment(header, "header"), claims=_json_segment(payload, "payload"),
                        signature=signature, raw=f"{header}.{payload}.{signature}",
                        now=_now(now) if now is not None else None)
