"""Attacks on the Kubernetes API, the same raw requests against the emulator and the real kube-apiserver:
RBAC escalation (escalate/bind), impersonation, and hostile bodies and headers. Each scenario's answer is
(status, reason, message) with volatile parts normalised, or a smaller tuple where only those parts are the
contract (tests/contract/test_guards.py says which).
"""
from __future__ import annotations

import gzip
import http.client
import json
from urllib.parse import urlparse

from .probe import Probe, normalise

NS = "guards"
RBAC = "rbac.authorization.k8s.io"
RBAC_V1 = f"/apis/{RBAC}/v1"


class RawProbe(Probe):
    """Probe with arbitrary headers and bytes (non-ASCII header values, gzip, YAML), in namespace NS."""

    def sa(self, name: str) -> dict:
        return self.call("POST", f"/api/v1/namespaces/{NS}/serviceaccounts",
                         {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})[1]

    def mint_in(self, name: str) -> str:
        status, body = self.call("POST", f"/api/v1/namespaces/{NS}/serviceaccounts/{name}/token",
                                 {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
        if status != 201:
            raise RuntimeError(f"minting for {name} failed: {status} {body}")
        return body["status"]["token"]

    def send(self, method: str, path: str, body: bytes | dict | None = None, token: str | None = "admin",
             headers: dict | None = None) -> tuple[int, object]:
        url = urlparse(self.url)
        connection = http.client.HTTPSConnection(url.hostname, url.port, context=self.ssl, timeout=30)
        sent = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            sent["Authorization"] = f"Bearer {self.admin if token == 'admin' else token}"
        sent.update(headers or {})
        data = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
        connection.putrequest(method, path)
        for key, value in sent.items():
            connection.putheader(key, value.encode("latin-1") if isinstance(value, str) else value)
        connection.putheader("Content-Length", str(len(data)))
        connection.endheaders()
        connection.send(data)
        response = connection.getresponse()
        raw = response.read()
        connection.close()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, raw.decode(errors="replace")


def _status(answer) -> tuple:
    code, body = answer
    if isinstance(body, dict) and body.get("kind") == "Status":
        return code, body.get("reason"), normalise(body.get("message"))
    return code, None, None


def _role(name: str, rules: list[dict], kind: str = "Role") -> dict:
    meta = {"name": name} | ({"namespace": NS} if kind == "Role" else {})
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": meta, "rules": rules}


def _binding(name: str, role_kind: str, role: str, sa: str, kind: str = "RoleBinding") -> dict:
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": NS}]}


def _rule(groups, resources, verbs, names=None) -> dict:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs} | ({"resourceNames": names} if names else {})


def scenarios(p: RawProbe) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    p.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    roles, bindings = f"{RBAC_V1}/namespaces/{NS}/roles", f"{RBAC_V1}/namespaces/{NS}/rolebindings"

    def grant(sa: str, rules: list[dict] | None = None, cluster_role: str | None = None, cluster: bool = False):
        """A ServiceAccount and, as the admin, a (Cluster)Role + binding giving it `rules` or `cluster_role`."""
        p.sa(sa)
        if rules is not None:
            kind = "ClusterRole" if cluster else "Role"
            path = f"{RBAC_V1}/clusterroles" if cluster else roles
            p.call("POST", path, _role(f"{sa}-rules", rules, kind))
            cluster_role, role_kind = f"{sa}-rules", kind
        else:
            role_kind = "ClusterRole"
        if cluster:
            p.call("POST", f"{RBAC_V1}/clusterrolebindings",
                   _binding(f"{sa}-binding", role_kind, cluster_role, sa, "ClusterRoleBinding"))
        else:
            p.call("POST", bindings, _binding(f"{sa}-binding", role_kind, cluster_role, sa))
        return p.mint_in(sa)

    binder = grant("binder", [_rule([RBAC], ["rolebindings"], ["create", "get", "list"])])
    # the real server's admin/edit/view are aggregated ClusterRoles, empty without kube-controller-manager: the
    # scenarios use ClusterRoles of their own, with the same rules on both servers
    p.call("POST", f"{RBAC_V1}/clusterroles", _role("guards-admin", [
        _rule([RBAC], ["roles", "rolebindings"], ["create", "get", "list", "update"]),
        _rule([""], ["secrets", "configmaps"], ["get", "list"])], "ClusterRole"))
    p.call("POST", f"{RBAC_V1}/clusterroles", _role("guards-wide", [
        _rule([""], ["secrets", "configmaps", "pods"], ["get", "list", "watch", "delete"]),
        {"nonResourceURLs": ["/metrics", "/logs/*"], "verbs": ["get"]}], "ClusterRole"))
    p.call("POST", f"{RBAC_V1}/clusterroles", _role("guards-reader", [_rule([""], ["secrets"], ["get"])], "ClusterRole"))
    nsadmin = grant("nsadmin", cluster_role="guards-admin")
    roler = grant("roler", [_rule([RBAC], ["roles"], ["create", "get", "update"])])
    escalator = grant("escalator", [_rule([RBAC], ["roles"], ["create", "escalate"])])
    delegate = grant("delegate", [_rule([RBAC], ["rolebindings"], ["create"]),
                                  _rule([RBAC], ["clusterroles"], ["bind"], ["cluster-admin"])])

    out["binder binds cluster-admin to itself"] = _status(p.call(
        "POST", bindings, _binding("grab", "ClusterRole", "cluster-admin", "binder"), token=binder))
    out["binder can still not read secrets"] = _status(p.call(
        "GET", f"/api/v1/namespaces/{NS}/secrets", token=binder))
    out["binder binds a role it does not hold"] = _status(p.call(
        "POST", bindings, _binding("grab-roler", "Role", "roler-rules", "binder"), token=binder))
    out["binder binds a missing clusterrole"] = _status(p.call(
        "POST", bindings, _binding("ghost", "ClusterRole", "no-such-role", "binder"), token=binder))
    out["namespace admin creates a */*/* role"] = _status(p.call(
        "POST", roles, _role("wild", [_rule(["*"], ["*"], ["*"])]), token=nsadmin))
    out["namespace admin binds cluster-admin"] = _status(p.call(
        "POST", bindings, _binding("grab-all", "ClusterRole", "cluster-admin", "nsadmin"), token=nsadmin))
    out["namespace admin creates a role within its rights"] = _status(p.call(
        "POST", roles, _role("small", [_rule([""], ["secrets"], ["get"])]), token=nsadmin))[:2]
    out["namespace admin binds a clusterrole it holds"] = _status(p.call(
        "POST", bindings, _binding("reader-for-binder", "ClusterRole", "guards-reader", "binder"), token=nsadmin))[:2]
    out["namespace admin binds a clusterrole it holds part of"] = _status(p.call(
        "POST", bindings, _binding("roler-for-binder", "ClusterRole", "guards-wide", "binder"), token=nsadmin))
    out["roler creates a role naming secrets it cannot read"] = _status(p.call(
        "POST", roles, _role("named", [_rule([""], ["secrets"], ["get", "list"], ["a", "b"]),
                                       _rule([""], ["configmaps"], ["get"])]), token=roler))
    p.call("POST", roles, _role("tiny", [_rule([RBAC], ["roles"], ["get"])]))
    status, current = p.call("GET", f"{roles}/tiny")
    widened = dict(current, rules=[_rule([""], ["secrets"], ["*"])])
    out["roler widens a role by update"] = _status(p.call("PUT", f"{roles}/tiny", widened, token=roler))
    relabelled = dict(current, metadata=dict(current["metadata"], labels={"team": "a"}))
    out["roler updates a role it could not create, rules unchanged"] = _status(p.call(
        "PUT", f"{roles}/tiny", relabelled, token=roler))
    out["escalator creates a */*/* role"] = _status(p.call(
        "POST", roles, _role("wild", [_rule(["*"], ["*"], ["*"])]), token=escalator))[:2]
    out["delegate binds cluster-admin with bind"] = _status(p.call(
        "POST", bindings, _binding("delegated", "ClusterRole", "cluster-admin", "delegate"), token=delegate))[:2]

    # impersonation: the filter checks users/serviceaccounts, groups, userextras/<key>, uids
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    ssr = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    p.sa("app")
    as_app = {"Impersonate-User": f"system:serviceaccount:{NS}:app"}
    imp = grant("imp", [_rule([""], ["serviceaccounts"], ["impersonate"])])
    extras = grant("extras", [_rule([""], ["serviceaccounts"], ["impersonate"]),
                              _rule(["authentication.k8s.io"], ["userextras/scopes"], ["impersonate"])], cluster=True)

    def who(answer):
        code, body = answer
        info = body.get("status", {}).get("userInfo") if isinstance(body, dict) and code == 201 else None
        return (code, info) if info is not None else _status(answer)

    out["impersonate a serviceaccount (groups implied, not checked)"] = who(p.send("POST", ssr, review, imp, as_app))
    out["impersonate with an extra, not allowed"] = _status(p.send(
        "POST", ssr, review, imp, as_app | {"Impersonate-Extra-Scopes": "read"}))
    out["impersonate with an extra, allowed"] = who(p.send(
        "POST", ssr, review, extras, as_app | {"Impersonate-Extra-Scopes": "read"}))
    out["impersonate with another extra key"] = _status(p.send(
        "POST", ssr, review, extras, as_app | {"Impersonate-Extra-Other": "x"}))
    out["impersonate a group without the right"] = _status(p.send(
        "POST", ssr, review, imp, as_app | {"Impersonate-Group": "system:masters"}))
    out["impersonate a user without the right"] = _status(p.send(
        "POST", ssr, review, imp, {"Impersonate-User": "alice"}))

    # hostile bodies and headers
    cms = f"/api/v1/namespaces/{NS}/configmaps"

    def cm(name: str, **extra) -> bytes:
        return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, **extra}).encode()
    out["json nested 10,001 deep"] = _status(p.send("POST", cms, cm("deep", x=0).replace(
        b"0}", b"[" * 10001 + b"]" * 10001 + b"}")))
    out["json nested 300 deep in data"] = _status(p.send("POST", cms, cm("deep", data={"k": 0}).replace(
        b"0}", b"[" * 300 + b"]" * 300 + b"}")))[:2]
    out["json nested 300 deep in an unknown field"] = _status(p.send("POST", cms + "?dryRun=All", cm(
        "deep", x=0).replace(b"0}", b"[" * 300 + b"]" * 300 + b"}")))[:2]
    out["body over 3 MiB"] = _status(p.send("POST", cms, cm("big", data={"k": "x" * (3 * 1024 * 1024)})))
    # Go's JSON syntax errors are worded otherwise than Python's: status and reason are the contract
    out["gzip body"] = _status(p.send("POST", cms, gzip.compress(cm("gz")), headers={"Content-Encoding": "gzip"}))[:2]
    out["not gzip, declared gzip"] = _status(p.send("POST", cms, b"notgzip",
                                                    headers={"Content-Encoding": "gzip"}))[:2]
    bomb = b"apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\nspec:\n  resourceAttributes: " \
           b"{verb: get, resource: pods}\nx:\n  a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(
               f"  {c}: &{c} [{','.join(['*' + a] * 9)}]\n" for a, c in zip("abcdefgh", "bcdefghi")).encode()
    out["yaml alias bomb"] = _status(p.send("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                            bomb, headers={"Content-Type": "application/yaml"}))[:2]
    out["Infinity in a body"] = _status(p.send("POST", cms, b'{"apiVersion":"v1","kind":"ConfigMap",'
                                                          b'"metadata":{"name":"i"},"data":{"a":Infinity}}'))
    lone = b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"lone"},"stringData":{"k":"a\\ud800b"}}'
    code, created = p.send("POST", f"/api/v1/namespaces/{NS}/secrets", lone)
    out["stringData with a lone surrogate"] = (code, created.get("data") if isinstance(created, dict) else created)
    code, reviewed = p.send("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                            b'{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview",'
                            b'"spec":{"token":"\\ud800"}}')
    out["tokenreview of a lone surrogate"] = (code, normalise(reviewed.get("status")) if code == 201 else reviewed)
    out["non-ASCII Authorization"] = _status(p.send("GET", "/api/v1/namespaces", token=None,
                                                    headers={"Authorization": b"Bearer \xc3\xa9\xff"}))
    token = p.mint_in("app")
    for suffix in ("==", "!!==", "="):
        out[f"bearer token with {suffix} appended"] = _status(p.send("GET", "/api/v1/namespaces", token=token + suffix))
        out[f"tokenreview of a token with {suffix} appended"] = normalise(p.review(token + suffix)[1].get("status"))
    applied = f"{cms}/applied?fieldManager=guards"
    apply_type = {"Content-Type": "application/apply-patch+yaml"}
    out["apply nested 10,001 deep"] = _status(p.send("PATCH", applied, cm("applied", x=0).replace(
        b"0}", b"[" * 10001 + b"]" * 10001 + b"}"), headers=apply_type))[:2]
    out["apply body over 3 MiB"] = _status(p.send("PATCH", applied, cm("applied", data={"k": "x" * (3 * 1024 * 1024)}),
                                                  headers=apply_type))
    out["apply yaml alias bomb"] = _status(p.send("PATCH", applied, bomb.replace(
        b"authorization.k8s.io/v1\nkind: SelfSubjectAccessReview", b"v1\nkind: ConfigMap"), headers=apply_type))
    out["apply of binary garbage"] = _status(p.send("PATCH", applied, b"\xff\xfe\x00garbage", headers=apply_type))
    out["apply declared gzip"] = _status(p.send("PATCH", applied, gzip.compress(cm("applied")),
                                                headers={**apply_type, "Content-Encoding": "gzip"}))[:2]
    out["nothing stored by the hostile applies"] = _status(p.send("GET", f"{cms}/applied"))
    p.call("POST", cms, json.loads(cm("patched", data={"a": "1"})))
    out["json patch with a non-ASCII digit"] = _status(p.send(
        "PATCH", f"{cms}/patched", '[{"op":"add","path":"/metadata/finalizers","value":["a"]},'
        '{"op":"add","path":"/metadata/finalizers/\u00b2","value":"x"}]'.encode(),
        headers={"Content-Type": "application/json-patch+json"}))[:2]
    p.call("DELETE", f"/api/v1/namespaces/{NS}")
    for name in ("guards-admin", "guards-reader", "guards-wide"):
        p.call("DELETE", f"{RBAC_V1}/clusterroles/{name}")
    for name in ("binder", "roler", "escalator", "delegate", "imp", "extras", "nsadmin"):
        p.call("DELETE", f"{RBAC_V1}/clusterroles/{name}-rules")
        p.call("DELETE", f"{RBAC_V1}/clusterrolebindings/{name}-binding")
    return out


SCENARIOS = (
    'binder binds cluster-admin to itself',
    'binder can still not read secrets',
    'binder binds a role it does not hold',
    'binder binds a missing clusterrole',
    'namespace admin creates a */*/* role',
    'namespace admin binds cluster-admin',
    'namespace admin creates a role within its rights',
    'namespace admin binds a clusterrole it holds',
    'namespace admin binds a clusterrole it holds part of',
    'roler creates a role naming secrets it cannot read',
    'roler widens a role by update',
    'roler updates a role it could not create, rules unchanged',
    'escalator creates a */*/* role',
    'delegate binds cluster-admin with bind',
    'impersonate a serviceaccount (groups implied, not checked)',
    'impersonate with an extra, not allowed',
    'impersonate with an extra, allowed',
    'impersonate with another extra key',
    'impersonate a group without the right',
    'impersonate a user without the right',
    'json nested 10,001 deep',
    'json nested 300 deep in data',
    'json nested 300 deep in an unknown field',
    'body over 3 MiB',
    'gzip body',
    'not gzip, declared gzip',
    'yaml alias bomb',
    'Infinity in a body',
    'stringData with a lone surrogate',
    'tokenreview of a lone surrogate',
    'non-ASCII Authorization',
    'bearer token with == appended',
    'tokenreview of a token with == appended',
    'bearer token with !!== appended',
    'tokenreview of a token with !!== appended',
    'bearer token with = appended',
    'tokenreview of a token with = appended',
    'apply nested 10,001 deep',
    'apply body over 3 MiB',
    'apply yaml alias bomb',
    'apply of binary garbage',
    'apply declared gzip',
    'nothing stored by the hostile applies',
    'json patch with a non-ASCII digit',
)


def run_lab(settings) -> dict:
    from helpers import lab as lab_runtime
    info = lab_runtime.up(settings)
    try:
        return scenarios(RawProbe(info.dir, info.kube_url))
    finally:
        lab_runtime.down(settings)
