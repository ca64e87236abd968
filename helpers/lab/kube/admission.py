"""Admission that needs the store: what the API server's allocators and admission plugins add to an object
before it is stored (a Service's cluster IP and node ports; a Pod's ServiceAccount token volume)."""
from __future__ import annotations

from . import pods, services
from .resources import PODS, SERVICEACCOUNTS, SERVICES, Resource
from .store import Store


def admit(store: Store, resource: Resource, obj: dict, old: dict | None, namespace: str) -> None:
    if resource is SERVICES:
        others = [s for s in store.iter(SERVICES)
                  if (s["metadata"]["namespace"], s["metadata"]["name"]) != (namespace, obj["metadata"]["name"])]
        services.allocate(obj, others, old)
    if resource is PODS:
        pods.admit_defaults(obj)
    if resource is PODS and old is None:
        pods.new_status(obj)
        name = obj["spec"].get("serviceAccountName") or "default"
        pods.admit_service_account(obj, store.peek(SERVICEACCOUNTS, namespace, name), namespace)
