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
            return
        try:
            outcome = body()
        except _Failed as failure:
            self.report.checks.append(Check(name, "FAIL", failure.detail, failure.fix))
            self.blocked_by = name
            return
        except LabError as exc:
            self.report.checks.append(Check(name, "FAIL", exc.message, exc.hint))
            self.blocked_by = name
            return
        if isinstance(outcome, tuple):  # (detail, warning)
            self.report.checks.append(Check(name, "WARN", outcome[0], outcome[1]))
        else:
            self.report.checks.append(Check(name, "PASS", outcome))

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
