"""The object store: every stored object by (group, resource, namespace, name), with the metadata the API
server owns (uid, resourceVersion, creationTimestamp), persisted through the lab journal.

Each acknowledged write is appended and flushed to the journal before the caller replies, so a SIGKILLed
lab loses nothing; on start the journal is replayed and compacted to a snapshot of the live state.
"""
from __future__ import annotations

import copy
import datetime as dt
import uuid
from pathlib import Path
from typing import Callable, Iterable

from ..journal import Journal
from . import status
from .resources import NAMESPACES, RESOURCES, Resource
from .watch import Change

Key = tuple[str, str, str, str]        # group, plural, namespace ("" when cluster scoped), name

_BY_KEY = {r.storage: r for r in RESOURCES}


def rfc3339(epoch: float) -> str:
    return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ObjectMeta's field order in the API server's JSON; clients do not care, but a learner reading raw output
# sees the same layout as on a real cluster
_META_ORDER = ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
               "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
               "ownerReferences", "finalizers", "managedFields")


def go_order(meta: dict) -> dict:
    rank = {key: i for i, key in enumerate(_META_ORDER)}
    return dict(sorted(meta.items(), key=lambda item: rank.get(item[0], len(rank))))


class Store:
    def __init__(self, path: Path, now: Callable[[], float]):
        self._journal = Journal(path)
        self._now = now
        self._objects: dict[Key, dict] = {}
        self._rv = 0
        self._replay()
        self.on_change: Callable[[Change], None] | None = None     # the watch window (watch.WatchHub.record)

    # --- persistence -----------------------------------------------------------------------------

    def _replay(self) -> None:
        for record in self._journal.replay():
            key = tuple(record.get("key", ()))
            if len(key) != 4:
                continue
            if "obj" in record:
                self._objects[key] = record["obj"]
            else:
                self._objects.pop(key, None)
            self._rv = max(self._rv, int(record.get("rv", 0)))
        self._journal.compact(self._snapshot())

    def _snapshot(self) -> Iterable[dict]:
        for key, obj in self._objects.items():
            yield {"key": list(key), "obj": obj, "rv": self._rv}
        yield {"key": [], "rv": self._rv}           # keeps the counter when the store is empty

    def close(self) -> None:
        self._journal.close()

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _put(self, key: Key, obj: dict) -> None:
        self._journal.append({"key": list(key), "obj": obj, "rv": self._rv})
        old = self._objects.get(key)
        self._objects[key] = obj
        if self.on_change is not None:
            self.on_change(Change(self._rv, "ADDED" if old is None else "MODIFIED", key, obj, old))

    def _drop(self, key: Key) -> None:
        self._journal.append({"key": list(key), "rv": self._rv})
        old = self._objects.pop(key)
        if self.on_change is not None:
            # a deleted object is reported with the resourceVersion of its deletion
            gone = dict(old, metadata=dict(old["metadata"], resourceVersion=str(self._rv)))
            self.on_change(Change(self._rv, "DELETED", key, gone, old))

    # --- reads -------------------------------------------------------------------------------------

    def now(self) -> float:
        return self._now()

    @property
    def resource_version(self) -> str:
        return str(self._rv)

    @staticmethod
    def key(resource: Resource, namespace: str, name: str) -> Key:
        return (*resource.storage, namespace if resource.namespaced else "", name)

    def peek(self, resource: Resource, namespace: str, name: str) -> dict | None:
        """The stored object itself (callers must not mutate it), or None."""
        return self._objects.get(self.key(resource, namespace, name))

    def get(self, resource: Resource, namespace: str, name: str) -> dict:
        obj = self.peek(resource, namespace, name)
        if obj is None:
            raise status.not_found(resource, name)
        return copy.deepcopy(obj)

    def iter(self, resource: Resource, namespace: str | None = None) -> Iterable[dict]:
        """Stored objects of one resource (all namespaces when namespace is None), sorted like etcd keys."""
        keys = sorted(k for k in self._objects if k[:2] == resource.storage
                      and (namespace is None or k[2] == namespace))
        return (self._objects[k] for k in keys)

    def list(self, resource: Resource, namespace: str | None = None) -> list[dict]:
        return [copy.deepcopy(obj) for obj in self.iter(resource, namespace)]

    def namespace_exists(self, name: str) -> bool:
        return self.peek(NAMESPACES, "", name) is not None

    # --- writes ------------------------------------------------------------------------------------

    def create(self, resource: Resource, namespace: str, obj: dict, dry_run: bool = False) -> dict:
        """Store a new object. A dry run returns what would be stored (uid and creationTimestamp set, no
        resourceVersion, as upstream's dry-run storage copies the object instead of writing it)."""
        meta = obj.setdefault("metadata", {})
        name = meta["name"]
        key = self.key(resource, namespace, name)
        if key in self._objects:
            raise status.already_exists(resource, name)
        if resource.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = rfc3339(self._now())
        meta.pop("deletionTimestamp", None)
        if dry_run:
            meta.pop("resourceVersion", None)
            return copy.deepcopy(obj)
        meta["resourceVersion"] = self._next_rv()
        self._put(key, obj)
        return copy.deepcopy(obj)

    def update(self, resource: Resource, namespace: str, name: str, obj: dict, dry_run: bool = False) -> dict:
        """Replace an object; the API server's fields are kept and a stale resourceVersion is a Conflict.
        A dry run returns the would-be object with the current resourceVersion."""
        key = self.key(resource, namespace, name)
        current = self._objects.get(key)
        if current is None:
            raise status.not_found(resource, name)
        meta = obj.setdefault("metadata", {})
        wanted_rv = meta.get("resourceVersion")
        if wanted_rv not in (None, "") and str(wanted_rv) != current["metadata"]["resourceVersion"]:
            raise status.conflict(resource, name)
        for owned in ("uid", "creationTimestamp", "namespace", "generation"):
            if owned in current["metadata"]:
                meta[owned] = current["metadata"][owned]
        meta["name"] = name
        if obj == current or _same_ignoring_rv(obj, current):
            return copy.deepcopy(current)       # a no-op update does not bump the resourceVersion
        if dry_run:
            meta["resourceVersion"] = current["metadata"]["resourceVersion"]
            return copy.deepcopy(obj)
        meta["resourceVersion"] = self._next_rv()
        self._put(key, obj)
        return copy.deepcopy(obj)

    def delete(self, resource: Resource, namespace: str, name: str, dry_run: bool = False) -> dict:
        key = self.key(resource, namespace, name)
        obj = self._objects.get(key)
        if obj is None:
            raise status.not_found(resource, name)
        if dry_run:
            return copy.deepcopy(obj)
        self._next_rv()
        self._drop(key)
        if resource is NAMESPACES:
            # A real API server marks the namespace Terminating and its controller empties it later (without
            # kube-controller-manager it stays Terminating forever). The lab has no controllers, so the
            # namespace and everything in it go at once.
            for other in [k for k in self._objects if k[2] == name and _BY_KEY[(k[0], k[1])].namespaced]:
                self._drop(other)
        return copy.deepcopy(obj)


def _same_ignoring_rv(a: dict, b: dict) -> bool:
    a = dict(a, metadata={k: v for k, v in a.get("metadata", {}).items() if k != "resourceVersion"})
    b = dict(b, metadata={k: v for k, v in b.get("metadata", {}).items() if k != "resourceVersion"})
    return a == b
