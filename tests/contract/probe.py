"""Differential probe: the same raw HTTP requests against the emulated and the real Kubernetes API,
with every answer normalised (uids, resource versions, timestamps, tokens) so the two can be compared
byte for byte.

    .venv/bin/python -m tests.contract.probe            # prints every scenario whose answers differ

Used by tests/contract/test_differential.py; the findings are kept in the lab notes (contract-diffs).
Each scenario returns (HTTP status, body); bodies are the JSON the server sent, normalised.
"""
from __future__ import annotations

import base64
import json
import re
import ssl
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import jwt

NS = "probe"
ISSUER = "https://kubernetes.default.svc.cluster.local"
UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
PORT = re.compile(r"//127\.0\.0\.1:\d+")
AGE = re.compile(r"(\d+[smhdy])+")
VOLATILE = {"uid": "<uid>", "resourceVersion": "<rv>", "creationTimestamp": "<time>", "token": "<jwt>",
            "expirationTimestamp": "<time>", "deletionTimestamp": "<time>", "time": "<time>"}


def normalise(value, key: str | None = None):
    if key in VOLATILE and value not in (None, ""):
        return VOLATILE[key]
    if isinstance(value, dict):
        # managedFields (server-side-apply bookkeeping) is compared once, in its own scenario
        return {k: normalise(v, k) for k, v in sorted(value.items()) if k != "managedFields"}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        return PORT.sub("//127.0.0.1:<port>", STAMP.sub("<time>", UID.sub("<uid>", JWT.sub("<jwt>", value))))
    return value


def decode(token: str) -> tuple[dict, dict]:
    def part(segment: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    head, payload = token.split(".")[:2]
    return part(head), part(payload)


class Probe:
    """One lab's Kubernetes API, spoken to with raw HTTPS so status codes and bodies are exact."""

    def __init__(self, lab_dir: Path, url: str):
        self.dir, self.url = Path(lab_dir), url
        self.admin = (self.dir / "admin.token").read_text().strip()
        self.ssl = ssl.create_default_context(cafile=str(self.dir / "ca.crt"))

    def call(self, method: str, path: str, body=None, token: str | None = "admin",
             accept: str = "application/json", content_type: str = "application/json") -> tuple[int, object]:
        """`body`: an object sent as JSON, or str/bytes sent as they are."""
        headers = {"Accept": accept, "Content-Type": content_type}
        if token:
            headers["Authorization"] = f"Bearer {self.admin if token == 'admin' else token}"
        if isinstance(body, str):
            body = body.encode()
        data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, context=self.ssl, timeout=10) as response:
                status, raw = response.status, response.read()
                self.content_type = response.headers.get("Content-Type")
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
            self.content_type = exc.headers.get("Content-Type")
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    # --- set-up helpers ------------------------------------------------------------------------

    def sa(self, name: str) -> dict:
        return self.call("POST", f"/api/v1/namespaces/{NS}/serviceaccounts",
                         {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})[1]

    def mint(self, name: str, spec: dict | None = None) -> str:
        status, body = self.call("POST", f"/api/v1/namespaces/{NS}/serviceaccounts/{name}/token",
                                 {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                  "spec": spec or {}})
        if status != 201:
            raise RuntimeError(f"minting for {name} failed: {status} {body}")
        return body["status"]["token"]

    def review(self, token: str, audiences=None, caller: str = "admin"):
        spec = {"token": token} | ({"audiences": audiences} if audiences is not None else {})
        return self.call("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                         {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec},
                         token=caller)

    def forge(self, template: str, **changes) -> str:
        """A token signed with the lab's real SA key: same header and claims as `template`, changed."""
        head, claims = decode(template)
        key = (self.dir / "sa.key").read_bytes()
        return jwt.encode({**claims, **changes}, key, algorithm="RS256", headers={"kid": head["kid"]})


def scenarios(p: Probe) -> dict[str, tuple[int, object]]:
    """Every scenario's normalised answer, by name. Creates namespace `probe` and its objects."""
    out: dict[str, tuple[int, object]] = {}

    def record(name: str, answer) -> None:
        status, body = answer
        out[name] = (status, normalise(body))

    ns_body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
    record("namespace create", p.call("POST", "/api/v1/namespaces", ns_body))
    record("namespace create again", p.call("POST", "/api/v1/namespaces", ns_body))
    record("namespace missing", p.call("GET", "/api/v1/namespaces/nope"))
    record("serviceaccount in a missing namespace",
           p.call("POST", "/api/v1/namespaces/nope/serviceaccounts",
                  {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x"}}))
    record("serviceaccount create", (201, p.sa("app")))
    record("serviceaccount invalid name",
           p.call("POST", f"/api/v1/namespaces/{NS}/serviceaccounts",
                  {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "Bad_Name"}}))
    status, listing = p.call("GET", f"/api/v1/namespaces/{NS}/serviceaccounts")
    out["serviceaccount names in a new namespace"] = (status, sorted(i["metadata"]["name"] for i in listing["items"]))

    token_path = f"/api/v1/namespaces/{NS}/serviceaccounts/app/token"

    def token_request(spec):
        return p.call("POST", token_path, {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                           "spec": spec})
    record("tokenrequest defaults", token_request({}))
    record("tokenrequest 600 s with audience", token_request({"audiences": ["akeyless"], "expirationSeconds": 600}))
    record("tokenrequest 599 s", token_request({"expirationSeconds": 599}))
    record("tokenrequest 2^32 s", token_request({"expirationSeconds": 2 ** 32 + 1}))
    record("tokenrequest missing serviceaccount",
           p.call("POST", f"/api/v1/namespaces/{NS}/serviceaccounts/ghost/token",
                  {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}))
    record("tokenrequest in a missing namespace",
           p.call("POST", "/api/v1/namespaces/nope/serviceaccounts/ghost/token",
                  {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}))
    record("tokenrequest bound to a missing pod",
           token_request({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "nope"}}))

    token = p.mint("app")
    head, claims = decode(token)
    out["token header keys"] = (0, sorted(head))
    out["token claims"] = (0, normalise({k: v for k, v in claims.items() if k not in ("exp", "iat", "nbf", "jti")}))
    out["token lifetimes"] = (0, {"exp-iat (default)": claims["exp"] - claims["iat"],
                                  "nbf==iat": claims["nbf"] == claims["iat"],
                                  "jti is uuid": bool(UID.fullmatch(claims.get("jti", "")))})
    _, long_claims = decode(p.mint("app", {"expirationSeconds": 172800}))
    out["token lifetime 48 h"] = (0, long_claims["exp"] - long_claims["iat"])

    # the reviewer, bound to system:auth-delegator as the Akeyless gateway's reviewer is
    p.sa("reviewer")
    p.call("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "probe-reviewer"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:auth-delegator"},
        "subjects": [{"kind": "ServiceAccount", "name": "reviewer", "namespace": NS}]})
    reviewer = p.mint("reviewer")
    p.sa("nobody")
    nobody = p.mint("nobody")

    record("review valid, no audiences", p.review(token, caller=reviewer))
    record("review valid, issuer audience", p.review(token, [ISSUER], caller=reviewer))
    record("review valid, two audiences", p.review(token, [ISSUER, "other"], caller=reviewer))
    record("review wrong audience", p.review(token, ["akeyless"], caller=reviewer))
    record("review garbage", p.review("not-a-jwt", caller=reviewer))
    record("review empty token", p.review("", caller=reviewer))
    record("review tampered signature", p.review(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
                                                 caller=reviewer))
    now = int(time.time())
    record("review expired", p.review(p.forge(token, iat=now - 7200, nbf=now - 7200, exp=now - 3600),
                                      caller=reviewer))
    record("review not yet valid", p.review(p.forge(token, iat=now + 3600, nbf=now + 3600, exp=now + 7200),
                                            caller=reviewer))
    record("review foreign issuer", p.review(p.forge(token, iss="https://elsewhere.example"), caller=reviewer))
    record("review by a caller without auth-delegator", p.review(token, caller=nobody))
    record("review by the admin", p.review(token))

    p.sa("gone")
    gone = p.mint("gone")
    p.call("DELETE", f"/api/v1/namespaces/{NS}/serviceaccounts/gone")
    record("review after the serviceaccount is deleted", p.review(gone, caller=reviewer))
    p.sa("gone")
    record("review after the serviceaccount is recreated", p.review(gone, caller=reviewer))

    # a real API server caches a successful token authentication for 10 s (TokenReview included)
    p.sa("cached")
    cached = p.mint("cached")
    p.review(cached, caller=reviewer)
    p.call("DELETE", f"/api/v1/namespaces/{NS}/serviceaccounts/cached")
    record("review again right after the serviceaccount is deleted", p.review(cached, caller=reviewer))

    record("sa token calls the API (wrong audience for the API)",
           p.call("GET", f"/api/v1/namespaces/{NS}/secrets", token=p.mint("nobody", {"audiences": ["akeyless"]})))
    record("bad bearer token", p.call("GET", "/api/v1/namespaces", token="bogus"))
    record("anonymous list", p.call("GET", "/api/v1/namespaces", token=None))
    record("anonymous readyz", p.call("GET", "/readyz", token=None))
    record("selfsubjectreview as a serviceaccount",
           p.call("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                  {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}, token=nobody))

    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
              "stringData": {"password": "s3cr3t"}}
    status, created = p.call("POST", f"/api/v1/namespaces/{NS}/secrets", secret)
    record("secret create with stringData", (status, created))
    out["managedFields on a created object"] = (0, [(entry.get("manager"), entry.get("operation"))
                                                    for entry in created["metadata"].get("managedFields", [])])
    record("secret read without RBAC", p.call("GET", f"/api/v1/namespaces/{NS}/secrets/creds", token=nobody))
    record("secret missing", p.call("GET", f"/api/v1/namespaces/{NS}/secrets/nope"))
    status, current = p.call("GET", f"/api/v1/namespaces/{NS}/secrets/creds")
    stale = dict(current, metadata=dict(current["metadata"], resourceVersion="1"))
    record("secret update with a stale resourceVersion", p.call("PUT", f"/api/v1/namespaces/{NS}/secrets/creds", stale))

    record("openid configuration", p.call("GET", "/.well-known/openid-configuration"))
    record("openid configuration, anonymous", p.call("GET", "/.well-known/openid-configuration", token=None))
    record("openid configuration, as a serviceaccount",
           (p.call("GET", "/.well-known/openid-configuration", token=nobody)[0], None))
    status, jwks = p.call("GET", "/openid/v1/jwks", accept="application/jwk-set+json")
    out["jwks key fields and content type"] = (status, [sorted(jwks["keys"][0]) if status == 200 else jwks,
                                                        p.content_type])
    record("jwks with Accept: application/json only", p.call("GET", "/openid/v1/jwks"))
    record("jwks, anonymous", p.call("GET", "/openid/v1/jwks", token=None, accept="*/*"))
    status, minted = token_request({})
    out["tokenrequest metadata.uid is the serviceaccount's"] = (
        status, minted["metadata"].get("uid") == p.call("GET", f"/api/v1/namespaces/{NS}/serviceaccounts/app")[1]
        ["metadata"]["uid"])
    record("selfsubjectreview as the admin",
           p.call("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                  {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}))
    for kind in ("serviceaccounts", "configmaps"):
        status, listing = p.call("GET", f"/api/v1/namespaces/default/{kind}")
        record(f"list in the default namespace: {kind}", (status, [i["metadata"]["name"] for i in listing["items"]]))

    table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    for path in (f"/api/v1/namespaces/{NS}/serviceaccounts/app", f"/api/v1/namespaces/{NS}/secrets",
                 "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/probe-reviewer", f"/api/v1/namespaces/{NS}"):
        status, body = p.call("GET", path, accept=table)
        described = [c.pop("description", "") != "" for c in body.get("columnDefinitions", [])]
        for row in body.get("rows", []):
            # managedFields is compared in its own scenario; ages depend on when each server ran
            row["object"] = sorted(k for k in row["object"]["metadata"] if k != "managedFields")
            row["cells"] = ["<age>" if isinstance(c, str) and AGE.fullmatch(c) else c for c in row["cells"]]
        record(f"table {path}", (status, body))
        out[f"table column descriptions {path.rsplit('/', 1)[-1]}"] = (status, described)
    record("dry-run delete of a serviceaccount", p.call("DELETE", f"/api/v1/namespaces/{NS}/serviceaccounts/app",
                                                        {"kind": "DeleteOptions", "apiVersion": "v1",
                                                         "dryRun": ["All"]}))
    record("dry-run delete of a secret", p.call("DELETE", f"/api/v1/namespaces/{NS}/secrets/creds?dryRun=All"))
    record("dry-run delete of a namespace", p.call("DELETE", f"/api/v1/namespaces/{NS}?dryRun=All"))
    record("dry-run create", p.call("POST", f"/api/v1/namespaces/{NS}/configmaps?dryRun=All",
                                    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}}))
    record("dry-run bad value", p.call("POST", f"/api/v1/namespaces/{NS}/configmaps?dryRun=Maybe",
                                       {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}}))
    record("after the dry runs", p.call("GET", f"/api/v1/namespaces/{NS}/serviceaccounts/app"))
    out.update(apply_scenarios(p))
    record("namespace delete", p.call("DELETE", f"/api/v1/namespaces/{NS}"))
    status, after = p.call("GET", f"/api/v1/namespaces/{NS}")
    out["namespace right after delete"] = (status, normalise(after.get("status", after))
                                           if isinstance(after, dict) else after)
    return out


APPLY = "application/apply-patch+yaml"


def managed_fields(answer) -> tuple[int, object]:
    """An answer's managedFields as (manager, operation, fieldsV1, has a time), or the error it was."""
    status, body = answer
    if isinstance(body, dict) and body.get("reason") == "Conflict" and "causes" in body.get("details", {}):
        # upstream lists an apply's conflicts in Go map order, which changes from run to run
        body["details"]["causes"].sort(key=lambda cause: (cause["message"], cause["field"]))
    if not isinstance(body, dict) or body.get("kind") == "Status":
        return status, normalise(body)
    return status, [(e["manager"], e["operation"], e.get("subresource"), e["fieldsV1"], "time" in e)
                    for e in body["metadata"].get("managedFields", [])]


def apply_scenarios(p: Probe) -> dict[str, tuple[int, object]]:
    """Server-side apply as raw requests: ownership after each write, conflicts, and malformed applies."""
    out: dict[str, tuple[int, object]] = {}
    cms = f"/api/v1/namespaces/{NS}/configmaps"

    def cm(name: str = "applied", **fields) -> str:
        meta = {"name": name, **fields.pop("meta", {})}
        return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, **fields})

    def apply(path: str, body, manager: str | None = "alice", query: str = "", content_type: str = APPLY):
        sep = "&" if "?" in path else "?"
        args = "&".join(a for a in (f"fieldManager={manager}" if manager else "", query) if a)
        return p.call("PATCH", path + (sep + args if args else ""), body, content_type=content_type)

    target = f"{cms}/applied"
    first = apply(target, cm(data={"a": "1", "b": "2"}, meta={"labels": {"x": "1"}}))
    out["apply creates"] = (first[0], normalise(first[1]))
    out["apply creates: managed fields"] = managed_fields(first)
    out["apply co-owning a value"] = managed_fields(apply(target, cm(data={"a": "1"}), "bob"))
    out["apply dropping fields"] = managed_fields(apply(target, cm(data={"c": "3"})))
    out["apply dropping fields: the object"] = (0, normalise(p.call("GET", target)[1].get("data")))
    out["apply conflict"] = managed_fields(apply(target, cm(data={"a": "1", "c": "9"}), "bob"))
    out["apply conflicts with two managers"] = managed_fields(
        apply(target, cm(data={"a": "2", "c": "9"}), "carol"))
    out["apply forced"] = managed_fields(apply(target, cm(data={"a": "1", "c": "9"}), "bob", "force=true"))
    out["merge patch after apply"] = managed_fields(apply(target, json.dumps({"data": {"d": "4", "c": "10"}}), None,
                                                          content_type="application/merge-patch+json"))
    current = p.call("GET", target)[1]
    out["update after apply"] = managed_fields(p.call("PUT", f"{target}?fieldManager=putter",
                                                      dict(current, data={"a": "1", "e": "5"})))
    out["apply dry run"] = managed_fields(apply(target, cm(data={"z": "1"}), "dave", "dryRun=All"))
    out["after the dry-run apply"] = managed_fields(p.call("GET", target))
    out["apply dry run of a new object"] = managed_fields(apply(f"{cms}/dry", cm("dry", data={"z": "1"}), "dave",
                                                                "dryRun=All"))
    out["the dry-run applied object"] = managed_fields(p.call("GET", f"{cms}/dry"))
    malformed = {
        "apply without fieldManager": (cm(), None, ""),
        "apply of a YAML list": ("- a\n- b\n", "x", ""),
        "apply of a JSON number": ("42", "x", ""),
        "apply of an empty body": ("", "x", ""),
        "apply with another name": (cm("other"), "x", ""),
        "apply of another kind": (json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "applied"}}),
                                  "x", ""),
        "apply without a kind": (json.dumps({"apiVersion": "v1", "metadata": {"name": "applied"}}), "x", ""),
        "apply of another version": (json.dumps({"apiVersion": "v2", "kind": "ConfigMap"}), "x", ""),
        "apply with a stale resourceVersion": (cm(meta={"resourceVersion": "1"}), "x", ""),
        "apply with managedFields": (cm(meta={"managedFields": [{"manager": "evil", "operation": "Apply"}]}), "x", ""),
        "apply with a 200-byte fieldManager": (cm(), "m" * 200, ""),
        "apply with an unknown field": (cm(dta={}), "x", "fieldValidation=Strict"),
        "apply with a wrong type": (cm(data={"a": 1}), "x", ""),
        "apply with a bad fieldValidation": (cm(), "x", "fieldValidation=Loud"),
    }
    for name, (body, manager, query) in malformed.items():
        out[name] = managed_fields(apply(target, body, manager, query))
    out["apply as apply-patch+json"] = managed_fields(apply(target, cm(), content_type="application/apply-patch+json"))
    out["force on a merge patch"] = managed_fields(apply(target, "{}", None, "force=true",
                                                         "application/merge-patch+json"))
    out["a merge patch with a 200-byte fieldManager"] = managed_fields(
        apply(target, "{}", "m" * 200, content_type="application/merge-patch+json"))
    out["apply in a missing namespace"] = managed_fields(apply("/api/v1/namespaces/nope/configmaps/applied", cm()))
    out["after the malformed applies"] = managed_fields(p.call("GET", target))

    roles = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/roles/applied"
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "applied"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}
    out["apply a role"] = managed_fields(apply(roles, json.dumps(role)))
    role["rules"][0]["verbs"] = ["list"]
    out["apply a role's atomic rules as another manager"] = managed_fields(apply(roles, json.dumps(role), "bob"))
    services = f"/api/v1/namespaces/{NS}/services/applied"

    def service(*ports) -> str:
        return json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "applied"},
                           "spec": {"selector": {"app": "x"}, "ports": [{"port": n, "name": name} for n, name in ports]}})
    out["apply a service"] = managed_fields(apply(services, service((80, "http"))))
    out["apply another port of the service"] = managed_fields(apply(services, service((443, "https")), "bob"))
    out["apply a port another manager owns"] = managed_fields(apply(services, service((443, "https"), (80, "web")),
                                                                    "bob"))
    accounts = f"/api/v1/namespaces/{NS}/serviceaccounts/applied"
    account = {"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": "applied", "finalizers": ["example.com/keep"]},
               "secrets": [{"name": "one"}], "imagePullSecrets": [{"name": "pull"}]}
    out["apply a serviceaccount"] = managed_fields(apply(accounts, json.dumps(account)))
    account["secrets"] = [{"name": "one", "namespace": NS}]
    out["apply an atomic list item another manager owns"] = managed_fields(apply(accounts, json.dumps(account), "bob"))
    out["apply without the fields it applied before"] = managed_fields(
        apply(accounts, json.dumps({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "applied"}})))
    secrets = f"/api/v1/namespaces/{NS}/secrets/applied"
    out["apply a secret's stringData"] = managed_fields(apply(secrets, json.dumps(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "applied"}, "stringData": {"p": "x"}})))
    out["apply a secret's data"] = managed_fields(apply(secrets, json.dumps(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "applied"}, "data": {"q": "eA=="}})))
    return out


def differences(emulated: dict, real: dict) -> dict[str, tuple]:
    return {name: (emulated.get(name), real.get(name))
            for name in real if emulated.get(name) != real.get(name)}


def run_lab(settings) -> dict:
    """Start a lab with `settings`, run every scenario against its Kubernetes API, stop it."""
    from helpers import lab as lab_runtime
    info = lab_runtime.up(settings)
    try:
        return scenarios(Probe(info.dir, info.kube_url))
    finally:
        lab_runtime.down(settings)


def main() -> int:
    import tempfile

    from helpers.config import Settings
    with tempfile.TemporaryDirectory() as tmp:
        emulated, real = (run_lab(Settings.load(target="lab", lab_dir=str(Path(tmp) / kube), kube=kube))
                          for kube in ("emulator", "apiserver"))
    diff = differences(emulated, real)
    for name, (emu, rl) in diff.items():
        print(f"## {name}\nemulator: {json.dumps(emu, sort_keys=True)}\nreal:     {json.dumps(rl, sort_keys=True)}\n")
    print(f"{len(diff)} of {len(real)} scenarios differ")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
