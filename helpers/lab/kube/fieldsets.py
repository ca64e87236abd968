"""Field sets as server-side apply keeps them (structured-merge-diff's fieldpath.Set and its FieldsV1 wire
form), the served kinds' merge schema (which lists are associative, which structs and maps are atomic), and
the three walks over objects that server-side apply is made of: the set an applied configuration owns, the
comparison of two objects (added, modified, removed paths) and the merge of a configuration into a live object.

A set is a tree of dicts keyed by encoded path elements, the FieldsV1 spelling: `f:<field>`, `k:<json of the
key fields>` (an element of an associative list), `v:<json value>` (an element of a set list); the key "."
marks a node that is itself a member (a leaf member is {".": {}} here and {} on the wire). The operations
never leave a node without members below it, so an empty set is an empty dict.

The list types come from the upstream types' markers (+listType, +listMapKey, +mapType, +structType), which
the official client's models do not carry; every other list is atomic, as upstream's schema makes it.
"""
from __future__ import annotations

import copy
import functools
import json

from . import schema
from .resources import Resource

MEMBER = "."

# +listType=map lists of the served kinds, by (type, field): their key fields, with the keys' defaults
_LIST_MAPS = {
    ("ObjectMeta", "ownerReferences"): ("uid",), ("ServiceAccount", "secrets"): ("name",),
    ("NamespaceStatus", "conditions"): ("type",), ("ServiceSpec", "ports"): ("port", "protocol"),
    ("ServiceStatus", "conditions"): ("type",), ("PodStatus", "conditions"): ("type",),
    ("PodStatus", "podIPs"): ("ip",), ("PodSpec", "containers"): ("name",),
    ("PodSpec", "initContainers"): ("name",), ("PodSpec", "ephemeralContainers"): ("name",),
    ("PodSpec", "volumes"): ("name",), ("PodSpec", "imagePullSecrets"): ("name",),
    ("PodSpec", "hostAliases"): ("ip",), ("PodSpec", "resourceClaims"): ("name",),
    ("PodSpec", "schedulingGates"): ("name",),
    ("PodSpec", "topologySpreadConstraints"): ("topologyKey", "whenUnsatisfiable"),
    ("ResourceRequirements", "claims"): ("name",),
    **{(container, field): keys for container in ("Container", "EphemeralContainer") for field, keys in (
        ("env", ("name",)), ("ports", ("containerPort", "protocol")), ("volumeMounts", ("mountPath",)),
        ("volumeDevices", ("devicePath",)))},
}
_KEY_DEFAULTS = {"protocol": "TCP"}       # ports' protocol: the schema's default fills a missing key
_SET_LISTS = {("ObjectMeta", "finalizers"), ("ContainerRestartRuleOnExitCodes", "values")}
_ATOMIC_TYPES = {"LocalObjectReference", "ObjectReference", "OwnerReference", "TypedLocalObjectReference",
                 "LabelSelector", "NodeSelector", "NodeSelectorTerm", "ConfigMapKeySelector", "SecretKeySelector",
                 "ObjectFieldSelector", "ResourceFieldSelector", "FileKeySelector", "RoleRef", "Subject"}
_ATOMIC_MAPS = {("ServiceSpec", "selector"), ("PodSpec", "nodeSelector")}


# --- the schema ----------------------------------------------------------------------------------------

class Leaf:
    """A scalar (`kind` is its JSON type, "" when any scalar fits) or an atomic value (`atomic`)."""

    def __init__(self, kind: str = "", atomic: bool = False):
        self.kind, self.atomic = kind, atomic


class Struct:
    def __init__(self, name: str, atomic: bool):
        self.name, self.atomic = name, atomic
        self.fields: dict[str, object] = {}


class Map:
    def __init__(self, elem, atomic: bool):
        self.elem, self.atomic = elem, atomic


class List:
    def __init__(self, elem, keys: tuple[str, ...] | None = None, is_set: bool = False):
        self.elem, self.keys, self.is_set = elem, keys, is_set

    @property
    def atomic(self) -> bool:
        return self.keys is None and not self.is_set


ANY = Leaf(atomic=True)
_SCALARS = {"string": "string", "integer": "integer", "boolean": "boolean", "number": "number"}


class _Builder:
    def __init__(self):
        self.definitions = schema.load()["definitions"]
        self.structs: dict[str, Struct] = {}

    def struct(self, ref: str) -> Struct:
        if ref in self.structs:
            return self.structs[ref]
        short = ref.rsplit(".", 1)[-1]
        node = self.structs[ref] = Struct(short, short in _ATOMIC_TYPES)
        for field, prop in (self.definitions[ref].get("properties") or {}).items():
            node.fields[field] = self.node(prop, short, field)
        return node

    def node(self, prop: dict, owner: str, field: str):
        if "allOf" in prop or "$ref" in prop:
            return self.struct((prop.get("$ref") or prop["allOf"][0]["$ref"])[len(schema.REF):])
        kind = prop.get("type")
        if kind == "array":
            elem = self.node(prop["items"], owner, field)
            return List(elem, _LIST_MAPS.get((owner, field)), (owner, field) in _SET_LISTS)
        if kind == "object":
            if "additionalProperties" in prop:
                return Map(self.node(prop["additionalProperties"], owner, field), (owner, field) in _ATOMIC_MAPS)
            return ANY
        if prop.get("x-kubernetes-int-or-string"):
            return Leaf()
        return Leaf(_SCALARS.get(kind, ""))


@functools.lru_cache(maxsize=None)
def _builder() -> _Builder:
    return _Builder()


def of(resource: Resource) -> Struct:
    """The merge schema of a kind."""
    return _builder().struct(schema.definition_of(resource))


def _leaf(node) -> bool:
    return isinstance(node, Leaf) or node.atomic


# --- path elements -------------------------------------------------------------------------------------

def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def field(name: str) -> str:
    return "f:" + name


def item_key(node: List, item) -> str | None:
    """The `k:` element of an associative list's item; None when the item lacks a key field."""
    if not isinstance(item, dict):
        return None
    key = {}
    for name in node.keys:
        value = item.get(name, _KEY_DEFAULTS.get(name))
        if value is None:
            return None
        key[name] = value
    return "k:" + _json(dict(sorted(key.items())))


def value_key(value) -> str:
    return "v:" + _json(value)


def describe(path: list[str]) -> str:
    """A path as upstream prints it in conflicts: .metadata.labels.app, .spec.ports[port=80,protocol="TCP"]."""
    out = ""
    for element in path:
        kind, text = element[:1], element[2:]
        if kind == "f":
            out += "." + text
        elif kind == "k":
            out += "[" + ",".join(f"{k}={_json(v)}" for k, v in json.loads(text).items()) + "]"
        else:
            out += "[=" + text + "]"
    return out


_RANK = {"f": 0, "k": 1, "v": 2, "i": 3}


def _order(element: str):
    return _RANK.get(element[:1], 4), element[2:]


# --- sets ----------------------------------------------------------------------------------------------

def insert(tree: dict, path: list[str]) -> None:
    for element in path:
        tree = tree.setdefault(element, {})
    tree[MEMBER] = {}


# sets are values: the operations build new nodes where the result differs and share the rest, and nothing
# changes a set once built (insert only fills a tree being built)

def union(a: dict, b: dict) -> dict:
    if not a or not b:
        return a or b
    out = dict(a)
    for key, sub in b.items():
        out[key] = union(out[key], sub) if key in out else sub
    return out


def difference(a: dict, b: dict) -> dict:
    """Members of `a` that are not members of `b`."""
    if not b:
        return a
    out = {}
    for key, sub in a.items():
        if key == MEMBER:
            if MEMBER not in b:
                out[MEMBER] = {}
            continue
        rest = difference(sub, b[key]) if key in b else sub
        if rest:
            out[key] = rest
    return out


def intersection(a: dict, b: dict) -> dict:
    out = {}
    for key, sub in a.items():
        if key in b:
            if key == MEMBER:
                out[MEMBER] = {}
                continue
            both = intersection(sub, b[key])
            if both:
                out[key] = both
    return out


def members(tree: dict, prefix: tuple = ()) -> list[list[str]]:
    """Every member path, in upstream's iteration order (a level's members, then its children's)."""
    keys = sorted((k for k in tree if k != MEMBER), key=_order)
    found = [list(prefix + (k,)) for k in keys if MEMBER in tree[k]]
    for key in keys:
        found += members(tree[key], prefix + (key,))
    return found


def to_wire(tree: dict) -> dict:
    """FieldsV1: "." first, then the path elements in upstream's order; a leaf member is {}."""
    out = {MEMBER: {}} if MEMBER in tree and len(tree) > 1 else {}
    for key in sorted((k for k in tree if k != MEMBER), key=_order):
        out[key] = to_wire(tree[key])
    return out


def from_wire(value) -> dict:
    """A FieldsV1 object as a set; ValueError when it is not one."""
    if not isinstance(value, dict):
        raise ValueError("FieldsV1 must be an object")
    if not value:
        return {MEMBER: {}}
    out = {}
    for key, sub in value.items():
        if key == MEMBER:
            out[MEMBER] = {}
        elif key[:2] in ("f:", "k:", "v:", "i:"):
            out[key] = from_wire(sub)
        else:
            raise ValueError(f"invalid path element {key!r}")
    return out


# --- walks over objects --------------------------------------------------------------------------------

_MISSING = object()


def owned(obj, node, path: tuple = (), into: dict | None = None) -> dict:
    """The set an applied configuration owns: its leaves, atomic values and list items (not the structs
    and maps that hold them)."""
    into = {} if into is None else into
    if _leaf(node) or obj is None:
        insert(into, list(path))
    elif isinstance(node, Struct) and isinstance(obj, dict):
        for name, value in obj.items():
            if name in node.fields:
                owned(value, node.fields[name], path + (field(name),), into)
    elif isinstance(node, Map) and isinstance(obj, dict):
        for name, value in obj.items():
            owned(value, node.elem, path + (field(name),), into)
    elif isinstance(node, List) and isinstance(obj, list):
        for item in obj:
            if node.is_set:
                insert(into, list(path + (value_key(item),)))
                continue
            key = item_key(node, item)
            if key is not None:
                insert(into, list(path + (key,)))
                owned(item, node.elem, path + (key,), into)
    return into


def _items(node: List, value) -> dict:
    """A list's items by path element; None when the list cannot be taken apart (duplicate or missing keys)."""
    if not isinstance(value, list):
        return None
    out = {}
    for item in value:
        key = value_key(item) if node.is_set else item_key(node, item)
        if key is None or key in out:
            return None
        out[key] = item
    return out


class Comparison:
    def __init__(self):
        self.added: dict = {}
        self.modified: dict = {}
        self.removed: dict = {}


def compare(old, new, node) -> Comparison:
    """What changed from `old` to `new` (whole objects). A map, struct, list or list item wholly added or
    removed is a member itself, as is everything below it; an empty one is a leaf."""
    result = Comparison()
    _compare(old, new, node, (), result)
    return result


def _compare(old, new, node, path: tuple, result: Comparison) -> None:
    if not _leaf(node):                 # a null container is an empty one that is there
        if old is None and isinstance(new, (dict, list)):
            old = type(new)()
        elif new is None and isinstance(old, (dict, list)):
            new = type(old)()
    if old is _MISSING or new is _MISSING:
        if old is _MISSING:
            _whole(new, node, path, result.added)
        else:
            _whole(old, node, path, result.removed)
        return
    if _leaf(node) or not isinstance(old, (dict, list)) or type(old) is not type(new) or (not old and not new):
        if old != new:
            insert(result.modified, list(path))
        return
    if isinstance(node, List):
        before, after = _items(node, old), _items(node, new)
        if before is None or after is None:
            if old != new:
                insert(result.modified, list(path))
            return
        for key in sorted(set(before) | set(after), key=_order):
            was, now = before.get(key, _MISSING), after.get(key, _MISSING)
            if was is _MISSING or now is _MISSING or node.is_set:
                if was is _MISSING or now is _MISSING:
                    _item(now if was is _MISSING else was, node, path + (key,),
                          result.added if was is _MISSING else result.removed)
            else:
                _compare(was, now, node.elem, path + (key,), result)
        return
    for name in sorted(set(old) | set(new)):
        _compare(old.get(name, _MISSING), new.get(name, _MISSING), _child(node, name), path + (field(name),), result)


def _child(node, name: str):
    return node.fields.get(name, ANY) if isinstance(node, Struct) else node.elem


def _whole(value, node, path: tuple, side: dict) -> None:
    """Every path of a value that is wholly added (or removed)."""
    if _leaf(node) or not isinstance(value, (dict, list)) or not value:
        insert(side, list(path))
        return
    if isinstance(node, List):
        insert(side, list(path))
        for key, item in (_items(node, value) or {}).items():
            _item(item, node, path + (key,), side)
        return
    insert(side, list(path))
    for name, child_value in value.items():
        _whole(child_value, _child(node, name), path + (field(name),), side)


def _item(item, node: List, path: tuple, side: dict) -> None:
    insert(side, list(path))
    if not node.is_set and not _leaf(node.elem) and isinstance(item, dict):
        for name, child_value in item.items():
            _whole(child_value, _child(node.elem, name), path + (field(name),), side)


def merge(live, config, node):
    """`config` merged into `live`: granular structs and maps by field, associative and set lists by item
    (live order, new items after), anything atomic replaced."""
    if live is None or config is None or _leaf(node) or type(live) is not type(config):
        return copy.deepcopy(config)
    if isinstance(node, List):
        before, extra = _items(node, live), _items(node, config)
        if before is None or extra is None:
            return copy.deepcopy(config)
        merged = dict(before)
        for key, item in extra.items():
            merged[key] = item if node.is_set or key not in before else merge(before[key], item, node.elem)
        return [copy.deepcopy(v) for v in merged.values()]
    out = dict(live)
    for name, value in config.items():
        child = node.fields.get(name, ANY) if isinstance(node, Struct) else node.elem
        out[name] = merge(live.get(name), value, child)
    return out


def remove(obj, tree: dict, node, keep: dict):
    """`obj` without the member paths of `tree`, except where `keep` still owns something below them."""
    if not isinstance(obj, (dict, list)):
        return obj
    if isinstance(node, List):
        items = _items(node, obj)
        if items is None:
            return obj
        out = []
        for key, item in items.items():
            if key in tree:
                if MEMBER in tree[key] and key not in keep:
                    continue
                if not node.is_set:
                    item = remove(item, tree[key], node.elem, keep.get(key, {}))
            out.append(item)
        return out
    out = dict(obj)
    for name in list(obj):
        key = field(name)
        if key not in tree:
            continue
        child = node.fields.get(name, ANY) if isinstance(node, Struct) else getattr(node, "elem", ANY)
        if MEMBER in tree[key] and key not in keep:
            del out[name]
        elif not _leaf(child):
            out[name] = remove(obj[name], tree[key], child, keep.get(key, {}))
    return out


def type_errors(obj, node, path: str = "") -> list[str]:
    """What upstream's typed patch refuses in an applied configuration, as it words each error."""
    errors = []
    if obj is None:
        return errors
    if isinstance(node, Leaf):
        if node.kind and not _is(obj, node.kind):
            errors.append(f"{path or '.'}: expected {_EXPECTED.get(node.kind, node.kind)}, got {_go_value(obj)}")
        return errors
    if isinstance(node, (Struct, Map)):
        if not isinstance(obj, dict):
            return [f"{path or '.'}: expected map, got {_go_value(obj)}"]
        for name, value in obj.items():
            child = node.fields.get(name) if isinstance(node, Struct) else node.elem
            if child is None:
                errors.append(f"{path}.{name}: field not declared in schema")
            else:
                errors += type_errors(value, child, f"{path}.{name}")
        return errors
    if not isinstance(obj, list):
        return [f"{path}: expected list, got {_go_value(obj)}"]
    seen = set()
    for i, item in enumerate(obj):
        if node.keys is not None:
            key = item_key(node, item)
            if key is None:
                missing = next((k for k in node.keys if not isinstance(item, dict) or
                                item.get(k, _KEY_DEFAULTS.get(k)) is None), node.keys[0])
                errors.append(f"{path}: element {i}: associative list with keys has an element that omits key "
                              f'field "{missing}" (and doesn\'t have default value)')
                continue
            if key in seen:
                errors.append(f"{path}: duplicate entries for key {describe([key])}")
            seen.add(key)
        elif node.is_set:
            key = value_key(item)
            if key in seen:
                errors.append(f"{path}: duplicate entries for key {describe([key])}")
            seen.add(key)
        errors += type_errors(item, node.elem, f"{path}[{i}]" if node.keys is None else
                              path + describe([item_key(node, item)]))
    return errors


_EXPECTED = {"string": "string", "integer": "numeric (int or float)", "number": "numeric (int or float)",
             "boolean": "boolean"}


def _is(value, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _go_value(value) -> str:
    """%#v of the unstructured value, as upstream prints the offending one."""
    if isinstance(value, bool):
        inner = "true" if value else "false"
    elif isinstance(value, str):
        inner = _json(value)
    elif isinstance(value, (dict, list)):
        inner = "map[string]interface {}{...}" if isinstance(value, dict) else "[]interface {}{...}"
    else:
        inner = str(value)
    return "&value.valueUnstructured{Value:" + inner + "}"
