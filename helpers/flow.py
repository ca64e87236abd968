"""The chapter's flow, one method per visible step: set up Kubernetes auth, then walk the token from the
pod to the Kubernetes Secret. A notebook cell calls one method and the result renders itself.

`Chapter` holds the notebook's parameters and the live connections. It talks to the cluster through
helpers.cluster and to Akeyless through helpers.akeyless_client only, so the same steps run against
the embedded lab or a real cluster and gateway. Every name and path comes from the parameters.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, fields
from typing import Any

from . import akeyless_client as ak
from . import cluster as k8s
from . import diagrams, eso, tokens
from .config import Settings
from .display import Note, Result, mask_secret
from .errors import AkeylessError, ConfigError, LabError


@dataclass(frozen=True)
class Parameters:
    """The notebook's parameters cell, validated once."""

    target: str = "lab"
    kube: str = "emulator"
    namespace: str = "akeyless-auth"
    service_account: str = "akeyless-auth-sa"
    audience: str = "akeyless"
    reviewer_namespace: str = "akeyless-gateway"
    reviewer_service_account: str = "akeyless-token-reviewer"
    auth_method: str = "/workshop/aks-eso-k8s"
    k8s_conf_name: str = "aks-eso-conf"
    role: str = "/workshop/eso-app-reader"
    secret_path: str = "/demo/app/db-password"
    secret_rule: str = "/demo/app/*"
    other_secret_path: str = "/demo/other/api-token"
    k8s_secret: str = "app-db-secret"
    api_key_auth_method: str = "/workshop/ci-api-key"
    other_team_auth_method: str = "/workshop/other-team"
    other_namespace: str = "other-team"
    eso_namespace: str = "external-secrets"
    akeyless_url: str = ""
    secret_value: str = ""               # "" = random on every run
    kubeconfig: str = ""
    context: str = ""
    reveal: bool = False

    def validate(self) -> None:
        if not self.secret_path.startswith("/") or not self.secret_rule.startswith("/"):
            raise ConfigError("secret_path and secret_rule are Akeyless paths and start with '/'",
                              hint="e.g. secret_path='/demo/app/db-password', secret_rule='/demo/app/*'")
        from . import access
        if not access.path_matches(self.secret_rule, self.secret_path):
            raise ConfigError(f"secret_rule {self.secret_rule!r} does not cover secret_path {self.secret_path!r}",
                              hint="the happy path needs the role's rule to include the secret")
        if access.path_matches(self.secret_rule, self.other_secret_path):
            raise ConfigError(f"other_secret_path {self.other_secret_path!r} is inside {self.secret_rule!r}",
                              hint="the least-privilege demo needs a path the rule does not cover")
        if self.namespace == self.other_namespace:
            raise ConfigError("other_namespace must differ from namespace",
                              hint="it plays a workload the auth method is not bound to")


@dataclass
class Outcome(Result):
    """One step of the flow: the diagram with its arrow lit, and what happened on that arrow."""

    diagram: Any
    parts: list                      # Results shown under the diagram
    text: str

    title = "step"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return all(getattr(p, "ok", True) for p in self.parts)

    def summary(self) -> str:
        return self.text

    def _ipython_display_(self):
        from .display import show_all
        show_all(self.diagram, *self.parts)


class Chapter:
    """Chapter 2, live: the connections, the objects created, and one method per visible step."""

    def __init__(self, params: Parameters):
        params.validate()
        self.p = params
        self.settings = Settings.load(target=params.target, kube=params.kube, kubeconfig=params.kubeconfig or None,
                                      context=params.context or None, akeyless_url=params.akeyless_url or None)
        self.lab = None
        if self.settings.is_lab:
            from . import lab   # the lab is a tool the notebook starts; the client side never needs it
            self.lab = lab.up(self.settings)
        self.cluster = k8s.connect(self.settings)
        self.akeyless = self._akeyless_session()
        self.ca = self.cluster.ca_certificate()
        self.state: dict[str, Any] = {}
        self.details: dict[str, Any] = {}          # step id -> what happened there, for the stepper

    # --- connections ---------------------------------------------------------------------------

    @classmethod
    def open(cls, **parameters) -> "Chapter":
        return cls(Parameters(**parameters))

    @classmethod
    def from_notebook(cls, namespace: dict) -> "Chapter":
        """The chapter for a notebook's parameters cell: every variable named like a Parameters field
        (papermill's injected values included) is taken; the rest of the notebook's names are ignored."""
        names = {f.name for f in fields(Parameters)}
        return cls(Parameters(**{k: v for k, v in namespace.items() if k in names}))

    def _akeyless_session(self) -> ak.AdminSession:
        s = self.settings
        if s.akeyless_url:
            if not (s.akeyless_access_id and s.akeyless_access_key):
                raise ConfigError("a real Akeyless gateway needs admin credentials",
                                  hint="export AKEYLESS_ACCESS_ID and AKEYLESS_ACCESS_KEY (an API key with admin rights)")
            return ak.connect(s.akeyless_url, s.akeyless_access_id, s.akeyless_access_key)
        if self.lab is None:
            from . import lab
            self.lab = lab.up(s.with_(target="lab"))
        return ak.connect_lab(self.lab)

    @property
    def gateway_url(self) -> str:
        return self.akeyless.url

    @property
    def gateway_ca(self) -> str | None:
        return self.akeyless.ca_cert

    def gateway_ca_pem(self) -> str | None:
        if not self.gateway_ca:
            return None
        from pathlib import Path
        return Path(self.gateway_ca).read_text()

    def now(self) -> float:
        """The time the cluster's token checks use: the lab's clock (which a chapter may move) or real time."""
        if self.lab is not None and self.settings.is_lab:
            from . import lab
            return time.time() + lab.clock_offset(self.settings)
        return time.time()

    def sa_user(self, namespace: str | None = None, name: str | None = None) -> str:
        return k8s.service_account_user(namespace or self.p.namespace, name or self.p.service_account)

    def need(self, key: str, step: str):
        if key not in self.state:
            raise LabError(f"this cell needs `{key}` from an earlier step", hint=f"run the cell `{step}` first")
        return self.state[key]

    def recreate(self, delete, create):
        """Akeyless objects are re-created on every run, so the notebook can run twice in a row."""
        try:
            delete()
        except AkeylessError as exc:
            if exc.status not in (404, None) and "not found" not in exc.message.lower():
                raise
        return create()

    def fresh_token(self, namespace: str | None = None, name: str | None = None) -> str:
        """A token as ESO mints it on each sync: 600 s, the auth method's audience."""
        return self.cluster.request_token(namespace or self.p.namespace, name or self.p.service_account,
                                          audiences=[self.p.audience],
                                          expiration_seconds=eso.ESO_TOKEN_SECONDS).raise_for_error().token

    def authenticate(self, token: str, conf_name: str | None = None) -> eso.AuthAnswer:
        """POST /auth with `token`, exactly as ESO sends it."""
        method = self.need("k8s_method", "create_auth_method")
        body = eso.auth_body(method.access_id, conf_name or self.p.k8s_conf_name, token)
        return eso.authenticate(self.gateway_url, body, self.gateway_ca_pem())

    # --- opening -------------------------------------------------------------------------------

    def target(self) -> Note:
        info = self.cluster.info()
        rows = [("target", self.p.target + (f" ({self.lab.kube_mode} Kubernetes API)" if self.lab else "")),
                ("Kubernetes API server", info.server), ("Kubernetes version", info.version),
                ("Akeyless gateway", self.gateway_url)]
        return Note(f"{self.p.target}: Kubernetes {info.version} and an Akeyless gateway, both reachable",
                    rows, title="target")

    def cluster_ca(self) -> Result:
        if self.ca is None:
            return Note("the kubeconfig names no CA for this API server", ok=False, title="cluster CA")
        return self.ca

    def diagram(self, step: str | int | None = None, *, name: str = diagrams.FLOW, chapter_step: int | None = None):
        """A chapter diagram with this run's names in its labels, optionally with a step lit."""
        p = self.p
        names = {"system:serviceaccount:akeyless-auth:akeyless-auth-sa": self.sa_user(),
                 "akeyless-auth-sa": p.service_account, "app-db-secret": p.k8s_secret,
                 "/demo/app/db-password": p.secret_path, "/demo/app/*": p.secret_rule}
        return diagrams.show(name, step, chapter_step=chapter_step).relabel(names)

    def diagram_with_mermaid_py(self):
        return diagrams.via_mermaid_py(self.diagram(), settings=self.settings)

    # --- why authentication matters --------------------------------------------------------------

    def seed_secret(self) -> Result:
        """The admin stores the secret the workload needs (random on every run; never displayed)."""
        value = self.p.secret_value or secrets.token_urlsafe(18)
        self.state["secret_value"] = value
        for path in (self.p.secret_path, self.p.other_secret_path):
            self.recreate(lambda p=path: ak.delete_item(self.akeyless, p),
                           lambda p=path: ak.create_secret(self.akeyless, p, value if p == self.p.secret_path
                                                           else secrets.token_urlsafe(18)))
        return Note(f"static secrets {self.p.secret_path} and {self.p.other_secret_path} stored in Akeyless",
                    [("value of " + self.p.secret_path, mask_secret(value, self.p.reveal))], title="Akeyless items")

    def outsider_attempt(self) -> Result:
        """Another team's identity authenticates fine, then is refused the secret: default deny."""
        method = self.recreate(lambda: ak.delete_auth_method(self.akeyless, self.p.other_team_auth_method),
                                lambda: ak.create_api_key_auth_method(self.akeyless, self.p.other_team_auth_method))
        token = ak.auth_with_api_key(self.gateway_url, method.access_id, method.access_key, ca_cert=self.gateway_ca)
        self.state["outsider_access_id"] = method.access_id
        try:
            ak.get_secret_value(token, self.p.secret_path)
        except AkeylessError as exc:
            return Note(f"{self.p.other_team_auth_method} is authenticated but refused {self.p.secret_path}",
                        [("authenticated as", self.p.other_team_auth_method), ("asked for", self.p.secret_path),
                         ("gateway answered", f"{exc.status}: {exc.message}")], title="refused", ok=True)
        return Note(f"{self.p.other_team_auth_method} READ {self.p.secret_path}: no rule should allow this",
                    ok=False, title="unexpected")

    def who_tried(self) -> Result:
        return ak.audit_log(self.akeyless, limit=5, access_id=self.need("outsider_access_id", "outsider_attempt"))

    # --- authentication methods ----------------------------------------------------------------

    def api_key_method(self) -> Result:
        """The API-key method, for real: create it, grant it the app's secrets, authenticate, read."""
        method = self.recreate(lambda: ak.delete_auth_method(self.akeyless, self.p.api_key_auth_method),
                                lambda: ak.create_api_key_auth_method(self.akeyless, self.p.api_key_auth_method))
        role = self.p.role + "-api-key"
        self.recreate(lambda: ak.delete_role(self.akeyless, role), lambda: ak.create_role(self.akeyless, role))
        ak.set_role_rule(self.akeyless, role, self.p.secret_rule, ["read", "list"])
        ak.associate_role(self.akeyless, role, self.p.api_key_auth_method)
        token = ak.auth_with_api_key(self.gateway_url, method.access_id, method.access_key, ca_cert=self.gateway_ca)
        value = ak.get_secret_value(token, self.p.secret_path)
        self.state["api_key"] = method
        return Note(f"API-key login works and reads {self.p.secret_path}; but the key is a long-lived secret",
                    [("auth method", self.p.api_key_auth_method), ("access id", method.access_id),
                     ("access key", mask_secret(method.access_key, self.p.reveal)),
                     ("read with it", mask_secret(value.value, self.p.reveal))], title="API key")

    def api_key_in_cluster(self) -> Result:
        """For ESO to use it, the key must sit in a Kubernetes Secret: anyone who may read Secrets there has it."""
        method = self.need("api_key", "api_key_method")
        ns = self.p.namespace
        self.cluster.ensure_namespace(ns)
        secret_name = "akeyless-api-key"
        self.cluster.write_secret(ns, secret_name, {"accessId": method.access_id, "accessKey": method.access_key})
        reader = "debug-shell"
        self.cluster.ensure_service_account(ns, reader)
        self.cluster.grant(ns, reader, verbs=["get", "list"], resources=["secrets"], name=f"{reader}-reads-secrets")
        token = self.cluster.request_token(ns, reader).raise_for_error().token
        stolen = self.cluster.as_identity(token).read_secret(ns, secret_name)
        ok = stolen.value("accessKey") == method.access_key
        return Note(f"{self.sa_user(ns, reader)} read the Akeyless access key from Secret {ns}/{secret_name}",
                    [("Secret", f"{ns}/{secret_name}"), ("read by", self.sa_user(ns, reader)),
                     ("key it got", mask_secret(stolen.value("accessKey"), self.p.reveal)),
                     ("same as the real key", ok)], title="static credential exposed", ok=ok)

    @staticmethod
    def auth_methods_table() -> Note:
        rows = [
            ("API key", "access_key", "a static access id + key", "CI/CD, scripts",
             "the key must be stored where the workload runs; leaks stay valid until rotated", "yes (above)"),
            ("Kubernetes", "k8s", "the pod's ServiceAccount JWT, checked by TokenReview",
             "workloads in any cluster (AKS, EKS, GKE, kind)", "no stored secret; short-lived tokens", "yes (this chapter)"),
            ("Azure AD", "azure_ad", "an Azure AD token (AKS workload identity or managed identity)",
             "AKS with workload identity", "no stored secret; needs Azure AD federation", "no: needs Azure"),
            ("AWS IAM", "aws_iam", "a signed sts:GetCallerIdentity request", "EKS (IRSA), EC2, Lambda",
             "no stored secret; needs AWS", "no: needs AWS"),
            ("GCP", "gcp", "a Google-signed identity token", "GKE workload identity, GCE",
             "no stored secret; needs GCP", "no: needs GCP"),
        ]
        return Note("Akeyless authentication methods a cluster can use; on AKS, workload identity maps to azure_ad",
                    rows, ("method", "access-type", "proves identity with", "typical for", "trade-off",
                           "runnable offline"), title="authentication methods")

    # --- Kubernetes auth overview ----------------------------------------------------------------

    def request_token(self) -> Result:
        ns, sa = self.p.namespace, self.p.service_account
        self.cluster.ensure_namespace(ns)
        self.cluster.ensure_service_account(ns, sa)
        result = self.cluster.request_token(ns, sa, audiences=[self.p.audience],
                                            expiration_seconds=eso.ESO_TOKEN_SECONDS)
        if result.ok:
            self.state["token"] = result.token
        return result

    def explain_token(self) -> Result:
        return tokens.decode(self.need("token", "request_token"))

    def expiry(self) -> Note:
        decoded = tokens.decode(self.need("token", "request_token"))
        left = decoded.seconds_to_expiry(self.now())
        return Note(f"valid for {decoded.lifetime_seconds} s in all; {max(0, int(left))} s left now",
                    [("lifetime (exp - iat)", f"{decoded.lifetime_seconds} s"),
                     ("seconds left", int(left)), ("after that", "TokenReview answers: service account token has expired")],
                    title="expiry")

    # --- setting up the auth method --------------------------------------------------------------

    def create_auth_method(self) -> Result:
        method = self.recreate(
            lambda: ak.delete_auth_method(self.akeyless, self.p.auth_method),
            lambda: ak.create_k8s_auth_method(self.akeyless, self.p.auth_method, bound_namespaces=[self.p.namespace],
                                              bound_sa_names=[self.p.service_account], audience=self.p.audience,
                                              reveal=self.p.reveal))
        self.state["k8s_method"] = method
        return method

    def create_reviewer(self) -> Note:
        ns, sa = self.p.reviewer_namespace, self.p.reviewer_service_account
        self.cluster.ensure_namespace(ns)
        self.cluster.ensure_service_account(ns, sa)
        binding = self.cluster.bind_token_reviewer(ns, sa)
        check = self.cluster.can_i("create", "tokenreviews", "authentication.k8s.io", user=self.sa_user(ns, sa))
        token = self.cluster.request_token(ns, sa, expiration_seconds=24 * 3600).raise_for_error()
        self.state["reviewer_jwt"] = token.token
        return Note(f"{self.sa_user(ns, sa)} bound to system:auth-delegator: {check.summary()}",
                    [("ServiceAccount", f"{ns}/{sa}"), ("ClusterRoleBinding", binding.name),
                     ("may create tokenreviews", check.allowed),
                     ("reviewer JWT (24 h)", tokens.redact(token.token))], title="token reviewer", ok=check.allowed)

    def create_gateway_config(self) -> Result:
        method = self.need("k8s_method", "create_auth_method")
        reviewer = self.need("reviewer_jwt", "create_reviewer")
        config = self.recreate(
            lambda: ak.delete_gateway_k8s_config(self.akeyless, self.p.k8s_conf_name),
            lambda: ak.create_gateway_k8s_config(self.akeyless, self.p.k8s_conf_name, access_id=method.access_id,
                                                 signing_key=method.prv_key, k8s_host=self.cluster.server,
                                                 k8s_ca_cert=self.ca.b64 if self.ca else None,
                                                 token_reviewer_jwt=reviewer))
        return config

    def gateway_config_fields(self) -> Note:
        method = self.need("k8s_method", "create_auth_method")
        rows = [
            ("name", self.p.k8s_conf_name, "what ESO's SecretStore calls k8sConfName"),
            ("access-id", method.access_id, "the Kubernetes auth method this config serves"),
            ("signing-key", mask_secret(method.prv_key), "the auth method's private key, proving the config was made by its owner"),
            ("k8s-host", self.cluster.server, "where the gateway sends TokenReview: must be reachable from the gateway"),
            ("k8s-ca-cert", f"base64 PEM, SHA-256 {self.ca.sha256[:23]}..." if self.ca else "(none)",
             "the cluster CA: the gateway verifies the API server's TLS certificate with it"),
            ("token-reviewer-jwt", tokens.redact(self.need("reviewer_jwt", "create_reviewer")),
             "the identity the gateway uses to call TokenReview (needs system:auth-delegator)"),
        ]
        return Note("each field of the gateway's Kubernetes auth config", rows, ("field", "value", "why"),
                    title="gateway config")

    # --- access roles ------------------------------------------------------------------------------

    def create_role(self) -> Result:
        role = self.p.role
        self.recreate(lambda: ak.delete_role(self.akeyless, role), lambda: ak.create_role(self.akeyless, role))
        ak.associate_role(self.akeyless, role, self.p.auth_method,
                          sub_claims={"namespace": [self.p.namespace],
                                      "service_account_name": [self.p.service_account]})
        ak.set_role_rule(self.akeyless, role, self.p.secret_rule, ["read", "list"])
        return ak.get_role(self.akeyless, role)

    def explain_access(self, path: str | None = None, namespace: str | None = None,
                       service_account: str | None = None) -> Result:
        claims = {"namespace": [namespace or self.p.namespace],
                  "service_account_name": [service_account or self.p.service_account]}
        method = self.need("k8s_method", "create_auth_method")
        return ak.explain_access(self.akeyless, self.p.auth_method, path or self.p.secret_path, "read",
                                 sub_claims=claims, access_id=method.access_id)

    # --- the six steps -----------------------------------------------------------------------------

    def _outcome(self, step_id: str, text: str, *parts) -> Outcome:
        for part in parts:
            self.details[step_id] = part
        return Outcome(self.diagram(step_id), list(parts), text)

    def step1_pod_token(self) -> Outcome:
        """Kubernetes issues the ServiceAccount a short-lived, audience-bound JWT."""
        token = self.request_token()
        self.state["flow_token"] = token.token if token.ok else None
        return self._outcome("jwt-mounted", "1. the ServiceAccount's JWT", token)

    def step2_eso_reads(self) -> Outcome:
        token = self.need("flow_token", "step1_pod_token")
        store = self.secret_store()
        decoded = tokens.decode(token)
        note = Note("ESO takes the JWT for serviceAccountRef and base64-encodes it for Akeyless",
                    [("serviceAccountRef", f"{self.p.namespace}/{self.p.service_account}"),
                     ("audiences", ", ".join(decoded.audiences)), ("subject", decoded.subject),
                     ("k8s-service-account-token", f"base64({tokens.redact(token)})")], title="ESO")
        self.state["store"] = store
        return self._outcome("jwt-mounted", "2. ESO reads the token", note)

    def step3_send_to_akeyless(self) -> Outcome:
        answer = self.authenticate(self.need("flow_token", "step1_pod_token"))
        self.state["auth_answer"] = answer
        return self._outcome("auth-request", "3. POST /auth as ESO sends it", answer)

    def step4_token_review(self) -> Outcome:
        answer = self.need("auth_answer", "step3_send_to_akeyless")
        if self.lab is not None and not self.settings.akeyless_url:
            reviews = ak.token_reviews(self.akeyless, limit=1, config_name=self.p.k8s_conf_name)
            exchange = TokenReviewExchange.from_lab(reviews.entries[-1]) if reviews.entries else None
        else:   # a real gateway does not show its TokenReviews: replay the same review with the reviewer's JWT
            review = self.cluster.review_token(self.need("flow_token", "step1_pod_token"), [self.p.audience],
                                               as_token=self.state.get("reviewer_jwt"))
            exchange = TokenReviewExchange.from_replay(review, self.cluster.server)
        self.details["token-review"] = exchange
        self.details["review-result"] = answer
        return Outcome(self.diagram(chapter_step=4), [exchange], "4. TokenReview")

    def step5_access_check(self) -> Outcome:
        answer = self.need("auth_answer", "step3_send_to_akeyless")
        method = self.need("k8s_method", "create_auth_method")
        decision = ak.explain_access(self.akeyless, self.p.auth_method, self.p.secret_path, "read",
                                     sub_claims=answer.sub_claims, access_id=method.access_id)
        self.details["role-check"] = decision
        self.details["read-secret"] = decision
        return Outcome(self.diagram(chapter_step=5), [decision], "5. access check")

    def step6_secret_to_kubernetes(self) -> Outcome:
        store = self.need("store", "step2_eso_reads")
        sync = eso.sync(self.cluster, self.external_secret(), store, self.gateway_ca_pem())
        secret = self.cluster.read_secret(self.p.namespace, self.p.k8s_secret, reveal=self.p.reveal) if sync.ok else sync
        self.details["secret-returned"] = sync
        self.details["k8s-secret-written"] = secret
        self.state["sync"] = sync
        return Outcome(self.diagram(chapter_step=6), [sync, secret], "6. secret synced")

    def step_through(self):
        from .display import Stepper
        return Stepper(self.diagram(), self.details)

    # --- how ESO uses it ---------------------------------------------------------------------------

    def secret_store(self, cluster_scoped: bool = False) -> eso.Manifest:
        method = self.need("k8s_method", "create_auth_method")
        return eso.secret_store("akeyless-store" if not cluster_scoped else "akeyless-cluster-store",
                                None if cluster_scoped else self.p.namespace, self.gateway_url, method.access_id,
                                self.p.k8s_conf_name, self.p.service_account, audiences=[self.p.audience],
                                ca_bundle_pem=self.gateway_ca_pem(),
                                service_account_namespace=self.p.namespace)

    def external_secret(self, store: eso.Manifest | None = None) -> eso.Manifest:
        store = store or self.secret_store()
        return eso.external_secret(self.p.k8s_secret, self.p.namespace, store, self.p.k8s_secret,
                                   {"password": self.p.secret_path})

    def eso_sync(self) -> eso.SyncResult:
        return eso.sync(self.cluster, self.external_secret(), self.secret_store(), self.gateway_ca_pem())

    # --- cleanup -------------------------------------------------------------------------------------

    def cleanup(self) -> Note:
        """Remove what the chapter created. Namespaces stay: a control plane without a controller
        manager (the real kube-apiserver mode) never finishes deleting one."""
        p, removed = self.p, []

        def attempt(label: str, action) -> None:
            try:
                result = action()
            except (AkeylessError, LabError) as exc:
                if getattr(exc, "status", None) not in (404, None):
                    removed.append((label, f"left in place: {exc.message}"))
                return
            if getattr(result, "action", "deleted") != "absent":
                removed.append((label, "removed"))

        for name in (p.k8s_secret, "akeyless-api-key"):
            attempt(f"Secret {p.namespace}/{name}", lambda n=name: self.cluster.delete_secret(p.namespace, n))
        for ns, name in ((p.namespace, "debug-shell"), (p.namespace, p.service_account + "-other"),
                         (p.other_namespace, p.service_account)):
            attempt(f"ServiceAccount {ns}/{name}", lambda ns=ns, n=name: self.cluster.delete_service_account(ns, n))
        attempt("gateway config " + p.k8s_conf_name, lambda: ak.delete_gateway_k8s_config(self.akeyless, p.k8s_conf_name))
        for role in (p.role, p.role + "-api-key"):
            attempt("role " + role, lambda r=role: ak.delete_role(self.akeyless, r))
        for method in (p.auth_method, p.api_key_auth_method, p.other_team_auth_method):
            attempt("auth method " + method, lambda m=method: ak.delete_auth_method(self.akeyless, m))
        for path in (p.secret_path, p.other_secret_path):
            attempt("item " + path, lambda x=path: ak.delete_item(self.akeyless, x))
        if self.lab is not None and self.lab.kube_mode == "emulator":
            from . import lab
            if lab.clock_offset(self.settings):
                lab.reset_clock(self.settings)
                removed.append(("lab clock", "back to real time (the expiry demos had moved it forward)"))
        self.state.clear()
        return Note(f"removed {len([r for r in removed if r[1] == 'removed'])} objects; namespaces "
                    f"{p.namespace}, {p.reviewer_namespace} and the reviewer stay for the next run", removed,
                    title="cleanup")


@dataclass
class TokenReviewExchange(Result):
    """The TokenReview the gateway sent to the cluster, and the cluster's answer."""

    url: str
    request: dict
    response: dict
    source: str

    title = "TokenReview (gateway → API server)"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return bool((self.response.get("status") or {}).get("authenticated"))

    @classmethod
    def from_lab(cls, entry: dict) -> "TokenReviewExchange":
        return cls(entry.get("url", ""), entry.get("request") or {}, entry.get("response") or {},
                   "recorded by the lab gateway")

    @classmethod
    def from_replay(cls, review: k8s.ReviewResult, server: str) -> "TokenReviewExchange":
        status = {"authenticated": review.authenticated, "user": {"username": review.username, "uid": review.uid,
                                                                  "groups": list(review.groups)},
                  "audiences": list(review.audiences)}
        if review.error:
            status["error"] = review.error
        return cls(f"{server}/apis/authentication.k8s.io/v1/tokenreviews",
                   {"spec": {"token": "<the JWT>", "audiences": list(review.requested_audiences or [])}},
                   {"status": status}, "replayed with the reviewer's JWT")

    def summary(self) -> str:
        status = self.response.get("status") or {}
        if status.get("authenticated"):
            return f"authenticated: {status.get('user', {}).get('username')}, audiences {status.get('audiences')}"
        return f"not authenticated: {status.get('error') or self.response.get('message', 'no answer')}"

    def rows(self):
        import json
        return [("POST", self.url), ("request", json.dumps(self.request)), ("response", json.dumps(self.response)),
                ("source", self.source)]
