"""When it goes wrong: each scenario breaks one link on purpose, runs the real thing, and returns the
exact error a user meets (as ESO reports it, or as the gateway answers) together with the fix.

Nothing here raises for the failure it demonstrates: papermill stops a run on any error output, and a
learner should see the message, not a traceback. Every scenario restores what it broke.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import html
import socket
from dataclasses import dataclass
from typing import Callable

from . import akeyless_client as ak
from . import eso, eso_controller, tokens
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
    if chapter.session.real_eso:
        # the real controller's verdict on a broken copy (deleted afterwards), named after what was broken
        changed = next(k for k, v in (("namespace", namespace), ("service-account", service_account),
                                      ("audience", audiences), ("conf-name", conf_name), ("path", path))
                       if v is not None)
        return eso_controller.reproduce(chapter.cluster, store, external, name=f"broken-{changed}")
    return eso.sync(chapter.cluster, external, store, write=False)


def _case_from_sync(name: str, broke: str, sync, fix: str) -> FailureCase:
    if isinstance(sync, eso_controller.ControllerStatus):
        where = (f"kubectl describe externalsecret {sync.name} -n {sync.namespace}: the real ESO controller's "
                 f"condition Ready=False ({sync.reason}) and its Warning event")
    else:
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


# --- the failures users report from real AKS clusters -----------------------------------------------
# Each runs live, through the chapter's typed state (auth_method(), reviewer_jwt(), session.clock).

# an AKS OIDC issuer of the shape `az aks show --query oidcIssuerProfile.issuerUrl` prints
AKS_OIDC_ISSUER_EXAMPLE = "https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/" \
                          "11111111-2222-3333-4444-555555555555/"
REVIEWER_SHORT_SECONDS = 600        # the shortest token the API server issues
ESO_HTTP_TIMEOUT = 30               # ESO's provider: http.Client{Timeout: 30s}


@contextlib.contextmanager
def _side_config(chapter, suffix: str, **changes):
    """A second gateway config, the chapter's own but for `changes`, deleted after the block."""
    p = chapter.p
    method = chapter.auth_method()
    name = f"{p.k8s_conf_name}-{suffix}"
    ca = chapter.cluster.ca_certificate()
    fields = dict(access_id=method.access_id, signing_key=method.prv_key, k8s_host=chapter.cluster.server,
                  k8s_ca_cert=ca.b64 if ca else None, token_reviewer_jwt=chapter.reviewer_jwt()) | changes
    chapter.recreate(lambda: ak.delete_gateway_k8s_config(chapter.akeyless, name),
                     lambda: ak.create_gateway_k8s_config(chapter.akeyless, name, **fields))
    try:
        yield name
    finally:
        ak.delete_gateway_k8s_config(chapter.akeyless, name)


@scenario("issuer mismatch")
def issuer_mismatch(chapter) -> FailureCase:
    found = chapter.cluster.discovery()
    with _side_config(chapter, "issuer", k8s_issuer=AKS_OIDC_ISSUER_EXAMPLE, disable_issuer_validation=False) as name:
        answer = chapter.authenticate(chapter.fresh_token(), conf_name=name)
    return _case_from_auth("issuer mismatch", f"a gateway config validating issuer {AKS_OIDC_ISSUER_EXAMPLE} (an "
                                              f"AKS OIDC issuer) while this cluster's tokens carry {found.issuer}",
                           answer, f"--k8s-issuer must be exactly the tokens' iss ({found.issuer}: kubectl get --raw "
                                   "/.well-known/openid-configuration | jq -r .issuer; on AKS az aks show --query "
                                   "oidcIssuerProfile.issuerUrl once the OIDC issuer is on, and it changes when you "
                                   "enable it), or --disable-issuer-validation true to leave it to TokenReview")


class _BlackHole:
    """A loopback port that drops new connections, as a firewall drops the gateway's packets: its accept
    queue is full (listen(0), filled and never accepted), so the kernel ignores every further SYN and a
    client's connect times out, exactly as a dial to a private API server does."""

    def __enter__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        address = self.sock.getsockname()
        self.fillers = []
        for _ in range(3):          # a backlog of 0 still queues one; fill it with room to spare
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex(address)
            self.fillers.append(filler)
        return f"https://127.0.0.1:{address[1]}"

    def __exit__(self, *exc):
        for sock in self.fillers + [self.sock]:
            sock.close()


@scenario("API server unreachable from the gateway")
def api_server_unreachable(chapter) -> FailureCase:
    """Bounded by the gateway's own dial timeout (4 s in the lab; a real gateway gives up later)."""
    if chapter.settings.akeyless_url:   # a remote gateway cannot reach this machine's loopback at all
        return FailureCase("API server unreachable from the gateway", "nothing", "-", "-",
                           "run it against the lab", reproduced=False,
                           not_here="the lab's gateway must be the one timing out against a port on this machine")
    p = chapter.p
    with _BlackHole() as host, _side_config(chapter, "unreachable", k8s_host=host) as name:
        body = eso.auth_body(chapter.auth_method().access_id, name, chapter.fresh_token())
        # ESO waits 30 s for the gateway; the gateway gives up on the API server first
        answer = eso.authenticate(chapter.gateway_url, body, chapter.gateway_ca_pem(), timeout=ESO_HTTP_TIMEOUT)
    error = f"authentication failed: {answer.error}" if answer.error else "authenticated (no failure)"
    return FailureCase("API server unreachable from the gateway",
                       f"k8s-host {host}: a port that swallows packets, as a private AKS API server or authorized "
                       "IP ranges do for a gateway outside the VNet",
                       "the ExternalSecret's status, after the gateway's TokenReview timeout",
                       error, "run the gateway where the API server is reachable: in the cluster (Helm chart, "
                              "--k8s-host https://kubernetes.default.svc --use-gw-service-account) or a peered VNet; "
                              "or add the gateway's egress IP to the AKS authorized IP ranges "
                              f"(az aks update --api-server-authorized-ip-ranges); ESO's config {p.k8s_conf_name} "
                              "is unchanged", reproduced=not answer.ok)


@scenario("ClusterSecretStore without serviceAccountRef.namespace")
def cluster_store_without_namespace(chapter) -> FailureCase:
    p = chapter.p
    consumer = p.other_namespace        # an ExternalSecret in another team's namespace uses the shared store
    chapter.cluster.ensure_namespace(consumer)
    chapter.cluster.delete_service_account(consumer, p.service_account)
    store = eso.secret_store("akeyless-cluster-store", None, chapter.gateway_url, chapter.auth_method().access_id,
                             p.k8s_conf_name, p.service_account, audiences=[p.audience],
                             ca_bundle_pem=chapter.gateway_ca_pem())
    ref = store.body["spec"]["provider"]["akeyless"]["authSecretRef"]["kubernetesAuth"]["serviceAccountRef"]
    ref.pop("namespace")
    external = eso.external_secret(p.k8s_secret, consumer, store, p.k8s_secret, {"password": p.secret_path})
    sync = eso.sync(chapter.cluster, external, store, write=False)
    return _case_from_sync("ClusterSecretStore without serviceAccountRef.namespace",
                           f"a ClusterSecretStore whose serviceAccountRef has no namespace, used by an "
                           f"ExternalSecret in {consumer}: ESO looks for {p.service_account} there", sync,
                           f"set serviceAccountRef.namespace: {p.namespace} on the ClusterSecretStore (the "
                           "ServiceAccount's own namespace)")


@scenario("gateway URL on the wrong path")
def gateway_wrong_path(chapter) -> FailureCase:
    """ESO's own URL resolution (getV2Url) first, then the sync with the URL it settled on."""
    from urllib.parse import urlparse
    p = chapter.p
    root = urlparse(chapter.gateway_url)
    wrong = f"{root.scheme}://{root.netloc}/api/v1"       # the V1 API: a frequent copy from gateway docs
    try:
        eso.post_command(wrong, "", {}, chapter.gateway_ca_pem())
        probe = ""
    except eso.GatewayError as exc:
        probe = exc.body
    resolved = wrong if "unknown command" in probe or wrong.endswith("/v2") else f"{root.scheme}://{root.netloc}/v2"
    store = eso.secret_store("akeyless-store", p.namespace, resolved, chapter.auth_method().access_id, p.k8s_conf_name,
                             p.service_account, audiences=[p.audience], ca_bundle_pem=chapter.gateway_ca_pem())
    external = eso.external_secret(p.k8s_secret, p.namespace, store, p.k8s_secret, {"password": p.secret_path})
    sync = eso.sync(chapter.cluster, external, store, write=False)
    return _case_from_sync("gateway URL on the wrong path", f"akeylessGWApiURL: {wrong} (ESO resolved it to "
                                                            f"{resolved})", sync,
                           "akeylessGWApiURL is the V2 API: https://<gateway>:8000/api/v2 on the akeyless-gateway "
                           "chart (legacy gateways: :8081 or :8080/v2). A unified gateway answers any other path "
                           "with 404 page not found; this lab gateway says unknown command")


@scenario("expired reviewer JWT")
def expired_reviewer_jwt(chapter) -> FailureCase:
    p = chapter.p
    short = chapter.cluster.request_token(p.reviewer_namespace, p.reviewer_service_account,
                                          expiration_seconds=REVIEWER_SHORT_SECONDS).raise_for_error().token
    jump = REVIEWER_SHORT_SECONDS + CLOCK_SKEW_LEEWAY + 1
    try:
        with _side_config(chapter, "expired-reviewer", token_reviewer_jwt=short) as name, \
                chapter.session.clock.moved(jump):
            answer = chapter.authenticate(chapter.fresh_token(), conf_name=name)
    except LabOnly as exc:
        return FailureCase("expired reviewer JWT", "nothing: the clock of a real cluster cannot be moved", "-", "-",
                           exc.hint, reproduced=False, not_here=exc.message)
    return _case_from_auth("expired reviewer JWT", f"the gateway config's token-reviewer-jwt was a "
                                                   f"{REVIEWER_SHORT_SECONDS} s token, and the lab clock moved {jump} s",
                           answer, f"mint a new reviewer token (kubectl create token {p.reviewer_service_account} -n "
                                   f"{p.reviewer_namespace} --duration 24h) and akeyless gateway-update-k8s-auth-"
                                   f"config --name {p.k8s_conf_name} --new-name {p.k8s_conf_name} --token-reviewer-jwt "
                                   "...; or stop storing one: --use-gw-service-account with the gateway in the cluster")


@scenario("ESO's ServiceAccount cannot create serviceaccounts/token")
def eso_without_token_rbac(chapter) -> FailureCase:
    """ESO mints the app's token with its own identity: here a ServiceAccount like the controller's, without
    the chart's grant, makes the TokenRequest ESO makes (the real controller runs on issue 9's real stack)."""
    p = chapter.p
    controller = "external-secrets-no-token-rbac"
    chapter.cluster.ensure_namespace(p.eso_namespace)
    chapter.cluster.ensure_service_account(p.eso_namespace, controller)
    own = chapter.cluster.request_token(p.eso_namespace, controller).raise_for_error().token
    as_eso = chapter.cluster.as_identity(own)
    store = eso.secret_store("akeyless-store", p.namespace, chapter.gateway_url, chapter.auth_method().access_id,
                             p.k8s_conf_name, p.service_account, audiences=[p.audience],
                             ca_bundle_pem=chapter.gateway_ca_pem())
    external = eso.external_secret(p.k8s_secret, p.namespace, store, p.k8s_secret, {"password": p.secret_path})
    try:
        sync = eso.sync(as_eso, external, store, write=False)
    finally:
        chapter.cluster.delete_service_account(p.eso_namespace, controller)
    return _case_from_sync("ESO's ServiceAccount cannot create serviceaccounts/token",
                           f"ESO's controller ServiceAccount ({p.eso_namespace}/{controller}) without create on "
                           f"serviceaccounts/token in {p.namespace}", sync,
                           "keep the ESO chart's RBAC (its ClusterRole grants create on serviceaccounts/token), or "
                           f"grant it: kubectl create role eso-token -n {p.namespace} --verb=create "
                           f"--resource=serviceaccounts/token && kubectl create rolebinding eso-token -n {p.namespace} "
                           f"--role=eso-token --serviceaccount={p.eso_namespace}:external-secrets")
