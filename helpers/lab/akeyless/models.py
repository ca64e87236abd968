"""The gateway emulator's state and its rules: auth methods, gateway Kubernetes auth configs, roles,
static secrets, tokens and the audit log. No HTTP here: the wire layer (responses.py) parses
requests and shapes replies, this module decides and remembers.

Persistence: every change is one `put`/`del` record of a whole object appended to a journal and
flushed before the caller replies; start-up replays the journal and compacts it. The audit log (and
the record of TokenReviews) has its own journal so that a busy reader does not bloat the state one.
Every mutation runs without awaiting, so one event loop makes each read-modify-write atomic.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Callable

from ... import access
from ..journal import Journal
from . import keys
from .exceptions import (BadRequest, Conflict, NotFound, Unauthorized, item_not_found, message_prefix,
                         unauthorized_access)

DEFAULT_TOKEN_TTL_MINUTES = 60
AUDIT_KEEP = 20000
REVIEWS_KEEP = 2000
ADMIN_AUTH_METHOD = "/lab/admin-api-key"
_ALNUM = string.ascii_lowercase + string.digits
# numeric fields, bounded so that every time derived from them can still be written as RFC 3339
RANGES = {
    "jwt-ttl": (0, 60 * 24 * 365),              # minutes (0: the account default)
    "access-expires": (0, 253402300799),        # unix seconds (0: never); 9999-12-31T23:59:59Z at most
    "token-exp": (0, 60 * 60 * 24 * 365),       # seconds
    "ttl": (0, 60 * 60 * 24 * 365),             # seconds
    "max-versions": (0, 1000),
}


def in_range(field: str, value):
    """`value` if it is within RANGES[field], else 400 naming the field and the range."""
    low, high = RANGES[field]
    if value is not None and not low <= value <= high:
        raise BadRequest(f"field '{field}' must be between {low} and {high}, not {value}")
    return value


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rand(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _Record:
    """Dataclass <-> journal record, tolerant of fields added later."""

    def to_record(self) -> dict:
        return asdict(self)

    @classmethod
    def from_record(cls, data: dict):
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class AuthMethod(_Record):
    name: str
    access_id: str
    kind: str                                  # "api_key" or "k8s"
    id: int
    created: float
    modified: float
    description: str = ""
    access_key_sha256: str = ""                # api_key: only the hash is kept
    public_key: str = ""                       # k8s: PEM of the public half
    gen_key: bool = True
    bound_namespaces: list = field(default_factory=list)
    bound_sa_names: list = field(default_factory=list)
    bound_pod_names: list = field(default_factory=list)
    audience: str = ""
    jwt_ttl: int = 0                           # minutes, 0 = account default
    access_expires: int = 0                    # unix seconds, 0 = never
    force_sub_claims: bool = False
    admin: bool = False                        # the lab's bootstrap method: may do everything


@dataclass
class K8sConfig(_Record):
    name: str
    id: str
    access_id: str
    signing_key: str
    public_key: str
    k8s_host: str
    k8s_ca_cert: str = ""
    token_reviewer_jwt: str = ""
    k8s_issuer: str = ""
    disable_issuer_validation: bool | None = None
    token_exp: int = 300
    cluster_api_type: str = "native_k8s"
    k8s_auth_type: str = "token"
    created: float = 0.0


@dataclass
class Role(_Record):
    name: str
    id: int
    created: float
    modified: float
    description: str = ""
    rules: list = field(default_factory=list)          # {path, capabilities, type, ttl}
    associations: list = field(default_factory=list)   # {assoc_id, am_name, sub_claims, case_sensitive}


@dataclass
class Item(_Record):
    name: str
    id: int
    created: float
    modified: float
    description: str = ""
    tags: list = field(default_factory=list)
    versions: list = field(default_factory=list)       # {version, value, created, modified}
    max_versions: int = 0
    delete_protection: bool = False
    item_type: str = "STATIC_SECRET"
    sub_type: str = "generic"
    format: str = "text"

    @property
    def last_version(self) -> int:
        return self.versions[-1]["version"] if self.versions else 0

    def version(self, number: int) -> dict | None:
        if not number:
            return self.versions[-1] if self.versions else None
        return next((v for v in self.versions if v["version"] == number), None)


@dataclass
class Session(_Record):
    """An issued `t-` token and what it carries."""

    token: str
    access_id: str
    am_name: str
    issued: float
    expires: float
    sub_claims: dict = field(default_factory=dict)
    admin: bool = False
    kind: str = "api_key"


@dataclass
class Call:
    """What the audit log learns about one request while it is handled."""

    command: str
    caller: Session | None = None
    claimed_access_id: str = ""     # who a failed /auth said it was: the audit names it
    path: str = ""
    allowed: bool = True
    reason: str = ""
    user_agent: str = ""            # which client called (ESO's Go client, the SDK, curl)
    started: float = 0.0            # lab-clock time the request arrived: the audit's latency


class State:
    """All of the emulator's state, and the operations on it."""

    COLLECTIONS = ("meta", "auth_methods", "configs", "roles", "items", "sessions")

    def __init__(self, state_dir, now: Callable[[], float] = time.time):
        self.now = now
        self.journal = Journal(state_dir / "akeyless.jsonl")
        self.audit_journal = Journal(state_dir / "akeyless-audit.jsonl")
        self.meta: dict = {}
        self.auth_methods: dict[str, AuthMethod] = {}
        self.configs: dict[str, K8sConfig] = {}
        self.roles: dict[str, Role] = {}
        self.items: dict[str, Item] = {}
        self.sessions: dict[str, Session] = {}
        self.audit: deque = deque(maxlen=AUDIT_KEEP)
        self.reviews: deque = deque(maxlen=REVIEWS_KEEP)
        self.recorded = 0                       # audit entries written since start (the deque is capped)
        self.generation = 0                     # bumps on any role/auth-method change: invalidates caches
        self._by_access_id: dict[str, AuthMethod] = {}
        self._role_views: dict[str, tuple[int, list]] = {}
        self._load()

    # --- persistence -----------------------------------------------------------------------------

    _TYPES = {"auth_methods": AuthMethod, "configs": K8sConfig, "roles": Role, "items": Item, "sessions": Session}

    def _load(self) -> None:
        for record in self.journal.replay():
            self._apply(record)
        now = self.now()
        # sessions are kept by the SHA-256 of their token, so finding one never compares the token itself
        self.sessions = {_sha(s.token): s for s in self.sessions.values() if s.expires > now}
        self.journal.compact(self._snapshot())
        for record in self.audit_journal.replay():
            (self.reviews if record.get("kind") == "token-review" else self.audit).append(record)
        self.audit_journal.compact(sorted(list(self.audit) + list(self.reviews), key=lambda r: r.get("ts", 0)))
        self._reindex()

    def _apply(self, record: dict) -> None:
        coll, key = record.get("c"), record.get("k")
        if coll == "meta":
            self.meta.update(record.get("v") or {})
            return
        target = getattr(self, coll, None) if coll in self._TYPES else None
        if target is None:
            return
        if record.get("op") == "del":
            target.pop(key, None)
        else:
            target[key] = self._TYPES[coll].from_record(record["v"])

    def _snapshot(self):
        yield {"op": "put", "c": "meta", "k": "", "v": self.meta}
        for coll in self._TYPES:
            for key, obj in getattr(self, coll).items():
                yield {"op": "put", "c": coll, "k": key, "v": obj.to_record()}

    def _put(self, coll: str, key: str, obj) -> None:
        getattr(self, coll)[key] = obj
        self.journal.append({"op": "put", "c": coll, "k": key, "v": obj.to_record()})
        if coll in ("auth_methods", "roles"):
            self._changed()

    def _del(self, coll: str, key: str) -> None:
        getattr(self, coll).pop(key, None)
        self.journal.append({"op": "del", "c": coll, "k": key})
        if coll in ("auth_methods", "roles"):
            self._changed()

    def _set_meta(self, **values) -> None:
        self.meta.update(values)
        self.journal.append({"op": "put", "c": "meta", "k": "", "v": values})

    def _changed(self) -> None:
        self.generation += 1
        self._reindex()

    def _reindex(self) -> None:
        self._by_access_id = {m.access_id: m for m in self.auth_methods.values()}
        self._role_views.clear()

    def _next_id(self) -> int:
        value = int(self.meta.get("next_id", 1000001)) + 1
        self._set_meta(next_id=value)
        return value

    @property
    def account_id(self) -> str:
        return self.meta.get("account_id", "acc-lab")

    # --- bootstrap -------------------------------------------------------------------------------

    def bootstrap(self) -> dict | None:
        """At first start: the account id and the admin API-key auth method. Returns the new
        admin credentials once (None when they already exist)."""
        if "account_id" not in self.meta:
            self._set_meta(account_id="acc-" + _rand(12))
        if any(m.admin for m in self.auth_methods.values()):
            return None
        method, key = self._new_api_key_method(ADMIN_AUTH_METHOD, "the lab's bootstrap admin", admin=True)
        return {"access_id": method.access_id, "access_key": key, "name": method.name}

    def rotate_admin_key(self) -> dict:
        method = next(m for m in self.auth_methods.values() if m.admin)
        key = secrets.token_urlsafe(33)[:44]
        method.access_key_sha256, method.modified = _sha(key), self.now()
        self._put("auth_methods", method.name, method)
        return {"access_id": method.access_id, "access_key": key, "name": method.name}

    # --- callers and authorisation ---------------------------------------------------------------

    def caller(self, token: str | None, call: Call | None = None) -> Session:
        """The session a request's `token` names, or 401."""
        if not token:
            raise Unauthorized("Unauthorized: no token in the request: authenticate with /auth and pass "
                               "the returned t-... token as the `token` field")
        session = self.session(token)
        if session is None:
            raise Unauthorized("Unauthorized: the token is invalid or was revoked (unknown token)")
        if session.expires <= self.now():
            raise Unauthorized(f"Unauthorized: token expired at {rfc3339(session.expires)}: authenticate again")
        if call is not None:
            call.caller = session
        return session

    def session(self, token: str) -> Session | None:
        """The live or expired session of `token`, looked up by hash and confirmed in constant time."""
        session = self.sessions.get(_sha(token))
        if session is None or not hmac.compare_digest(session.token.encode(), token.encode()):
            return None
        return session

    def roles_for(self, session: Session) -> tuple[list, list]:
        """(applicable RoleViews, skipped (role, why)) for a session, cached per state generation."""
        cached = self._role_views.get(session.token)
        if cached and cached[0] == self.generation:
            return cached[1]
        views = [self._role_view(r) for r in self.roles.values()]
        result = access.applicable_roles(views, {session.am_name, session.access_id}, session.sub_claims)
        self._role_views[session.token] = (self.generation, result)
        return result

    @staticmethod
    def _role_view(role: Role) -> access.RoleView:
        return access.RoleView(
            name=role.name,
            rules=tuple(access.RuleRef(role.name, r["path"], tuple(r["capabilities"]), r["type"]) for r in role.rules),
            associations=tuple(access.AssociationView(a["am_name"], a["sub_claims"], a["case_sensitive"], a["assoc_id"])
                               for a in role.associations))

    def decide(self, session: Session, path: str, capability: str, rule_type: str = "item-rule") -> access.Decision:
        if session.admin:
            return access.Decision(True, capability, path, "allowed: admin auth method", role="admin")
        applied, skipped = self.roles_for(session)
        return access.decide(applied, path, capability, sub_claims=session.sub_claims, rule_type=rule_type,
                             skipped=skipped)

    def require(self, session: Session, call: Call, path: str, capability: str, *, rule_type: str = "item-rule",
                what: str = "") -> access.Decision:
        """Check and record a decision; 401 UnauthorizedAccess (the real gateway's body) when denied."""
        decision = self.decide(session, path, capability, rule_type)
        call.path = call.path or path
        call.allowed, call.reason = decision.allowed, decision.reason
        if not decision.allowed:
            if decision.sub_claim_mismatch:
                raise Unauthorized(f"{message_prefix(what)}Status 401 Unauthorized, Error: UnauthorizedAccess. "
                                   f"Message: sub claim mismatch")
            raise unauthorized_access(self.account_id, session.access_id, what)
        return decision

    def require_admin(self, session: Session, call: Call, what: str) -> None:
        call.allowed = session.admin
        call.reason = "admin auth method" if session.admin else f"{what} needs gateway admin rights"
        if not session.admin:
            raise Unauthorized(f"Status 401 Unauthorized, Error: UnauthorizedAccess. Message: access id "
                               f"{session.access_id} is not a gateway admin: {what} is an admin operation")

    def client_permissions(self, session: Session, path: str, rule_type: str = "item-rule") -> list[str]:
        if session.admin:
            return ["read", "list", "create", "update", "delete"]
        applied, _ = self.roles_for(session)
        return access.effective_capabilities(applied, path, session.sub_claims, rule_type=rule_type)

    # --- sessions ----------------------------------------------------------------------------------

    def issue(self, method: AuthMethod, sub_claims: dict) -> Session:
        now = self.now()
        ttl = (method.jwt_ttl or DEFAULT_TOKEN_TTL_MINUTES) * 60
        session = Session(token="t-" + secrets.token_hex(16), access_id=method.access_id, am_name=method.name,
                          issued=now, expires=now + ttl, sub_claims=sub_claims, admin=method.admin, kind=method.kind)
        self._put("sessions", _sha(session.token), session)
        if len(self.sessions) % 1000 == 0:
            self._prune_sessions()
        return session

    def _prune_sessions(self) -> None:
        now = self.now()
        for key, session in [(k, s) for k, s in self.sessions.items() if s.expires <= now - 3600]:
            self.sessions.pop(key, None)
            self._role_views.pop(session.token, None)

    # --- auth methods ----------------------------------------------------------------------------

    def method_by_access_id(self, access_id: str) -> AuthMethod | None:
        return self._by_access_id.get(access_id)

    def method(self, name: str) -> AuthMethod:
        found = self.auth_methods.get(access.normalize_path(name))
        if found is None:
            raise NotFound(f"auth method {access.normalize_path(name)} not found")
        return found

    def _check_new_method(self, name: str) -> str:
        if not name or not str(name).strip("/"):
            raise BadRequest("missing required field 'name' (the auth method's path, e.g. /k8s/eso-auth)")
        name = access.normalize_path(name)
        if name in self.auth_methods:
            raise Conflict(f"auth method {name} already exists")
        return name

    @staticmethod
    def _check_options(options: dict) -> None:
        in_range("jwt-ttl", options.get("jwt_ttl"))
        in_range("access-expires", options.get("access_expires"))

    def _new_api_key_method(self, name: str, description: str = "", admin: bool = False, **extra) -> tuple[AuthMethod, str]:
        self._check_options(extra)
        name = self._check_new_method(name)
        key = secrets.token_urlsafe(33)[:44]
        now = self.now()
        method = AuthMethod(name=name, access_id="p-" + _rand(12), kind="api_key", id=self._next_id(), created=now,
                            modified=now, description=description, access_key_sha256=_sha(key), admin=admin, **extra)
        self._put("auth_methods", name, method)
        return method, key

    def create_api_key_method(self, name: str, **options) -> tuple[AuthMethod, str]:
        return self._new_api_key_method(name, options.pop("description", "") or "", **options)

    def create_k8s_method(self, name: str, *, gen_key: bool, public_key: str | None, **options) -> tuple[AuthMethod, str]:
        self._check_options(options)
        name = self._check_new_method(name)
        prv_key = ""
        if gen_key:
            prv_key, public_pem = keys.generate()
        else:
            if not public_key:
                raise BadRequest("gen-key is \"false\" but public-key is missing: send an RSA-2048 public key "
                                 "(base64 or PEM), or set gen-key to \"true\"")
            try:
                public_pem = keys.normalize_public(public_key)
            except ValueError as exc:
                raise BadRequest(f"public-key: {exc}") from None
        now = self.now()
        method = AuthMethod(name=name, access_id="p-" + _rand(12), kind="k8s", id=self._next_id(), created=now,
                            modified=now, public_key=public_pem, gen_key=gen_key, **options)
        self._put("auth_methods", name, method)
        return method, prv_key

    def update_k8s_method(self, name: str, *, new_name: str | None, gen_key: bool | None, public_key: str | None,
                          **options) -> tuple[AuthMethod, str]:
        method = self.method(name)
        if method.kind != "k8s":
            raise BadRequest(f"auth method {method.name} is of type {method.kind}, not k8s")
        self._check_options(options)
        target = None
        if new_name and access.normalize_path(new_name) != method.name:
            target = self._check_new_method(new_name)
        public_pem = None
        if not gen_key and public_key:
            try:
                public_pem = keys.normalize_public(public_key)
            except ValueError as exc:
                raise BadRequest(f"public-key: {exc}") from None
        # every check is done: from here on the change is applied whole (a refused request changes nothing)
        prv_key = ""
        if gen_key:
            prv_key, method.public_key = keys.generate()
        elif public_pem:
            method.public_key = public_pem
        for key, value in options.items():
            if value is not None:
                setattr(method, key, value)
        method.modified = self.now()
        if target:
            self._rename_method(method, target)
        else:
            self._put("auth_methods", method.name, method)
        return method, prv_key

    def _rename_method(self, method: AuthMethod, new_name: str) -> None:
        old = method.name
        self._del("auth_methods", old)
        method.name = new_name
        self._put("auth_methods", new_name, method)
        for role in self.roles.values():
            if any(a["am_name"] == old for a in role.associations):
                for a in role.associations:
                    if a["am_name"] == old:
                        a["am_name"] = new_name
                self._put("roles", role.name, role)

    def delete_method(self, name: str) -> AuthMethod:
        method = self.method(name)
        if method.admin:
            raise BadRequest(f"{method.name} is the lab's bootstrap admin auth method and cannot be deleted "
                             "(reset the lab to start over)")
        self._del("auth_methods", method.name)
        for role in self.roles.values():
            kept = [a for a in role.associations if a["am_name"] != method.name]
            if len(kept) != len(role.associations):
                role.associations = kept
                self._put("roles", role.name, role)
        for key in [k for k, s in self.sessions.items() if s.access_id == method.access_id]:
            self._del("sessions", key)
        return method

    def check_access_key(self, access_id: str, access_key: str) -> AuthMethod:
        method = self._by_access_id.get(access_id or "")
        ok = method is not None and method.kind == "api_key" and hmac.compare_digest(
            method.access_key_sha256, _sha(access_key or ""))
        if not ok:
            if method is not None and method.kind != "api_key":
                raise Unauthorized(f"failed to authenticate: access id {access_id} is a {method.kind} auth method; "
                                   f"use access-type {method.kind}")
            raise Unauthorized("failed to authenticate: Access denied. Please check your access id and access key "
                               f"(access id {access_id or '<empty>'})")
        self._check_not_expired(method)
        return method

    def _check_not_expired(self, method: AuthMethod) -> None:
        if method.access_expires and self.now() > method.access_expires:
            raise Unauthorized(f"failed to authenticate: auth method {method.name} access expired at "
                               f"{rfc3339(method.access_expires)}")

    # --- gateway Kubernetes auth configs ---------------------------------------------------------

    def config(self, name: str) -> K8sConfig:
        found = self.configs.get(name or "")
        if found is None:
            raise NotFound(f"k8s auth config {name!r} not found on this gateway")
        return found

    def put_config(self, values: dict, *, existing: K8sConfig | None = None, new_name: str | None = None) -> K8sConfig:
        merged = {**(existing.to_record() if existing else {}), **{k: v for k, v in values.items() if v is not None}}
        name = new_name or merged.get("name")
        if not name:
            raise BadRequest("missing required field 'name' (the config name clients pass as k8s-auth-config-name)")
        if (existing is None or name != existing.name) and name in self.configs:
            raise Conflict(f"k8s auth config {name!r} already exists on this gateway")
        in_range("token-exp", merged.get("token_exp"))
        for required in ("access_id", "signing_key", "k8s_host"):
            if not merged.get(required):
                raise BadRequest(f"missing required field '{required.replace('_', '-')}'")
        method = self._by_access_id.get(merged["access_id"])
        if method is None:
            raise NotFound(f"auth method with access id {merged['access_id']} not found")
        if method.kind != "k8s":
            raise BadRequest(f"access id {method.access_id} ({method.name}) is a {method.kind} auth method, not k8s")
        try:
            public = keys.public_from_private(merged["signing_key"])
        except ValueError as exc:
            raise BadRequest(f"signing-key: {exc}; pass the prv_key returned when the k8s auth method was created") from None
        if public.strip() != method.public_key.strip():
            raise BadRequest(f"signing-key does not belong to auth method {method.name} ({method.access_id}): "
                             "pass the prv_key returned by create-auth-method-k8s for this access id")
        host = str(merged["k8s_host"]).rstrip("/")
        if not host.startswith(("https://", "http://")):
            raise BadRequest(f"k8s-host {host!r} must be a URL such as https://<api-server>:443")
        merged["k8s_host"] = host
        if merged.get("k8s_ca_cert"):
            try:
                keys.ca_pem(merged["k8s_ca_cert"])
            except ValueError as exc:
                raise BadRequest(str(exc)) from None
        if merged.get("cluster_api_type", "native_k8s") != "native_k8s":
            raise BadRequest("the lab gateway supports cluster-api-type native_k8s only")
        if merged.get("k8s_auth_type", "token") != "token":
            raise BadRequest("the lab gateway supports k8s-auth-type token only (not certificate)")
        merged.update(name=name, public_key=public, id=merged.get("id") or "k8s-" + _rand(10),
                      created=merged.get("created") or self.now())
        config = K8sConfig.from_record(merged)
        if existing is not None and existing.name != name:
            self._del("configs", existing.name)
        self._put("configs", name, config)
        return config

    def delete_config(self, name: str) -> K8sConfig:
        config = self.config(name)
        self._del("configs", name)
        return config

    # --- roles -----------------------------------------------------------------------------------

    def role(self, name: str) -> Role:
        found = self.roles.get(access.normalize_path(name))
        if found is None:
            raise NotFound(f"role {access.normalize_path(name)} not found")
        return found

    def create_role(self, name: str, description: str = "") -> Role:
        if not name or not str(name).strip("/"):
            raise BadRequest("missing required field 'name' (the role name)")
        name = access.normalize_path(name)
        if name in self.roles:
            raise Conflict(f"role {name} already exists")
        now = self.now()
        role = Role(name=name, id=self._next_id(), created=now, modified=now, description=description or "")
        self._put("roles", name, role)
        return role

    def delete_role(self, name: str) -> Role:
        role = self.role(name)
        self._del("roles", role.name)
        return role

    def set_rule(self, role_name: str, path: str, capabilities: list, rule_type: str, ttl: int = 0) -> dict:
        role = self.role(role_name)
        if not path:
            raise BadRequest("missing required field 'path' (e.g. /demo/app/*)")
        in_range("ttl", ttl)
        if rule_type not in access.RULE_TYPES:
            raise BadRequest(f"unknown rule-type {rule_type!r}: use one of {', '.join(access.RULE_TYPES)}")
        try:
            caps = access.validate_capabilities(capabilities or [])
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        rule = {"path": access.normalize_path(path), "capabilities": caps, "type": rule_type, "ttl": int(ttl or 0)}
        role.rules = [r for r in role.rules if (r["path"], r["type"]) != (rule["path"], rule_type)] + [rule]
        role.modified = self.now()
        self._put("roles", role.name, role)
        return rule

    def delete_rule(self, role_name: str, path: str, rule_type: str) -> None:
        role = self.role(role_name)
        key = (access.normalize_path(path), rule_type)
        kept = [r for r in role.rules if (r["path"], r["type"]) != key]
        if len(kept) == len(role.rules):
            raise NotFound(f"role {role.name} has no {rule_type} on path {key[0]}")
        role.rules, role.modified = kept, self.now()
        self._put("roles", role.name, role)

    def associate(self, role_name: str, am_name: str, sub_claims: dict, case_sensitive: bool) -> str:
        role = self.role(role_name)
        method = self.method(am_name)
        if method.force_sub_claims and not sub_claims:
            raise BadRequest(f"auth method {method.name} has force-sub-claims: the association needs sub-claims")
        if any(a["am_name"] == method.name for a in role.associations):
            raise Conflict(f"role {role.name} is already associated with auth method {method.name}; "
                           "use update-assoc or delete-assoc")
        assoc = {"assoc_id": "ass-" + _rand(20), "am_name": method.name, "sub_claims": sub_claims,
                 "case_sensitive": bool(case_sensitive)}
        role.associations = role.associations + [assoc]
        role.modified = self.now()
        self._put("roles", role.name, role)
        return assoc["assoc_id"]

    def _assoc(self, assoc_id: str) -> tuple[Role, dict]:
        for role in self.roles.values():
            for assoc in role.associations:
                if assoc["assoc_id"] == assoc_id:
                    return role, assoc
        raise NotFound(f"association {assoc_id} not found")

    def update_assoc(self, assoc_id: str, sub_claims: dict | None, case_sensitive: bool | None) -> None:
        role, assoc = self._assoc(assoc_id)
        if sub_claims is not None:
            assoc["sub_claims"] = sub_claims
        if case_sensitive is not None:
            assoc["case_sensitive"] = case_sensitive
        self._put("roles", role.name, role)

    def delete_assoc(self, assoc_id: str) -> None:
        role, assoc = self._assoc(assoc_id)
        role.associations = [a for a in role.associations if a is not assoc]
        self._put("roles", role.name, role)

    def associations_of(self, method: AuthMethod) -> list[tuple[Role, dict]]:
        return [(r, a) for r in self.roles.values() for a in r.associations if a["am_name"] == method.name]

    # --- items -----------------------------------------------------------------------------------

    def item(self, session: Session, call: Call, name: str, capability: str, what: str = "") -> Item:
        """The item, after the access check: 401 without permission (exists or not), 404 if missing."""
        path = access.normalize_path(name)
        self.require(session, call, path, capability, what=what)
        found = self.items.get(path)
        if found is None:
            raise item_not_found(self.account_id, session.access_id, path, what)
        return found

    def create_secret(self, session: Session, call: Call, name: str, value: str, *, description: str = "",
                      tags: list | None = None, max_versions: int = 0, fmt: str = "text",
                      delete_protection: bool = False) -> Item:
        if not name or not str(name).strip("/"):
            raise BadRequest("missing required field 'name' (the secret's path, e.g. /demo/app/db)")
        path = access.normalize_path(name)
        in_range("max-versions", max_versions)
        self.require(session, call, path, "create", what="failed to create secret")
        if path in self.items:
            raise Conflict(f"failed to create secret: item {path} already exists")
        now = self.now()
        item = Item(name=path, id=self._next_id(), created=now, modified=now, description=description or "",
                    tags=list(tags or []), versions=[{"version": 1, "value": value, "created": now, "modified": now}],
                    max_versions=max_versions or 0, delete_protection=delete_protection, format=fmt or "text")
        self._put("items", path, item)
        return item

    def update_secret(self, session: Session, call: Call, name: str, value: str, *, new_version: bool) -> Item:
        item = self.item(session, call, name, "update", what="failed to update secret value")
        now = self.now()
        if new_version or not item.versions:
            item.versions = item.versions + [{"version": item.last_version + 1, "value": value, "created": now,
                                              "modified": now}]
            if item.max_versions and len(item.versions) > item.max_versions:
                item.versions = item.versions[-item.max_versions:]
        else:
            latest = dict(item.versions[-1], value=value, modified=now)
            item.versions = item.versions[:-1] + [latest]
        item.modified = now
        self._put("items", item.name, item)
        return item

    def delete_item(self, session: Session, call: Call, name: str, version: int | None) -> tuple[Item, int]:
        item = self.item(session, call, name, "delete", what="failed to delete item")
        if item.delete_protection:
            raise BadRequest(f"item {item.name} has delete protection enabled")
        if version is None or version < 0 or (version == 0 and len(item.versions) <= 1):
            self._del("items", item.name)
            return item, -1 if version is None or version < 0 else item.last_version
        target = item.version(version)
        if target is None:
            raise NotFound(f"item {item.name} has no version {version}")
        if len(item.versions) == 1:
            self._del("items", item.name)
        else:
            item.versions = [v for v in item.versions if v is not target]
            item.modified = self.now()
            self._put("items", item.name, item)
        return item, target["version"]

    def list_items(self, session: Session, *, path: str = "", name_filter: str = "", tag: str = "",
                   types: list | None = None, current_folder: bool = False) -> list[Item]:
        prefix = access.normalize_path(path) if path and path.strip("/") else "/"
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        wanted_types = {t.lower() for t in (types or []) if t}
        result = []
        for item in self.items.values():
            if not item.name.startswith(prefix):
                continue
            if current_folder and "/" in item.name[len(prefix):]:
                continue
            if name_filter and name_filter not in item.name:
                continue
            if tag and tag not in item.tags:
                continue
            if wanted_types and "static-secret" not in wanted_types:
                continue
            if not self.decide(session, item.name, "list").allowed:
                continue
            result.append(item)
        return sorted(result, key=lambda i: i.name)

    # --- audit -----------------------------------------------------------------------------------

    def record(self, call: Call, status: int, error: str = "") -> None:
        """Append one audit entry (every request, allowed or not). Kept cheap: one dict, one write."""
        caller = call.caller
        claimed = None if caller else self._by_access_id.get(call.claimed_access_id)
        entry = {"kind": "request", "ts": self.now(), "command": call.command,
                 "access_id": caller.access_id if caller else call.claimed_access_id,
                 "auth_method": caller.am_name if caller else (claimed.name if claimed else ""),
                 "sub_claims": caller.sub_claims if caller else {}, "path": call.path,
                 "allowed": call.allowed and status < 400, "status": status,
                 "reason": call.reason or error, "user_agent": call.user_agent,
                 "duration_ms": round((self.now() - call.started) * 1000, 3) if call.started else None}
        self.audit.append(entry)
        self.audit_journal.append(entry)
        self.recorded += 1

    def record_review(self, entry: dict) -> None:
        entry = {"kind": "token-review", "ts": self.now(), **entry}
        self.reviews.append(entry)
        self.audit_journal.append(entry)

    def close(self) -> None:
        self.journal.close()
        self.audit_journal.close()


def as_time(ts: float | None) -> Any:
    return rfc3339(ts) if ts else None
