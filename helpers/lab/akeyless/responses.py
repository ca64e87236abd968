"""The wire layer: read a command's JSON body (kebab-case fields, unknown ones ignored), call the
state, and shape the reply the way the Akeyless SDKs decode it (snake_case, RFC 3339 dates,
upper-case item types). Rules live in models.py; this module holds none.

Every handler is `handler(gateway, body, call) -> dict` (the /auth handler is async: it may wait
for the cluster's TokenReview).
"""
from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

from ... import access
from .exceptions import BadRequest, NotFound, Unauthorized
from .models import AuthMethod, Call, Item, K8sConfig, Role, Session, as_time, rfc3339

ADMIN_CAPS = ["read", "list", "create", "update", "delete"]


# --- reading fields ------------------------------------------------------------------------------

def _str(body: dict, key: str, required: bool = False, default: str = "") -> str:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise BadRequest(f"missing required field '{key}'")
        return default
    if isinstance(value, (dict, list)):
        raise BadRequest(f"field '{key}' must be a string, not {type(value).__name__}")
    return str(value)


def _list(body: dict, key: str, required: bool = False) -> list[str]:
    value = body.get(key)
    if value in (None, "", []):
        if required:
            raise BadRequest(f"missing required field '{key}' (a list)")
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or any(isinstance(v, (dict, list, bool)) for v in value):
        raise BadRequest(f"field '{key}' must be a list of strings")
    return [str(v) for v in value if v is not None and str(v) != ""]


def _value(body: dict) -> str:
    """A secret's `value`: text (a JSON document is sent as a string, as ESO's PushSecret does)."""
    value = body.get("value")
    if value is None:
        raise BadRequest("missing required field 'value'")
    if not isinstance(value, str):
        raise BadRequest(f"field 'value' must be a string, not {type(value).__name__} "
                         "(send a JSON document as its text)")
    return value


def _bool(body: dict, key: str, default: bool | None = None) -> bool | None:
    value = body.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise BadRequest(f"field '{key}' must be true or false, not {_shown(value)}")


def _int(body: dict, key: str, default: int | None = None) -> int | None:
    value = body.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isascii() and value.strip().lstrip("+-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"field '{key}' must be an integer, not {_shown(value)}")
    return value


def _number(body: dict, key: str, default: float = 0.0) -> float:
    value = body.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise BadRequest(f"field '{key}' must be a number, not {_shown(value)}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"field '{key}' must be a finite number, not {_shown(value)}")
    return float(value)


def _shown(value) -> str:
    """A refused value, short: error bodies never echo a long field (it may be a key or a token)."""
    text = repr(value)
    return text if len(text) <= 40 else f"a {type(value).__name__} of {len(text)} characters"


def _caller(gw, body: dict, call: Call) -> Session:
    return gw.state.caller(_str(body, "token") or _str(body, "uid-token"), call)


# --- shapes --------------------------------------------------------------------------------------

def role_rules(role: Role) -> dict:
    return {"admin": False, "path_rules": [
        {"path": r["path"], "capabilities": list(r["capabilities"]), "type": r["type"], "ttl": r.get("ttl", 0)}
        for r in role.rules]}


def auth_method_out(gw, method: AuthMethod, perms: list[str]) -> dict:
    state = gw.state
    info: dict[str, Any] = {"access_expires": method.access_expires, "access_id_alias": "",
                            "jwt_ttl": method.jwt_ttl, "force_sub_claims": method.force_sub_claims,
                            "cidr_whitelist": "", "gw_cidr_whitelist": "", "rules_type": method.kind,
                            "product_types": [], "audit_logs_claims": []}
    if method.kind == "k8s":
        info["k8s_access_rules"] = {"bound_namespaces": method.bound_namespaces,
                                    "bound_service_account_names": method.bound_sa_names,
                                    "bound_pod_names": method.bound_pod_names, "audience": method.audience,
                                    "gen_key_pair": "true" if method.gen_key else "false",
                                    "pub_key": method.public_key, "alg": "RS256"}
    else:
        info["api_key_access_rules"] = {"alg": "sha256", "key": "",
                                        "modification_date": rfc3339(method.modified)}
    return {
        "auth_method_name": method.name, "auth_method_access_id": method.access_id,
        "auth_method_id": method.id, "account_id": state.account_id, "description": method.description,
        "creation_date": rfc3339(method.created), "modification_date": rfc3339(method.modified),
        "is_approved": True, "delete_protection": False, "client_permissions": perms,
        "access_info": info,
        "auth_method_roles_assoc": [
            {"assoc_id": a["assoc_id"], "role_name": r.name, "role_id": r.id,
             "auth_method_sub_claims": a["sub_claims"], "is_sub_claims_case_sensitive": a["case_sensitive"],
             "is_subclaims_with_operator": False, "rules": role_rules(r), "allowed_ops": []}
            for r, a in state.associations_of(method)],
    }


def role_out(gw, role: Role, perms: list[str]) -> dict:
    state = gw.state
    assocs = []
    for a in role.associations:
        method = state.auth_methods.get(a["am_name"])
        assocs.append({"assoc_id": a["assoc_id"], "auth_method_name": a["am_name"],
                       "auth_method_access_id": method.access_id if method else "",
                       "auth_method_id": method.id if method else 0,
                       "auth_method_sub_claims": a["sub_claims"], "sub_claims_case_sensitive": a["case_sensitive"],
                       "is_subclaims_with_operator": False})
    return {"role_name": role.name, "role_id": role.id, "comment": role.description,
            "description": role.description, "creation_date": rfc3339(role.created),
            "modification_date": rfc3339(role.modified), "client_permissions": perms, "delete_protection": False,
            "rules": role_rules(role), "role_auth_methods_assoc": assocs}


def item_out(item: Item, perms: list[str], *, minimal: bool = False) -> dict:
    out = {"item_name": item.name, "item_id": item.id, "display_id": f"{item.id:x}",
           "item_type": item.item_type, "item_sub_type": item.sub_type, "item_metadata": item.description,
           "item_tags": list(item.tags) or None, "last_version": item.last_version,
           "is_enabled": True, "item_state": "Enabled", "client_permissions": perms,
           "creation_date": rfc3339(item.created), "modification_date": rfc3339(item.modified)}
    if minimal:
        return out
    out.update({
        "item_size": len((item.version(0) or {}).get("value", "").encode("utf-8", "surrogatepass")),
        "access_date": rfc3339(item.modified), "with_customer_fragment": False, "public_value": "",
        "certificates": "", "protection_key_name": "lab-default-protection-key", "delete_protection":
        item.delete_protection, "certificate_issue_details": {}, "item_general_info": {},
        "item_versions": [{"version": v["version"], "creation_date": rfc3339(v["created"]),
                           "modification_date": rfc3339(v["modified"]), "item_version_state": "Active",
                           "protection_key_name": "lab-default-protection-key"} for v in item.versions],
    })
    return out


def config_out(config: K8sConfig) -> dict:
    return {"name": config.name, "id": config.id, "protection_key": "", "auth_method_access_id": config.access_id,
            "am_token_expiration": config.token_exp, "auth_method_prv_key_pem": config.signing_key,
            "k8s_host": config.k8s_host, "k8s_ca_cert": config.k8s_ca_cert, "k8s_issuer": config.k8s_issuer,
            "k8s_token_reviewer_jwt": config.token_reviewer_jwt, "k8s_pub_keys_pem": [],
            "disable_iss_validation": bool(config.disable_issuer_validation), "use_local_ca_jwt": False,
            "cluster_api_type": config.cluster_api_type, "k8s_auth_type": config.k8s_auth_type,
            "k8s_client_cert_data": "", "k8s_client_key_data": "", "rancher_api_key": "",
            "rancher_cluster_id": ""}


def config_change(config: K8sConfig) -> dict:
    return {"cluster_id": config.id, "total_hash": config.id, "parts_change": {}}


def session_out(session: Session) -> dict:
    return {"token": session.token, "expiration": rfc3339(session.expires),
            "creds": {"access_id": session.access_id, "token": session.token, "expiry": int(session.expires),
                      "sub_claims": session.sub_claims, "auth_creds": "", "uam_creds": "", "kfm_creds": "",
                      "required_mfa": ""}}


# --- authentication ------------------------------------------------------------------------------

def _jwt_from_field(value: str) -> str:
    """ESO sends base64(JWT); other clients send the raw JWT. Accept both."""
    value = (value or "").strip()
    if not value:
        raise BadRequest("missing required field 'k8s-service-account-token' (the service account's JWT, "
                         "raw or base64-encoded)")
    if value.count(".") == 2:
        return value
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            decoded = decode(value + "=" * (-len(value) % 4)).decode().strip()
        except (binascii.Error, ValueError, UnicodeDecodeError):
            continue
        if decoded.count(".") == 2:
            return decoded
    raise Unauthorized("failed to authenticate with kubernetes auth: k8s-service-account-token is neither a JWT "
                       "nor base64 of one")


def _jwt_claims(token: str) -> dict:
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return {}


async def auth(gw, body: dict, call: Call) -> dict:
    state = gw.state
    access_type = _str(body, "access-type", default="access_key")
    access_id = _str(body, "access-id")
    call.path = call.claimed_access_id = access_id
    if access_type in ("access_key", "api_key"):
        method = state.check_access_key(access_id, _str(body, "access-key"))
        sub_claims: dict = {}
    elif access_type == "k8s":
        method, sub_claims = await _auth_k8s(gw, body, access_id)
    else:
        raise BadRequest(f"access-type {access_type!r} is not supported by the lab gateway: use access_key "
                         "(alias api_key) or k8s")
    session = state.issue(method, sub_claims)
    call.caller, call.reason = session, f"authenticated ({method.kind})"
    return session_out(session)


def _k8s_fail(message: str) -> Unauthorized:
    return Unauthorized(f"failed to authenticate with kubernetes auth: {message}")


async def _auth_k8s(gw, body: dict, access_id: str) -> tuple[AuthMethod, dict]:
    state = gw.state
    if not access_id:
        raise BadRequest("missing required field 'access-id' (the k8s auth method's access id, p-...)")
    config_name = _str(body, "k8s-auth-config-name")
    if not config_name:
        raise BadRequest("missing required field 'k8s-auth-config-name' (the gateway's k8s auth config name)")
    jwt = _jwt_from_field(_str(body, "k8s-service-account-token"))
    config = state.configs.get(config_name)
    if config is None:
        known = ", ".join(sorted(state.configs)) or "none"
        raise _k8s_fail(f"k8s auth config {config_name!r} not found on this gateway (configs: {known})")
    if config.access_id != access_id:
        raise _k8s_fail(f"k8s auth config {config_name!r} belongs to access id {config.access_id}, "
                        f"not {access_id}")
    method = state.method_by_access_id(access_id)
    if method is None or method.kind != "k8s":
        raise _k8s_fail(f"access id {access_id} is not a Kubernetes auth method")
    if method.public_key.strip() != config.public_key.strip():
        raise _k8s_fail(f"the signing key of config {config_name!r} does not match auth method {method.name}: "
                        "update the config with the method's current prv_key")
    audiences = [method.audience] if method.audience else []
    outcome = await gw.reviewer.review(host=config.k8s_host, ca_cert=config.k8s_ca_cert,
                                       reviewer_jwt=config.token_reviewer_jwt, token=jwt, audiences=audiences)
    state.record_review({"config_name": config_name, "access_id": access_id, **outcome.record})
    if not outcome.ok:
        raise _k8s_fail(outcome.error)
    # the review awaited: re-read what may have changed meanwhile
    method = state.method_by_access_id(access_id)
    if method is None:
        raise _k8s_fail(f"auth method {access_id} was deleted during authentication")
    state._check_not_expired(method)
    claims = _jwt_claims(jwt)
    username = str(outcome.user.get("username", ""))
    parts = username.split(":")
    if len(parts) != 4 or parts[:2] != ["system", "serviceaccount"]:
        raise _k8s_fail(f"the token belongs to {username or 'an unknown user'}, not a service account")
    namespace, sa_name = parts[2], parts[3]
    extra = outcome.user.get("extra") or {}
    pod_name = (extra.get("authentication.kubernetes.io/pod-name") or [""])[0]
    pod_uid = (extra.get("authentication.kubernetes.io/pod-uid") or [""])[0]
    token_aud = claims.get("aud") or []
    token_aud = [token_aud] if isinstance(token_aud, str) else list(token_aud)
    aud = outcome.audiences or token_aud
    if config.disable_issuer_validation is False and config.k8s_issuer and claims.get("iss") != config.k8s_issuer:
        raise _k8s_fail(f"issuer validation failed: the token's iss is {claims.get('iss')!r}, the config expects "
                        f"{config.k8s_issuer!r} (fix k8s-issuer or set disable-issuer-validation)")
    bounds = (("bound-namespaces", method.bound_namespaces, namespace, "namespace"),
              ("bound-sa-names", method.bound_sa_names, sa_name, "service account"),
              ("bound-pod-names", method.bound_pod_names, pod_name, "pod"))
    for flag, allowed, value, noun in bounds:
        if allowed and value not in allowed:
            shown = value or "(none: the token is not bound to a pod)"
            raise _k8s_fail(f"{noun} {shown} is not in the auth method's {flag} [{', '.join(allowed)}]")
    if method.audience and method.audience not in aud:
        raise _k8s_fail(f"audience mismatch: the auth method requires audience {method.audience!r}, the token "
                        f"has {aud}")
    sub_claims = {"namespace": [namespace], "service_account_name": [sa_name],
                  "service_account_uid": [str(outcome.user.get("uid", ""))], "config_name": [config_name],
                  "access_id": [access_id]}
    if aud:
        sub_claims["aud"] = aud
    if pod_name:
        sub_claims["pod_name"] = [pod_name]
    if pod_uid:
        sub_claims["pod_uid"] = [pod_uid]
    return method, sub_claims


def validate_token(gw, body: dict, call: Call) -> dict:
    token = _str(body, "token")
    session = gw.state.session(token) if token else None
    now = gw.state.now()
    if session is None:
        call.reason = "unknown token"
        return {"is_valid": False, "reason": "the token is invalid or was revoked", "expiration": "", "ttl": 0,
                "last_rotate": ""}
    call.caller = session
    valid = session.expires > now
    call.reason = "valid token" if valid else "expired token"
    return {"is_valid": valid, "expiration": rfc3339(session.expires), "ttl": max(0, int(session.expires - now)),
            "last_rotate": rfc3339(session.issued), "reason": "" if valid else "token expired"}


def describe_sub_claims(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    call.reason = "own token"
    return {"sub_claims": session.sub_claims}


# --- auth methods --------------------------------------------------------------------------------

def _am_common(body: dict) -> dict:
    return {"description": _str(body, "description"), "jwt_ttl": _int(body, "jwt-ttl", 0) or 0,
            "access_expires": _int(body, "access-expires", 0) or 0,
            "force_sub_claims": bool(_bool(body, "force-sub-claims", False))}


def _am_guard(gw, body, call, name: str, capability: str) -> Session:
    session = _caller(gw, body, call)
    gw.state.require(session, call, access.normalize_path(name or "/"), capability, rule_type="auth-method-rule")
    return session


def create_api_key_method(gw, body: dict, call: Call) -> dict:
    name = _str(body, "name", required=True)
    _am_guard(gw, body, call, name, "create")
    method, key = gw.state.create_api_key_method(name, **_am_common(body))
    return {"access_id": method.access_id, "access_key": key, "name": method.name}


def _k8s_options(body: dict) -> dict:
    return {"bound_namespaces": _list(body, "bound-namespaces"), "bound_sa_names": _list(body, "bound-sa-names"),
            "bound_pod_names": _list(body, "bound-pod-names"), "audience": _str(body, "audience")}


def create_k8s_method(gw, body: dict, call: Call, *, new_style: bool = False) -> dict:
    name = _str(body, "name", required=True)
    _am_guard(gw, body, call, name, "create")
    gen_key = _bool(body, "gen-key", True)
    method, prv_key = gw.state.create_k8s_method(name, gen_key=bool(gen_key), public_key=_str(body, "public-key"),
                                                 **_am_common(body), **_k8s_options(body))
    out = {"access_id": method.access_id, "prv_key": prv_key}
    return {**out, "name": method.name, "access_key": "", "scim_base_url": ""} if new_style else out


def update_k8s_method(gw, body: dict, call: Call, *, new_style: bool = False) -> dict:
    name = _str(body, "name", required=True)
    _am_guard(gw, body, call, name, "update")
    options = {"bound_namespaces": _list(body, "bound-namespaces") if "bound-namespaces" in body else None,
               "bound_sa_names": _list(body, "bound-sa-names") if "bound-sa-names" in body else None,
               "bound_pod_names": _list(body, "bound-pod-names") if "bound-pod-names" in body else None,
               "audience": _str(body, "audience") if "audience" in body else None,
               "description": _str(body, "description") if "description" in body else None,
               "jwt_ttl": _int(body, "jwt-ttl") if body.get("jwt-ttl") else None}
    method, prv_key = gw.state.update_k8s_method(name, new_name=_str(body, "new-name"),
                                                 gen_key=_bool(body, "gen-key"), public_key=_str(body, "public-key"),
                                                 **options)
    return {"prv_key": prv_key, "name": method.name} if new_style else {"prv_key": prv_key}


def get_auth_method(gw, body: dict, call: Call) -> dict:
    name = _str(body, "name", required=True)
    session = _am_guard(gw, body, call, name, "read")
    method = gw.state.method(name)
    return auth_method_out(gw, method, gw.state.client_permissions(session, method.name, "auth-method-rule"))


def list_auth_methods(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    name_filter = _str(body, "filter")
    types = {("api_key" if t == "access_key" else t) for t in _list(body, "type")}
    out = []
    for method in sorted(gw.state.auth_methods.values(), key=lambda m: m.name):
        if name_filter and name_filter not in method.name:
            continue
        if types and method.kind not in types:
            continue
        perms = gw.state.client_permissions(session, method.name, "auth-method-rule")
        if perms:
            out.append(auth_method_out(gw, method, perms))
    call.reason = f"listed {len(out)} auth method(s)"
    return {"auth_methods": out or None, "next_page": ""}


def delete_auth_method(gw, body: dict, call: Call) -> dict:
    name = _str(body, "name", required=True)
    _am_guard(gw, body, call, name, "delete")
    return {"name": gw.state.delete_method(name).name}


# --- gateway k8s auth configs --------------------------------------------------------------------

def _config_values(body: dict) -> dict:
    return {"name": _str(body, "name") or None, "access_id": _str(body, "access-id") or None,
            "signing_key": _str(body, "signing-key") or None, "k8s_host": _str(body, "k8s-host") or None,
            "k8s_ca_cert": _str(body, "k8s-ca-cert") or None,
            "token_reviewer_jwt": _str(body, "token-reviewer-jwt") or None,
            "k8s_issuer": _str(body, "k8s-issuer") or None,
            "disable_issuer_validation": _bool(body, "disable-issuer-validation"),
            "token_exp": _int(body, "token-exp"), "cluster_api_type": _str(body, "cluster-api-type") or None,
            "k8s_auth_type": _str(body, "k8s-auth-type") or None}


def _use_gw_sa(body: dict) -> None:
    if _bool(body, "use-gw-service-account"):
        raise BadRequest("use-gw-service-account: the lab gateway does not run in a pod, so it has no service "
                         "account of its own; set token-reviewer-jwt (or omit it to use the caller's JWT)")


def gateway_create_k8s_config(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    call.path = _str(body, "name")
    gw.state.require_admin(session, call, "gateway-create-k8s-auth-config")
    _str(body, "name", required=True)
    _use_gw_sa(body)
    return config_change(gw.state.put_config(_config_values(body)))


def gateway_update_k8s_config(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    name = _str(body, "name", required=True)
    call.path = name
    gw.state.require_admin(session, call, "gateway-update-k8s-auth-config")
    _use_gw_sa(body)
    existing = gw.state.config(name)
    values = _config_values(body)
    values.pop("name")
    return config_change(gw.state.put_config(values, existing=existing, new_name=_str(body, "new-name", required=True)))


def gateway_get_k8s_config(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    name = _str(body, "name", required=True)
    call.path = name
    gw.state.require_admin(session, call, "gateway-get-k8s-auth-config")
    return config_out(gw.state.config(name))


def gateway_delete_k8s_config(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    name = _str(body, "name", required=True)
    call.path = name
    gw.state.require_admin(session, call, "gateway-delete-k8s-auth-config")
    return config_change(gw.state.delete_config(name))


# --- roles ---------------------------------------------------------------------------------------

def _role_guard(gw, body, call, name: str, capability: str) -> Session:
    session = _caller(gw, body, call)
    gw.state.require(session, call, access.normalize_path(name or "/"), capability, rule_type="role-rule")
    return session


def create_role(gw, body: dict, call: Call) -> dict:
    name = _str(body, "name", required=True)
    _role_guard(gw, body, call, name, "create")
    gw.state.create_role(name, _str(body, "description") or _str(body, "comment"))
    return {}


def get_role(gw, body: dict, call: Call) -> dict:
    name = _str(body, "name", required=True)
    session = _role_guard(gw, body, call, name, "read")
    role = gw.state.role(name)
    return role_out(gw, role, gw.state.client_permissions(session, role.name, "role-rule"))


def list_roles(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    name_filter = _str(body, "filter")
    out = []
    for role in sorted(gw.state.roles.values(), key=lambda r: r.name):
        if name_filter and name_filter not in role.name:
            continue
        perms = gw.state.client_permissions(session, role.name, "role-rule")
        if perms:
            out.append(role_out(gw, role, perms))
    call.reason = f"listed {len(out)} role(s)"
    return {"roles": out or None, "next_page": ""}


def delete_role(gw, body: dict, call: Call) -> dict:
    name = _str(body, "name", required=True)
    _role_guard(gw, body, call, name, "delete")
    gw.state.delete_role(name)
    return {}


def set_role_rule(gw, body: dict, call: Call) -> dict:
    name = _str(body, "role-name", required=True)
    _role_guard(gw, body, call, name, "update")
    gw.state.set_rule(name, _str(body, "path", required=True), _list(body, "capability", required=True),
                      _str(body, "rule-type", default="item-rule"), _int(body, "ttl", 0) or 0)
    return {}


def delete_role_rule(gw, body: dict, call: Call) -> dict:
    name = _str(body, "role-name", required=True)
    _role_guard(gw, body, call, name, "update")
    path = _str(body, "path", required=True)
    gw.state.delete_rule(name, path, _str(body, "rule-type", default="item-rule"))
    return {"deleted": True, "result": f"rule {access.normalize_path(path)} deleted from role {access.normalize_path(name)}"}


def _sub_claims(body: dict) -> dict | None:
    raw = body.get("sub-claims")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadRequest("field 'sub-claims' must be an object such as {\"namespace\": \"app-ns\"}")
    try:
        return access.parse_sub_claims(raw)
    except ValueError as exc:
        raise BadRequest(f"sub-claims: {exc}") from None


def assoc_role_am(gw, body: dict, call: Call) -> dict:
    role_name = _str(body, "role-name", required=True)
    _role_guard(gw, body, call, role_name, "update")
    assoc_id = gw.state.associate(role_name, _str(body, "am-name", required=True), _sub_claims(body) or {},
                                  bool(_bool(body, "case-sensitive", True)))
    return {"assoc_id": assoc_id}


def update_assoc(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    assoc_id = _str(body, "assoc-id", required=True)
    role, _ = gw.state._assoc(assoc_id)
    gw.state.require(session, call, role.name, "update", rule_type="role-rule")
    gw.state.update_assoc(assoc_id, _sub_claims(body), _bool(body, "case-sensitive"))
    return {}


def delete_assoc(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    assoc_id = _str(body, "assoc-id", required=True)
    role, _ = gw.state._assoc(assoc_id)
    gw.state.require(session, call, role.name, "update", rule_type="role-rule")
    gw.state.delete_assoc(assoc_id)
    return {}


# --- items ---------------------------------------------------------------------------------------

def create_secret(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    item = gw.state.create_secret(session, call, _str(body, "name", required=True), _value(body),
                                  description=_str(body, "description") or _str(body, "metadata"),
                                  tags=_list(body, "tags"), max_versions=_int(body, "max-versions", 0) or 0,
                                  fmt=_str(body, "format", default="text"),
                                  delete_protection=bool(_bool(body, "delete_protection", False)))
    return {"name": item.name}


def update_secret_val(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    value = _value(body)
    keep = _bool(body, "keep-prev-version")
    new_version = _bool(body, "new-version")
    # account default in the lab: versioning on, so each update is a new version unless told otherwise
    versioned = new_version if new_version is not None else (keep if keep is not None else True)
    item = gw.state.update_secret(session, call, _str(body, "name", required=True), value, new_version=versioned)
    return {"name": item.name}


def get_secret_value(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    names = _list(body, "names", required=True)
    version = _int(body, "version", 0) or 0
    if version < 0:
        raise BadRequest("negative versions (the last N versions) are not supported by the lab gateway: "
                         "ask for version 0 (latest) or a specific version number")
    out = {}
    for name in names:
        item = gw.state.item(session, call, name, "read", what="failed to get secret value")
        found = item.version(version)
        if found is None:
            raise NotFound(f"failed to get secret value: item {item.name} has no version {version} "
                           f"(last version is {item.last_version})")
        out[name] = found["value"]            # keyed exactly as requested: ESO looks it up that way
    if len(names) > 1:
        call.path = ",".join(access.normalize_path(n) for n in names)
    return out


def describe_item(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    item = gw.state.item(session, call, _str(body, "name", required=True), "list",
                         what="failed to obtain item description: Desc: Failed to get item.")
    return item_out(item, gw.state.client_permissions(session, item.name))


def list_items(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    path = _str(body, "path")
    call.path = path or "/"
    minimal = bool(_bool(body, "minimal-view", False))
    items = gw.state.list_items(session, path=path, name_filter=_str(body, "filter"), tag=_str(body, "tag"),
                                types=_list(body, "type"), current_folder=bool(_bool(body, "current-folder", False)))
    call.reason = f"listed {len(items)} item(s) the caller may list"
    if not items:
        return {"items": None, "folders": None, "next_page": ""}
    base = access.normalize_path(path) if path and path.strip("/") else ""
    folders = sorted({base + "/" + i.name[len(base) + 1:].split("/")[0] for i in items
                      if "/" in i.name[len(base) + 1:]})
    return {"items": [item_out(i, gw.state.client_permissions(session, i.name), minimal=minimal) for i in items],
            "folders": folders or None, "next_page": "", "has_next": False}


def delete_item(gw, body: dict, call: Call) -> dict:
    session = _caller(gw, body, call)
    version = _int(body, "version")
    item, deleted = gw.state.delete_item(session, call, _str(body, "name", required=True), version)
    return {"item_name": item.name, "item_id": item.id, "version_deleted": deleted,
            "deletion_date": as_time(gw.state.now())}


# --- lab-only ------------------------------------------------------------------------------------

def _lab_admin(gw, body: dict, call: Call) -> Session:
    session = _caller(gw, body, call)
    gw.state.require_admin(session, call, call.command)
    return session


def _tail(entries, body: dict) -> list:
    limit = _int(body, "limit", 100) or 100
    since = _number(body, "since")
    filters = {k: body[k] for k in ("command", "access_id", "config_name", "path") if body.get(k)}
    out = [e for e in entries if e.get("ts", 0) >= since and all(e.get(k) == v for k, v in filters.items())]
    return out[-limit:]


def lab_audit_log(gw, body: dict, call: Call) -> dict:
    _lab_admin(gw, body, call)
    entries = _tail(gw.state.audit, body)
    return {"entries": [{**e, "time": rfc3339(e["ts"])} for e in entries], "total": len(gw.state.audit),
            "recorded_since_start": gw.state.recorded}


def lab_token_reviews(gw, body: dict, call: Call) -> dict:
    _lab_admin(gw, body, call)
    entries = _tail(gw.state.reviews, body)
    return {"reviews": [{**e, "time": rfc3339(e["ts"])} for e in entries], "total": len(gw.state.reviews)}

