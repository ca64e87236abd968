"""The real External Secrets Operator controller, run out of cluster beside a Kubernetes API server.

tools/eso/build.sh builds the upstream controller (v0.16.2) and copies ESO's CRD bundle beside it;
this module installs what a Helm install of ESO would (the CRDs, the `external-secrets` namespace and
ServiceAccount, the RBAC of ESO's chart), hands the controller a kubeconfig for that ServiceAccount
(never the admin's: an RBAC mistake must fail as it would in a cluster) and starts it.

It runs inside the lab process for `lab up --kube apiserver`, and from `lab eso` beside any cluster the
machine reaches (kind, AKS). The setup goes through the official `kubernetes` client, so whatever
authentication the learner's kubeconfig uses works here too.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..config import PROJECT_ROOT
from ..errors import LabStartFailed
from . import gobuild
from .pki import write_private

BUILD_SCRIPT = PROJECT_ROOT / "tools" / "eso" / "build.sh"
NAMESPACE = "external-secrets"
SERVICE_ACCOUNT = "external-secrets"
FIELD_MANAGER = "workshop-lab"
CONTROLLER_TOKEN_SECONDS = 7 * 24 * 3600    # re-minted at every start; a lab rarely runs a week
CRD_TIMEOUT = 30.0


def eso_version() -> str:
    return gobuild.pinned_version(BUILD_SCRIPT, "ESO_VERSION")


def bin_dir() -> Path:
    """Where tools/eso/build.sh puts the controller and the CRDs."""
    return gobuild.cache_dir("WORKSHOP_ESO_BIN_DIR", f"eso-{eso_version()}")


def controller_binary() -> Path:
    path = bin_dir() / "eso-controller"
    if not os.access(path, os.X_OK) or not (bin_dir() / "crds.yaml").is_file():
        raise LabStartFailed(f"the ESO controller is not built: missing {path} or its crds.yaml",
                             hint=f"build it once with `make eso` (bash {BUILD_SCRIPT.relative_to(PROJECT_ROOT)}; "
                                  "Go >= 1.24, module proxy, ~5 min cold)")
    return path


def available() -> bool:
    try:
        controller_binary()
    except LabStartFailed:
        return False
    return True


def crds() -> list[dict]:
    """ESO's CustomResourceDefinitions, as its release ships them. The 1.4 MB YAML takes seconds to
    parse (more on a busy machine), so the parsed bundle is kept beside it as JSON (milliseconds)."""
    source, parsed = bin_dir() / "crds.yaml", bin_dir() / "crds.json"
    try:
        if parsed.stat().st_mtime >= source.stat().st_mtime:
            return json.loads(parsed.read_text())
    except (OSError, ValueError):
        pass
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    documents = [doc for doc in yaml.load_all(source.read_text(), Loader=loader) if doc]
    try:
        tmp = parsed.with_suffix(".tmp")
        tmp.write_text(json.dumps(documents))
        os.replace(tmp, parsed)
    except OSError:
        pass        # a read-only cache: parse again next time
    return documents


# --- what ESO's Helm chart installs (deploy/charts/external-secrets, default values) --------------

_ESO_KINDS = ["secretstores", "clustersecretstores", "externalsecrets", "clusterexternalsecrets",
              "pushsecrets", "clusterpushsecrets"]
_GENERATORS = ["acraccesstokens", "clustergenerators", "ecrauthorizationtokens", "fakes", "gcraccesstokens",
               "githubaccesstokens", "quayaccesstokens", "passwords", "stssessiontokens", "uuids",
               "vaultdynamicsecrets", "webhooks", "grafanas"]


def _rule(groups: list[str], resources: list[str], verbs: list[str], names: list[str] | None = None) -> dict:
    rule = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


def controller_rules() -> list[dict]:
    """The controller ClusterRole of the chart with its defaults (every reconciler on, OpenShift
    finalizers on): read the ESO kinds, write their status, manage Secrets, mint ServiceAccount
    tokens (the Kubernetes-auth providers need `create serviceaccounts/token`), emit events."""
    writable = [f"{kind}{sub}" for kind in _ESO_KINDS for sub in ("", "/status", "/finalizers")]
    return [
        _rule(["external-secrets.io"], _ESO_KINDS, ["get", "list", "watch"]),
        _rule(["external-secrets.io"], writable, ["get", "update", "patch"]),
        _rule(["generators.external-secrets.io"], ["generatorstates"],
              ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]),
        _rule(["generators.external-secrets.io"], _GENERATORS, ["get", "list", "watch"]),
        _rule([""], ["serviceaccounts", "namespaces"], ["get", "list", "watch"]),
        _rule([""], ["configmaps"], ["get", "list", "watch"]),
        _rule([""], ["secrets"], ["get", "list", "watch", "create", "update", "delete", "patch"]),
        _rule([""], ["serviceaccounts/token"], ["create"]),
        _rule([""], ["events"], ["create", "patch"]),
        _rule(["external-secrets.io"], ["externalsecrets", "pushsecrets"], ["create", "update", "delete"]),
    ]


def install_manifests(namespace: str = NAMESPACE, service_account: str = SERVICE_ACCOUNT) -> list[dict]:
    """The namespace, ServiceAccount and RBAC of an ESO install, as objects for server-side apply."""
    name = "external-secrets-controller"
    subject = [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}]
    labels = {"app.kubernetes.io/name": "external-secrets", "app.kubernetes.io/managed-by": FIELD_MANAGER}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": service_account, "namespace": namespace, "labels": labels}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": name, "labels": labels}, "rules": controller_rules()},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": name, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": subject},
        # leader election (off out of cluster, granted as the chart does)
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "external-secrets-leaderelection", "namespace": namespace, "labels": labels},
         "rules": [_rule([""], ["configmaps"], ["get", "update", "patch"], ["external-secrets-controller"]),
                   _rule([""], ["configmaps"], ["create"]),
                   _rule(["coordination.k8s.io"], ["leases"], ["get", "create", "update", "patch"])]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "external-secrets-leaderelection", "namespace": namespace, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                     "name": "external-secrets-leaderelection"},
         "subjects": subject},
    ]


# --- applying them ----------------------------------------------------------------------------------

INSTALL_ANNOTATION = "workshop.lab/eso-install"      # on ESO's namespace: the digest of what was applied


def _digest(objects: list[dict]) -> str:
    return hashlib.sha256(json.dumps(objects, sort_keys=True).encode()).hexdigest()


def _established(crd: dict) -> bool:
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in (crd.get("status") or {}).get("conditions") or [])


def _already_installed(cluster, digest: str, names: set[str], namespace: str, service_account: str) -> bool:
    """The same install is in place (a lab restart): same digest, every CRD Established, the account there."""
    ns = cluster.get_object("v1", "Namespace", None, namespace)
    if not ns or (ns["metadata"].get("annotations") or {}).get(INSTALL_ANNOTATION) != digest:
        return False
    listing = cluster.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                              doing="listing CRDs")
    present = {c["metadata"]["name"] for c in listing.get("items") or [] if _established(c)}
    return names <= present and cluster.get_object("v1", "ServiceAccount", namespace, service_account) is not None


def install(cluster, namespace: str = NAMESPACE, service_account: str = SERVICE_ACCOUNT) -> None:
    """Apply ESO's CRDs and RBAC (server-side, as `kubectl apply --server-side`), then wait until every
    CRD is Established; nothing to do when the same install is already there. `cluster` is a
    helpers.cluster.Cluster with the rights to install CRDs."""
    definitions = crds()
    namespace_obj, *manifests = install_manifests(namespace, service_account)
    digest = _digest(definitions + manifests)
    names = {d["metadata"]["name"] for d in definitions}
    if _already_installed(cluster, digest, names, namespace, service_account):
        return
    # the API server handles the CRDs concurrently; one after the other costs seconds on two cores.
    # The namespace goes first: the ServiceAccount and Role live in it.
    cluster.apply(namespace_obj, field_manager=FIELD_MANAGER)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda obj: cluster.apply(obj, field_manager=FIELD_MANAGER), definitions + manifests))
    deadline = time.monotonic() + CRD_TIMEOUT
    pending = set(names)
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            if _established(cluster.get_object("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, name) or {}):
                pending.discard(name)
        if pending:
            time.sleep(0.1)
    if pending:
        raise LabStartFailed(f"ESO's CRDs were not Established within {CRD_TIMEOUT:.0f} s: {', '.join(sorted(pending))}")
    # recorded last: an interrupted install is redone at the next start
    cluster.apply({**namespace_obj, "metadata": {**namespace_obj["metadata"], "annotations": {INSTALL_ANNOTATION: digest}}},
                  field_manager=FIELD_MANAGER)


@dataclass(frozen=True)
class ControllerCredentials:
    server: str
    ca_pem: bytes | None
    insecure: bool
    token: str


def controller_credentials(cluster, namespace: str = NAMESPACE,
                           service_account: str = SERVICE_ACCOUNT) -> ControllerCredentials:
    """A token for ESO's own ServiceAccount (TokenRequest, the API server's default audience), and
    where to reach the API server."""
    token = cluster.request_token(namespace, service_account, expiration_seconds=CONTROLLER_TOKEN_SECONDS)
    if not token.ok:
        raise LabStartFailed(f"cannot mint a token for ESO's ServiceAccount {namespace}/{service_account}: "
                             f"{token.error}", hint=token.hint or "the kubeconfig's user needs to create serviceaccounts/token")
    conf = cluster.configuration
    ca = Path(conf.ssl_ca_cert).read_bytes() if conf.ssl_ca_cert else None
    return ControllerCredentials(conf.host, ca, not conf.verify_ssl, token.token)


def write_kubeconfig(path: Path, creds: ControllerCredentials, namespace: str = NAMESPACE,
                     service_account: str = SERVICE_ACCOUNT) -> Path:
    cluster: dict = {"server": creds.server}
    if creds.ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(creds.ca_pem).decode()
    if creds.insecure:
        cluster["insecure-skip-tls-verify"] = True
    user = f"system:serviceaccount:{namespace}:{service_account}"
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "eso",
              "clusters": [{"name": "cluster", "cluster": cluster}],
              "users": [{"name": user, "user": {"token": creds.token}}],
              "contexts": [{"name": "eso", "context": {"cluster": "cluster", "user": user,
                                                       "namespace": namespace}}]}
    write_private(path, yaml.safe_dump(config))
    return path


def controller_argv(metrics_port: int) -> list[str]:
    return [str(controller_binary()),
            f"--metrics-addr=127.0.0.1:{metrics_port}",
            "--enable-leader-election=false",       # one replica, out of cluster
            "--loglevel=info",                       # debug would log object contents; the audit logs trace the calls
            "--zap-time-encoding=rfc3339nano"]


def controller_env(kubeconfig: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
    env["KUBECONFIG"] = str(kubeconfig)
    return env


def spawn_detached(argv: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    """Start the controller as a process of its own (for `lab eso`, which returns to the shell)."""
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        log.close()

