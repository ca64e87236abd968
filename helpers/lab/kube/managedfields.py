"""metadata.managedFields: which field manager owns which fields of an object, as kube-apiserver's field
manager records them. A create, update or non-apply patch is an `Update` by its manager (the `fieldManager`
option, else the User-Agent's product name), which takes the fields it added or changed from everyone else;
fields an update removes leave every set. Server-side apply (apply.py) writes `Apply` entries.

Entries are one per (manager, operation, apiVersion for updates, subresource), sorted as upstream sorts them;
an entry's time moves only when its write changed the object; an entry left owning nothing is dropped.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from . import fieldsets
from .resources import NAMESPACES, PODS, SERVICES, Resource
from .store import rfc3339

APPLY, UPDATE = "Apply", "Update"
MAX_MANAGER = 128
MAX_UPDATE_MANAGERS = 10
ANCIENT = "ancient-changes"

# what no manager owns: the identity and bookkeeping fields (upstream's stripped set)
_STRIPPED_META = ("name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
                  "managedFields", "resourceVersion")
# the kinds' empty objects as upstream serialises them (struct fields as {}, fields without omitempty as
# their zero value): a create is compared with it, so it does not own what is already there
_EMPTY_OBJECT = {"pods": {"spec": {"containers": None}, "status": {}}, "services": {"spec": {}, "status": {}},
                 "namespaces": {"spec": {}, "status": {}},
                 "events": {"involvedObject": {}, "source": {}, "firstTimestamp": None, "lastTimestamp": None,
                            "eventTime": None, "reportingComponent": "", "reportingInstance": ""},
                 "rolebindings": {"roleRef": {}}, "clusterrolebindings": {"roleRef": {}}}
# the status of kinds with a status subresource is reset on writes to the main resource, so never owned there
STATUS_RESET = (NAMESPACES, PODS, SERVICES)


def manager_from_user_agent(user_agent: str) -> str:
    """Upstream's default manager: the User-Agent up to its first "/", printable characters, at most 128."""
    name = "".join(c for c in user_agent.split("/", 1)[0] if c.isprintable())
    return name[:MAX_MANAGER]


@dataclass
class Entry:
    manager: str
    operation: str
    api_version: str
    fields: dict
    time: str | None = None
    subresource: str = ""

    @property
    def key(self) -> tuple:
        return self.manager, self.operation, self.api_version if self.operation == UPDATE else "", self.subresource

    def identifier(self) -> str:
        """How upstream names the manager in a conflict message."""
        text = fieldsets._json(self.manager)
        if self.subresource:
            text += f" with subresource {fieldsets._json(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text

    def sort_key(self) -> str:
        """upstream's conflict messages list managers by their JSON identifier"""
        parts = {"manager": self.manager, "operation": self.operation}
        if self.operation == UPDATE and self.api_version:
            parts["apiVersion"] = self.api_version
        if self.subresource:
            parts["subresource"] = self.subresource
        return fieldsets._json(parts)

    def wire(self) -> dict:
        out = {"manager": self.manager, "operation": self.operation, "apiVersion": self.api_version}
        if self.time:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = fieldsets.to_wire(self.fields)
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def decode(value) -> list[Entry] | None:
    """The entries of a managedFields list; None when it is absent, empty or not one upstream can read."""
    if not isinstance(value, list) or not value:
        return None
    entries = []
    try:
        for item in value:
            if not isinstance(item, dict) or item.get("operation") not in (APPLY, UPDATE) or \
                    item.get("fieldsType", "FieldsV1") != "FieldsV1":
                return None
            entries.append(Entry(str(item.get("manager", "")), item["operation"], str(item.get("apiVersion", "")),
                                 fieldsets.from_wire(item.get("fieldsV1") or {}), item.get("time"),
                                 str(item.get("subresource", ""))))
    except ValueError:
        return None
    return entries


def encode(entries: list[Entry]) -> list[dict]:
    def order(e: Entry):
        return e.operation, e.time or "", e.manager, e.api_version, e.subresource
    return [e.wire() for e in sorted(entries, key=order) if e.fields]


def current(new: dict, old: dict | None) -> list[Entry]:
    """The entries a write starts from: the ones the client sent, else the stored ones (a client that does
    not know managedFields cannot erase them)."""
    sent = decode((new.get("metadata") or {}).get("managedFields"))
    if sent is not None:
        return sent
    return (decode(old["metadata"].get("managedFields")) if old else None) or []


def tracked(resource: Resource, obj: dict | None) -> dict:
    """The object as ownership sees it: without the stripped metadata and reset status."""
    if not obj:
        return {}
    out = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    meta = out.get("metadata")
    # metadata is in every object, the kind's empty one too, so it is never owned itself
    out["metadata"] = {k: v for k, v in meta.items() if k not in _STRIPPED_META} if isinstance(meta, dict) else {}
    if resource in STATUS_RESET:
        out.pop("status", None)
    return out


def empty(resource: Resource) -> dict:
    """The kind's empty object, as ownership sees it."""
    fields = copy.deepcopy(_EMPTY_OBJECT.get(resource.plural, {}))
    if resource in STATUS_RESET:
        fields.pop("status", None)
    return {"metadata": {}, **fields}


def _cap(entries: list[Entry]) -> list[Entry]:
    """At most MAX_UPDATE_MANAGERS update entries: the oldest are merged, per apiVersion, into one
    `ancient-changes` entry (the time of the newest merged), as upstream caps them."""
    updaters = sorted((e for e in entries if e.operation == UPDATE and e.fields),
                      key=lambda e: (e.time or "", e.sort_key()))
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return entries
    firsts: dict[str, Entry] = {}
    kept, length = list(entries), len(updaters)
    for entry in updaters:
        if length <= MAX_UPDATE_MANAGERS:
            break
        first = firsts.get(entry.api_version)
        if first is None:
            firsts[entry.api_version] = entry
            continue
        bucket = next((e for e in kept if e.key == (ANCIENT, UPDATE, entry.api_version, "")), None)
        if bucket is None:
            first.manager, first.subresource = ANCIENT, ""
            bucket = first
        bucket.fields, bucket.time = fieldsets.union(entry.fields, bucket.fields), entry.time
        kept.remove(entry)
        length -= 1
    return kept


def stamp(resource: Resource, entries: list[Entry], obj: dict) -> None:
    entries = _cap(entries)
    obj.setdefault("metadata", {})["managedFields"] = encode(entries)
    if not obj["metadata"]["managedFields"]:
        del obj["metadata"]["managedFields"]


def record_update(resource: Resource, old: dict | None, new: dict, manager: str, now: float,
                  created_by_server: tuple[str, ...] = ()) -> None:
    """Set new's managedFields for a create (old None) or update by `manager`. `created_by_server`: top-level
    paths (dotted) that the server, not the request, filled in on create."""
    entries = current(new, old)
    if old is not None and not entries:
        return      # upstream does not start tracking an object on an update (its first apply will)
    old_view, new_view = tracked(resource, old) if old else empty(resource), tracked(resource, new)
    if old is None:
        for dotted in created_by_server:
            new_view = _without(new_view, dotted.split("."))
    change = fieldsets.compare(old_view, new_view, fieldsets.of(resource))
    took = fieldsets.union(change.added, change.modified)
    lost = fieldsets.union(took, change.removed)
    mine = None
    for entry in entries:
        entry.fields = fieldsets.difference(entry.fields, lost)
        if entry.key == (manager, UPDATE, resource.api_version, ""):
            mine = entry
    if took:
        if mine is None:
            mine = Entry(manager, UPDATE, resource.api_version, {})
            entries.append(mine)
        mine.fields = fieldsets.union(mine.fields, took)
        mine.time = rfc3339(now)
    stamp(resource, entries, new)


def _without(obj: dict, path: list[str]) -> dict:
    """A copy of obj (copied only along the path) without the field at path."""
    if not isinstance(obj, dict) or path[0] not in obj:
        return obj
    out = dict(obj)
    if len(path) == 1:
        del out[path[0]]
    else:
        out[path[0]] = _without(obj[path[0]], path[1:])
    return out


def without_managed_fields(obj: dict) -> dict:
    out = copy.copy(obj)
    if isinstance(out.get("metadata"), dict):
        out["metadata"] = {k: v for k, v in out["metadata"].items() if k != "managedFields"}
    return out
