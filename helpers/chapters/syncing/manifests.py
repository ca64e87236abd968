"""The ESO objects chapter 3 applies, built from the parameters: ExternalSecrets with every field the
chapter teaches (refreshInterval, version, property, dataFrom extract and find, rewrite, template,
creationPolicy, deletionPolicy), a ClusterSecretStore with conditions, and a PushSecret."""
from __future__ import annotations

import copy
from typing import Any

from ...eso import API_VERSION, Manifest

ALPHA_API_VERSION = "external-secrets.io/v1alpha1"      # PushSecret is still v1alpha1 in ESO v0.16.2


def external_secret(name: str, namespace: str, store: Manifest, *, refresh: str, data: list | None = None,
                    data_from: list | None = None, target: dict | None = None) -> Manifest:
    spec: dict[str, Any] = {"refreshInterval": refresh,
                            "secretStoreRef": {"name": store.body["metadata"]["name"], "kind": store.kind},
                            "target": {"name": name, "creationPolicy": "Owner", **(target or {})}}
    if data:
        spec["data"] = data
    if data_from:
        spec["dataFrom"] = data_from
    return Manifest({"apiVersion": API_VERSION, "kind": "ExternalSecret",
                     "metadata": {"name": name, "namespace": namespace}, "spec": spec})


def ref(secret_key: str, key: str, *, prop: str = "", version: str = "") -> dict:
    remote = {"key": key} | ({"property": prop} if prop else {}) | ({"version": version} if version else {})
    return {"secretKey": secret_key, "remoteRef": remote}


def find_by_path(path: str) -> dict:
    """Every item under `path`, each key rewritten to the item's last path segment."""
    return {"find": {"path": path, "name": {"regexp": ".*"}},
            "rewrite": [{"regexp": {"source": "^.*/", "target": ""}}]}


def find_by_tag(tag: str, folder: str) -> dict:
    return {"find": {"tags": {"purpose": tag}},
            "rewrite": [{"regexp": {"source": "^" + folder.rstrip("/") + "/", "target": "tagged-"}}]}


def extract(key: str) -> dict:
    return {"extract": {"key": key}}


def cluster_store(namespaced: Manifest, name: str, service_account_namespace: str,
                  namespaces: list[str], labels: dict | None = None) -> Manifest:
    """The namespaced store's provider as a ClusterSecretStore whose conditions admit `namespaces`, and, with
    `labels`, any namespace carrying them (ESO admits a namespace when any one condition matches)."""
    body = copy.deepcopy(namespaced.body)
    body["kind"] = "ClusterSecretStore"
    body["metadata"] = {"name": name}
    auth = body["spec"]["provider"]["akeyless"]["authSecretRef"]["kubernetesAuth"]
    auth["serviceAccountRef"]["namespace"] = service_account_namespace
    body["spec"]["conditions"] = [{"namespaces": list(namespaces)}] + (
        [{"namespaceSelector": {"matchLabels": dict(labels)}}] if labels else [])
    return Manifest(body)


def push_secret(name: str, namespace: str, store: Manifest, secret: str, secret_key: str, remote_key: str, *,
                refresh: str, deletion_policy: str = "Delete") -> Manifest:
    return Manifest({"apiVersion": ALPHA_API_VERSION, "kind": "PushSecret",
                     "metadata": {"name": name, "namespace": namespace},
                     "spec": {"refreshInterval": refresh, "deletionPolicy": deletion_policy,
                              "secretStoreRefs": [{"name": store.body["metadata"]["name"], "kind": store.kind}],
                              "selector": {"secret": {"name": secret}},
                              "data": [{"match": {"secretKey": secret_key, "remoteRef": {"remoteKey": remote_key}}}]}})


def with_target(manifest: Manifest, **fields) -> Manifest:
    body = copy.deepcopy(manifest.body)
    body["spec"]["target"].update(fields)
    return Manifest(body)


def renamed(manifest: Manifest, name: str, namespace: str | None = None) -> Manifest:
    body = copy.deepcopy(manifest.body)
    body["metadata"]["name"] = name
    if namespace:
        body["metadata"]["namespace"] = namespace
    if body["kind"] == "ExternalSecret":
        body["spec"]["target"]["name"] = name
    return Manifest(body)


__all__ = ["external_secret", "ref", "find_by_path", "find_by_tag", "extract", "cluster_store",
           "push_secret", "with_target", "renamed"]
