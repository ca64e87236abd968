"""The command table: every V2 command name the emulator answers, and its handler.

Both the old CLI names (`create-auth-method-k8s`) and the new ones (`auth-method-create-k8s`) are
listed, because the SDK exposes both and learners meet both in the docs.
"""
from __future__ import annotations

from functools import partial

from . import responses as r

# the URL prefixes a V2 client may use: SaaS root, legacy gateway :8080/v2, unified gateway /api/v2
PREFIXES = ("/api/v2", "/v2")

COMMANDS = {
    "auth": r.auth,
    "validate-token": r.validate_token,
    "describe-sub-claims": r.describe_sub_claims,
    # auth methods
    "create-auth-method": r.create_api_key_method,
    "auth-method-create-api-key": r.create_api_key_method,
    "create-auth-method-k8s": r.create_k8s_method,
    "auth-method-create-k8s": partial(r.create_k8s_method, new_style=True),
    "update-auth-method-k8s": r.update_k8s_method,
    "auth-method-update-k8s": partial(r.update_k8s_method, new_style=True),
    "get-auth-method": r.get_auth_method,
    "auth-method-get": r.get_auth_method,
    "list-auth-methods": r.list_auth_methods,
    "auth-method-list": r.list_auth_methods,
    "delete-auth-method": r.delete_auth_method,
    "auth-method-delete": r.delete_auth_method,
    # the gateway's Kubernetes auth configs
    "gateway-create-k8s-auth-config": r.gateway_create_k8s_config,
    "gateway-update-k8s-auth-config": r.gateway_update_k8s_config,
    "gateway-get-k8s-auth-config": r.gateway_get_k8s_config,
    "gateway-delete-k8s-auth-config": r.gateway_delete_k8s_config,
    # roles
    "create-role": r.create_role,
    "get-role": r.get_role,
    "list-roles": r.list_roles,
    "delete-role": r.delete_role,
    "set-role-rule": r.set_role_rule,
    "delete-role-rule": r.delete_role_rule,
    "assoc-role-am": r.assoc_role_am,
    "update-assoc": r.update_assoc,
    "delete-assoc": r.delete_assoc,
    # static secrets
    "create-secret": r.create_secret,
    "update-secret-val": r.update_secret_val,
    "get-secret-value": r.get_secret_value,
    "describe-item": r.describe_item,
    "list-items": r.list_items,
    "delete-item": r.delete_item,
}

# lab-only reads, served under /lab-only/ next to the lab's clock; an Akeyless admin token authorises them
LAB_ONLY = {
    "audit-log": r.lab_audit_log,
    "token-reviews": r.lab_token_reviews,
}


def command_of(path: str) -> str:
    """`//api/v2//get-secret-value` -> `get-secret-value`; a bare root -> ``."""
    parts = [p for p in path.split("/") if p]
    clean = "/" + "/".join(parts)
    for prefix in PREFIXES:
        if clean == prefix or clean.startswith(prefix + "/"):
            clean = clean[len(prefix):]
            break
    return clean.strip("/")
