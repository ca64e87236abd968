"""Server-side apply: a PATCH whose body (application/apply-patch+yaml, YAML or JSON) is the configuration
a field manager wants. It is checked as upstream's typed patch checks it, merged into the live object by the
kind's merge schema (fieldsets.py), the fields the manager applied last time and nobody owns any more are
removed, and a change to a field another manager owns is a 409 Conflict unless forced, in which case the
applier takes it. kubectl's own manager ("kubectl") may also take over what a client-side apply owned.
"""
from __future__ import annotations

import json

from .. import limits
from . import fieldsets, status
from .managedfields import (APPLY, STATUS_RESET, UPDATE, Entry, current, empty, rfc3339, stamp, tracked,
                            without_managed_fields)
from .resources import Resource

KUBECTL = "kubectl"             # the manager whose applies upgrade a client-side apply (upstream's rule)
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
BEFORE_FIRST_APPLY = "before-first-apply"


def _go_type(value) -> str:
    return {list: "array", str: "string", bool: "bool"}.get(type(value), "number")


def decode(raw: bytes) -> dict:
    """The applied configuration; 400 with upstream's words when it is not a YAML (or JSON) object."""
    if not raw.strip():
        return {}
    value = _json_object(raw)
    if value is None:
        try:
            value = limits.parse_yaml(raw, max_depth=limits.MAX_DEPTH)
        except limits.BodyError as exc:
            raise status.bad_request(f"error decoding YAML: {exc.message}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise status.bad_request("error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot "
                                 f"unmarshal {_go_type(value)} into Go value of type map[string]interface {{}}")
    return value


def _json_object(raw: bytes) -> dict | None:
    """A JSON object body (what kubectl sends) parsed as JSON, which is YAML and many times faster to read;
    None for anything else, which the YAML reader then decides about."""
    if not raw.lstrip().startswith(b"{"):
        return None
    try:
        value = limits.parse_json(raw, max_depth=limits.MAX_DEPTH, go_text=True)
    except limits.BodyError:
        return None
    return value if isinstance(value, dict) else None


def _gvk(config: dict) -> str:
    api_version = config.get("apiVersion") if isinstance(config.get("apiVersion"), str) else ""
    group, _, version = api_version.rpartition("/")
    kind = config.get("kind") if isinstance(config.get("kind"), str) else ""
    return f"{group}/{version}, Kind={kind}"


def check(resource: Resource, config: dict, url_name: str) -> None:
    """What upstream refuses before merging: another kind, managedFields in the body, a name that is not the
    URL's, and what its typed patch cannot hold (unknown fields, wrong types). Upstream answers the last with a
    500 and no reason; the emulator never answers 5xx, so it is a 400 with upstream's message."""
    if config.get("apiVersion") != resource.api_version or config.get("kind") != resource.kind:
        raise status.bad_request(f"invalid object type: {_gvk(config)}")
    meta = config.get("metadata")
    if isinstance(meta, dict) and meta.get("managedFields") is not None:
        raise status.bad_request("metadata.managedFields must be nil")
    name = meta.get("name") if isinstance(meta, dict) else None
    if isinstance(name, str) and name and name != url_name:
        raise status.bad_request(f"the name of the object ({name}) does not match the name on the URL ({url_name})")
    errors = fieldsets.type_errors(config, fieldsets.of(resource))
    if errors:
        ns = meta.get("namespace") if isinstance(meta, dict) and isinstance(meta.get("namespace"), str) else ""
        where = f"({ns}/{name if isinstance(name, str) else ''}; {_gvk(config)})"
        text = errors[0] if len(errors) == 1 else "errors:\n" + "\n".join(f"  {e}" for e in errors)
        raise status.bad_request(f"failed to create typed patch object {where}: {text}")


def conflict_error(conflicts: list[tuple[Entry, list[str]]]) -> status.ApiError:
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {entry.identifier()}",
               "field": fieldsets.describe(path)} for entry, path in conflicts]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {entry.identifier()}: {fieldsets.describe(path)}"
    else:
        lines, seen = [], []
        for entry, _ in conflicts:
            if entry.sort_key() not in seen:
                seen.append(entry.sort_key())
                lines.append(f"conflicts with {entry.identifier()}:")
                lines += [f"- {fieldsets.describe(p)}" for e, p in conflicts if e.sort_key() == entry.sort_key()]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return status.ApiError(409, "Conflict", message, {"causes": causes})


def _last_applied_allowed(resource: Resource, live: dict) -> dict:
    """The fields kubectl's client-side apply last applied that still hold those values: kubectl's
    server-side apply may take them over without a conflict."""
    raw = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    try:
        last = json.loads(raw) if raw else None
    except ValueError:
        return {}
    if not isinstance(last, dict):
        return {}
    node = fieldsets.of(resource)
    last_view, live_view = tracked(resource, last), tracked(resource, live)
    both = fieldsets.intersection(fieldsets.owned(last_view, node), fieldsets.owned(live_view, node))
    return fieldsets.difference(both, fieldsets.compare(last_view, live_view, node).modified)


def applied(resource: Resource, live: dict | None, config: dict, manager: str, force: bool, now: float) -> dict:
    """The object to store: `config` applied by `manager` to `live` (None: the object is created), with its
    managedFields. Raises the 409 of upstream's conflicts."""
    node = fieldsets.of(resource)
    config = dict(config)
    if resource in STATUS_RESET:
        config.pop("status", None)
    entries = _entries(resource, live)
    mine = next((e for e in entries if e.key == (manager, APPLY, "", "")), None)
    last = mine.fields if mine else {}
    wanted = fieldsets.owned(tracked(resource, config), node)
    if mine is None:
        mine = Entry(manager, APPLY, resource.api_version, {})
        entries.append(mine)
    mine.fields, mine.api_version = wanted, resource.api_version
    others = [e for e in entries if e is not mine]
    everyone = wanted
    for entry in others:
        everyone = fieldsets.union(everyone, entry.fields)
    base = without_managed_fields(live) if live is not None else {}
    merged = fieldsets.merge(base, config, node)
    gone = fieldsets.difference(last, everyone)
    if gone:
        merged = fieldsets.remove(merged, gone, node, everyone)
    change = fieldsets.compare(tracked(resource, live), tracked(resource, merged), node)
    changed = fieldsets.union(change.added, change.modified)
    conflicts = []
    for entry in sorted(others, key=Entry.sort_key):
        conflicts += [(entry, path) for path in fieldsets.members(fieldsets.intersection(entry.fields, changed))]
    if conflicts and not force and manager == KUBECTL and live is not None:
        allowed = _last_applied_allowed(resource, live)
        conflicts = [(e, p) for e, p in conflicts if not fieldsets.intersection(_path_set(p), allowed)]
    if conflicts and not force:
        raise conflict_error(conflicts)
    for entry in others:
        entry.fields = fieldsets.difference(entry.fields, fieldsets.union(changed, change.removed))
    if merged != base:
        mine.time = rfc3339(now)
    if manager == KUBECTL and live is not None and LAST_APPLIED in ((live.get("metadata") or {})
                                                                     .get("annotations") or {}):
        # kubectl's server-side apply keeps a client-side apply's annotation in step with what it applied
        merged["metadata"] = dict(merged["metadata"], annotations=dict(merged["metadata"]["annotations"]))
        merged["metadata"]["annotations"][LAST_APPLIED] = _last_applied(config)
    stamp(resource, entries, merged)
    return merged


def _entries(resource: Resource, live: dict | None) -> list[Entry]:
    entries = current({}, live)
    if live is not None and not entries:
        # an object no manager has written yet: everything in it belongs to a placeholder manager
        entries = [Entry(BEFORE_FIRST_APPLY, UPDATE, resource.api_version,
                         fieldsets.compare(empty(resource), tracked(resource, live), fieldsets.of(resource)).added)]
    return entries


def _path_set(path: list[str]) -> dict:
    out: dict = {}
    fieldsets.insert(out, path)
    return out


def _last_applied(config: dict) -> str:
    """The configuration as upstream encodes it into the annotation: without the annotation itself, keys
    sorted, a newline at the end."""
    meta = dict(config.get("metadata") or {})
    if isinstance(meta.get("annotations"), dict):
        meta["annotations"] = {k: v for k, v in meta["annotations"].items() if k != LAST_APPLIED}
    return json.dumps(dict(config, metadata=meta), separators=(",", ":"), sort_keys=True) + "\n"
