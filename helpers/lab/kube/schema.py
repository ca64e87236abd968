"""The served kinds' field schemas, generated from the model metadata the official `kubernetes` client ships
(each model's openapi_types, attribute_map, required fields and descriptions), so that the OpenAPI documents
and field validation never disagree with the kinds a real API server serves.

Definitions are named as upstream names them: io.k8s.api.<group>.v1.<Type> for a kind and the types it
holds, io.k8s.apimachinery.pkg.apis.meta.v1.<Type> for ObjectMeta and its kin.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from pathlib import Path

from .resources import RESOURCES, Resource

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
_META_TYPES = {"ObjectMeta", "ManagedFieldsEntry", "OwnerReference", "ListMeta", "Status", "StatusDetails",
               "StatusCause", "Condition", "LabelSelector", "LabelSelectorRequirement", "DeleteOptions",
               "Preconditions", "MicroTime", "Time"}
_PACKAGE = {"": "core", "rbac.authorization.k8s.io": "rbac", "authentication.k8s.io": "authentication",
            "authorization.k8s.io": "authorization", "events.k8s.io": "events"}
_PREFIX = {"": "CoreV1", "rbac.authorization.k8s.io": "RbacV1", "authentication.k8s.io": "AuthenticationV1",
           "authorization.k8s.io": "AuthorizationV1", "events.k8s.io": "EventsV1"}
_CLIENT_PREFIX = re.compile(r"^(CoreV1|EventsV1|RbacV1|AuthenticationV1|AuthorizationV1|V1)")
_INT_OR_STRING = {"targetPort", "port", "maxSurge", "maxUnavailable"}    # fields the client types as `object`
_TIME_FORMAT = {"type": "string", "format": "date-time"}


def _models():
    import kubernetes.client   # ~2 s with its models: paid once, when the cache below is built
    return kubernetes.client


def model_class(kind: str, group: str):
    """The client's model for a kind: a group-prefixed name when the client needed one (CoreV1Event)."""
    models = _models()
    return getattr(models, f"{_PREFIX[group]}{kind}", None) or getattr(models, f"V1{kind}")


def type_name(cls_name: str) -> str:
    return _CLIENT_PREFIX.sub("", cls_name)


def definition(cls_name: str, group: str) -> str:
    name = type_name(cls_name)
    if name in _META_TYPES:
        return f"{META}.{name}"
    if group == "events.k8s.io" and not cls_name.startswith("EventsV1"):
        group = ""          # events.k8s.io's Event holds core types (ObjectReference, EventSource)
    return f"io.k8s.api.{_PACKAGE[group]}.v1.{name}"


def _description(cls) -> str:
    doc = (cls.__doc__ or "").split("Attributes:")[0]
    return " ".join(doc.split())


REF = "#/definitions/"      # refs as OpenAPI v2 writes them; the v3 document rewrites the prefix


class _Generator:
    """Every definition reachable from the served kinds, as OpenAPI schema objects."""

    def __init__(self):
        self.ref_prefix = REF
        self.definitions: dict[str, dict] = {}
        self.kinds: dict[str, str] = {}
        for resource in RESOURCES:
            cls = model_class(resource.kind, resource.group)
            self.kinds[_kind_key(resource)] = self._add(cls.__name__, resource.group, resource)

    def _type(self, type_str: str, group: str, field: str) -> dict:
        if type_str.startswith("List["):
            return {"type": "array", "items": self._type(type_str[5:-1], group, field)}
        if type_str.startswith("Dict[str, "):
            return {"type": "object", "additionalProperties": self._type(type_str[10:-1], group, field)}
        simple = {"str": {"type": "string"}, "int": {"type": "integer", "format": "int64"},
                  "bool": {"type": "boolean"}, "float": {"type": "number", "format": "double"},
                  "datetime": _TIME_FORMAT, "bytearray": {"type": "string", "format": "byte"},
                  "bytes": {"type": "string", "format": "byte"}}
        if type_str in simple:
            return dict(simple[type_str])
        if type_str == "object":
            if field in _INT_OR_STRING:
                return {"type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": True}
            return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        name = self._add(type_str, group)
        return {"allOf": [{"$ref": self.ref_prefix + name}], "default": {}}

    def _add(self, cls_name: str, group: str, resource: Resource | None = None) -> str:
        name = definition(cls_name, group)
        if name in self.definitions:
            return name
        cls = getattr(_models(), cls_name)
        schema: dict = {"description": _description(cls), "type": "object", "properties": {}}
        self.definitions[name] = schema         # before the fields: types may refer to themselves
        required = []
        for attr, type_str in cls.openapi_types.items():
            field = cls.attribute_map[attr]
            info = cls.model_fields.get(attr)
            prop = self._type(type_str, group, field)
            if info is not None and info.description:
                prop["description"] = info.description
            schema["properties"][field] = prop
            if info is not None and info.is_required():
                required.append(field)
        if required:
            schema["required"] = sorted(required)
        if resource is not None:
            schema["x-kubernetes-group-version-kind"] = [{"group": resource.group, "kind": resource.kind,
                                                         "version": resource.version}]
        return name


def _kind_key(resource: Resource) -> str:
    return f"{resource.group}/{resource.version}/{resource.kind}"


def _cache_path() -> Path:
    from importlib.metadata import version
    cache = Path(os.environ.get("WORKSHOP_CACHE") or Path.home() / ".cache" / "akeyless-workshop")
    # keyed by the client's version and this generator's source, so either changing rebuilds it
    digest = hashlib.sha256(Path(__file__).read_bytes() + repr(sorted(map(_kind_key, RESOURCES))).encode())
    return cache / f"kube-openapi-{version('kubernetes')}-{digest.hexdigest()[:12]}.json"


@functools.lru_cache(maxsize=None)
def load() -> dict:
    """{"definitions": {name: schema}, "kinds": {group/version/Kind: name}}, generated once per client version."""
    path = _cache_path()
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    generated = _Generator()
    data = {"definitions": generated.definitions, "kinds": generated.kinds}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, sort_keys=True))
        tmp.replace(path)
    except OSError:
        pass                # a read-only home only costs the generation on the next start
    return data


def definition_of(resource: Resource) -> str:
    return load()["kinds"][_kind_key(resource)]


def fields(resource: Resource):
    """The field tree of a kind for validation: {json name: subtree}; a subtree is a dict of fields, ("map",
    subtree) / ("list", subtree) for containers, or None for a leaf (any value, unchecked below it)."""
    return _fields(definition_of(resource))


@functools.lru_cache(maxsize=None)
def _fields(name: str):
    definitions, memo = load()["definitions"], {}

    def tree(prop: dict):
        if "allOf" in prop or "$ref" in prop:
            ref = (prop.get("$ref") or prop["allOf"][0]["$ref"])[len(REF):]
            if ref not in memo:
                memo[ref] = None                # a type holding itself: unchecked below the cycle
                memo[ref] = {k: tree(v) for k, v in (definitions[ref].get("properties") or {}).items()}
            return memo[ref]
        if prop.get("type") == "array":
            inner = tree(prop["items"])
            return ("list", inner) if inner is not None else None
        if prop.get("type") == "object" and "additionalProperties" in prop:
            inner = tree(prop["additionalProperties"])
            return ("map", inner) if inner is not None else None
        return None

    return tree({"$ref": REF + name})


def unknown_fields(obj, tree, path: str = "") -> list[str]:
    """Paths of the fields in `obj` that `tree` does not know, removed from `obj` as they are found (the
    API server drops them unless fieldValidation=Strict refuses the request)."""
    found = []
    if tree is None:
        return found
    if isinstance(tree, tuple):
        shape, inner = tree
        if shape == "list" and isinstance(obj, list):
            for i, item in enumerate(obj):
                found += unknown_fields(item, inner, f"{path}[{i}]")
        elif shape == "map" and isinstance(obj, dict):
            for key, value in obj.items():
                found += unknown_fields(value, inner, f"{path}[{key}]")
        return found
    if not isinstance(obj, dict):
        return found
    for key in list(obj):
        where = f"{path}.{key}" if path else key
        if key not in tree:
            found.append(where)
            del obj[key]
        else:
            found += unknown_fields(obj[key], tree[key], where)
    return found
