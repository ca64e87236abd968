"""The verbs on stored resources (the API server's generic registry): get, list, create, update/patch, delete,
deletecollection, each honouring dryRun; admission (defaults that need the store) before writes; the
controllers' reactions after them; and the events.k8s.io view of core Events on the way in and out."""
from __future__ import annotations

import copy
from typing import Callable

from . import admission, apply, events, managedfields, objects, status
from .controllers import Controllers
from .resources import EVENTS, EVENTS_V1, NAMESPACES, Resource
from .selectors import select
from .store import Store, rfc3339

PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")
# what the API server's strategies (not the request or the defaults) fill in on create: nobody owns it
_SET_ON_CREATE = {"namespaces": ("spec.finalizers",)}
Guard = Callable[[dict, "dict | None"], None]


def _storage_view(resource: Resource) -> Resource:
    return EVENTS if resource is EVENTS_V1 else resource


class Registry:
    def __init__(self, store: Store, now: Callable[[], float], controllers: Controllers):
        self.store = store
        self.now = now
        self.controllers = controllers

    # --- the views ---------------------------------------------------------------------------------

    @staticmethod
    def present(resource: Resource, obj: dict) -> dict:
        return events.to_events_v1(obj) if resource is EVENTS_V1 else obj

    def printable(self, resource: Resource):
        """The table printers read the stored (core) shape: the inverse of `present`."""
        return (lambda obj: self._accept(resource, obj)) if resource is EVENTS_V1 else (lambda obj: obj)

    @staticmethod
    def _accept(resource: Resource, body):
        return events.from_events_v1(body) if resource is EVENTS_V1 else body

    # --- reads -------------------------------------------------------------------------------------

    def get(self, resource: Resource, ns: str, name: str) -> dict:
        return self.present(resource, self.store.get(resource, ns, name))

    def list(self, resource: Resource, namespace: str | None, labels: str = "", fields: str = "") -> list[dict]:
        items = select(self.store.list(resource, namespace), labels, fields, resource)
        return [self.present(resource, item) for item in items]

    # --- writes ------------------------------------------------------------------------------------

    def _prepare(self, resource: Resource, body, ns: str, url_name: str | None = None) -> dict:
        stored = _storage_view(resource)
        if resource is EVENTS_V1 and isinstance(body, dict):
            kind, api_version = body.get("kind"), body.get("apiVersion")
            objects.check_kind(resource, kind, api_version)
            body = dict(self._accept(resource, body), kind="Event", apiVersion="v1")
        strict = events.events_v1_errors if resource is EVENTS_V1 and url_name is None else None
        return objects.prepare(stored, body, ns, url_name=url_name, also=strict, report_as=resource)

    def create(self, resource: Resource, ns: str, body, dry: bool, guard: Guard | None = None,
               manager: str | None = None) -> dict:
        """`guard(new, old)`: the requester's own check on what is about to be written (RBAC escalation);
        `manager`: the field manager the create is recorded for (None: the body carries its managedFields)."""
        obj = self._prepare(resource, body, ns)
        if resource.namespaced and not self.store.namespace_exists(ns):
            raise status.not_found(NAMESPACES, ns)
        if manager is not None:
            managedfields.record_update(_storage_view(resource), None, obj, manager, self.now(),
                                        _SET_ON_CREATE.get(resource.plural, ()))
        if guard is not None:
            guard(obj, None)
        admission.admit(self.store, resource, obj, None, ns)
        created = self.store.create(_storage_view(resource), ns, obj, dry)
        if resource is NAMESPACES and not dry:
            self.controllers.namespace_created(created["metadata"]["name"])
        return self.present(resource, created)

    def update(self, resource: Resource, ns: str, name: str, change: Callable[[dict], object], dry: bool,
               guard: Guard | None = None, manager: str | None = None) -> dict:
        """`change(current view) -> new body`: the PUT body, or the patch applied to the current object."""
        current = self.store.get(resource, ns, name)
        body = change(self.present(resource, copy.deepcopy(current)))
        obj = self._prepare(resource, body, ns, url_name=name)
        if manager is not None:
            managedfields.record_update(_storage_view(resource), current, obj, manager, self.now())
        if guard is not None:
            guard(obj, current)
        admission.admit(self.store, resource, obj, current, ns)
        objects.check_update(_storage_view(resource), current, obj)
        return self.present(resource, self.store.update(_storage_view(resource), ns, name, obj, dry))

    def apply(self, resource: Resource, ns: str, name: str, config: dict, manager: str, force: bool, dry: bool,
              guard: Guard | None = None) -> tuple[dict, bool]:
        """Server-side apply of `config` by `manager`: (the object, whether it was created)."""
        apply.check(resource, config, name)
        if self.store.peek(_storage_view(resource), ns, name) is None:
            if resource.namespaced and not self.store.namespace_exists(ns):
                raise status.not_found(NAMESPACES, ns)
            config = dict(config, metadata=dict(config.get("metadata") or {}, name=name))
            obj = apply.applied(resource, None, config, manager, force, self.now())
            return self.create(resource, ns, obj, dry, guard), True

        def change(live):
            return apply.applied(resource, live, config, manager, force, self.now())
        return self.update(resource, ns, name, change, dry, guard), False

    def delete(self, resource: Resource, ns: str, name: str, dry: bool) -> dict:
        """The deleted object (a Namespace as it would look Terminating)."""
        if resource is NAMESPACES and name in PROTECTED_NAMESPACES:
            raise status.forbidden(NAMESPACES, name, "this namespace may not be deleted")
        obj = self.store.delete(_storage_view(resource), ns, name, dry)
        if resource is NAMESPACES:
            obj["metadata"]["deletionTimestamp"] = rfc3339(self.now())
            obj["spec"] = obj.get("spec") or {}
            obj["status"] = {"phase": "Terminating"}
        if not dry:
            self.controllers.deleted(resource, ns, name)
        return self.present(resource, obj)

    def delete_collection(self, resource: Resource, namespace: str | None, labels: str, fields: str,
                          dry: bool) -> list[dict]:
        items = self.list(resource, namespace, labels, fields)
        for item in items:
            self.delete(resource, item["metadata"].get("namespace", ""), item["metadata"]["name"], dry)
        return items
