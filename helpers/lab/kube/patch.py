"""PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch (lists that upstream merges by key, e.g. a
pod's containers by name, are merged by that key; $setElementOrder, $patch: delete/replace and
$deleteFromPrimitiveList directives), and JSON patch (RFC 6902)."""
from __future__ import annotations

import copy

from . import status


class PatchFailed(Exception):
    """A JSON patch that does not apply; the API server hides why (see apply)."""

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
ACCEPTED = f"{JSON_PATCH}, {MERGE}, {STRATEGIC}"
APPLY = "application/apply-patch+yaml"


def media_type(content_type: str) -> str:
    """A PATCH's media type; 415 (before the body is read) for one that is not a patch."""
    media = content_type.split(";")[0].strip().lower()
    if media not in (MERGE, STRATEGIC, JSON_PATCH, APPLY):
        raise status.unsupported_patch_type()
    return media


def merge(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


def _is_index(part: str) -> bool:
    """An array index of a JSON pointer: ASCII digits only (int() would also take other scripts' digits)."""
    return part.isascii() and part.isdigit()


# patchMergeKey of the list fields of the served kinds (k8s.io/api struct tags), by (parent field, field);
# a list without one is replaced whole, as with a merge patch
_MERGE_KEYS = {("spec", "containers"): "name", ("spec", "initContainers"): "name",
               ("spec", "ephemeralContainers"): "name", ("spec", "volumes"): "name",
               ("containers", "volumeMounts"): "mountPath", ("initContainers", "volumeMounts"): "mountPath",
               ("containers", "env"): "name", ("initContainers", "env"): "name",
               ("containers", "ports"): "containerPort", ("initContainers", "ports"): "containerPort",
               ("spec", "ports"): "port", ("spec", "imagePullSecrets"): "name", ("", "secrets"): "name",
               ("", "imagePullSecrets"): "name", ("metadata", "ownerReferences"): "uid"}
_MERGED_PRIMITIVES = {("metadata", "finalizers")}       # patchStrategy merge on a list of strings


def strategic(target, patch, parent: str = ""):
    """A strategic merge patch applied to `target` (the stored object, already in JSON shape)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field) or [] if v not in (value or [])]
            continue
        if key.startswith("$"):             # $setElementOrder/..., $retainKeys: ordering hints only here
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and (parent, key) in _MERGE_KEYS and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], value, _MERGE_KEYS[(parent, key)], key,
                                      patch.get(f"$setElementOrder/{key}"))
        elif isinstance(value, list) and (parent, key) in _MERGED_PRIMITIVES:
            result[key] = list(dict.fromkeys((result.get(key) or []) + value))
        else:
            result[key] = strategic(result.get(key), value, key)
    return result


def _merge_list(current: list, patch: list, merge_key: str, field: str, order) -> list:
    merged = [copy.deepcopy(item) for item in current]
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise status.bad_request(f"map: {item} does not contain declared merge key: {merge_key}")
        at = next((i for i, old in enumerate(merged) if isinstance(old, dict) and
                   old.get(merge_key) == item[merge_key]), None)
        if item.get("$patch") == "delete":
            if at is not None:
                merged.pop(at)
        elif at is None:
            merged.append({k: v for k, v in item.items() if k != "$patch"})
        else:
            merged[at] = strategic(merged[at], item, field)
    if isinstance(order, list):             # $setElementOrder: the order the client's list had
        rank = {o.get(merge_key): i for i, o in enumerate(order) if isinstance(o, dict)}
        merged.sort(key=lambda item: rank.get(item.get(merge_key), len(rank)))
    return merged


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchFailed(f'json patch path {path!r} must start with "/"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, parts: list[str], path: str):
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and _is_index(part) and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchFailed(f"jsonpatch: path {path!r} does not exist: missing {part!r}")
    return node


def _get(doc, path: str):
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and _is_index(last) and int(last) < len(parent):
        return parent[int(last)]
    raise PatchFailed(f"jsonpatch: path {path!r} does not exist")


def _remove(doc, path: str):
    parts = _pointer(path)
    parent = _parent(doc, parts, path)
    last = parts[-1] if parts else ""
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and _is_index(last) and int(last) < len(parent):
        return parent.pop(int(last))
    raise PatchFailed(f"jsonpatch remove operation does not apply: doc is missing path: {path}")


def _add(doc, path: str, value):
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list) and (last == "-" or (_is_index(last) and int(last) <= len(parent))):
        parent.insert(len(parent) if last == "-" else int(last), value)
    else:
        raise PatchFailed(f"jsonpatch add operation does not apply: doc is missing path: {path}")
    return doc


def json_patch(doc, operations):
    if not isinstance(operations, list):
        kind = {dict: "object", str: "string", bool: "bool"}.get(type(operations), "number")
        raise status.bad_request(f"error decoding patch: json: cannot unmarshal {kind} into Go value of type "
                                 "[]handlers.jsonPatchOp")
    doc = copy.deepcopy(doc)
    for op in operations:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str) or \
                not isinstance(op.get("from", ""), str):
            raise PatchFailed(f"invalid JSON patch operation: {op!r}")
        kind, path = op.get("op"), op["path"]
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            if _pointer(path):
                _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            source = op.get("from", "")
            value = _remove(doc, source) if kind == "move" else copy.deepcopy(_get(doc, source))
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise PatchFailed(f"testing value {path} failed: test failed")
        else:
            raise PatchFailed(f"unexpected JSON patch operation {kind!r}")
    return doc


def apply(content_type: str, current: dict, body):
    media = content_type.split(";")[0].strip().lower()
    if media in (MERGE, STRATEGIC):
        if not isinstance(body, dict):
            raise status.bad_request("a merge patch must be a JSON object")
        return strategic(current, body) if media == STRATEGIC else merge(current, body)
    if media == JSON_PATCH:
        try:
            return json_patch(current, body)
        except PatchFailed:
            # upstream answers every JSON patch that fails to apply with this generic 422
            raise status.ApiError(422, "Invalid", "the server rejected our request due to an error in our request",
                                  {}) from None
    raise status.unsupported_patch_type()
