"""`python -m helpers doctor`: check, link by link, that a cluster can serve the tutorial.

Each link of the chain the Akeyless gateway depends on is tried for real, in order: reach the API
server over verified TLS, create a ServiceAccount, mint its token, let a reviewer identity bound to
system:auth-delegator review that token, and read the issuer's discovery document. A failed link
reports the API server's exact words and the fix; the links after it are skipped, not guessed.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable

from .cluster import AUTH_DELEGATOR, Cluster, connect, service_account_user
from .config import Settings
from .display import Result
from .errors import LabError

DOCTOR_NAMESPACE = "workshop-doctor"
APP_SA = "doctor-app"
REVIEWER_SA = "doctor-reviewer"
BINDING = "workshop-doctor-token-reviewer"
MIN_MINOR = 22  # TokenRequest and bound service-account tokens are GA from Kubernetes 1.22
TIMEOUT = 10.0
# A real API server's RBAC authorizer reads bindings from an informer cache, so a binding just created can
# take a moment to count (milliseconds when idle, longer under load; AKS alike). Retry the check this long.
RBAC_SETTLE_SECONDS = 5.0


@dataclass
class Check:
    name: str
    status: str            # PASS | FAIL | WARN | SKIP
    detail: str = ""
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"


class _Failed(Exception):
    """A check's own verdict of failure (as opposed to an API error), with the fix to print."""

    def __init__(self, detail: str, fix: str):
        super().__init__(detail)
        self.detail, self.fix = detail, fix


def _run_link(report: "DoctorReport", name: str, body: Callable) -> Check:
    """Run one check and record it: its PASS detail, (detail, fix) for a WARN, ("SKIP", why) when it could not
    look; a _Failed or an expected LabError is a FAIL with its fix."""
    try:
        outcome = body()
    except _Failed as failure:
        check = Check(name, "FAIL", failure.detail, failure.fix)
    except LabError as exc:
        check = Check(name, "FAIL", exc.message, exc.hint or "")
    else:
        if isinstance(outcome, tuple):
            check = Check(name, "SKIP", outcome[1]) if outcome[0] == "SKIP" else Check(name, "WARN", *outcome)
        else:
            check = Check(name, "PASS", outcome)
    report.checks.append(check)
    return check


@dataclass
class DoctorReport(Result):
    target: str
    checks: list[Check] = field(default_factory=list)

    title = "doctor"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return not any(c.failed for c in self.checks)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def summary(self) -> str:
        passed = sum(c.status == "PASS" for c in self.checks)
        verdict = "ready" if self.ok else "NOT ready"
        return f"target {self.target}: {passed}/{len(self.checks)} checks passed, {verdict} for the tutorial"

    def rows(self):
        return [(f"{c.status} {c.name}", c.detail + (f"  (fix: {c.fix})" if c.fix else "")) for c in self.checks]

    def as_text(self) -> str:
        width = max((len(c.name) for c in self.checks), default=0)
        lines = [f"workshop doctor, target {self.target}"]
        for c in self.checks:
            lines.append(f"  {c.status:<4}  {c.name:<{width}}  {c.detail}".rstrip())
            if c.fix:
                lines.append(f"  {'':<4}  {'':<{width}}  fix: {c.fix}")
        lines.append(self.summary())
        return "\n".join(lines)


class _Doctor:
    def __init__(self, settings: Settings, namespace: str):
        self.settings = settings
        self.namespace = namespace
        self.report = DoctorReport(settings.target if not settings.is_lab else f"lab ({settings.lab_dir})")
        self.cluster: Cluster | None = None
        self.info = None
        self.app_token: str | None = None
        self.blocked_by: str | None = None

    def step(self, name: str, body: Callable[[], str | tuple[str, str]]) -> None:
        """Run one link; a failure blocks every later link (they depend on it)."""
        if self.blocked_by:
            self.report.checks.append(Check(name, "SKIP", f"needs: {self.blocked_by}"))
        elif _run_link(self.report, name, body).failed:
            self.blocked_by = name

    # --- the links ---

    def lab_running(self) -> str:
        from . import lab  # the doctor is a tool: it may start the lab; the client side never imports it
        info = lab.up(self.settings)
        return f"{info.kube_mode} Kubernetes API at {info.kube_url}"

    def kubeconfig(self) -> str:
        self.cluster = connect(self.settings, timeout=TIMEOUT)
        return f"{self.cluster.kubeconfig}, context {self.cluster.context}, server {self.cluster.server}"

    def reachable(self) -> str | tuple[str, str]:
        info = self.info = self.cluster.info()
        if not info.tls_verified:
            raise _Failed(f"{info.server} answered, but the kubeconfig sets insecure-skip-tls-verify",
                          "put the cluster CA in the kubeconfig (certificate-authority-data): the Akeyless "
                          "gateway must verify the API server too (k8s-ca-cert)")
        if info.ca is None:
            return (f"{info.server} answered over TLS verified by the system trust store",
                    "no CA in the kubeconfig: get the cluster CA for Akeyless' k8s-ca-cert from the cluster's "
                    "provider (AKS: `az aks get-credentials`, then certificate-authority-data)")
        return f"{info.server} answered over TLS verified with CA {info.ca.subject} (SHA-256 {info.ca.sha256[:23]}...)"

    def version(self) -> str | tuple[str, str]:
        info = self.info
        found = re.match(r"v?(\d+)\.(\d+)", info.version or "")
        if not found:
            return info.version, "cannot parse the version; the tutorial needs Kubernetes >= 1.22"
        if int(found[1]) == 1 and int(found[2]) < MIN_MINOR:
            raise _Failed(f"Kubernetes {info.version} is too old",
                          f"use Kubernetes >= 1.{MIN_MINOR} (bound service-account tokens, TokenRequest)")
        return f"Kubernetes {info.version} ({info.platform})"

    def scratch(self) -> str:
        self.cluster.ensure_namespace(self.namespace)
        self.cluster.ensure_service_account(self.namespace, APP_SA)
        return f"namespace {self.namespace} and ServiceAccount {APP_SA} present"

    def mint(self) -> str:
        result = self.cluster.request_token(self.namespace, APP_SA, expiration_seconds=600).raise_for_error()
        self.app_token = result.token
        decoded = result.decoded
        return f"{decoded.subject}, audiences {decoded.audiences}, valid {decoded.lifetime_seconds} s"

    def reviewer_rbac(self) -> str:
        self.cluster.ensure_service_account(self.namespace, REVIEWER_SA)
        self.cluster.bind_token_reviewer(self.namespace, REVIEWER_SA, BINDING)
        user = service_account_user(self.namespace, REVIEWER_SA)
        deadline = time.monotonic() + RBAC_SETTLE_SECONDS
        access = self.cluster.can_i("create", "tokenreviews", "authentication.k8s.io", user=user)
        while not access.allowed and not access.error and time.monotonic() < deadline:
            time.sleep(0.2)
            access = self.cluster.can_i("create", "tokenreviews", "authentication.k8s.io", user=user)
        if not access.allowed:
            raise _Failed(f"{user} cannot create tokenreviews although ClusterRoleBinding {BINDING} binds it to "
                          f"{AUTH_DELEGATOR}: {access.reason or access.error or 'denied'}",
                          f"check that the ClusterRole {AUTH_DELEGATOR} exists and grants create on tokenreviews "
                          "(`kubectl describe clusterrole system:auth-delegator`)")
        return f"{user} can create tokenreviews (bound to {AUTH_DELEGATOR})"

    def review(self) -> str:
        reviewer = self.cluster.request_token(self.namespace, REVIEWER_SA).raise_for_error()
        result = self.cluster.review_token(self.app_token, as_token=reviewer.token)
        expected = service_account_user(self.namespace, APP_SA)
        if not result.authenticated:
            raise _Failed(f"reviewed as {result.reviewer}: {result.error}",
                          result.hint or "the API server cannot verify its own token: check "
                          "--service-account-key-file and --api-audiences")
        if result.username != expected:
            raise _Failed(f"authenticated as {result.username}, expected {expected}",
                          "the API server maps tokens to the wrong user: check its authentication setup")
        return f"authenticated as {result.username} (reviewed by {result.reviewer})"

    def discovery(self) -> str:
        found = self.cluster.discovery()
        if not found.ok:
            raise _Failed(found.error, "allow anonymous/authenticated access to /.well-known/openid-configuration "
                                       "(ClusterRole system:service-account-issuer-discovery)")
        from .tokens import decode
        iss = decode(self.app_token).issuer
        if found.issuer != iss:
            raise _Failed(f"discovery says issuer {found.issuer!r} but tokens carry iss {iss!r}",
                          "configure the Akeyless k8s auth config with the tokens' iss (--k8s-issuer)")
        return f"issuer {found.issuer} (same as the tokens' iss)"

    # --- ESO (the real controller; the emulator replays it) ---

    def eso_wanted(self) -> bool:
        return not (self.settings.is_lab and self.settings.kube == "emulator")

    def eso_crds(self) -> str | tuple[str, str]:
        from .eso_controller import crds_established
        found = crds_established(self.cluster)
        missing = [f"{plural}.external-secrets.io" for plural, ok in found.items() if not ok]
        if not missing:
            return f"{', '.join(found)} established"
        fix = ("restart the lab so it re-applies them: `python -m helpers lab down && python -m helpers lab up "
               "--kube apiserver`" if self.settings.is_lab else
               "install ESO (helm install external-secrets external-secrets/external-secrets -n external-secrets "
               "--create-namespace) or run the lab's: `python -m helpers lab eso --kubeconfig FILE`")
        if self.settings.is_lab:
            raise _Failed(f"CRD {', '.join(missing)} missing or not Established", fix)
        return f"CRD {', '.join(missing)} missing: no ESO in this cluster", fix

    def eso_controller(self) -> str | tuple[str, str]:
        from . import lab
        if self.settings.is_lab:
            status = lab.status(self.settings)
            where = status.info.components.get("external-secrets", "") if status.info else ""
            if not where.startswith("http"):
                raise _Failed(f"the ESO controller is {where or 'not started'}",
                              "build it once with `make eso`, then `python -m helpers lab down && "
                              "python -m helpers lab up --kube apiserver`")
            if "external-secrets DOWN" in status.detail:
                raise _Failed(f"the ESO controller does not answer at {where} (stopped or crashed; its log: "
                              f"{status.info.dir / 'eso.log'})",
                              "restart the lab: `python -m helpers lab down && python -m helpers lab up --kube apiserver`")
            return f"running out of cluster as external-secrets/external-secrets, metrics at {where}"
        from .lab import eso_beside
        beside = eso_beside.status(self.settings.lab_dir)
        if beside.running:
            return beside.summary()
        from .eso_controller import crds_established
        if not all(crds_established(self.cluster).values()):
            return ("no ESO controller: its CRDs are not installed", "the chapter replays ESO; to meet the real one, "
                    "install ESO with Helm or run `python -m helpers lab eso --kubeconfig FILE`")
        deployments = self.cluster.eso_deployments()
        ready = [d for d in deployments if d[2]]
        if ready:
            return "ESO Deployment " + ", ".join(f"{ns}/{name}" for ns, name, _ in ready) + " available"
        return ("no ESO controller found (no available Deployment labelled app.kubernetes.io/name=external-secrets)",
                "install ESO with Helm, or run the lab's beside this cluster: `python -m helpers lab eso --kubeconfig FILE`")

    def cleanup(self) -> None:
        """Remove the cluster-wide binding and the ServiceAccounts; the dedicated namespace stays, since a
        namespace deletion can hang in Terminating on control planes without a controller manager."""
        if self.cluster is None or not any(c.name == "namespace and ServiceAccount" and c.status == "PASS"
                                           for c in self.report.checks):
            return
        try:
            self.cluster.unbind_token_reviewer(self.namespace, REVIEWER_SA, BINDING)
            self.cluster.delete_service_account(self.namespace, REVIEWER_SA)
            self.cluster.delete_service_account(self.namespace, APP_SA)
        except LabError as exc:
            self.report.checks.append(Check("clean up", "WARN", exc.message,
                                            f"delete ClusterRoleBinding {BINDING} and the ServiceAccounts in "
                                            f"{self.namespace} by hand"))

    def run(self) -> DoctorReport:
        if self.settings.is_lab:
            self.step("lab running", self.lab_running)
        self.step("kubeconfig", self.kubeconfig)
        self.step("API reachable, TLS verified", self.reachable)
        self.step("Kubernetes version", self.version)
        self.step("namespace and ServiceAccount", self.scratch)
        self.step("token minted (TokenRequest)", self.mint)
        self.step("reviewer may create TokenReviews", self.reviewer_rbac)
        self.step("token reviewed as the reviewer", self.review)
        self.step("issuer discovery", self.discovery)
        if self.eso_wanted():
            self.step("ESO CRDs established", self.eso_crds)
            self.step("ESO controller up", self.eso_controller)
        self.cleanup()
        return self.report


def run_doctor(settings: Settings | None = None, *, namespace: str = DOCTOR_NAMESPACE) -> DoctorReport:
    """Check every link the tutorial needs against `settings.target`; never raises for a failed link."""
    return _Doctor(settings or Settings.load(), namespace).run()


# --- the Akeyless side: `python -m helpers doctor --akeyless` ----------------------------------------
#
# Read-only, link by link, for the chapter's names: the auth method, the gateway's Kubernetes auth config
# (its host, CA, reviewer and issuer), the role (association and rule), then a real login and read. The
# gateway does not say where a login failed on its side, so the real login runs first and its error
# is attributed to the link it names; each link also has its own check from here.

L_GATEWAY = "Akeyless gateway (admin session)"
L_CLUSTER = "cluster (kubeconfig)"
L_METHOD = "auth method admits the ServiceAccount"
L_CONFIG = "gateway k8s auth config"
L_HOST = "k8s-host reachable"
L_CA = "k8s-ca-cert verifies the API server"
L_REVIEWER = "reviewer may create TokenReviews"
L_ISSUER = "issuer matches the cluster's"
L_ROLE = "role associated, sub-claims match"
L_RULE = "a rule covers the secret path"
L_LOGIN = "login as the ServiceAccount and read"
PROBE_TIMEOUT = 5.0

# words of a failed /auth answer -> the link that explains it (first match wins)
_BLAME = (
    (L_CONFIG, ("k8s auth config", "signing key of config", "belongs to access id")),
    (L_HOST, ("dial tcp", "i/o timeout", "timed out", "timeouterror", "connection refused", "no such host")),
    (L_CA, ("x509", "certificate", "tls")),
    (L_REVIEWER, ("token reviewer", "tokenreview bearer", "forbidden", "token-reviewer-jwt")),
    (L_ISSUER, ("issuer",)),
    (L_METHOD, ("bound-", "audience", "not a kubernetes auth method")),
    (L_ROLE, ("sub claim", "sub-claim")),
)


def _pem(k8s_ca_cert: str) -> str:
    """k8s-ca-cert as stored: base64 of the PEM (kubeconfig's -data), or the PEM itself."""
    import base64
    import binascii
    if "-----BEGIN" in k8s_ca_cert:
        return k8s_ca_cert
    try:
        return base64.b64decode(k8s_ca_cert, validate=True).decode()
    except binascii.Error as exc:
        raise ValueError(str(exc)) from None


def _blame(error: str) -> str | None:
    low = error.lower()
    return next((line for line, words in _BLAME if any(w in low for w in words)), None)


class _AkeylessDoctor:
    def __init__(self, settings: Settings, names):
        self.settings, self.n = settings, names
        self.report = DoctorReport(f"{settings.target} (Akeyless side)" if not settings.is_lab
                                   else f"lab ({settings.lab_dir}), Akeyless side")
        self.session = self.cluster = self.method = self.config = None
        self.token: str | None = None
        self.login_error = self.read_error = ""
        self.login_claims: dict = {}
        self.read_chars = 0
        self.role_table = None

    # --- plumbing ---

    def _status(self, name: str) -> str | None:
        return next((c.status for c in self.report.checks if c.name == name), None)

    def step(self, name: str, body: Callable[[], str | tuple[str, str]], needs: tuple[str, ...] = ()) -> None:
        """Run one link unless a link it needs did not pass; a failure blocks only its dependants."""
        missing = [n for n in needs if self._status(n) not in ("PASS", "WARN")]
        if missing:
            self.report.checks.append(Check(name, "SKIP", f"needs: {', '.join(missing)}"))
        else:
            _run_link(self.report, name, body)

    def _login_blames(self, line: str) -> bool:
        return bool(self.login_error) and _blame(self.login_error) == line

    # --- the links ---

    def gateway(self) -> str:
        from . import akeyless_client as ak
        s = self.settings
        if s.akeyless_url:
            if not (s.akeyless_access_id and s.akeyless_access_key):
                raise _Failed("no admin credentials for the gateway",
                              "export AKEYLESS_ACCESS_ID and AKEYLESS_ACCESS_KEY (an API key allowed to read the "
                              "auth method, the gateway config and the role)")
            self.session = ak.connect(s.akeyless_url, s.akeyless_access_id, s.akeyless_access_key)
            return f"{self.session.url}: admin API key accepted"
        # no AKEYLESS_URL: the lab's gateway, as the chapter uses it beside any cluster
        from . import lab  # the doctor is a tool: it may start the lab; the client side never imports it
        self.session = ak.connect_lab(lab.up(s if s.is_lab else s.with_(target="lab")))
        return f"{self.session.url} (the lab's gateway; export AKEYLESS_URL for another): admin API key accepted"

    def cluster_link(self) -> str:
        self.cluster = connect(self.settings, timeout=TIMEOUT)
        return f"{self.cluster.server} (context {self.cluster.context})"

    def _read(self, reader: Callable, name: str, missing_fix: str):
        """An Akeyless object; a 404 fails with `missing_fix`, any other error with the client's hint."""
        try:
            return reader(self.session, name)
        except LabError as exc:
            raise _Failed(exc.message, missing_fix if getattr(exc, "status", None) == 404 else exc.hint or "") from None

    def auth_method(self) -> str:
        from . import akeyless_client as ak
        n = self.n
        method = self._read(ak.describe_auth_method, n.auth_method,
                            f"create it: akeyless auth-method create k8s --name {n.auth_method} --bound-namespaces "
                            f"{n.namespace} --bound-sa-names {n.service_account} --audience {n.audience}")
        if method.kind != "k8s":
            raise _Failed(f"{n.auth_method} is a {method.kind or 'non-Kubernetes'} auth method",
                          "Kubernetes auth needs an auth method of type k8s (akeyless auth-method create k8s)")
        self.method = method
        update = f"akeyless auth-method update k8s --name {n.auth_method}"
        if method.bound_namespaces and n.namespace not in method.bound_namespaces:
            raise _Failed(f"namespace {n.namespace} is not in bound-namespaces {method.bound_namespaces}",
                          f"{update} --bound-namespaces {n.namespace} (or run the workload in a bound namespace)")
        if method.bound_sa_names and n.service_account not in method.bound_sa_names:
            raise _Failed(f"ServiceAccount {n.service_account} is not in bound-sa-names {method.bound_sa_names}",
                          f"{update} --bound-sa-names {n.service_account} (or point serviceAccountRef at a bound one)")
        if method.audience and method.audience != n.audience:
            raise _Failed(f"the auth method requires audience {method.audience!r}; the workload's tokens ask for "
                          f"{n.audience!r}", f"set serviceAccountRef.audiences: [{method.audience}] (parameter "
                          f"audience), or {update} --audience {n.audience}")
        return method.summary()

    def probe_login(self) -> None:
        """The real login (and read) as the workload, before the links it will explain."""
        from . import akeyless_client as ak
        from .errors import AkeylessError
        n = self.n
        minted = self.cluster.request_token(n.namespace, n.service_account, audiences=[n.audience],
                                            expiration_seconds=600)
        if not minted.ok:
            self.login_error = f"cannot mint a token for {n.namespace}/{n.service_account}: {minted.error}"
            return
        self.token = minted.token
        try:
            auth = ak.auth_with_k8s(self.session.url, self.method.access_id, n.k8s_conf_name, minted.token,
                                    ca_cert=self.session.ca_cert)
        except AkeylessError as exc:
            self.login_error = exc.message
            return
        self.login_claims = dict(auth.sub_claims or {})
        try:
            self.read_chars = len(ak.get_secret_value(auth, n.secret_path).value)
        except AkeylessError as exc:
            self.read_error = exc.message

    def gateway_config(self) -> str:
        from . import akeyless_client as ak
        n = self.n
        config = self._read(ak.get_gateway_k8s_config, n.k8s_conf_name,
                            "the SecretStore's k8sConfName (parameter k8s_conf_name) must name an existing gateway "
                            f"config: create it with akeyless gateway-create-k8s-auth-config --name {n.k8s_conf_name} ...")
        if self.method and config.access_id != self.method.access_id:
            raise _Failed(f"config {n.k8s_conf_name} serves access id {config.access_id}, the auth method is "
                          f"{self.method.access_id}", f"akeyless gateway-update-k8s-auth-config --name "
                          f"{n.k8s_conf_name} --new-name {n.k8s_conf_name} --access-id {self.method.access_id} "
                          "--signing-key <the auth method's prv_key>")
        if self._login_blames(L_CONFIG):
            raise _Failed(self.login_error, "re-create the config with the auth method's current access id and "
                                            "prv_key (--signing-key)")
        self.config = config
        return f"{config.name}: k8s-host {config.k8s_host}, reviewer {config.reviewer}"

    def _host_port(self) -> tuple[str, int]:
        from urllib.parse import urlparse
        url = urlparse(self.config.k8s_host)
        return url.hostname or "", url.port or (443 if url.scheme == "https" else 80)

    def host(self) -> str | tuple[str, str]:
        import socket
        host, port = self._host_port()
        try:
            socket.create_connection((host, port), timeout=PROBE_TIMEOUT).close()
            here = None
        except OSError as exc:
            here = str(exc) or type(exc).__name__
        if self._login_blames(L_HOST):
            raise _Failed(f"the gateway cannot reach {self.config.k8s_host}: {self.login_error}",
                          "run the gateway where the API server is reachable (in the cluster or a peered VNet: "
                          "--k8s-host https://kubernetes.default.svc --use-gw-service-account), or allow the "
                          "gateway's egress IP in the AKS authorized IP ranges")
        if here is None:
            return f"{host}:{port} accepts connections (from here)"
        if not self.login_error:
            return f"{host}:{port} reached by the gateway (the login worked); not from here: {here}"
        return (f"{host}:{port} not reachable from here: {here}", "the doctor cannot tell whether the gateway "
                "reaches it; the login failed for another reason (below)")

    def ca(self) -> str | tuple[str, str]:
        import socket
        import ssl
        if not self.config.k8s_ca_cert:
            return ("the config has no k8s-ca-cert: the gateway trusts its system store, which AKS' CA is not in",
                    "akeyless gateway-update-k8s-auth-config ... --k8s-ca-cert \"$(kubectl config view --raw "
                    "--minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')\"")
        fix = ("k8s-ca-cert must be the cluster's CA, base64 on one line: kubectl config view --raw --minify "
               "-o jsonpath='{.clusters[0].cluster.certificate-authority-data}', then "
               f"akeyless gateway-update-k8s-auth-config --name {self.n.k8s_conf_name} --new-name "
               f"{self.n.k8s_conf_name} --k8s-ca-cert ...")
        try:
            context = ssl.create_default_context(cadata=_pem(self.config.k8s_ca_cert))
        except (ValueError, ssl.SSLError, UnicodeDecodeError) as exc:
            raise _Failed(f"k8s-ca-cert is not a base64 PEM certificate: {exc}", fix) from None
        host, port = self._host_port()
        try:
            with socket.create_connection((host, port), timeout=PROBE_TIMEOUT) as raw:
                with context.wrap_socket(raw, server_hostname=host) as tls:
                    subject = dict(x[0] for x in tls.getpeercert().get("subject", ()))
        except ssl.SSLCertVerificationError as exc:
            raise _Failed(f"the API server's certificate does not verify with k8s-ca-cert: {exc.verify_message}",
                          fix) from None
        except OSError as exc:
            if self._login_blames(L_CA):
                raise _Failed(self.login_error, fix) from None
            return ("SKIP", f"not checked from here ({exc}); the gateway's login " +
                    ("worked" if not self.login_error else "failed for another reason"))
        if self._login_blames(L_CA):
            raise _Failed(self.login_error, fix)
        return f"{host}:{port} presents {subject.get('commonName', 'a certificate')} signed by the config's CA"

    def reviewer(self) -> str:
        from .tokens import TokenError, decode
        n, jwt = self.n, self.config.reviewer_jwt
        bind = (f"kubectl create clusterrolebinding {n.reviewer_namespace}-{n.reviewer_service_account}-token-"
                f"reviewer --clusterrole={AUTH_DELEGATOR} --serviceaccount={n.reviewer_namespace}:"
                f"{n.reviewer_service_account}")
        if not jwt:
            user = service_account_user(n.namespace, n.service_account)
            access = self.cluster.can_i("create", "tokenreviews", "authentication.k8s.io", user=user)
            if not access.allowed:
                raise _Failed(f"no token-reviewer-jwt, so each caller's own JWT reviews itself, and {user} may not "
                              "create TokenReviews", "set --token-reviewer-jwt to a reviewer bound to "
                              f"{AUTH_DELEGATOR} ({bind}), or --use-gw-service-account with the gateway in the cluster")
            return f"no token-reviewer-jwt: the caller's own JWT reviews itself, and {user} may"
        renew = (f"mint a new one (kubectl create token {n.reviewer_service_account} -n {n.reviewer_namespace} "
                 f"--duration 24h) and akeyless gateway-update-k8s-auth-config --name {n.k8s_conf_name} --new-name "
                 f"{n.k8s_conf_name} --token-reviewer-jwt \"$REVIEWER_JWT\"")
        try:
            decoded = decode(jwt)
        except TokenError as exc:
            raise _Failed(f"token-reviewer-jwt is not a JWT: {exc}", renew) from None
        left = decoded.seconds_to_expiry(time.time())
        if left is not None and left <= 0:
            raise _Failed(f"token-reviewer-jwt of {decoded.subject} expired {int(-left)} s ago", renew)
        try:
            deadline = time.monotonic() + RBAC_SETTLE_SECONDS
            access = self.cluster.as_identity(jwt).can_i("create", "tokenreviews", "authentication.k8s.io")
            while not access.allowed and not access.error and time.monotonic() < deadline:
                time.sleep(0.2)
                access = self.cluster.as_identity(jwt).can_i("create", "tokenreviews", "authentication.k8s.io")
        except LabError as exc:
            if getattr(exc, "status", None) == 401:
                raise _Failed(f"the API server rejects token-reviewer-jwt ({decoded.subject}): {exc.message}",
                              "its ServiceAccount was deleted or its token revoked: " + renew) from None
            raise
        if not access.allowed or self._login_blames(L_REVIEWER):
            raise _Failed(f"{decoded.subject} may not create TokenReviews" +
                          (f": {self.login_error}" if self._login_blames(L_REVIEWER) else ""), bind)
        when = f", expires in {int(left // 3600)} h {int(left % 3600 // 60)} min" if left is not None else ""
        return f"{decoded.subject} may create tokenreviews{when}"

    def issuer(self) -> str | tuple[str, str]:
        from .tokens import decode
        found = self.cluster.discovery()
        cluster_iss = found.issuer or (decode(self.token).issuer if self.token else "")
        cfg = self.config
        fix = (f"akeyless gateway-update-k8s-auth-config --name {self.n.k8s_conf_name} --new-name "
               f"{self.n.k8s_conf_name} --k8s-issuer {cluster_iss} (on AKS: the OIDC issuer URL when enabled), or "
               "--disable-issuer-validation true to leave the issuer to the API server's TokenReview")
        if self._login_blames(L_ISSUER):
            raise _Failed(f"{self.login_error} (the cluster's issuer is {cluster_iss})", fix)
        if cfg.disable_issuer_validation:
            return f"issuer validation off: the API server's TokenReview vouches for iss {cluster_iss}"
        if cfg.k8s_issuer == cluster_iss:
            return f"k8s-issuer {cfg.k8s_issuer} = the cluster's issuer"
        if not cfg.k8s_issuer:
            return f"no k8s-issuer set: the gateway leaves iss ({cluster_iss}) to the API server"
        return (f"k8s-issuer {cfg.k8s_issuer!r} differs from the cluster's {cluster_iss!r}; this gateway did not "
                "enforce it" + (" (the login worked)" if not self.login_error else ""), fix)

    def role(self) -> str:
        from . import access
        from . import akeyless_client as ak
        n = self.n
        assoc = (f"akeyless assoc-role-am --role-name {n.role} --am-name {n.auth_method} --sub-claims "
                 f"namespace={n.namespace} --sub-claims service_account_name={n.service_account}")
        self.role_table = self._read(ak.get_role, n.role, f"akeyless create-role --name {n.role}, then {assoc}")
        mine = [a for a in self.role_table.associations if a[0] in (n.auth_method, getattr(self.method, "access_id", ""))]
        if not mine:
            raise _Failed(f"role {n.role} is not associated with {n.auth_method}", assoc)
        claims = self.login_claims or {"namespace": [n.namespace], "service_account_name": [n.service_account],
                                       "config_name": [n.k8s_conf_name], "aud": [n.audience]}
        misses = [access.sub_claims_mismatch(access.parse_sub_claims(s) if s else {}, claims, cs)
                  for _, s, cs, _ in mine]
        if all(misses):
            raise _Failed(f"{misses[0]} (the token of {n.namespace}/{n.service_account})",
                          f"delete the association (akeyless delete-assoc --assoc-id {mine[0][3]}) and {assoc}")
        shown = next(s for (_, s, _, _), miss in zip(mine, misses) if not miss)
        return f"{n.role} <- {n.auth_method}, sub-claims {ak._claims_line(access.parse_sub_claims(shown)) if shown else 'none'}"

    def rule(self) -> str:
        from . import access
        n = self.n
        covering = [(p, c) for p, c, t in self.role_table.rules
                    if t == "item-rule" and access.path_matches(p, n.secret_path) and access.grants(c, "read")]
        if not covering:
            rules = "; ".join(f"{p} [{','.join(c)}]" for p, c, _ in self.role_table.rules) or "none"
            raise _Failed(f"no rule of {n.role} grants read on {n.secret_path} (rules: {rules})",
                          f"akeyless set-role-rule --role-name {n.role} --path '{n.secret_rule}' --capability read "
                          "--capability list (parameter secret_rule must cover secret_path)")
        if any("deny" in c for p, c, _ in self.role_table.rules if access.path_matches(p, n.secret_path)):
            raise _Failed(f"a deny rule of {n.role} covers {n.secret_path}", "remove the deny rule")
        return f"{covering[0][0]} [{', '.join(covering[0][1])}] covers {n.secret_path}"

    def login(self) -> str | tuple[str, str]:
        n = self.n
        failed = [c.name for c in self.report.checks if c.status == "FAIL"]
        if self.login_error or self.read_error:
            error = self.login_error or self.read_error
            # a refused read is the role's or the rule's doing; a refused login names its link
            suspects = {L_ROLE, L_RULE} if self.read_error else {_blame(error)}
            if failed and (suspects & set(failed) or suspects == {None}):
                return ("SKIP", f"failed as the FAIL above explains: {error}")
            raise _Failed(error, "read the gateway's message: it names the parameter to fix")
        claims = ", ".join(f"{k}={','.join(v)}" for k, v in sorted(self.login_claims.items())
                           if k in ("namespace", "service_account_name"))
        return f"logged in ({claims}) and read {n.secret_path} ({self.read_chars} chars)"

    def run(self) -> DoctorReport:
        self.step(L_GATEWAY, self.gateway)
        self.step(L_CLUSTER, self.cluster_link)
        self.step(L_METHOD, self.auth_method, needs=(L_GATEWAY,))
        if self.method is not None and self.cluster is not None:
            self.probe_login()
        self.step(L_CONFIG, self.gateway_config, needs=(L_GATEWAY,))
        self.step(L_HOST, self.host, needs=(L_CONFIG,))
        self.step(L_CA, self.ca, needs=(L_CONFIG,))
        self.step(L_REVIEWER, self.reviewer, needs=(L_CONFIG, L_CLUSTER))
        self.step(L_ISSUER, self.issuer, needs=(L_CONFIG, L_CLUSTER))
        self.step(L_ROLE, self.role, needs=(L_GATEWAY,))
        self.step(L_RULE, self.rule, needs=(L_ROLE,))
        self.step(L_LOGIN, self.login, needs=(L_METHOD, L_CLUSTER))
        return self.report


def run_akeyless_doctor(settings: Settings | None = None, names=None) -> DoctorReport:
    """Check the Akeyless side for the chapter's `names` (any object with the chapter's parameter names);
    read-only, never raises for a failed link."""
    if names is None:
        from .runbook import names_from
        names = names_from(object())
    return _AkeylessDoctor(settings or Settings.load(), names).run()
