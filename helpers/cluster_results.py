"""What the cluster helpers return: small Results, each with one stable summary line and rows.

Kept apart from helpers/cluster.py, which holds the calls; these hold no client and make no request.
"""
from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from . import tokens
from .display import Result, mask_secret
from .errors import ClusterError


def service_account_user(namespace: str, name: str) -> str:
    """The username Kubernetes gives a ServiceAccount: system:serviceaccount:<namespace>:<name>."""
    return f"system:serviceaccount:{namespace}:{name}"



@dataclass(frozen=True)
class CACertificate(Result):
    """The cluster CA: what the Akeyless gateway needs to verify the API server it calls."""

    pem: str
    subject: str
    issuer: str
    sha256: str
    not_after: dt.datetime

    title = "cluster CA certificate"

    @classmethod
    def from_pem(cls, pem: bytes | str) -> "CACertificate":
        raw = pem.encode() if isinstance(pem, str) else pem
        certs = x509.load_pem_x509_certificates(raw)
        cert = certs[0]
        fingerprint = cert.fingerprint(hashes.SHA256()).hex().upper()
        return cls(pem=raw.decode(), subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
                   sha256=":".join(fingerprint[i:i + 2] for i in range(0, len(fingerprint), 2)),
                   not_after=cert.not_valid_after_utc)

    @property
    def b64(self) -> str:
        """base64 of the PEM on ONE line: the form Akeyless' `k8s-ca-cert` (and kubeconfig's -data) wants."""
        return base64.b64encode(self.pem.encode()).decode()

    def summary(self) -> str:
        return f"{self.subject} (self-signed)" if self.subject == self.issuer else f"{self.subject}, issued by {self.issuer}"

    def rows(self):
        return [("subject", self.subject), ("issuer", self.issuer), ("SHA-256 fingerprint", self.sha256),
                ("valid until", self.not_after.strftime("%Y-%m-%d %H:%M UTC")),
                ("k8s-ca-cert (base64, one line)", self.b64[:48] + f"... ({len(self.b64)} chars)")]


# --- results -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClusterInfo(Result):
    server: str
    version: str
    platform: str
    context: str | None
    user: str | None
    ca: CACertificate | None
    tls_verified: bool

    title = "cluster"

    @property
    def ca_b64(self) -> str | None:
        return self.ca.b64 if self.ca else None

    def summary(self) -> str:
        tls = (f"TLS verified with CA {self.ca.subject}" if self.tls_verified and self.ca
               else "TLS verified with the system trust store" if self.tls_verified
               else "TLS NOT verified (insecure-skip-tls-verify)")
        return f"Kubernetes {self.version}; {tls}"

    def rows(self):
        rows = [("API server", self.server), ("version", self.version), ("platform", self.platform),
                ("kubeconfig context", self.context or "(current)"), ("kubeconfig user", self.user or "(unknown)")]
        return rows + (self.ca.rows() if self.ca else [("CA", "none in the kubeconfig")])


@dataclass(frozen=True)
class ObjectResult(Result):
    """A namespace, ServiceAccount or binding that is now present (or gone)."""

    kind: str
    name: str
    namespace: str | None = None
    uid: str | None = None
    action: str = "present"        # created | existed | deleted | absent | replaced
    details: tuple = ()

    @property
    def title(self) -> str:  # type: ignore[override]
        return self.kind

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def created(self) -> bool:
        return self.action == "created"

    @property
    def existed(self) -> bool:
        return self.action in ("existed", "deleted", "replaced")

    def summary(self) -> str:
        # the end state, not the transition: a re-run against the same cluster prints the same line
        gone = self.action in ("deleted", "absent")
        return f"{self.kind} {self.ref} {'is absent' if gone else 'is present'}"

    def rows(self):
        rows = [("kind", self.kind), ("name", self.ref), ("this call", self.action)]
        if self.uid:
            rows.append(("uid", self.uid))
        return rows + list(self.details)


@dataclass(frozen=True)
class RecreatedServiceAccount(Result):
    namespace: str
    name: str
    old_uid: str | None
    new_uid: str

    title = "ServiceAccount recreated"

    @property
    def uid(self) -> str:
        return self.new_uid

    def summary(self) -> str:
        return (f"ServiceAccount {self.namespace}/{self.name} recreated with a new uid: tokens minted "
                f"for the old one no longer pass TokenReview")

    def rows(self):
        return [("old uid", self.old_uid or "(did not exist)"), ("new uid", self.new_uid),
                ("note", "a real API server caches successful token authentications for 10 s, so a token it "
                         "accepted just before may pass once more within that window")]


@dataclass(frozen=True)
class TokenResult(Result):
    """A TokenRequest's outcome. The token is in `.token`; it is only ever displayed redacted."""

    namespace: str
    service_account: str
    requested_audiences: tuple[str, ...]
    expiration_seconds: int
    token: str | None = field(default=None, repr=False)
    expiration: dt.datetime | None = None
    error: str | None = None
    status: int | None = None
    reason: str = ""
    hint: str = ""

    title = "service-account token (TokenRequest)"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return self.token is not None

    @property
    def decoded(self) -> tokens.DecodedToken | None:
        return tokens.decode(self.token) if self.token else None

    @property
    def claims(self) -> dict:
        return self.decoded.claims if self.token else {}

    @property
    def audiences(self) -> list[str]:
        return tokens.audiences(self.claims)

    @property
    def b64(self) -> str | None:
        """The token the way ESO sends it to Akeyless (`k8s-service-account-token`)."""
        return tokens.to_b64(self.token) if self.token else None

    def redacted(self) -> str:
        return tokens.redact(self.token) if self.token else "<no token>"

    def raise_for_error(self) -> "TokenResult":
        if not self.ok:
            raise ClusterError(self.error or "no token", status=self.status, reason=self.reason, hint=self.hint)
        return self

    def summary(self) -> str:
        who = service_account_user(self.namespace, self.service_account)
        if not self.ok:
            return f"no token for {who}: {self.error}"
        decoded = self.decoded
        return f"token for {decoded.subject}, audiences {decoded.audiences}, valid {decoded.lifetime_seconds} s"

    def rows(self):
        if not self.ok:
            return [("service account", service_account_user(self.namespace, self.service_account)),
                    ("error", self.error), ("fix", self.hint)]
        rows = [("token (redacted)", self.redacted())]
        if self.expiration:
            rows.append(("expires", self.expiration.strftime("%Y-%m-%d %H:%M:%S UTC")))
        return rows + [(name, value) for name, value, _ in self.decoded.explain()]


@dataclass(frozen=True)
class ReviewResult(Result):
    """A TokenReview: what the API server says about a token, as the gateway would see it."""

    authenticated: bool
    reviewer: str
    username: str | None = None
    uid: str | None = None
    groups: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    requested_audiences: tuple[str, ...] | None = None
    error: str | None = None
    status: int | None = None
    reason: str = ""
    hint: str = ""

    title = "TokenReview"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return self.authenticated

    @property
    def refused(self) -> bool:
        """The API server refused to review at all (HTTP error), as opposed to reviewing and saying no."""
        return self.status is not None

    def summary(self) -> str:
        if self.authenticated:
            return f"authenticated as {self.username}, audiences {list(self.audiences)}"
        if self.refused:
            return f"TokenReview refused ({self.status} {self.reason}): {self.error}"
        return f"not authenticated: {self.error or 'no reason given'}"

    def rows(self):
        rows = [("reviewed by", self.reviewer), ("authenticated", self.authenticated)]
        if self.requested_audiences is not None:
            rows.append(("audiences asked for", list(self.requested_audiences)))
        if self.authenticated:
            rows += [("username", self.username), ("uid", self.uid), ("groups", list(self.groups)),
                     ("audiences", list(self.audiences))]
        else:
            rows.append(("error", self.error))
            if self.hint:
                rows.append(("fix", self.hint))
        return rows


@dataclass(frozen=True)
class AccessResult(Result):
    """A SubjectAccessReview (`kubectl auth can-i`)."""

    allowed: bool
    user: str
    verb: str
    resource: str
    group: str = ""
    namespace: str | None = None
    subresource: str | None = None
    reason: str = ""
    error: str = ""

    title = "access review (can-i)"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return self.allowed

    @property
    def target(self) -> str:
        resource = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        resource = f"{resource}.{self.group}" if self.group else resource
        return resource + (f" in namespace {self.namespace}" if self.namespace else " (cluster-wide)")

    def summary(self) -> str:
        return f"{self.user} {'can' if self.allowed else 'cannot'} {self.verb} {self.target}"

    def rows(self):
        rows = [("user", self.user), ("verb", self.verb), ("resource", self.target), ("allowed", self.allowed)]
        if self.reason:
            rows.append(("reason", self.reason))
        if self.error:
            rows.append(("evaluation error", self.error))
        return rows


@dataclass(frozen=True)
class SecretResult(Result):
    namespace: str
    name: str
    type: str
    data: dict = field(repr=False)
    labels: dict = field(default_factory=dict)
    annotations: dict = field(default_factory=dict)
    reveal: bool = False
    action: str = "read"
    owner_references: tuple = ()       # (apiVersion, kind, name, uid, controller) per owner

    title = "Secret"

    @property
    def keys(self) -> list[str]:
        return sorted(self.data)

    def value(self, key: str) -> str:
        return self.data[key]

    def summary(self) -> str:
        return f"Secret {self.namespace}/{self.name} holds keys {self.keys}"

    def rows(self):
        rows = [("type", self.type), ("this call", self.action)]
        rows += [(f"label {k}", v) for k, v in sorted(self.labels.items())]
        rows += [(f"annotation {k}", v) for k, v in sorted(self.annotations.items())]
        rows += [("owner", f"{kind} {name} ({api_version}, uid {uid}{', controller' if controller else ''})")
                 for api_version, kind, name, uid, controller in self.owner_references]
        return rows + [(f"data[{k}]", mask_secret(self.data[k], self.reveal)) for k in self.keys]


@dataclass(frozen=True)
class SecretList(Result):
    namespace: str | None
    items: tuple  # (namespace, name, type, keys)

    title = "Secrets"

    def summary(self) -> str:
        where = f"namespace {self.namespace}" if self.namespace else "all namespaces"
        return f"{len(self.items)} Secret(s) in {where}"

    def rows(self):
        return [(f"{ns}/{name}", f"{kind}: {', '.join(keys) or '(no keys)'}") for ns, name, kind, keys in self.items]


@dataclass(frozen=True)
class StaticCredentialScan(Result):
    namespace: str | None
    scanned: int
    findings: tuple  # (namespace, name, keys, why)

    title = "static credentials in the cluster"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return not self.findings

    def summary(self) -> str:
        where = f"namespace {self.namespace}" if self.namespace else "the cluster"
        if not self.findings:
            return f"no Secret in {where} holds a static Akeyless/API credential"
        names = "; ".join(f"{ns}/{name} {list(keys)}" for ns, name, keys, _ in self.findings)
        return f"{len(self.findings)} Secret(s) in {where} look like static credentials: {names}"

    def rows(self):
        rows = [("Secrets scanned", self.scanned)]
        return rows + [(f"{ns}/{name}", f"{why}: {', '.join(keys)}") for ns, name, keys, why in self.findings]


@dataclass(frozen=True)
class Discovery(Result):
    """The service-account issuer's OIDC discovery document."""

    issuer: str | None
    jwks_uri: str | None
    document: dict = field(default_factory=dict)
    error: str | None = None
    status: int | None = None

    title = "service-account issuer discovery"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return self.error is None

    def summary(self) -> str:
        return f"issuer {self.issuer}" if self.ok else f"discovery failed: {self.error}"

    def rows(self):
        if not self.ok:
            return [("error", self.error)]
        return [("issuer", self.issuer), ("jwks_uri", self.jwks_uri),
                ("signing algorithms", self.document.get("id_token_signing_alg_values_supported"))]


# --- the cluster -------------------------------------------------------------------------------
