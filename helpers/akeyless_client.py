"""Client side of Akeyless, over the official `akeyless` SDK: works unchanged against the lab's
gateway or a real one (SaaS or a customer gateway), because it only speaks the V2 API.

Every function returns a Result that renders itself (helpers.display); secret values, access keys,
private keys and `t-` tokens are masked unless `reveal=True`. SDK errors become AkeylessError with
the gateway's own error text, the HTTP status and a hint. Names and paths always come from the
caller. This module never imports helpers.lab.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import akeyless
import urllib3
from akeyless.rest import ApiException

from . import access
from .display import Result, mask_secret
from .errors import AkeylessError, LabOnly

# sub-claims that differ on every run: kept out of one-line summaries (nbval compares them)
_VOLATILE_CLAIMS = {"service_account_uid", "pod_uid", "access_id", "pod_name"}


# --- errors --------------------------------------------------------------------------------------

def _error_text(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body).get("error", exc.body))
    except (TypeError, ValueError, AttributeError):
        return str(exc.body or exc.reason)


_ERROR_CODE = re.compile(r"\bError: ([A-Z][A-Za-z]+)")
_BY_STATUS = {
    400: "a request field is missing or invalid: the message names it",
    403: "this identity may not do that: an access role associated with its auth method must grant it",
    404: "check the name: Akeyless names are paths with a leading /",
    409: "it already exists: delete it first or choose another name",
}


def _hint(status: int | None, text: str) -> str:
    """The fix, chosen by the HTTP status and the gateway's error code (`Error: UnauthorizedAccess`);
    a 401 covers several causes, told apart by the step that failed."""
    code = (_ERROR_CODE.search(text) or [None, ""])[1]
    low = text.lower()
    if status == 401 and code == "UnauthorizedAccess":
        if "sub claim" in low:
            return ("the token's sub-claims match no role association: compare describe_sub_claims() with the "
                    "association's sub-claims (get_role)")
        if "gateway admin" in low:
            return "this is an admin operation: use the admin session (an API key with admin rights)"
        return "no rule of a role associated with this auth method grants this: add one with set_role_rule()"
    if status == 401 and "kubernetes auth" in low:
        return ("the gateway's TokenReview did not accept the token: the message says why (bounds, audience, "
                "expiry, reviewer RBAC, CA)")
    if status == 401 and "access key" in low:
        return "check the access id and access key (they are shown once, when the auth method is created)"
    if status == 401:
        return "authenticate again to get a fresh t- token"
    return _BY_STATUS.get(status or 0, "read the gateway's message above")


def _convert(exc: Exception, what: str) -> AkeylessError:
    if isinstance(exc, ApiException):
        if exc.status == 0 or exc.body is None and exc.status is None:
            return AkeylessError(f"{what} failed: {exc.reason}", hint="is the gateway URL right and reachable?")
        text = _error_text(exc)
        return AkeylessError(f"{what} failed: HTTP {exc.status}: {text}", status=exc.status,
                             hint=_hint(exc.status, text))
    reason = getattr(exc, "reason", exc)
    if "CERTIFICATE_VERIFY_FAILED" in str(reason):
        return AkeylessError(f"{what} failed: TLS verification of the gateway failed: {reason}",
                             hint="pass ca_cert= the gateway's CA file (the lab's is .lab/ca.crt)")
    return AkeylessError(f"{what} failed: cannot reach the gateway: {reason}",
                         hint="is the gateway running, and is the URL (scheme, host, port, /api/v2) right?")


# --- transport -----------------------------------------------------------------------------------

def make_api(url: str, ca_cert: str | None = None) -> akeyless.V2Api:
    """A V2Api for `url` (e.g. https://gw:8000/api/v2); `ca_cert` is a CA file to trust."""
    config = akeyless.Configuration(host=url.rstrip("/"))
    if ca_cert:
        config.ssl_ca_cert = str(ca_cert)
    config.retries = 0
    return akeyless.V2Api(akeyless.ApiClient(config))


def _call(api: akeyless.V2Api, method: str, model, what: str):
    try:
        return getattr(api, method)(model)
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise _convert(exc, what) from None


def mask_token(token: str | None, reveal: bool = False) -> str:
    if not token or reveal:
        return token or "<none>"
    return token[:2] + mask_secret(token[2:])


def _claims_line(sub_claims: Mapping[str, Iterable[str]]) -> str:
    return ", ".join(f"{k}={','.join(v)}" for k, v in sorted(sub_claims.items()) if k not in _VOLATILE_CLAIMS) or "none"


# --- sessions ------------------------------------------------------------------------------------

@dataclass
class AuthToken(Result):
    """A `t-` token from /auth, with what it carries. Usable wherever a session is expected."""

    url: str
    token: str
    method: str                     # "api_key" or "k8s"
    access_id: str
    expiration: str = ""
    sub_claims: dict = field(default_factory=dict)
    ca_cert: str | None = None
    reveal: bool = False
    _api: Any = field(default=None, repr=False, compare=False)

    title = "Akeyless authentication"

    @property
    def api(self) -> akeyless.V2Api:
        if self._api is None:
            self._api = make_api(self.url, self.ca_cert)
        return self._api

    def current_token(self) -> str:
        return self.token

    def summary(self) -> str:
        return f"authenticated with {self.method}: token {mask_token(self.token, self.reveal)}; " \
               f"sub-claims {_claims_line(self.sub_claims)}"

    def rows(self):
        return [("token", mask_token(self.token, self.reveal)), ("access id", self.access_id),
                ("expires", self.expiration)] + [(f"sub-claim {k}", ", ".join(v)) for k, v in sorted(self.sub_claims.items())]


def _auth_result(url, ca_cert, api, out, method: str, access_id: str) -> AuthToken:
    creds = out.creds
    return AuthToken(url=url, token=out.token, method=method, access_id=access_id, expiration=out.expiration or "",
                     sub_claims=dict((creds.sub_claims if creds else None) or {}), ca_cert=ca_cert, _api=api)


def auth_with_api_key(url: str, access_id: str, access_key: str, *, ca_cert: str | None = None) -> AuthToken:
    """POST /auth with an API key (access-type access_key)."""
    api = make_api(url, ca_cert)
    out = _call(api, "auth", akeyless.Auth(access_id=access_id, access_key=access_key, access_type="access_key"),
                "API-key authentication")
    return _auth_result(url, ca_cert, api, out, "api_key", access_id)


def auth_with_k8s(url: str, access_id: str, config_name: str, sa_token: str, *, ca_cert: str | None = None,
                  base64_encode: bool = True) -> AuthToken:
    """POST /auth with a Kubernetes service-account JWT, base64-encoded as ESO sends it."""
    api = make_api(url, ca_cert)
    token = base64.b64encode(sa_token.encode()).decode() if base64_encode else sa_token
    out = _call(api, "auth", akeyless.Auth(access_id=access_id, access_type="k8s", k8s_auth_config_name=config_name,
                                           k8s_service_account_token=token), "Kubernetes authentication")
    return _auth_result(url, ca_cert, api, out, "k8s", access_id)


@dataclass
class AdminSession(Result):
    """An API-key session that re-authenticates whenever its token expired or was rejected."""

    url: str
    access_id: str
    access_key: str = field(repr=False)
    ca_cert: str | None = None
    _auth: AuthToken | None = field(default=None, repr=False)

    title = "Akeyless admin session"

    @property
    def api(self) -> akeyless.V2Api:
        return self._login().api

    def _login(self, force: bool = False) -> AuthToken:
        if self._auth is None or force:
            self._auth = auth_with_api_key(self.url, self.access_id, self.access_key, ca_cert=self.ca_cert)
        return self._auth

    def current_token(self) -> str:
        return self._login().token

    def call(self, method: str, model, what: str):
        """Run one SDK call with this session's token; on an expired/unknown token, log in again once."""
        for attempt in (0, 1):
            model.token = self._login(force=attempt == 1).token
            try:
                return getattr(self.api, method)(model)
            except ApiException as exc:
                text = _error_text(exc) if exc.body else ""
                if attempt == 0 and exc.status == 401 and ("token expired" in text or "token is invalid" in text):
                    continue
                raise _convert(exc, what) from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise _convert(exc, what) from None

    def summary(self) -> str:
        return "admin session (API key) ready"

    def rows(self):
        return [("gateway", self.url), ("access id", self.access_id),
                ("token", mask_token(self._auth.token if self._auth else None))]


def connect(url: str, access_id: str, access_key: str, *, ca_cert: str | None = None) -> AdminSession:
    """An admin session (API key) against any gateway; authenticates now so bad creds fail here."""
    session = AdminSession(url=url, access_id=access_id, access_key=access_key, ca_cert=str(ca_cert) if ca_cert else None)
    session._login()
    return session


def connect_lab(lab_info, *, plain_http: bool = False) -> AdminSession:
    """An admin session on the embedded lab, from a LabInfo (duck-typed: url, CA, admin creds)."""
    creds = lab_info.akeyless_admin()
    url = lab_info.akeyless_http_url if plain_http else lab_info.akeyless_url
    return connect(url, creds["access_id"], creds["access_key"], ca_cert=None if plain_http else str(lab_info.ca_cert))


def _call_with(session, method: str, model, what: str):
    """Any session-like object: AdminSession (re-auths) or AuthToken (fixed token)."""
    if isinstance(session, AdminSession):
        return session.call(method, model, what)
    model.token = session.current_token()
    return _call(session.api, method, model, what)


# --- results -------------------------------------------------------------------------------------

@dataclass
class Done(Result):
    """A change the gateway acknowledged."""

    text: str
    details: list = field(default_factory=list)
    title = "Akeyless"

    def summary(self) -> str:
        return self.text

    def rows(self):
        return self.details


@dataclass
class AuthMethodCreated(Result):
    name: str
    kind: str
    access_id: str
    secret: str = field(default="", repr=False)     # access_key (api_key) or prv_key (k8s)
    reveal: bool = False
    title = "auth method"

    @property
    def access_key(self) -> str:
        return self.secret if self.kind == "api_key" else ""

    @property
    def prv_key(self) -> str:
        return self.secret if self.kind == "k8s" else ""

    def summary(self) -> str:
        return f"{self.kind} auth method {self.name} created"

    def rows(self):
        label = "access key" if self.kind == "api_key" else "private key (prv_key, base64 PEM)"
        return [("name", self.name), ("access id", self.access_id), (label, mask_secret(self.secret, self.reveal))]


@dataclass
class GatewayConfig(Result):
    name: str
    access_id: str
    k8s_host: str
    reviewer: str
    token_exp: int = 300
    ca_set: bool = False
    k8s_ca_cert: str = field(default="", repr=False)            # base64 PEM, as stored
    k8s_issuer: str = ""
    disable_issuer_validation: bool = False
    reviewer_jwt: str = field(default="", repr=False)           # never displayed
    title = "gateway k8s auth config"

    def summary(self) -> str:
        return f"gateway k8s auth config {self.name}: TokenReview with {self.reviewer}, " \
               f"cluster CA {'set' if self.ca_set else 'not set'}"

    def rows(self):
        return [("name", self.name), ("auth method access id", self.access_id), ("k8s host", self.k8s_host),
                ("TokenReview bearer", self.reviewer), ("cluster CA", "set" if self.ca_set else "not set"),
                ("token-exp (s)", self.token_exp)]


@dataclass
class RoleTable(Result):
    name: str
    rules: list                     # (path, capabilities, type)
    associations: list              # (auth method, sub-claims dict, case sensitive, assoc id)
    title = "access role"

    def summary(self) -> str:
        rules = "; ".join(f"{p} [{','.join(c)}]" for p, c, _ in self.rules) or "no rules"
        assocs = "; ".join(f"{m} ({_claims_line(s)})" for m, s, _, _ in self.associations) or "no associations"
        return f"role {self.name}: rules {rules}; associated with {assocs}"

    def rows(self):
        rows = [(f"rule ({t})", f"{p}  [{', '.join(c)}]") for p, c, t in self.rules]
        rows += [("association", f"{m}  sub-claims: {_claims_line(s)}" + ("" if cs else " (case-insensitive)"))
                 for m, s, cs, _ in self.associations]
        return rows or [("role", "empty")]

    def views(self) -> access.RoleView:
        return access.RoleView(self.name, tuple(access.RuleRef(self.name, p, tuple(c), t) for p, c, t in self.rules),
                               tuple(access.AssociationView(m, s, cs, a) for m, s, cs, a in self.associations))


@dataclass
class SecretValue(Result):
    name: str
    value: str = field(repr=False)
    version: int = 0
    reveal: bool = False
    title = "secret value"

    def summary(self) -> str:
        which = f" (version {self.version})" if self.version else ""
        return f"{self.name}{which} = {mask_secret(self.value, self.reveal)}"

    def rows(self):
        return [("name", self.name), ("version", self.version or "latest"), ("value", mask_secret(self.value, self.reveal))]


@dataclass
class SubClaims(Result):
    sub_claims: dict
    title = "token sub-claims"

    def summary(self) -> str:
        return f"sub-claims: {_claims_line(self.sub_claims)}"

    def rows(self):
        return [(k, ", ".join(v)) for k, v in sorted(self.sub_claims.items())]


@dataclass
class AccessExplanation(Result):
    decision: access.Decision
    auth_method: str
    title = "access check"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return self.decision.allowed

    def summary(self) -> str:
        d = self.decision
        return f"{'ALLOWED' if d.allowed else 'DENIED'}: {d.capability} on {d.path}: {d.reason}"

    def rows(self):
        d = self.decision
        rows = [("auth method", self.auth_method), ("capability", d.capability), ("path", d.path),
                ("decision", "allowed" if d.allowed else "denied"), ("why", d.reason)]
        if d.role:
            rows.append(("deciding role", d.role))
        if d.rule:
            rows.append(("deciding rule", f"{d.rule.path} [{', '.join(d.rule.capabilities)}]"))
        rows += [("role applied", r) for r in d.applicable_roles]
        rows += [("role not applied", f"{r}: {why}") for r, why in d.skipped_roles]
        return rows


@dataclass
class LabLog(Result):
    """Entries of a lab-only log (the audit log or the TokenReviews the gateway performed)."""

    kind: str
    entries: list
    title = "lab log"

    def summary(self) -> str:
        if self.kind == "audit":
            denied = sum(1 for e in self.entries if not e.get("allowed"))
            noun = "entry" if len(self.entries) == 1 else "entries"
            return f"{len(self.entries)} audit {noun} ({len(self.entries) - denied} allowed, {denied} denied)"
        failed = sum(1 for e in self.entries if e.get("error"))
        return f"{len(self.entries)} TokenReview(s) performed ({failed} failed)"

    def rows(self):
        if self.kind == "audit":
            return [(e.get("time", ""), _identity(e), f"{e['command']} {e.get('path', '')}",
                     f"{'allowed' if e.get('allowed') else 'DENIED'}: {e.get('reason', '')}") for e in self.entries]
        return [(e.get("time", ""), f"{e.get('config_name')} -> {e.get('url')} [{e.get('http_status', '-')}] "
                                    f"{e.get('error') or 'authenticated ' + str(((e.get('response') or {}).get('status') or {}).get('user', {}).get('username', ''))}")
                for e in self.entries]


def _identity(entry: dict) -> str:
    """Who made an audited request: the auth method, and for Kubernetes auth the ServiceAccount."""
    claims = entry.get("sub_claims") or {}
    who = entry.get("auth_method") or entry.get("access_id") or "unauthenticated"
    if claims.get("service_account_name"):
        who += f" as {','.join(claims.get('namespace', ['?']))}/{','.join(claims['service_account_name'])}"
    return who


# --- admin operations ----------------------------------------------------------------------------

def create_api_key_auth_method(session: AdminSession, name: str, *, description: str | None = None,
                               jwt_ttl: int | None = None, reveal: bool = False) -> AuthMethodCreated:
    out = session.call("create_auth_method", akeyless.CreateAuthMethod(name=name, description=description,
                                                                       jwt_ttl=jwt_ttl), f"create API-key auth method {name}")
    return AuthMethodCreated(name=name, kind="api_key", access_id=out.access_id, secret=out.access_key, reveal=reveal)


def create_k8s_auth_method(session: AdminSession, name: str, *, bound_namespaces: list | None = None,
                           bound_sa_names: list | None = None, bound_pod_names: list | None = None,
                           audience: str | None = None, jwt_ttl: int | None = None,
                           reveal: bool = False) -> AuthMethodCreated:
    model = akeyless.CreateAuthMethodK8S(name=name, bound_namespaces=bound_namespaces, bound_sa_names=bound_sa_names,
                                         bound_pod_names=bound_pod_names, audience=audience, jwt_ttl=jwt_ttl)
    out = session.call("create_auth_method_k8_s", model, f"create Kubernetes auth method {name}")
    return AuthMethodCreated(name=name, kind="k8s", access_id=out.access_id, secret=out.prv_key or "", reveal=reveal)


def get_auth_method(session: AdminSession, name: str) -> AuthMethodCreated:
    """An auth method as it is now (its secret is only ever shown when it is created); 404 when absent."""
    info = describe_auth_method(session, name)
    return AuthMethodCreated(name=name, kind="k8s" if info.kind == "k8s" else "api_key", access_id=info.access_id)


def delete_auth_method(session: AdminSession, name: str) -> Done:
    session.call("delete_auth_method", akeyless.DeleteAuthMethod(name=name), f"delete auth method {name}")
    return Done(f"auth method {name} deleted")


def create_gateway_k8s_config(session: AdminSession, name: str, *, access_id: str, signing_key: str, k8s_host: str,
                              k8s_ca_cert: str | None = None, token_reviewer_jwt: str | None = None,
                              k8s_issuer: str | None = None, disable_issuer_validation: bool | None = None,
                              token_exp: int | None = None) -> GatewayConfig:
    """gateway-create-k8s-auth-config. `k8s_ca_cert` is base64 PEM (kubeconfig's certificate-authority-data)."""
    fields = dict(name=name, access_id=access_id, signing_key=signing_key, k8s_host=k8s_host, k8s_ca_cert=k8s_ca_cert,
                  token_reviewer_jwt=token_reviewer_jwt)
    if k8s_issuer is not None:
        fields["k8s_issuer"] = k8s_issuer
    if token_exp is not None:
        fields["token_exp"] = token_exp
    if disable_issuer_validation is not None:
        fields["disable_issuer_validation"] = "true" if disable_issuer_validation else "false"
    session.call("gateway_create_k8_s_auth_config", akeyless.GatewayCreateK8SAuthConfig(**fields),
                 f"create gateway k8s auth config {name}")
    return get_gateway_k8s_config(session, name)


def get_gateway_k8s_config(session: AdminSession, name: str) -> GatewayConfig:
    out = session.call("gateway_get_k8_s_auth_config", akeyless.GatewayGetK8SAuthConfig(name=name),
                       f"get gateway k8s auth config {name}")
    return GatewayConfig(name=out.name, access_id=out.auth_method_access_id, k8s_host=out.k8s_host,
                         reviewer="token-reviewer-jwt" if out.k8s_token_reviewer_jwt else "the caller's own JWT",
                         token_exp=out.am_token_expiration or 0, ca_set=bool(out.k8s_ca_cert),
                         k8s_ca_cert=out.k8s_ca_cert or "", k8s_issuer=out.k8s_issuer or "",
                         disable_issuer_validation=bool(out.disable_iss_validation),
                         reviewer_jwt=out.k8s_token_reviewer_jwt or "")


@dataclass
class AuthMethodInfo(Result):
    """get-auth-method, the parts Kubernetes auth depends on: kind, bounds and audience."""

    name: str
    access_id: str
    kind: str
    bound_namespaces: list = field(default_factory=list)
    bound_sa_names: list = field(default_factory=list)
    audience: str = ""
    title = "auth method"

    def summary(self) -> str:
        if self.kind != "k8s":
            return f"{self.kind} auth method {self.name}"
        return (f"k8s auth method {self.name}: namespaces {self.bound_namespaces or 'any'}, ServiceAccounts "
                f"{self.bound_sa_names or 'any'}, audience {self.audience or 'any'}")


def describe_auth_method(session: AdminSession, name: str) -> AuthMethodInfo:
    out = session.call("get_auth_method", akeyless.GetAuthMethod(name=name), f"get auth method {name}")
    info = out.access_info
    rules = getattr(info, "k8s_access_rules", None) if info else None
    kind = (getattr(info, "rules_type", None) or ("k8s" if rules else "")) if info else ""
    return AuthMethodInfo(name=out.auth_method_name, access_id=out.auth_method_access_id, kind=kind,
                          bound_namespaces=list(getattr(rules, "bound_namespaces", None) or []),
                          bound_sa_names=list(getattr(rules, "bound_service_account_names", None) or []),
                          audience=getattr(rules, "audience", None) or "")


def delete_gateway_k8s_config(session: AdminSession, name: str) -> Done:
    session.call("gateway_delete_k8_s_auth_config", akeyless.GatewayDeleteK8SAuthConfig(name=name),
                 f"delete gateway k8s auth config {name}")
    return Done(f"gateway k8s auth config {name} deleted")


def create_role(session: AdminSession, name: str, *, description: str | None = None) -> Done:
    session.call("create_role", akeyless.CreateRole(name=name, description=description), f"create role {name}")
    return Done(f"role {name} created")


def delete_role(session: AdminSession, name: str) -> Done:
    session.call("delete_role", akeyless.DeleteRole(name=name), f"delete role {name}")
    return Done(f"role {name} deleted")


def set_role_rule(session: AdminSession, role: str, path: str, capabilities: list[str], *,
                  rule_type: str = "item-rule") -> Done:
    session.call("set_role_rule", akeyless.SetRoleRule(role_name=role, path=path, capability=list(capabilities),
                                                       rule_type=rule_type), f"set rule {path} on role {role}")
    return Done(f"role {role}: {rule_type} {path} [{', '.join(capabilities)}]")


def delete_role_rule(session: AdminSession, role: str, path: str, *, rule_type: str = "item-rule") -> Done:
    session.call("delete_role_rule", akeyless.DeleteRoleRule(role_name=role, path=path, rule_type=rule_type),
                 f"delete rule {path} from role {role}")
    return Done(f"role {role}: {rule_type} {path} removed")


def associate_role(session: AdminSession, role: str, auth_method: str, *, sub_claims: Mapping[str, Any] | None = None,
                   case_sensitive: bool = True) -> Done:
    """assoc-role-am. `sub_claims` maps a claim to a value or a list of values (any may match)."""
    wire = {k: ",".join(v) if isinstance(v, (list, tuple)) else str(v) for k, v in (sub_claims or {}).items()}
    out = session.call("assoc_role_auth_method", akeyless.AssocRoleAuthMethod(
        role_name=role, am_name=auth_method, sub_claims=wire or None,
        case_sensitive="true" if case_sensitive else "false"), f"associate role {role} with {auth_method}")
    claims = access.parse_sub_claims(wire)
    return Done(f"role {role} associated with {auth_method} (sub-claims {_claims_line(claims)})",
                [("association id", out.assoc_id)])


def delete_association(session: AdminSession, assoc_id: str) -> Done:
    session.call("delete_role_association", akeyless.DeleteRoleAssociation(assoc_id=assoc_id),
                 f"delete association {assoc_id}")
    return Done("association deleted", [("association id", assoc_id)])


def _role_table(role) -> RoleTable:
    rules = [(r.path, list(r.capabilities or []), r.type or "item-rule") for r in ((role.rules.path_rules or [])
                                                                                   if role.rules else [])]
    assocs = [(a.auth_method_name, dict(a.auth_method_sub_claims or {}), a.sub_claims_case_sensitive is not False,
               a.assoc_id) for a in (role.role_auth_methods_assoc or [])]
    return RoleTable(name=role.role_name, rules=rules, associations=assocs)


def get_role(session: AdminSession, name: str) -> RoleTable:
    return _role_table(session.call("get_role", akeyless.GetRole(name=name), f"get role {name}"))


def list_roles(session: AdminSession) -> list[RoleTable]:
    out = session.call("list_roles", akeyless.ListRoles(), "list roles")
    return [_role_table(r) for r in (out.roles or [])]


def create_secret(session, name: str, value: str, *, tags: list | None = None, description: str | None = None) -> Done:
    _call_with(session, "create_secret", akeyless.CreateSecret(name=name, value=value, tags=tags,
                                                              description=description), f"create secret {name}")
    return Done(f"static secret {name} created")


def update_secret(session, name: str, value: str, *, keep_prev_version: bool = True) -> Done:
    _call_with(session, "update_secret_val", akeyless.UpdateSecretVal(
        name=name, value=value, keep_prev_version="true" if keep_prev_version else "false"), f"update secret {name}")
    return Done(f"static secret {name} updated")


def delete_item(session, name: str) -> Done:
    _call_with(session, "delete_item", akeyless.DeleteItem(name=name), f"delete item {name}")
    return Done(f"item {name} deleted")


def get_secret_value(session, name: str, *, version: int | None = None, reveal: bool = False) -> SecretValue:
    """get-secret-value with an admin session or a token from auth_with_k8s / auth_with_api_key."""
    out = _call_with(session, "get_secret_value", akeyless.GetSecretValue(names=[name], version=version),
                     f"get secret value {name}")
    if name not in out:
        raise AkeylessError(f"get secret value {name}: the reply has no entry for {name!r}",
                            hint="the gateway must key the reply by the name exactly as requested")
    return SecretValue(name=name, value=str(out[name]), version=version or 0, reveal=reveal)


def describe_sub_claims(session) -> SubClaims:
    out = _call_with(session, "describe_sub_claims", akeyless.DescribeSubClaims(), "describe sub-claims")
    return SubClaims(dict(out.sub_claims or {}))


# --- explaining access ---------------------------------------------------------------------------

def explain_access(session: AdminSession, auth_method: str, path: str, capability: str = "read", *,
                   sub_claims: Mapping[str, Iterable[str]] | None = None, access_id: str | None = None,
                   roles: Iterable[str] | None = None) -> AccessExplanation:
    """Why would a token of `auth_method` with `sub_claims` be allowed or denied `capability` on `path`?
    Computed with helpers.access over the roles' get-role data (every role, or only `roles`), so it
    works against any gateway. `sub_claims` can be an AuthToken's (`sub_claims=token.sub_claims`)."""
    tables = [get_role(session, name) for name in roles] if roles is not None else list_roles(session)
    views = [t.views() for t in tables]
    ids = {auth_method} | ({access_id} if access_id else set())
    claims = {k: list(v) if isinstance(v, (list, tuple)) else [str(v)] for k, v in (sub_claims or {}).items()}
    decision = access.explain(views, ids, path, capability, claims)
    return AccessExplanation(decision, auth_method)


# --- lab-only readers ----------------------------------------------------------------------------

def _lab_only(session: AdminSession, endpoint: str, body: dict) -> dict:
    for attempt in (0, 1):
        payload = {k: v for k, v in {**body, "token": session._login(force=attempt == 1).token}.items() if v is not None}
        try:
            return session.api.api_client.call_api(f"/lab-only/{endpoint}", "POST", body=payload,
                                                   response_type="object", _return_http_data_only=True)
        except ApiException as exc:
            text = _error_text(exc) if exc.body else ""
            if exc.status in (404, 405):
                raise LabOnly(f"/lab-only/{endpoint} does not exist on this gateway: it is a lab-only endpoint") from None
            if attempt == 0 and exc.status == 401 and ("token expired" in text or "token is invalid" in text):
                continue
            raise _convert(exc, f"read lab-only {endpoint}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _convert(exc, f"read lab-only {endpoint}") from None


def audit_log(session: AdminSession, *, limit: int = 20, command: str | None = None,
              access_id: str | None = None, path: str | None = None, since: float | None = None) -> LabLog:
    """The lab gateway's audit log (every request, who, what, allowed or not, and why), optionally only
    entries at or after `since` (epoch seconds). Lab only: on a real account, read the audit logs in the
    Akeyless console."""
    out = _lab_only(session, "audit-log", {"limit": limit, "command": command, "access_id": access_id, "path": path,
                                           "since": since})
    return LabLog("audit", out.get("entries") or [])


def token_reviews(session: AdminSession, *, limit: int = 10, config_name: str | None = None,
                  since: float | None = None) -> LabLog:
    """The TokenReviews the lab gateway sent to the cluster, tokens redacted. Lab only: on a real
    cluster, read the API server's audit log for tokenreviews instead."""
    out = _lab_only(session, "token-reviews", {"limit": limit, "config_name": config_name, "since": since})
    return LabLog("reviews", out.get("reviews") or [])
