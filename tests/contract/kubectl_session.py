"""A by-hand kubectl session, as a learner types it, run against a lab's Kubernetes API (the emulator or the
real kube-apiserver) with every output normalised (uids, timestamps, resource versions, ages, ports, tokens,
random name suffixes, column padding) so the two can be compared step by step.

    .venv/bin/python -m tests.contract.kubectl_session      # prints every step whose outputs differ

Used by tests/contract/test_kubectl_session.py. Each step is (name, kubectl arguments, stdin or None);
steps run in order in one fresh lab, so later steps see what earlier ones did.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

NS = "kse"

_UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z| [+-]\d{4})")
_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
_PORT = re.compile(r"127\.0\.0\.1:\d+")
_RV = re.compile(r"""(resourceVersion["']?:\s*)["']?\d+["']?""")
_TMP = re.compile(r"/tmp/[\w./-]*?(LIVE|MERGED)-\d+")
_SUFFIX = re.compile(r"\b(kube-api-access|gen)-[a-z0-9]{5}\b")
# an AGE cell: 5s, 3m2s, 10m, 2h5m, 4d ... (kubectl prints them in tables only)
_AGE = re.compile(r"(?<=\s)(\d+[smhdy])+(?=\s|$)|<invalid>")
_SPACES = re.compile(r"[ \t]+")
_CLUSTER_IP = re.compile(r"\b10\.0\.0\.(?!1\b)\d+\b")      # allocated at random; 10.0.0.1 is `kubernetes`
_NODE_PORT = re.compile(r"(?<=[: ])3[0-2]\d{3}\b")


def _drop_managed_fields(value):
    if isinstance(value, dict):
        return {k: _drop_managed_fields(v) for k, v in value.items() if k != "managedFields"}
    if isinstance(value, list):
        return [_drop_managed_fields(v) for v in value]
    return value


def _json_lines(text: str) -> str:
    """Raw JSON output (get --raw, watch streams) without managedFields: server-side-apply bookkeeping is
    compared in tests/contract/probe.py's own scenario."""
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.dumps(_drop_managed_fields(json.loads(line)), separators=(",", ":")))
        except ValueError:
            return text
    return "\n".join(lines)


def normalise(text: str) -> str:
    text = _json_lines(text) if text.lstrip().startswith("{\"") else text
    text = _JWT.sub("<jwt>", text)
    text = _UID.sub("<uid>", text)
    text = _STAMP.sub("<time>", text)
    text = _RV.sub(r"\1<rv>", text)
    text = _PORT.sub("127.0.0.1:<port>", text)
    text = _TMP.sub(r"/tmp/\1", text)
    text = _SUFFIX.sub(r"\1-<suffix>", text)
    text = _AGE.sub("<age>", text)
    text = _CLUSTER_IP.sub("<cluster-ip>", text)
    text = _NODE_PORT.sub("<node-port>", text)
    return "\n".join(_SPACES.sub(" ", line).rstrip() for line in text.strip().splitlines())


def _yaml(*docs: str) -> str:
    return "\n---\n".join(d.strip() for d in docs) + "\n"


SA_LABELLED = _yaml(f"""
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  namespace: {NS}
  labels:
    team: payments
""")

SA_NEW = _yaml(f"""
apiVersion: v1
kind: ServiceAccount
metadata:
  name: from-file
  namespace: {NS}
""")


EVENT = json.dumps({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "app.hello", "namespace": NS},
                    "involvedObject": {"kind": "ServiceAccount", "namespace": NS, "name": "app", "apiVersion": "v1"},
                    "reason": "Hello", "message": "a learner's event", "type": "Normal",
                    "source": {"component": "workshop"}, "count": 2,
                    "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z"})
EVENT_V1_INCOMPLETE = json.dumps({"apiVersion": "events.k8s.io/v1", "kind": "Event",
                                  "metadata": {"name": "half", "namespace": NS}, "note": "no reason, no time"})
SERVICE_NO_PORTS = json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "noports", "namespace": NS},
                               "spec": {"selector": {"app": "x"}}})


POD = _yaml(f"""
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: {NS}
spec:
  serviceAccountName: app
  containers:
  - name: web
    image: nginx:1.27
    ports:
    - containerPort: 80
""")
POD_NO_TOKEN = POD.replace("name: web\n  namespace", "name: quiet\n  namespace").replace(
    "serviceAccountName: app", "serviceAccountName: app\n  automountServiceAccountToken: false")
POD_GHOST_SA = POD.replace("name: web\n  namespace", "name: lost\n  namespace").replace("serviceAccountName: app",
                                                                                         "serviceAccountName: ghost")
POD_NO_CONTAINERS = _yaml(f"""
apiVersion: v1
kind: Pod
metadata:
  name: empty
  namespace: {NS}
spec:
  containers: []
""")


SA_TYPO = _yaml(f"""
apiVersion: v1
kind: ServiceAccount
metadata:
  name: typo
  namespace: {NS}
  lables:
    team: payments
automountServiceAccountTokens: false
""")

SETTINGS = _yaml(f"""
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {NS}
  labels:
    app: web
data:
  mode: blue
  size: small
""")
SETTINGS_GREEN = SETTINGS.replace("blue", "green")
SETTINGS_DROPPED = SETTINGS_GREEN.replace("  size: small\n", "")

BUILDER = _yaml(f"""
apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
  namespace: {NS}
""")
BUILDER_LABELLED = BUILDER.replace("  namespace: kse", "  namespace: kse\n  labels:\n    team: ci")

CREDS_APPLIED = _yaml(f"""
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: {NS}
stringData:
  a: changed
""")

READER_ROLE = _yaml(f"""
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: applied-reader
  namespace: {NS}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
""")


def _review(step: str):
    """stdin for `kubectl create -f -`: a TokenReview of the token an earlier step printed."""
    def body(raw: dict) -> str:
        return json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                           "spec": {"token": raw[step].strip()}})
    return body


_REVIEW_OUT = ["-o", "jsonpath={.status.authenticated} {.status.user.username} {.status.user.extra} {.status.error}"]


def _watch_from(step: str, query: str = "timeoutSeconds=1"):
    """A raw watch of the namespace's configmaps from the list resourceVersion an earlier step printed."""
    def args(raw: dict) -> list[str]:
        rv = json.loads(raw[step])["metadata"]["resourceVersion"]
        return ["get", "--raw", f"/api/v1/namespaces/{NS}/configmaps?watch=true&resourceVersion={rv}&{query}"]
    return args


def steps() -> list[tuple[str, list[str], str | None]]:
    n = ["-n", NS]
    jl = ["-o", "jsonpath={.metadata.labels}"]
    return [
        ("create namespace", ["create", "namespace", NS], None),
        ("create serviceaccount", n + ["create", "serviceaccount", "app"], None),
        # 1. dry runs change nothing
        ("create sa --dry-run=server", n + ["create", "sa", "ghost", "--dry-run=server"], None),
        ("create sa --dry-run=server -o yaml", n + ["create", "sa", "ghost", "--dry-run=server", "-o", "yaml"], None),
        ("the dry-run sa does not exist", n + ["get", "sa", "ghost"], None),
        ("create sa --dry-run=server for an existing name", n + ["create", "sa", "app", "--dry-run=server"], None),
        ("apply new --dry-run=server", ["apply", "--validate=false", "--dry-run=server", "-f", "-"], SA_NEW),
        ("the applied-dry sa does not exist", n + ["get", "sa", "from-file", "-o", "name"], None),
        ("apply change --dry-run=server", ["apply", "--validate=false", "--dry-run=server", "-f", "-"], SA_LABELLED),
        ("label --dry-run=server", n + ["label", "sa", "app", "tier=web", "--dry-run=server"], None),
        ("annotate --dry-run=server", n + ["annotate", "sa", "app", "note=x", "--dry-run=server"], None),
        ("patch --dry-run=server -o yaml", n + ["patch", "sa", "app", "--dry-run=server", "-o", "yaml",
                                                "-p", '{"metadata":{"labels":{"x":"y"}}}'], None),
        ("json patch --dry-run=server", n + ["patch", "sa", "app", "--type=json", "--dry-run=server",
                                             "-p", '[{"op":"add","path":"/metadata/labels","value":{"a":"b"}}]'],
         None),
        ("replace --dry-run=server", ["replace", "--validate=false", "--dry-run=server", "-f", "-"], SA_LABELLED),
        ("labels unchanged after the dry runs", n + ["get", "sa", "app"] + jl, None),
        ("diff -f shows the change", ["diff", "-f", "-"], SA_LABELLED),
        ("labels unchanged after diff", n + ["get", "sa", "app"] + jl, None),
        ("create rolebinding", n + ["create", "rolebinding", "app-view", "--clusterrole=view",
                                    f"--serviceaccount={NS}:app"], None),
        ("set subject --dry-run=server", n + ["set", "subject", "rolebinding", "app-view",
                                              f"--serviceaccount={NS}:other", "--dry-run=server"], None),
        ("rolebinding subjects unchanged", n + ["get", "rolebinding", "app-view",
                                                "-o", "jsonpath={.subjects[*].name}"], None),
        ("delete sa --dry-run=server", n + ["delete", "sa", "app", "--dry-run=server"], None),
        ("delete --all --dry-run=server", n + ["delete", "rolebinding", "--all", "--dry-run=server"], None),
        ("delete namespace --dry-run=server", ["delete", "namespace", NS, "--dry-run=server"], None),
        ("everything still there", n + ["get", "sa/app", "rolebinding/app-view", "-o", "name"], None),
        ("namespace still active", ["get", "namespace", NS, "-o", "jsonpath={.status.phase}"], None),
        ("dryRun with a bad value", ["create", "--raw", f"/api/v1/namespaces/{NS}/configmaps?dryRun=Yes",
                                     "-f", "-"], '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}'),
        ("the bad dry run stored nothing", n + ["get", "configmap", "c", "-o", "name"], None),
        # 2. what every namespace holds; Services; Events
        ("serviceaccounts in a new namespace", n + ["get", "serviceaccounts", "-o", "name"], None),
        ("configmaps in a new namespace", n + ["get", "configmaps", "-o", "name"], None),
        # Events before any Service of this namespace: the real API server's ClusterIP repair loop can post a
        # Warning about a Service created moments earlier (ClusterIPNotAllocated), which the emulator has no loop for
        ("get events, none yet", n + ["get", "events"], None),
        ("create an event", ["create", "--validate=false", "-f", "-"], EVENT),
        ("get events", n + ["get", "events"], None),
        ("get events -o wide", n + ["get", "events", "-o", "wide"], None),
        ("events through events.k8s.io", n + ["get", "events.v1.events.k8s.io", "app.hello", "-o", "yaml"], None),
        ("kubectl events", n + ["events"], None),
        ("events.k8s.io event missing its fields", ["create", "--validate=false", "-f", "-"], EVENT_V1_INCOMPLETE),
        ("services in default", ["get", "services"], None),
        ("the kubernetes service", ["get", "svc", "kubernetes", "-o",
                                    "jsonpath={.spec.clusterIP} {.spec.ports[0].name} {.spec.ports[0].port} "
                                    "{.spec.type} {.metadata.labels}"], None),
        ("cluster-info", ["cluster-info"], None),
        ("create service clusterip", n + ["create", "service", "clusterip", "web", "--tcp=80:8080"], None),
        ("get services -o wide", n + ["get", "svc", "-o", "wide"], None),
        ("get service -o yaml", n + ["get", "svc", "web", "-o", "yaml"], None),
        ("create service nodeport", n + ["create", "service", "nodeport", "np", "--tcp=443:8443"], None),
        ("get nodeport service", n + ["get", "svc", "np"], None),
        ("create service with a bad name", n + ["create", "service", "clusterip", "Web", "--tcp=80"], None),
        ("create service without ports", ["create", "--validate=false", "-f", "-"], SERVICE_NO_PORTS),
        ("delete service", n + ["delete", "svc", "np"], None),
        # 3. pods, their ServiceAccount and the tokens bound to them
        ("create a pod", ["apply", "--validate=false", "-f", "-"], POD),
        ("get pods", n + ["get", "pods"], None),
        ("get pods -o wide", n + ["get", "pods", "-o", "wide"], None),
        ("pod phase, qos and serviceaccount", n + ["get", "pod", "web", "-o", "jsonpath={.status.phase} "
                                                   "{.status.qosClass} {.spec.serviceAccountName} {.spec.nodeName} "
                                                   "{.metadata.generation} {.spec.tolerations[*].key}"], None),
        ("the pod's token volume", n + ["get", "pod", "web", "-o", "jsonpath={.spec.volumes} "
                                        "{.spec.containers[0].volumeMounts}"], None),
        ("apply the pod again, unchanged", ["apply", "--validate=false", "-f", "-"], POD),
        ("apply the pod with a new image", ["apply", "--validate=false", "-f", "-"],
         POD.replace("nginx:1.27", "nginx:1.28")),
        ("the pod's image and ports after the apply", n + ["get", "pod", "web", "-o", "jsonpath={.spec.containers[0]"
                                                           ".image} {.spec.containers[0].ports}"], None),
        ("apply a pod change that is not allowed", ["apply", "--validate=false", "-f", "-"],
         POD.replace("containerPort: 80", "containerPort: 81")),
        ("a pod with automountServiceAccountToken: false", ["apply", "--validate=false", "-f", "-"], POD_NO_TOKEN),
        ("no token volume when automount is off", n + ["get", "pod", "quiet", "-o", "jsonpath={.spec.volumes}"],
         None),
        ("a pod whose serviceaccount is missing", ["apply", "--validate=false", "-f", "-"], POD_GHOST_SA),
        ("a pod without containers", ["apply", "--validate=false", "-f", "-"], POD_NO_CONTAINERS),
        ("token bound to the pod", n + ["create", "token", "app", "--bound-object-kind", "Pod",
                                        "--bound-object-name", "web"], None),
        ("second token bound to the pod", n + ["create", "token", "app", "--bound-object-kind", "Pod",
                                               "--bound-object-name", "web"], None),
        ("review the pod-bound token", ["create", "--validate=false", "-f", "-"] + _REVIEW_OUT,
         _review("token bound to the pod")),
        ("create a tokenreview with kubectl's default validation", ["create", "-f", "-"] + _REVIEW_OUT,
         _review("token bound to the pod")),
        ("create a tokenreview with a typo", ["create", "-f", "-"] + _REVIEW_OUT,
         lambda raw: _review("token bound to the pod")(raw).replace('"token"', '"tokn": 1, "token"')),
        ("create another serviceaccount", n + ["create", "sa", "other"], None),
        ("token bound to the pod for another serviceaccount",
         n + ["create", "token", "other", "--bound-object-kind", "Pod", "--bound-object-name", "web"], None),
        ("token bound to a missing pod", n + ["create", "token", "app", "--bound-object-kind", "Pod",
                                              "--bound-object-name", "nope"], None),
        ("delete the pod", n + ["delete", "pod", "web"], None),
        ("the pod is gone", n + ["get", "pod", "web"], None),
        ("review a token of the deleted pod", ["create", "--validate=false", "-f", "-"] + _REVIEW_OUT,
         _review("second token bound to the pod")),
        # 4. server-side tables, -o wide included
        ("create clusterrolebinding", ["create", "clusterrolebinding", f"{NS}-reviewer",
                                       "--clusterrole=system:auth-delegator", f"--serviceaccount={NS}:app",
                                       "--user=jane", "--group=auditors"], None),
        ("get clusterrolebinding", ["get", "clusterrolebinding", f"{NS}-reviewer"], None),
        ("get clusterrolebinding -o wide", ["get", "clusterrolebinding", f"{NS}-reviewer", "-o", "wide"], None),
        ("get bootstrap clusterrolebinding -o wide", ["get", "clusterrolebinding", "system:basic-user",
                                                      "system:public-info-viewer", "-o", "wide"], None),
        ("get rolebinding -o wide", n + ["get", "rolebinding", "-o", "wide"], None),
        ("create role", n + ["create", "role", "reader", "--verb=get,list", "--resource=secrets"], None),
        ("get roles", n + ["get", "roles"], None),
        ("get clusterrole", ["get", "clusterrole", "system:auth-delegator"], None),
        ("get clusterrole -o wide", ["get", "clusterrole", "view", "-o", "wide"], None),
        ("create secret", n + ["create", "secret", "generic", "creds", "--from-literal=a=1",
                               "--from-literal=b=2"], None),
        ("get secrets", n + ["get", "secrets"], None),
        ("get secrets -o wide", n + ["get", "secrets", "-o", "wide"], None),
        ("get serviceaccount app -o wide", n + ["get", "sa", "app", "-o", "wide"], None),
        ("get namespace", ["get", "ns", NS], None),
        ("get namespace -o wide", ["get", "ns", NS, "-o", "wide"], None),
        ("get configmap by name", n + ["get", "cm", "c", "--ignore-not-found"], None),
        ("get several kinds", n + ["get", "sa/app", "secret/creds", "role/reader"], None),
        ("get --show-labels", n + ["get", "rolebinding", "app-view", "--show-labels"], None),
        ("get -L", n + ["get", "pods", "quiet", "-L", "run"], None),
        # 5. OpenAPI: explain, and validation by the server (fieldValidation)
        ("explain serviceaccount", ["explain", "serviceaccount"], None),
        ("explain a nested field", ["explain", "pod.spec.containers.image"], None),
        ("explain tokenrequest spec", ["explain", "tokenreviews.spec", "--api-version=authentication.k8s.io/v1"],
         None),
        ("explain --recursive", ["explain", "rolebinding.roleRef", "--recursive"], None),
        ("explain a field that does not exist", ["explain", "serviceaccount.lables"], None),
        ("apply a typo (strict validation)", ["apply", "-f", "-"], SA_TYPO),
        ("the typo was not stored", n + ["get", "sa", "typo", "-o", "name"], None),
        ("apply a typo with --validate=warn", ["apply", "--validate=warn", "-f", "-"], SA_TYPO),
        ("the typo fields were dropped", n + ["get", "sa", "typo", "-o",
                                              "jsonpath={.metadata.labels} {.automountServiceAccountToken}"], None),
        ("create a typo with --validate=false", ["create", "--validate=false", "-f", "-"],
         SA_TYPO.replace("name: typo", "name: typo2")),
        ("the ignored typo was dropped", n + ["get", "sa", "typo2", "-o", "json"], None),
        ("replace -f with default validation", ["replace", "-f", "-"], SA_LABELLED),
        ("create -f with default validation", ["create", "-f", "-"], SA_NEW),
        ("patch with an unknown field", n + ["patch", "sa", "app", "-p", '{"spec":{"x":1}}'], None),
        ("label the serviceaccount", n + ["label", "sa", "app", "team=payments"], None),
        ("get with a label selector", n + ["get", "sa", "-l", "team=payments"], None),
        ("get with a field selector", n + ["get", "secrets", "--field-selector", "type=Opaque", "-o", "name"], None),
        # 6. watch
        ("list resourceVersion before the changes", ["get", "--raw", f"/api/v1/namespaces/{NS}/configmaps"], None),
        ("create a configmap to watch", n + ["create", "configmap", "watched", "--from-literal=k=v"], None),
        ("change it", n + ["label", "configmap", "watched", "step=two"], None),
        ("delete it", n + ["delete", "configmap", "watched"], None),
        ("watch from the earlier resourceVersion", _watch_from("list resourceVersion before the changes"), None),
        ("watch with bookmarks", _watch_from("list resourceVersion before the changes",
                                             "timeoutSeconds=1&allowWatchBookmarks=true"), None),
        ("watch with a label selector", _watch_from("list resourceVersion before the changes",
                                                    "timeoutSeconds=1&labelSelector=step%3Dtwo"), None),
        ("watch with a bad resourceVersion", ["get", "--raw", f"/api/v1/namespaces/{NS}/configmaps?watch=true&"
                                                              "resourceVersion=abc&timeoutSeconds=1"], None),
        ("watch with resourceVersionMatch", ["get", "--raw", f"/api/v1/namespaces/{NS}/configmaps?watch=true&"
                                                             "resourceVersionMatch=Exact&resourceVersion=5"], None),
        ("watch with sendInitialEvents", ["get", "--raw", f"/api/v1/namespaces/{NS}/secrets?watch=true&"
                                                          "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&"
                                                          "allowWatchBookmarks=true&timeoutSeconds=1"], None),
        ("get -w ends with the request timeout", n + ["get", "secrets", "-w", "--request-timeout=2s"], None),
        ("get --watch-only --output-watch-events", n + ["get", "secrets", "--watch-only", "--output-watch-events",
                                                        "--request-timeout=1s"], None),
        ("wait --for=delete of something already gone", n + ["wait", "--for=delete", "configmap/watched",
                                                             "--timeout=5s"], None),
        ("wait for a pod condition that never comes", n + ["wait", "--for=condition=Ready", "pod/quiet",
                                                           "--timeout=2s"], None),
        # 8. error wording on the paths learners hit
        ("secret with bad base64", ["create", "-f", "-"], json.dumps({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad64", "namespace": NS},
            "data": {"password": "not base64!"}})),
        ("json patch test that fails", n + ["patch", "sa", "app", "--type=json",
                                            "-p", '[{"op":"test","path":"/metadata/name","value":"other"}]'], None),
        ("json patch remove of a missing path", n + ["patch", "sa", "app", "--type=json",
                                                     "-p", '[{"op":"remove","path":"/metadata/labels/nope"}]'], None),
        ("json patch replace of a missing path", n + ["patch", "sa", "app", "--type=json",
                                                      "-p", '[{"op":"replace","path":"/secrets/0","value":{}}]'], None),
        ("change a rolebinding's roleRef", n + ["patch", "rolebinding", "app-view", "--type=merge",
                                                "-p", '{"roleRef":{"name":"edit"}}'], None),
        ("change a secret's type", n + ["patch", "secret", "creds", "--type=merge",
                                        "-p", '{"type":"kubernetes.io/tls"}'], None),
        ("delete a protected namespace", ["delete", "namespace", "kube-system"], None),
        ("create in a missing namespace", ["-n", "nowhere", "create", "sa", "x"], None),
        # 7. server-side apply
        ("apply --server-side", ["apply", "--server-side", "-f", "-"], SA_LABELLED.replace("payments", "ledger")),
        ("apply --server-side with a conflict", ["apply", "--server-side", "--field-manager=other", "-f", "-"],
         SA_LABELLED.replace("payments", "audit")),
        ("apply --server-side a configmap", ["apply", "--server-side", "-f", "-"], SETTINGS),
        ("the applier's managed fields", n + ["get", "cm", "settings", "-o", "yaml", "--show-managed-fields"], None),
        ("apply --server-side a changed field", ["apply", "--server-side", "-f", "-"], SETTINGS_GREEN),
        ("apply --server-side with a field dropped", ["apply", "--server-side", "-f", "-"], SETTINGS_DROPPED),
        ("the dropped field is gone", n + ["get", "cm", "settings", "-o", "jsonpath={.data}"], None),
        ("label a field the applier owns", n + ["label", "cm", "settings", "app=api", "--overwrite"], None),
        ("apply --server-side conflicts with kubectl-label", ["apply", "--server-side", "-f", "-"], SETTINGS_DROPPED),
        ("apply --server-side --force-conflicts", ["apply", "--server-side", "--force-conflicts", "-f", "-"],
         SETTINGS_DROPPED),
        ("managed fields after forcing", n + ["get", "cm", "settings", "-o", "yaml", "--show-managed-fields"], None),
        ("apply --server-side as another manager", ["apply", "--server-side", "--field-manager=deployer", "-f", "-"],
         SETTINGS_DROPPED.replace("green", "red")),
        ("apply --server-side --dry-run=server", ["apply", "--server-side", "--dry-run=server", "--force-conflicts",
                                                  "--field-manager=deployer", "-f", "-"],
         SETTINGS_DROPPED.replace("green", "red")),
        ("the dry-run apply stored nothing", n + ["get", "cm", "settings", "-o", "yaml", "--show-managed-fields"],
         None),
        ("client-side apply of a serviceaccount", ["apply", "-f", "-"], BUILDER),
        ("its managed fields", n + ["get", "sa", "builder", "-o", "yaml", "--show-managed-fields"], None),
        ("apply --server-side over a client-side apply", ["apply", "--server-side", "-f", "-"], BUILDER_LABELLED),
        ("managed fields after the upgrade", n + ["get", "sa", "builder", "-o", "yaml", "--show-managed-fields"],
         None),
        ("apply --server-side a secret's stringData", ["apply", "--server-side", "-f", "-"], CREDS_APPLIED),
        ("the secret's managed fields", n + ["get", "secret", "creds", "-o", "yaml", "--show-managed-fields"], None),
        ("apply --server-side a role", ["apply", "--server-side", "-f", "-"], READER_ROLE),
        ("apply --server-side a role's rules as another manager", ["apply", "--server-side", "--field-manager=helm",
                                                                   "-f", "-"], READER_ROLE.replace("[get]", "[get, list]")),
        ("json patch of the applied rules", n + ["patch", "role", "applied-reader", "--type=json", "-p",
                                                 '[{"op":"add","path":"/rules/0/verbs/-","value":"watch"}]'], None),
        ("the role's managed fields", n + ["get", "role", "applied-reader", "-o", "yaml", "--show-managed-fields"], None),
        ("apply --server-side with a typo", ["apply", "--server-side", "-f", "-"],
         SA_TYPO.replace("name: typo", "name: typo3").replace("automountServiceAccountTokens: false\n", "")),
        ("apply --server-side with a name the URL does not have", ["apply", "--server-side", "-f", "-"],
         SETTINGS.replace("name: settings", "name: settings-2")),
        ("managed fields of kubectl create", n + ["get", "sa", "other", "rolebinding", "app-view", "-o", "yaml",
                                                  "--show-managed-fields"], None),
        ("managed fields of a pod", n + ["get", "pod", "quiet", "-o", "jsonpath={.metadata.managedFields}"], None),
        ("managed fields of an event", n + ["get", "event", "app.hello", "-o", "jsonpath={.metadata.managedFields}"],
         None),
        ("create a plain configmap", n + ["create", "configmap", "plain", "--from-literal=a=b"], None),
        ("label it", n + ["label", "configmap", "plain", "x=y"], None),
        ("annotate it", n + ["annotate", "configmap", "plain", "note=n"], None),
        ("merge-patch it", n + ["patch", "configmap", "plain", "--type=merge", "-p", '{"data":{"b":"c","a":null}}'],
         None),
        # by manager: entries written within the same second are listed by name, so their order depends on timing
        ("managed fields of each kubectl verb", n + ["get", "configmap", "plain", "-o", "jsonpath=" + " ".join(
            f'{{.metadata.managedFields[?(@.manager=="kubectl-{verb}")].fieldsV1}}'
            for verb in ("create", "label", "annotate", "patch"))], None),
        ("managed fields of a service", n + ["get", "svc", "web", "-o", "jsonpath={.metadata.managedFields}"], None),
        ("bootstrap clusterrolebindings", ["get", "clusterrolebindings", "-l",
                                           "kubernetes.io/bootstrapping=rbac-defaults", "-o", "name"], None),
    ]


def run_session(kubectl: str, kubeconfig: Path, cache: Path) -> dict[str, tuple[int, str, str]]:
    """Every step's (exit code, stdout, stderr), normalised, by step name."""
    out, raw = {}, {}
    for name, args, stdin in steps():
        if callable(stdin):
            stdin = stdin(raw)
        if callable(args):
            args = args(raw)
        result = subprocess.run([kubectl, "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), *args],
                                input=stdin, capture_output=True, text=True, timeout=60)
        raw[name] = result.stdout
        out[name] = (result.returncode, normalise(result.stdout), normalise(result.stderr))
    return out


def run_lab(settings, kubectl: str) -> dict:
    from helpers import lab as lab_runtime
    info = lab_runtime.up(settings)
    try:
        with tempfile.TemporaryDirectory() as cache:
            return run_session(kubectl, info.kubeconfig, Path(cache))
    finally:
        lab_runtime.down(settings)


def main() -> int:
    from helpers.config import Settings
    kubectl = shutil.which("kubectl")
    kubes = sys.argv[1:] or ["emulator", "apiserver"]
    with tempfile.TemporaryDirectory() as tmp:
        answers = {kube: run_lab(Settings.load(target="lab", lab_dir=str(Path(tmp) / kube), kube=kube), kubectl)
                   for kube in kubes}
    if len(kubes) == 1:
        for name, answer in answers[kubes[0]].items():
            print(f"## {name}\n{json.dumps(answer, indent=1)}")
        return 0
    emulated, real = answers["emulator"], answers["apiserver"]
    differ = [name for name in real if emulated[name] != real[name]]
    for name in differ:
        print(f"## {name}\nemulator: {json.dumps(emulated[name])}\nreal:     {json.dumps(real[name])}\n")
    print(f"{len(real) - len(differ)} of {len(real)} steps identical, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
