"""What a fresh API server creates for itself: system namespaces and the bootstrap RBAC policy.

Like the API server's rbac/bootstrap-roles hook, missing bootstrap objects are re-created on every start
(a learner who deletes cluster-admin gets it back after `lab down` / `lab up`), and existing ones are left
alone. Aggregated roles (view, edit, admin) carry the rules relevant to the kinds the lab serves.
"""
from __future__ import annotations

from . import managedfields
from .resources import AUTHN, AUTHZ, CLUSTERROLEBINDINGS, CLUSTERROLES, NAMESPACES, RBAC

MANAGER = "kube-apiserver"      # the field manager of what the API server writes for itself

NAMESPACE_NAMES = ("default", "kube-system", "kube-public", "kube-node-lease")

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]


def _rule(groups, resources, verbs, names=None) -> dict:
    rule = {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}
    if names:
        rule["resourceNames"] = list(names)
    return rule


def _urls(urls, verbs=("get",)) -> dict:
    return {"verbs": list(verbs), "nonResourceURLs": list(urls)}


_VIEW = [_rule([""], ["configmaps", "serviceaccounts", "namespaces"], READ),
         _rule([""], ["namespaces/status"], READ)]
_EDIT = [_rule([""], ["configmaps", "secrets", "serviceaccounts"], WRITE + READ),
         _rule([""], ["serviceaccounts/token"], ["create"]),
         _rule([""], ["serviceaccounts"], ["impersonate"])]
_ADMIN = [_rule([RBAC], ["roles", "rolebindings"], WRITE + READ),
          _rule([AUTHZ], ["localsubjectaccessreviews"], ["create"])]

CLUSTER_ROLES = {
    "cluster-admin": [_rule(["*"], ["*"], ["*"]), _urls(["*"], ["*"])],
    "admin": _ADMIN + _EDIT + _VIEW,
    "edit": _EDIT + _VIEW,
    "view": _VIEW,
    "system:auth-delegator": [_rule([AUTHN], ["tokenreviews"], ["create"]),
                              _rule([AUTHZ], ["subjectaccessreviews"], ["create"])],
    "system:basic-user": [_rule([AUTHN], ["selfsubjectreviews"], ["create"]),
                          _rule([AUTHZ], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"])],
    "system:discovery": [_urls(["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                                "/openapi/*", "/readyz", "/version", "/version/"])],
    "system:public-info-viewer": [_urls(["/healthz", "/livez", "/readyz", "/version", "/version/"])],
    "system:service-account-issuer-discovery": [_urls(["/.well-known/openid-configuration",
                                                       "/.well-known/openid-configuration/",
                                                       "/openid/v1/jwks", "/openid/v1/jwks/"])],
}

_GROUP = "Group"
CLUSTER_ROLE_BINDINGS = {
    "cluster-admin": ("cluster-admin", ["system:masters"]),
    "system:basic-user": ("system:basic-user", ["system:authenticated"]),
    "system:discovery": ("system:discovery", ["system:authenticated"]),
    "system:public-info-viewer": ("system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]),
    "system:service-account-issuer-discovery": ("system:service-account-issuer-discovery",
                                                ["system:serviceaccounts"]),
}

_BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
_AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}


def ensure(store) -> None:
    def create(resource, obj: dict, *server_set: str) -> None:
        managedfields.record_update(resource, None, obj, MANAGER, store.now(), server_set)
        store.create(resource, "", obj)

    for name in NAMESPACE_NAMES:
        if store.peek(NAMESPACES, "", name) is None:
            create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {
                "name": name, "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}, "spec.finalizers")
    for name, rules in CLUSTER_ROLES.items():
        if store.peek(CLUSTERROLES, "", name) is None:
            create(CLUSTERROLES, {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {
                "name": name, "labels": dict(_BOOTSTRAP_LABELS), "annotations": dict(_AUTOUPDATE)}, "rules": rules})
    for name, (role, groups) in CLUSTER_ROLE_BINDINGS.items():
        if store.peek(CLUSTERROLEBINDINGS, "", name) is None:
            create(CLUSTERROLEBINDINGS, {
                "apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": name, "labels": dict(_BOOTSTRAP_LABELS), "annotations": dict(_AUTOUPDATE)},
                "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
                "subjects": [{"apiGroup": RBAC, "kind": _GROUP, "name": g} for g in groups]})
