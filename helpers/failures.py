"""When it goes wrong: each scenario breaks one link on purpose, runs the real thing, and returns the
exact error a user meets (as ESO reports it, or as the gateway answers) together with the fix.

Nothing here raises for the failure it demonstrates: papermill stops a run on any error output, and a
learner should see the message, not a traceback. Every scenario restores what it broke.
"""
from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Callable

from . import akeyless_client as ak
from . import eso, tokens
from .display import Result, html_table
from .errors import LabOnly, ParameterError


@dataclass
class FailureCase(Result):
    """A reproduced failure: what was broken, the error exactly as it surfaces, and the fix."""

    name: str
    broke: str
    where: str
    error: str
    fix: str
    reproduced: bool = True
    not_here: str = ""          # why this scenario cannot run on this target (lab-only features)

    title = "failure reproduced"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return self.reproduced or bool(self.not_here)

    def summary(self) -> str:
        if self.not_here:
            return f"{self.name}: not run on this target: {self.not_here}"
        if not self.reproduced:
            return f"{self.name}: expected a failure but the flow succeeded ({self.error})"
        return f"{self.name}: {self.error}"

    def rows(self):
        return [("what we broke", self.broke), ("where you see it", self.where), ("the error", self.error),
                ("the fix", self.fix)]

    def _repr_html_(self) -> str:
        colour = "#c62828" if self.reproduced else "#ef6c00"
        state = "reproduced" if self.reproduced else ("not run on this target" if self.not_here else "NOT reproduced")
        head = "✘ " + html.escape(self.name) + f" ({state})"
        return (f"<div style='border-left:4px solid {colour};background:#fff8f8;padding:6px 10px'>"
                f"<b style='color:{colour}'>{head}</b>{html_table(self.rows())}</div>")


SCENARIOS: dict[str, Callable] = {}
CLOCK_SKEW_LEEWAY = 60      # the API server accepts a token up to a minute past exp (go-jose's default leeway)


def scenario(name: str):
    def register(fn):
        SCENARIOS[name] = fn
        return fn
    return register


def run(chapter, name: str) -> FailureCase:
    """Run one scenario by name (see `names()`)."""
    if name not in SCENARIOS:
        raise ParameterError("scenario", name, f"known scenarios: {', '.join(SCENARIOS)}", next(iter(SCENARIOS)))
    return SCENARIOS[name](chapter)


def names() -> list[str]:
    return list(SCENARIOS)


# --- helpers ---------------------------------------------------------------------------------------

def _sync(chapter, *, namespace: str | None = None, service_account: str | None = None,
          audiences: list[str] | None = None, conf_name: str | None = None, path: str | None = None):
    """An ExternalSecret sync with one thing changed, not written to the cluster."""
    chapter.require("secret", "auth_method", "gateway_config", "role")
    p = chapter.p
    ns = namespace or p.namespace
    store = eso.secret_store("akeyless-store", ns, chapter.gateway_url, chapter.access_id(),
                             conf_name or p.k8s_conf_name,
                             service_account or p.service_account,
                             audiences=[p.audience] if audiences is None else audiences,
                             ca_bundle_pem=chapter.gateway_ca_pem())
    external = eso.external_secret(p.k8s_secret, ns, store, p.k8s_secret, {"password": path or p.secret_path})
    return eso.sync(chapter.cluster, external, store, write=False)


def _case_from_sync(name: str, broke: str, sync, fix: str) -> FailureCase:
    where = "kubectl describe externalsecret (reason SecretSyncedError), ESO controller log"
    return FailureCase(name, broke, where, sync.message, fix, reproduced=not sync.ok)


def _case_from_auth(name: str, broke: str, answer: eso.AuthAnswer, fix: str) -> FailureCase:
    error = f"authentication failed: {answer.error}" if answer.error else "authenticated (no failure)"
    return FailureCase(name, broke, "the ExternalSecret's status and ESO's log: the gateway's answer to /auth",
                       error, fix, reproduced=not answer.ok)


# --- the scenarios ---------------------------------------------------------------------------------

@scenario("wrong namespace")
def wrong_namespace(chapter) -> FailureCase:
    p = chapter.p
    chapter.cluster.ensure_namespace(p.other_namespace)
    chapter.cluster.ensure_service_account(p.other_namespace, p.service_account)
    sync = _sync(chapter, namespace=p.other_namespace)
    return _case_from_sync("wrong namespace", f"the same ServiceAccount name in namespace {p.other_namespace}",
                           sync, f"the auth method is bound to namespace {p.namespace}: add the namespace to "
                                 "bound-namespaces and to the role association's sub-claims, or move the workload")


@scenario("wrong ServiceAccount")
def wrong_service_account(chapter) -> FailureCase:
    p = chapter.p
    other = p.service_account + "-other"
    chapter.cluster.ensure_service_account(p.namespace, other)
    sync = _sync(chapter, service_account=other)
    return _case_from_sync("wrong ServiceAccount", f"serviceAccountRef names {other}", sync,
                           f"only {p.service_account} is in bound-sa-names: point serviceAccountRef at it, or add "
                           "the new name to the auth method and the role's sub-claims")


@scenario("wrong audience")
def wrong_audience(chapter) -> FailureCase:
    sync = _sync(chapter, audiences=[])
    return _case_from_sync("wrong audience", "serviceAccountRef without audiences (the token gets the API "
                                             "server's default audience)", sync,
                           f"set serviceAccountRef.audiences: [{chapter.p.audience}] to match the auth method's "
                           "audience")


@scenario("tampered token")
def tampered_token(chapter) -> FailureCase:
    token = chapter.fresh_token()
    forged = tokens.tamper(token, {"kubernetes.io": {"namespace": "kube-system"}})
    answer = chapter.authenticate(forged)
    return _case_from_auth("tampered token", "one claim of a valid JWT edited (namespace), signature kept", answer,
                           "nothing to fix on your side: the signature check is the protection; never accept "
                           "decoded claims without TokenReview")


@scenario("revoked token")
def revoked_token(chapter) -> FailureCase:
    p = chapter.p
    token = chapter.fresh_token()
    chapter.cluster.recreate_service_account(p.namespace, p.service_account)
    answer = chapter.authenticate(token)
    return _case_from_auth("revoked token", "the ServiceAccount deleted and recreated (new uid) after the token "
                                            "was minted", answer,
                           "mint a new token (ESO does on every sync); deleting a ServiceAccount is how you "
                           "revoke its tokens")


@scenario("expired token")
def expired_token(chapter) -> FailureCase:
    token = chapter.fresh_token()
    jump = tokens.decode(token).lifetime_seconds + CLOCK_SKEW_LEEWAY + 1
    try:
        with chapter.session.clock.moved(jump):     # back to real time right after, so later times are true
            answer = chapter.authenticate(token)
    except LabOnly as exc:
        return FailureCase("expired token", "nothing: the clock of a real cluster cannot be moved", "-",
                           "-", exc.hint, reproduced=False, not_here=exc.message)
    return _case_from_auth("expired token", f"the lab clock moved {jump} s forward (past the token's exp and "
                                            "the API server's 60 s clock-skew leeway), then back",
                           answer, "tokens live 10 minutes when ESO mints them: a fresh sync mints a new one; for a "
                                   "static token in a Secret, stop using it (that is the point of Kubernetes auth)")


@scenario("wrong k8sConfName")
def wrong_conf_name(chapter) -> FailureCase:
    typo = chapter.p.k8s_conf_name + "-typo"
    sync = _sync(chapter, conf_name=typo)
    return _case_from_sync("wrong k8sConfName", f"SecretStore k8sConfName: {typo}", sync,
                           f"k8sConfName must equal the gateway config's name ({chapter.p.k8s_conf_name})")


@scenario("reviewer without system:auth-delegator")
def reviewer_unbound(chapter) -> FailureCase:
    p = chapter.p
    chapter.cluster.unbind_token_reviewer(p.reviewer_namespace, p.reviewer_service_account)
    try:
        answer = chapter.authenticate(chapter.fresh_token())
    finally:
        chapter.cluster.bind_token_reviewer(p.reviewer_namespace, p.reviewer_service_account)
    return _case_from_auth("reviewer without system:auth-delegator",
                           "the reviewer's ClusterRoleBinding to system:auth-delegator removed", answer,
                           f"kubectl create clusterrolebinding ... --clusterrole=system:auth-delegator "
                           f"--serviceaccount={p.reviewer_namespace}:{p.reviewer_service_account}")


@scenario("wrong CA certificate")
def wrong_ca(chapter) -> FailureCase:
    p = chapter.p
    method = chapter.auth_method()
    name = p.k8s_conf_name + "-wrong-ca"
    chapter.recreate(lambda: ak.delete_gateway_k8s_config(chapter.akeyless, name),
                      lambda: ak.create_gateway_k8s_config(chapter.akeyless, name, access_id=method.access_id,
                                                           signing_key=method.prv_key, k8s_host=chapter.cluster.server,
                                                           k8s_ca_cert=_unrelated_ca_b64(),
                                                           token_reviewer_jwt=chapter.reviewer_jwt()))
    try:
        answer = chapter.authenticate(chapter.fresh_token(), conf_name=name)
    finally:
        ak.delete_gateway_k8s_config(chapter.akeyless, name)
    return _case_from_auth("wrong CA certificate", "a gateway config whose k8s-ca-cert is another CA", answer,
                           "k8s-ca-cert must be the cluster's CA, base64 of the PEM on one line: "
                           "kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}'")


@scenario("path outside the rule")
def path_outside_rule(chapter) -> FailureCase:
    sync = _sync(chapter, path=chapter.p.other_secret_path)
    return _case_from_sync("path outside the rule", f"remoteRef.key {chapter.p.other_secret_path}", sync,
                           f"the role grants {chapter.p.secret_rule} only: add a rule for the path (least privilege: "
                           "only if the workload truly needs it)")


def _unrelated_ca_b64() -> str:
    """A CA certificate that signed nothing the cluster uses: what a copy-paste mistake looks like."""
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "some-other-cluster-ca")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode()
