"""Chapter 2, live: set up Kubernetes auth between a cluster (ESO) and Akeyless, then follow the token
from the pod to the Kubernetes Secret, one cell per arrow of the flow diagram.

The chapter API other modules build on (failures.py, security.py, the ESO and command helpers):

- `KubernetesAuth.from_notebook(globals())` validates the parameters (ParameterError names the one that is
  wrong) and opens the session; `chapter.p` is the frozen Parameters, `chapter.session` the live target
  (`cluster`, `akeyless`, `settings`, `clock`, `gateway_url`, `gateway_ca_pem()`; the first three are also
  properties of the chapter).
- Configuration the cells create, read back typed and checked against the live target:
  `auth_method()` (the Kubernetes auth method, with its private key), `reviewer_jwt()`, `secret_store()`,
  `external_secret()`. A missing one raises errors.NotReady naming its cell; `require(*needs)` checks several
  at once ("secret", "auth_method", "gateway_config", "role") and names all that is missing.
- ESO's moves: `fresh_token()` (600 s, the audience), `authenticate(token)` (POST /auth as ESO sends it),
  `sync(write=...)`.
- `STEPS`: the eight numbered arrows of diagrams/kubernetes-auth-flow.mmd, in order; step N's cell is
  `chapter.step(N)` (or its named method), and what it produced is `chapter.details[step.id]`, which the
  step-through shows. One numbering everywhere: cell "Step N" = arrow N = step-through stop N.
- `on_step(callback)`: `callback(step, chapter)` runs after step N and returns extra results to show under
  it (e.g. the kubectl commands of that step); it must not raise for an expected failure.
- `token_source`: None (the flow mints the token with TokenRequest, as ESO's serviceAccountRef does) or a
  callable `(chapter) -> str` giving the JWT step 1 starts from (e.g. the one mounted in a real Pod).
- `syncer`: None (helpers.eso reconciles the ExternalSecret itself) or a callable
  `(chapter, write: bool) -> eso.SyncResult` (e.g. a real ESO controller's sync); steps 6-8, section 7 and
  the demos that sync all go through `chapter.sync()`.
"""
from __future__ import annotations

import functools
import json
import re
import secrets
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Iterator

from .. import akeyless_client as ak
from .. import commands, diagrams, eso, eso_controller, tokens, workload
from ..access import path_matches
from ..cluster import ReviewResult
from ..display import Annotated, Note, Result, mask_secret
from ..errors import AkeylessError, LabError, NotReady, ParameterError
from ..session import Session, TargetParameters
from ..workload import WorkloadPod

# --- parameters -------------------------------------------------------------------------------------

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_AKEYLESS_PATH = re.compile(r"^(/[A-Za-z0-9_.@-]+)+$")
_AKEYLESS_RULE = re.compile(r"^(/[A-Za-z0-9_.@*+-]+)+$")
_CONF_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _dns_suggestion(value: str, limit: int) -> str:
    text = re.sub(r"[^a-z0-9-]+", "-", str(value).lower())
    return re.sub(r"-{2,}", "-", text).strip("-")[:limit].strip("-") or "akeyless-auth"


def _path_suggestion(value: str, wildcard: bool = False) -> str:
    allowed = r"[^A-Za-z0-9_.@*+/-]+" if wildcard else r"[^A-Za-z0-9_.@/-]+"
    text = "/" + re.sub(allowed, "-", str(value).strip()).strip("/")
    return re.sub(r"/{2,}", "/", text)


@dataclass(frozen=True)
class Parameters(TargetParameters):
    """The notebook's parameters cell: the target's parameters and every name chapter 2 uses."""

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
    secret_value: str = ""               # "" = random on every run

    def problems(self) -> Iterator[ParameterError]:
        yield from super().problems()
        for name in ("namespace", "reviewer_namespace", "other_namespace", "eso_namespace"):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) > 63 or not _DNS_LABEL.match(value):
                yield ParameterError(name, value, "not a namespace name (a DNS-1123 label: lower-case letters, "
                                     "digits and '-', at most 63, a letter or digit at each end)",
                                     _dns_suggestion(value, 63))
        for name, kind in (("service_account", "a ServiceAccount"), ("reviewer_service_account", "a ServiceAccount"),
                           ("k8s_secret", "a Secret")):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
                yield ParameterError(name, value, f"not {kind} name (a DNS-1123 subdomain: lower-case letters, "
                                     "digits, '-' and '.', a letter or digit at each end)",
                                     _dns_suggestion(value, 253))
        for name in ("auth_method", "role", "secret_path", "other_secret_path", "api_key_auth_method",
                     "other_team_auth_method"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _AKEYLESS_PATH.match(value):
                yield ParameterError(name, value, "an Akeyless name is a path: '/' then segments of letters, "
                                     "digits, '_', '-', '.', '@', with no empty segment or trailing '/'",
                                     _path_suggestion(value))
        if not isinstance(self.secret_rule, str) or not _AKEYLESS_RULE.match(self.secret_rule):
            folder = (str(self.secret_path).rsplit("/", 1)[0] + "/*" if _AKEYLESS_PATH.match(str(self.secret_path))
                      else _path_suggestion(self.secret_rule, wildcard=True))
            yield ParameterError("secret_rule", self.secret_rule, "a rule is an Akeyless path that may end in "
                                 "'*' (e.g. /demo/app/*)", folder)
        elif _AKEYLESS_PATH.match(str(self.secret_path)):
            folder = self.secret_path.rsplit("/", 1)[0] + "/*"
            if not path_matches(self.secret_rule, self.secret_path):
                yield ParameterError("secret_rule", self.secret_rule,
                                     f"it does not cover secret_path {self.secret_path!r}, so the role would "
                                     "grant nothing the chapter reads", folder)
            elif _AKEYLESS_PATH.match(str(self.other_secret_path)) and path_matches(self.secret_rule,
                                                                                     self.other_secret_path):
                yield ParameterError("other_secret_path", self.other_secret_path,
                                     f"it is inside secret_rule {self.secret_rule!r}; the least-privilege demo "
                                     "needs a path the rule does not cover", "/demo/other/api-token"
                                     if not path_matches(self.secret_rule, "/demo/other/api-token") else "")
        if not isinstance(self.audience, str) or not re.match(r"^[^\s,]+$", self.audience):
            yield ParameterError("audience", self.audience, "an audience is one non-empty word (no spaces or "
                                 "commas): the auth method and the token must name the same one", "akeyless")
        if not isinstance(self.k8s_conf_name, str) or not _CONF_NAME.match(self.k8s_conf_name):
            yield ParameterError("k8s_conf_name", self.k8s_conf_name, "a gateway config name is letters, digits, "
                                 "'_', '-' and '.' (no '/')", _dns_suggestion(self.k8s_conf_name, 63))
        if self.namespace == self.other_namespace:
            yield ParameterError("other_namespace", self.other_namespace, "it must differ from namespace: it "
                                 "plays a workload the auth method is not bound to", self.namespace + "-other")
        if not isinstance(self.secret_value, str):
            yield ParameterError("secret_value", self.secret_value, "it is a string ('' for a random value)", "")

    def target_parameters(self) -> TargetParameters:
        return TargetParameters(**{f.name: getattr(self, f.name) for f in fields(TargetParameters)})


# Which section of the notebook holds each cell a NotReady names.
SECTION_OF = {"seed_secret": 1, "outsider_attempt": 1, "api_key_method": 2, "request_token": 3,
              "create_auth_method": 4, "create_reviewer": 4, "create_gateway_config": 4, "create_role": 5,
              "eso_sync": 7}


def not_ready(message: str, method: str) -> NotReady:
    """The error for a cell that needs what chapter.<method>() creates: it names that cell and its section."""
    return NotReady(message, f"chapter.{method}()", SECTION_OF.get(method))


# --- the steps ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One numbered arrow of the flow diagram: its number, its edge id, and the cell that runs it."""

    number: int
    id: str
    title: str
    carries: str        # what travels on this arrow, for the step-through
    method: str


STEPS: tuple[Step, ...] = (
    Step(1, "jwt-mounted", "the pod's ServiceAccount token reaches ESO",
         "the ServiceAccount's JWT (audience-bound, expires); ESO requests it through serviceAccountRef",
         "step1_pod_token"),
    Step(2, "auth-request", "ESO sends the token to Akeyless",
         "POST /auth: access-type k8s, access-id, k8s-auth-config-name, k8s-service-account-token (the JWT)",
         "step2_auth_request"),
    Step(3, "token-review", "the gateway asks the API server: TokenReview",
         "TokenReview request: spec.token = the JWT, authenticated with the reviewer JWT, over TLS to the cluster CA",
         "step3_token_review"),
    Step(4, "review-result", "the API server answers: valid, and whose it is",
         "TokenReview status: authenticated, user.username system:serviceaccount:<ns>:<sa>, uid, audiences",
         "step4_review_result"),
    Step(5, "role-check", "the identity's sub-claims select the access role",
         "the identity's sub-claims (namespace, service account) matched against the role's association",
         "step5_role_check"),
    Step(6, "read-secret", "ESO reads the secret with the t- token",
         "describe-item and get-secret-value with the t- token: allowed only on the role's paths", "step6_read_secret"),
    Step(7, "secret-returned", "the secret value comes back to ESO", "the secret value (masked in outputs)",
         "step7_secret_returned"),
    Step(8, "k8s-secret-written", "ESO writes the Kubernetes Secret",
         "a Kubernetes Secret owned by the ExternalSecret, data base64-encoded", "step8_secret_written"),
)


def step_of(ref: int | str) -> Step:
    for s in STEPS:
        if ref in (s.number, s.id):
            return s
    raise ParameterError("step", ref, f"the flow has steps 1..{len(STEPS)}", 1)


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
        from ..display import show_all
        show_all(self.diagram, *self.parts)


@dataclass
class FlowRun:
    """What the flow's arrows produced in this session; a step re-run discards what came after it."""

    token: str | None = None
    answer: eso.AuthAnswer | None = None
    review: "TokenReviewExchange | None" = None
    decision: Result | None = None
    read: eso.SyncResult | None = None

    def keep_until(self, number: int) -> None:
        order = ("token", "answer", "review", "decision", "read")
        cut = {1: 0, 2: 1, 3: 2, 5: 3, 6: 4}.get(number)
        if cut is not None:
            for name in order[cut:]:
                setattr(self, name, None)


# --- the chapter ----------------------------------------------------------------------------------


def _login_commands(step: Step, chapter: "KubernetesAuth"):
    """Under step 2 (ESO's POST /auth), the same login and read with the akeyless CLI."""
    return commands.for_step(chapter.p, "authenticate") if step.number == 2 else None


def shows_commands(*steps: str):
    """The step's result comes with, folded under it, what a person types for the same step on a real cluster
    and Akeyless account (helpers.commands, from this run's parameters; secrets only as shell variables)."""
    def wrap(method):
        @functools.wraps(method)
        def shown(self, *args, **kwargs):
            return Annotated(method(self, *args, **kwargs), [commands.for_step(self.p, s) for s in steps])
        return shown
    return wrap


class KubernetesAuth:
    """Chapter 2's cells: one method per cell, each returning a result that renders itself."""

    def __init__(self, params: Parameters, session: Session | None = None):
        params.validate()
        self.p = params
        self.session = session or Session(params.target_parameters())
        self.details: dict[str, Any] = {}          # step id -> what happened there, for the step-through
        self.flow = FlowRun()
        self.token: str | None = None              # the token of section 3
        self._api_key: ak.AuthMethodCreated | None = None
        self._k8s_method: ak.AuthMethodCreated | None = None
        self._reviewer_jwt: str | None = None
        self._step_hooks: list[Callable] = [_login_commands]
        self.token_source: Callable[["KubernetesAuth"], str] | None = None
        self.syncer: Callable[..., eso.SyncResult] | None = None
        self.live_sync: eso_controller.LiveSync | None = None     # section 7's sync by the real controller

    @classmethod
    def open(cls, **parameters) -> "KubernetesAuth":
        return cls(Parameters(**parameters))

    @classmethod
    def from_notebook(cls, namespace: dict) -> "KubernetesAuth":
        """The chapter for a notebook's parameters cell: every variable named like a Parameters field
        (papermill's injected values included) is taken; the rest of the notebook's names are ignored."""
        return cls(Parameters.from_namespace(namespace))

    # --- the session, for the modules that take a chapter ------------------------------------------

    @property
    def cluster(self):
        return self.session.cluster

    @property
    def akeyless(self) -> ak.AdminSession:
        return self.session.akeyless

    @property
    def settings(self):
        return self.session.settings

    @property
    def gateway_url(self) -> str:
        return self.session.gateway_url

    def gateway_ca_pem(self) -> str | None:
        return self.session.gateway_ca_pem()

    def sa_user(self, namespace: str | None = None, name: str | None = None) -> str:
        return self.session.sa_user(namespace or self.p.namespace, name or self.p.service_account)

    def recreate(self, delete, create):
        return self.session.recreate(delete, create)

    def on_step(self, callback: Callable) -> None:
        """Call `callback(step, chapter)` after each flow step; what it returns is shown under the step."""
        self._step_hooks.append(callback)

    # --- typed state, checked against the live target ------------------------------------------------

    def _live(self, created: ak.AuthMethodCreated | None, name: str, what: str, method: str):
        """`created` (an auth method a cell made, with the secret only its creation shows) while Akeyless
        still has it."""
        if created is None:
            raise not_ready(f"this cell needs {what} {name}", method)
        try:
            live = ak.get_auth_method(self.akeyless, name).access_id
        except AkeylessError as exc:
            if exc.status != 404:
                raise
            live = None
        if live != created.access_id:
            raise not_ready(f"{what} {name} is gone (cleanup removes it)", method)
        return created

    def auth_method(self) -> ak.AuthMethodCreated:
        """The Kubernetes auth method section 4 created (its private key is only known from then)."""
        return self._live(self._k8s_method, self.p.auth_method, "the Kubernetes auth method", "create_auth_method")

    def access_id(self) -> str:
        """The auth method's access id, read from Akeyless (public: it goes in the SecretStore)."""
        try:
            return ak.get_auth_method(self.akeyless, self.p.auth_method).access_id
        except AkeylessError as exc:
            if exc.status == 404:
                raise not_ready(f"there is no auth method {self.p.auth_method} in Akeyless",
                                "create_auth_method") from None
            raise

    def reviewer_jwt(self) -> str:
        """A JWT of the token reviewer: the one section 4 minted, or a fresh one while the reviewer exists."""
        if self._reviewer_jwt is None:
            ns, sa = self.p.reviewer_namespace, self.p.reviewer_service_account
            minted = self.cluster.request_token(ns, sa, expiration_seconds=24 * 3600)
            if not minted.ok:
                raise not_ready(f"the token reviewer {ns}/{sa} does not exist", "create_reviewer")
            self._reviewer_jwt = minted.token
        return self._reviewer_jwt

    def section_token(self) -> str:
        """The token of section 3: the one request_token() minted, or a fresh one."""
        if self.token is None or tokens.decode(self.token).seconds_to_expiry(self.session.now()) <= 0:
            self.token = self.fresh_token(ensure=True)
        return self.token

    # --- ESO's moves -----------------------------------------------------------------------------------

    def fresh_token(self, namespace: str | None = None, name: str | None = None, *, ensure: bool = False) -> str:
        """A token as ESO mints it on each sync: 600 s, the auth method's audience."""
        ns, sa = namespace or self.p.namespace, name or self.p.service_account
        if ensure:
            self.cluster.ensure_namespace(ns)
            self.cluster.ensure_service_account(ns, sa)
        return self.cluster.request_token(ns, sa, audiences=[self.p.audience],
                                          expiration_seconds=eso.ESO_TOKEN_SECONDS).raise_for_error().token

    def authenticate(self, token: str, conf_name: str | None = None) -> eso.AuthAnswer:
        """POST /auth with `token`, exactly as ESO sends it."""
        self.require("auth_method", "gateway_config")
        body = eso.auth_body(self.access_id(), conf_name or self.p.k8s_conf_name, token)
        return eso.authenticate(self.gateway_url, body, self.gateway_ca_pem())

    def sync(self, *, write: bool = True) -> eso.SyncResult:
        """One reconcile of the ExternalSecret, as ESO runs it."""
        self.require("secret", "auth_method", "gateway_config", "role")
        if self.syncer is not None:
            return self.syncer(self, write=write)
        return eso.sync(self.cluster, self.external_secret(), self.secret_store(), self.gateway_ca_pem(), write=write)

    def require(self, *needs: str) -> None:
        """Raise one NotReady naming every piece of configuration missing now (cleanup removes them all),
        and the first cell to run. needs: "secret", "auth_method", "gateway_config", "role"."""
        p, admin = self.p, self.akeyless
        pieces = {
            "secret": ("the secret", "seed_secret", lambda: ak.get_secret_value(admin, p.secret_path)),
            "auth_method": ("the auth method", "create_auth_method", lambda: ak.get_auth_method(admin, p.auth_method)),
            "gateway_config": ("the gateway config", "create_gateway_config",
                               lambda: ak.get_gateway_k8s_config(admin, p.k8s_conf_name)),
            "role": ("the role", "create_role", lambda: ak.get_role(admin, p.role)),
        }
        missing = [pieces[n] for n in pieces if n in needs and not self.session.exists(pieces[n][2])]
        if missing:
            names = [m[0] for m in missing]
            what = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            first = missing[0][1]
            raise NotReady(f"this cell needs {what}, which Akeyless does not have now (cleanup removes them)",
                           f"chapter.{first}()", SECTION_OF.get(first),
                           then="the cells after it (or Run > Run All Above Selected Cell)" if len(names) > 1 else "")

    # --- opening ---------------------------------------------------------------------------------------

    def target(self) -> Note:
        return self.session.describe()

    @shows_commands("cluster_ca")
    def cluster_ca(self) -> Result:
        return self.session.cluster_ca()

    def diagram(self, step: str | int | None = None, *, name: str = diagrams.FLOW):
        """A chapter diagram with this run's names in its labels, optionally with a step lit."""
        p = self.p
        names = {"system:serviceaccount:akeyless-auth:akeyless-auth-sa": self.sa_user(),
                 "akeyless-auth-sa": p.service_account, "app-db-secret": p.k8s_secret,
                 "/demo/app/db-password": p.secret_path, "/demo/app/*": p.secret_rule}
        return diagrams.show(name, step).relabel(names)

    def diagram_with_mermaid_py(self):
        return diagrams.via_mermaid_py(self.diagram(), settings=self.settings)

    # --- 1. why authentication matters ----------------------------------------------------------------

    @shows_commands("seed_secret")
    def seed_secret(self) -> Result:
        """The admin stores the secret the workload needs (random on every run; never displayed)."""
        value = self.p.secret_value or secrets.token_urlsafe(18)
        for path in (self.p.secret_path, self.p.other_secret_path):
            self.recreate(lambda p=path: ak.delete_item(self.akeyless, p),
                          lambda p=path: ak.create_secret(self.akeyless, p, value if p == self.p.secret_path
                                                          else secrets.token_urlsafe(18)))
        return Note(f"static secrets {self.p.secret_path} and {self.p.other_secret_path} stored in Akeyless",
                    [("value of " + self.p.secret_path, mask_secret(value, self.p.reveal))], ("item", "value"),
                    title="Akeyless items")

    def outsider_attempt(self) -> Result:
        """Another team's identity authenticates fine, then is refused the secret: default deny."""
        self.require("secret")
        method = self.recreate(lambda: ak.delete_auth_method(self.akeyless, self.p.other_team_auth_method),
                               lambda: ak.create_api_key_auth_method(self.akeyless, self.p.other_team_auth_method))
        token = ak.auth_with_api_key(self.gateway_url, method.access_id, method.access_key,
                                     ca_cert=self.session.gateway_ca)
        try:
            ak.get_secret_value(token, self.p.secret_path)
        except AkeylessError as exc:
            return Note(f"{self.p.other_team_auth_method} is authenticated but refused {self.p.secret_path}",
                        [("authenticated as", self.p.other_team_auth_method), ("asked for", self.p.secret_path),
                         ("gateway answered", f"{exc.status}: {exc.message}")], title="refused", ok=True)
        return Note(f"{self.p.other_team_auth_method} READ {self.p.secret_path}: no rule should allow this",
                    ok=False, title="unexpected")

    def who_tried(self) -> Result:
        try:
            method = ak.get_auth_method(self.akeyless, self.p.other_team_auth_method)
        except AkeylessError as exc:
            if exc.status == 404:
                raise not_ready(f"there is no auth method {self.p.other_team_auth_method} to audit",
                                "outsider_attempt") from None
            raise
        return audit_table(self.session.audit(limit=5, access_id=method.access_id))

    # --- 2. authentication methods ----------------------------------------------------------------------

    def api_key_method(self) -> Result:
        """The API-key method, for real: create it, grant it the app's secrets, authenticate, read."""
        self.require("secret")
        method = self.recreate(lambda: ak.delete_auth_method(self.akeyless, self.p.api_key_auth_method),
                               lambda: ak.create_api_key_auth_method(self.akeyless, self.p.api_key_auth_method))
        role = self.p.role + "-api-key"
        self.recreate(lambda: ak.delete_role(self.akeyless, role), lambda: ak.create_role(self.akeyless, role))
        ak.set_role_rule(self.akeyless, role, self.p.secret_rule, ["read", "list"])
        ak.associate_role(self.akeyless, role, self.p.api_key_auth_method)
        token = ak.auth_with_api_key(self.gateway_url, method.access_id, method.access_key,
                                     ca_cert=self.session.gateway_ca)
        value = ak.get_secret_value(token, self.p.secret_path)
        self._api_key = method
        return Note(f"API-key login works and reads {self.p.secret_path}; but the key is a long-lived secret",
                    [("auth method", self.p.api_key_auth_method), ("access id", method.access_id),
                     ("access key", mask_secret(method.access_key, self.p.reveal)),
                     ("read with it", mask_secret(value.value, self.p.reveal))], title="API key")

    def api_key(self) -> ak.AuthMethodCreated:
        """The API key api_key_method() created, while it still exists."""
        return self._live(self._api_key, self.p.api_key_auth_method, "the API key of", "api_key_method")

    def api_key_in_cluster(self) -> Result:
        """For ESO to use it, the key must sit in a Kubernetes Secret: anyone who may read Secrets there has it."""
        method = self.api_key()
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
             "workloads in any cluster (AKS, EKS, GKE, kind)", "no stored secret; short-lived tokens",
             "yes (this chapter)"),
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

    # --- 3. the ServiceAccount token ----------------------------------------------------------------------

    @shows_commands("request_token")
    def request_token(self) -> Result:
        ns, sa = self.p.namespace, self.p.service_account
        self.cluster.ensure_namespace(ns)
        self.cluster.ensure_service_account(ns, sa)
        result = self.cluster.request_token(ns, sa, audiences=[self.p.audience],
                                            expiration_seconds=eso.ESO_TOKEN_SECONDS)
        if result.ok:
            self.token = result.token
        return result

    def explain_token(self) -> Result:
        return tokens.decode(self.section_token())

    def expiry(self) -> Note:
        decoded = tokens.decode(self.section_token())
        left = decoded.seconds_to_expiry(self.session.now())
        return Note(f"valid for {decoded.lifetime_seconds} s in all; {max(0, int(left))} s left now",
                    [("lifetime (exp - iat)", f"{decoded.lifetime_seconds} s"), ("seconds left", int(left)),
                     ("after that", "TokenReview answers: service account token has expired")],
                    title="expiry")

    # --- 4. setting up the auth method --------------------------------------------------------------------

    @shows_commands("create_auth_method")
    def create_auth_method(self) -> Result:
        method = self.recreate(
            lambda: ak.delete_auth_method(self.akeyless, self.p.auth_method),
            lambda: ak.create_k8s_auth_method(self.akeyless, self.p.auth_method, bound_namespaces=[self.p.namespace],
                                              bound_sa_names=[self.p.service_account], audience=self.p.audience,
                                              reveal=self.p.reveal))
        self._k8s_method = method
        return method

    @shows_commands("create_reviewer")
    def create_reviewer(self) -> Note:
        ns, sa = self.p.reviewer_namespace, self.p.reviewer_service_account
        self.cluster.ensure_namespace(ns)
        self.cluster.ensure_service_account(ns, sa)
        binding = self.cluster.bind_token_reviewer(ns, sa)
        check = self.cluster.can_i("create", "tokenreviews", "authentication.k8s.io", user=self.sa_user(ns, sa))
        token = self.cluster.request_token(ns, sa, expiration_seconds=24 * 3600).raise_for_error()
        self._reviewer_jwt = token.token
        return Note(f"{self.sa_user(ns, sa)} bound to system:auth-delegator: {check.summary()}",
                    [("ServiceAccount", f"{ns}/{sa}"), ("ClusterRoleBinding", binding.name),
                     ("may create tokenreviews", check.allowed),
                     ("reviewer JWT (24 h)", tokens.redact(token.token))], title="token reviewer",
                    ok=check.allowed)

    @shows_commands("create_gateway_config", "gateway_install")
    def create_gateway_config(self) -> Result:
        method = self.auth_method()
        reviewer = self.reviewer_jwt()
        ca = self.session.ca
        # The issuer the cluster's tokens carry, validated by the gateway as the printed command asks; a cluster
        # that hides its discovery document leaves the check to TokenReview alone.
        issuer = self.cluster.discovery().issuer
        return self.recreate(
            lambda: ak.delete_gateway_k8s_config(self.akeyless, self.p.k8s_conf_name),
            lambda: ak.create_gateway_k8s_config(self.akeyless, self.p.k8s_conf_name, access_id=method.access_id,
                                                 signing_key=method.prv_key, k8s_host=self.cluster.server,
                                                 k8s_ca_cert=ca.b64 if ca else None, token_reviewer_jwt=reviewer,
                                                 k8s_issuer=issuer, disable_issuer_validation=False if issuer else None))

    def gateway_config(self):
        """The gateway's Kubernetes auth config as the gateway has it now."""
        try:
            return ak.get_gateway_k8s_config(self.akeyless, self.p.k8s_conf_name)
        except AkeylessError as exc:
            if exc.status == 404:
                raise not_ready(f"there is no gateway config {self.p.k8s_conf_name}",
                                "create_gateway_config") from None
            raise

    def gateway_config_fields(self) -> Note:
        config = self.gateway_config()
        ca = self.session.ca
        rows = [
            ("name", config.name, "what ESO's SecretStore calls k8sConfName"),
            ("access-id", config.access_id, "the Kubernetes auth method this config serves"),
            ("signing-key", mask_secret("x" * 64) if not self.p.reveal else "(shown once, at creation)",
             "the auth method's private key, proving the config was made by its owner"),
            ("k8s-host", config.k8s_host, "where the gateway sends TokenReview: must be reachable from the gateway"),
            ("k8s-ca-cert", f"base64 PEM, SHA-256 {ca.sha256[:23]}..." if ca and config.ca_set else "(none)",
             "the cluster CA: the gateway verifies the API server's TLS certificate with it"),
            ("token-reviewer-jwt", config.reviewer,
             "the identity the gateway uses to call TokenReview (needs system:auth-delegator)"),
        ]
        return Note("each field of the gateway's Kubernetes auth config", rows, ("field", "value", "why"),
                    title="gateway config")

    # --- 5. access roles ----------------------------------------------------------------------------------

    @shows_commands("create_role")
    def create_role(self) -> Result:
        self.access_id()        # the association needs the auth method
        role = self.p.role
        self.recreate(lambda: ak.delete_role(self.akeyless, role), lambda: ak.create_role(self.akeyless, role))
        ak.associate_role(self.akeyless, role, self.p.auth_method,
                          sub_claims={"namespace": [self.p.namespace],
                                      "service_account_name": [self.p.service_account]})
        ak.set_role_rule(self.akeyless, role, self.p.secret_rule, ["read", "list"])
        return ak.get_role(self.akeyless, role)

    def explain_access(self, path: str | None = None, namespace: str | None = None,
                       service_account: str | None = None, sub_claims: dict | None = None) -> Result:
        claims = sub_claims or {"namespace": [namespace or self.p.namespace],
                                "service_account_name": [service_account or self.p.service_account]}
        return ak.explain_access(self.akeyless, self.p.auth_method, path or self.p.secret_path, "read",
                                 sub_claims=claims, access_id=self.access_id())

    # --- 6. the flow, one cell per arrow -------------------------------------------------------------------

    def step(self, ref: int | str) -> Outcome:
        """Run step N (1..8, or its arrow id) of the flow."""
        return getattr(self, step_of(ref).method)()

    def _outcome(self, number: int, *parts) -> Outcome:
        s = step_of(number)
        shown = list(parts)
        for hook in self._step_hooks:
            extra = hook(s, self)
            if extra is not None:
                shown += list(extra) if isinstance(extra, (list, tuple)) else [extra]
        self.details[s.id] = parts[-1] if len(parts) == 1 else _Parts(parts)
        return Outcome(self.diagram(s.id), shown, f"{s.number}. {s.title}")

    def _flow_token(self) -> str:
        if self.flow.token is None:
            self.flow.token = self.token_source(self) if self.token_source else self.fresh_token(ensure=True)
        return self.flow.token

    def _flow_answer(self) -> eso.AuthAnswer:
        if self.flow.answer is None:
            self.flow.answer = self.authenticate(self._flow_token())
        return self.flow.answer

    def _flow_review(self) -> "TokenReviewExchange":
        if self.flow.review is None:
            answer = self._flow_answer()
            if self.session.lab_gateway:
                reviews = self.session.token_reviews(limit=1, config_name=self.p.k8s_conf_name)
                self.flow.review = (TokenReviewExchange.from_lab(reviews.entries[-1]) if reviews.entries
                                    else TokenReviewExchange.missing(answer))
            else:   # a real gateway does not show its TokenReviews: replay the same review with the reviewer's JWT
                review = self.cluster.review_token(self._flow_token(), [self.p.audience], as_token=self.reviewer_jwt())
                self.flow.review = TokenReviewExchange.from_replay(review, self.cluster.server)
        return self.flow.review

    def _flow_read(self) -> eso.SyncResult:
        if self.flow.read is None:
            self.flow.read = self.sync(write=False)
        return self.flow.read

    def workload_pod(self) -> WorkloadPod:
        """The workload as a Pod (it stays Pending: nothing schedules it here) and the token a kubelet
        requests for it: bound to the Pod, so Akeyless also sees its `pod_name`."""
        self.cluster.ensure_namespace(self.p.namespace)
        self.cluster.ensure_service_account(self.p.namespace, self.p.service_account)
        return workload.run_pod(self.cluster, self.p.namespace, self.p.service_account, audience=self.p.audience,
                                expiration_seconds=eso.ESO_TOKEN_SECONDS)

    def step1_pod_token(self) -> Outcome:
        """The Pod's ServiceAccount gets a short-lived, audience-bound JWT from the API server."""
        self.flow.keep_until(1)
        pod = self.workload_pod()
        if pod.ok and self.token_source is None:
            self.flow.token = pod.token.token
        token = self._flow_token()
        decoded = tokens.decode(token)
        said = ("the Pod's token, as the kubelet mounts it; ESO (serviceAccountRef) requests one like it for the "
                "ServiceAccount" if self.flow.token == (pod.token.token if pod.ok else None) else
                "ESO asks the API server for the ServiceAccount's token (serviceAccountRef)")
        note = Note(said + " and base64-encodes it for Akeyless",
                    [("serviceAccountRef", f"{self.p.namespace}/{self.p.service_account}"),
                     ("audiences", ", ".join(decoded.audiences)), ("subject", decoded.subject),
                     ("expires in", f"{decoded.lifetime_seconds} s"),
                     ("k8s-service-account-token", f"base64({tokens.redact(token)})")], title="ESO")
        return self._outcome(1, pod, note)

    def step2_auth_request(self) -> Outcome:
        self.flow.keep_until(2)
        answer = self._flow_answer()
        t_token = Note("the t- token: Akeyless' own short-lived session token for this identity. ESO sends it "
                       "(not the JWT) with every later call of this sync", title="t- token")
        return self._outcome(2, answer, t_token) if answer.ok else self._outcome(2, answer)

    def step3_token_review(self) -> Outcome:
        self.flow.keep_until(3)
        return self._outcome(3, self._flow_review().request_view())

    def step4_review_result(self) -> Outcome:
        return self._outcome(4, self._flow_review().response_view())

    def step5_role_check(self) -> Outcome:
        self.flow.keep_until(5)
        self.require("auth_method", "gateway_config", "role")
        answer = self._flow_answer()
        if not answer.ok:
            return self._outcome(5, answer)
        self.flow.decision = self.explain_access(sub_claims=answer.sub_claims)
        return self._outcome(5, self.flow.decision)

    def step6_read_secret(self) -> Outcome:
        self.flow.keep_until(6)
        read = self._flow_read()
        calls = [(f"POST /{c.command}", json.dumps(c.request)) for c in read.calls if c.command != "auth"]
        return self._outcome(6, Note(f"ESO asks for {self.p.secret_path} with the t- token"
                                     + ("" if read.ok else f": {read.message}"), calls, ("request", "body"),
                                     title="read", ok=read.ok))

    def step7_secret_returned(self) -> Outcome:
        read = self._flow_read()
        rows = [(f"/{c.command} -> {c.status}", json.dumps(c.response, ensure_ascii=False))
                for c in read.calls if c.command != "auth"]
        return self._outcome(7, Note(f"the gateway answered with the value of {self.p.secret_path} (masked)"
                                     if read.ok else read.message, rows, ("answer", "body"),
                                     title="secret returned", ok=read.ok))

    def step8_secret_written(self) -> Outcome:
        written = self.sync()
        secret = (self.cluster.read_secret(self.p.namespace, self.p.k8s_secret, reveal=self.p.reveal)
                  if written.ok else written)
        return self._outcome(8, written, secret)

    def step_through(self):
        from ..display import Stepper
        return Stepper(self.diagram(), self.details, notes={s.id: s.carries for s in STEPS})

    # --- 7. how ESO uses it -------------------------------------------------------------------------------

    def secret_store(self, cluster_scoped: bool = False) -> eso.Manifest:
        return eso.secret_store("akeyless-store" if not cluster_scoped else "akeyless-cluster-store",
                                None if cluster_scoped else self.p.namespace, self.gateway_url, self.access_id(),
                                self.p.k8s_conf_name, self.p.service_account, audiences=[self.p.audience],
                                ca_bundle_pem=self.gateway_ca_pem(), service_account_namespace=self.p.namespace)

    def external_secret(self, store: eso.Manifest | None = None) -> eso.Manifest:
        store = store or self.secret_store()
        return eso.external_secret(self.p.k8s_secret, self.p.namespace, store, self.p.k8s_secret,
                                   {"password": self.p.secret_path})

    @shows_commands("verify_sync")
    def eso_sync(self):
        """One sync: by the real ESO controller where one runs (it applies the two objects above and waits,
        bounded, for its verdicts), else by helpers.eso's replay of ESO's provider."""
        if not self.session.real_eso:
            return Annotated(self.sync(), [Note("this sync is helpers/eso.py's replay of ESO's Akeyless provider "
                                                "(the emulator runs no controller): `make real`, then "
                                                "kube = \"apiserver\", runs the real ESO", title="ESO")])
        lab = self.session.lab if self.session.settings.is_lab else None
        self.live_sync = eso_controller.sync_for_real(
            self.cluster, self.secret_store(), self.external_secret(), reveal=self.p.reveal,
            audit_log=lab.apiserver_audit_log if lab and lab.kube_mode == "apiserver" else None,
            akeyless=self.akeyless if self.session.lab_gateway else None, progress=None)
        return self.live_sync

    def eso_calls(self):
        """What the real ESO did on that sync, from the API server's and the gateway's audit logs."""
        if not self.session.real_eso:
            return Note("the calls ESO makes are traced from the servers' own logs on the real stack (`make real`, "
                        "then kube = \"apiserver\"); section 6 showed each of them on the emulator", title="ESO calls")
        if self.live_sync is None:
            raise not_ready("this cell reads the sync of the real controller", "eso_sync")
        if self.live_sync.trace is None:
            return Note("the audit logs of this target are not readable from here: on AKS, read kube-audit in the "
                        "cluster's diagnostic settings and the gateway's audit log", title="ESO calls")
        return self.live_sync.trace.diagram()

    # --- cleanup --------------------------------------------------------------------------------------------

    def cleanup(self) -> Note:
        """Remove what the chapter created and forget it, so every cell can run again. Namespaces stay: a
        control plane without a controller manager (the real kube-apiserver mode) never finishes deleting one."""
        p, removed = self.p, []

        def attempt(label: str, action) -> None:
            try:
                result = action()
            except LabError as exc:
                if getattr(exc, "status", None) not in (404, None):
                    removed.append((label, f"left in place: {exc.message}"))
                return
            if getattr(result, "action", "deleted") != "absent":
                removed.append((label, "removed"))

        if self.session.real_eso:
            for manifest in (self.external_secret(), self.secret_store()):
                attempt(f"{manifest.kind} {p.namespace}/{manifest.body['metadata']['name']}",
                        lambda m=manifest: eso_controller.delete(self.cluster, m))
        attempt(f"Pod {p.namespace}/{workload.POD_NAME}", lambda: self.cluster.delete_pod(p.namespace, workload.POD_NAME))
        for name in (p.k8s_secret, "akeyless-api-key"):
            attempt(f"Secret {p.namespace}/{name}", lambda n=name: self.cluster.delete_secret(p.namespace, n))
        for ns, name in ((p.namespace, "debug-shell"), (p.namespace, p.service_account + "-other"),
                         (p.other_namespace, p.service_account)):
            attempt(f"ServiceAccount {ns}/{name}", lambda ns=ns, n=name: self.cluster.delete_service_account(ns, n))
        attempt("gateway config " + p.k8s_conf_name,
                lambda: ak.delete_gateway_k8s_config(self.akeyless, p.k8s_conf_name))
        for role in (p.role, p.role + "-api-key"):
            attempt("role " + role, lambda r=role: ak.delete_role(self.akeyless, r))
        for method in (p.auth_method, p.api_key_auth_method, p.other_team_auth_method):
            attempt("auth method " + method, lambda m=method: ak.delete_auth_method(self.akeyless, m))
        for path in (p.secret_path, p.other_secret_path):
            attempt("item " + path, lambda x=path: ak.delete_item(self.akeyless, x))
        if self.session.movable_clock and self.session.clock.reset():
            removed.append(("lab clock", "back to real time"))
        self.details.clear()
        self.flow = FlowRun()
        self.token = self._api_key = self._k8s_method = self._reviewer_jwt = self.live_sync = None
        return Note(f"removed {len([r for r in removed if r[1] == 'removed'])} objects; namespaces "
                    f"{p.namespace}, {p.reviewer_namespace} and the reviewer stay for the next run", removed,
                    ("object", "result"), title="cleanup")


Chapter = KubernetesAuth       # the name the notebook and the other helpers use


def audit_table(log) -> Note:
    """A lab audit log as a table with column headers."""
    return Note(log.summary(), log.rows(), ("time", "identity", "request", "decision"), title="audit")


@dataclass
class _Parts(Result):
    """Several results of one step, as one entry of the step-through."""

    parts: tuple

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return all(getattr(p, "ok", True) for p in self.parts)

    def summary(self) -> str:
        return "; ".join(p.summary() for p in self.parts)

    def _repr_html_(self) -> str:
        return "".join(p._repr_html_() for p in self.parts)


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
    def missing(cls, answer: eso.AuthAnswer) -> "TokenReviewExchange":
        return cls("", {}, {"message": f"the gateway made no TokenReview: {answer.error or 'none recorded'}"},
                   "the lab gateway's log")

    @classmethod
    def from_replay(cls, review: ReviewResult, server: str) -> "TokenReviewExchange":
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
        return [("POST", self.url), ("request", json.dumps(self.request)), ("response", json.dumps(self.response)),
                ("source", self.source)]

    @staticmethod
    def _shown(body: dict) -> str:
        """The body as JSON, the reviewed JWT cut to its start (it is step 1's token, signature masked)."""
        spec = body.get("spec") or {}
        token = spec.get("token")
        if isinstance(token, str) and len(token) > 24:
            body = {**body, "spec": {**spec, "token": f"{token[:20]}… (the JWT of step 1)"}}
        return json.dumps(body, indent=1, ensure_ascii=False)

    def request_view(self) -> Note:
        return Note(f"POST {self.url or '(none)'}", [("request body", self._shown(self.request)),
                                                      ("source", self.source)],
                    title="TokenReview request (gateway → API server)", ok=bool(self.url))

    def response_view(self) -> Note:
        return Note(self.summary(), [("response body", self._shown(self.response)), ("source", self.source)],
                    title="TokenReview response (API server → gateway)", ok=self.ok)
