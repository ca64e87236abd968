"""What kube-controller-manager would do, done at once because the lab runs no controllers: every
namespace gets its `default` ServiceAccount (serviceaccount controller) and its `kube-root-ca.crt`
ConfigMap (root-ca-cert-publisher), and both come back when deleted."""
from __future__ import annotations

from . import managedfields
from .resources import CONFIGMAPS, NAMESPACES, SERVICEACCOUNTS, Resource
from .store import Store

MANAGER = "kube-controller-manager"
DEFAULT_SA = "default"
ROOT_CA = "kube-root-ca.crt"
_DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
                "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
                "distributions of Kubernetes clusters.")


class Controllers:
    def __init__(self, store: Store, ca_pem: str):
        self.store = store
        self.ca_pem = ca_pem

    def reconcile(self) -> None:
        for ns in self.store.list(NAMESPACES):
            self.namespace_created(ns["metadata"]["name"])

    def namespace_created(self, namespace: str) -> None:
        if self.store.peek(SERVICEACCOUNTS, namespace, DEFAULT_SA) is None:
            self.store.create(SERVICEACCOUNTS, namespace, {"apiVersion": "v1", "kind": "ServiceAccount",
                                                           "metadata": {"name": DEFAULT_SA}})
        if self.store.peek(CONFIGMAPS, namespace, ROOT_CA) is None:
            ca = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": ROOT_CA, "annotations": {"kubernetes.io/description": _DESCRIPTION}},
                  "data": {"ca.crt": self.ca_pem}}
            managedfields.record_update(CONFIGMAPS, None, ca, MANAGER, self.store.now())
            self.store.create(CONFIGMAPS, namespace, ca)

    def deleted(self, resource: Resource, namespace: str, name: str) -> None:
        """Put back what a controller keeps in every live namespace."""
        if (resource is SERVICEACCOUNTS and name == DEFAULT_SA) or (resource is CONFIGMAPS and name == ROOT_CA):
            if self.store.namespace_exists(namespace):
                self.namespace_created(namespace)
