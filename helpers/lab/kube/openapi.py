"""/openapi/v2 and /openapi/v3 for the served kinds, built from the resource table and the generated schemas
(schema.py): enough for kubectl's validation (its PATCH operations accept `fieldValidation`, so kubectl lets
the server validate), `kubectl explain`, and any client that reads the documents."""
from __future__ import annotations

import copy
import functools
import hashlib
import json

from . import schema
from .discovery import KUBE_VERSION
from .resources import RESOURCES, Resource

_INFO = {"title": "Kubernetes", "version": KUBE_VERSION}
_V3_REF = "#/components/schemas/"
_WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
_BODY_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
# strategic merge patch is accepted but not advertised: the schemas carry no patch-merge keys, so kubectl
# apply computes its patches from its built-in types, which have them, as it does without OpenAPI
_PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json")


def _gv_path(resource: Resource) -> str:
    return f"api/{resource.version}" if not resource.group else f"apis/{resource.group}/{resource.version}"


def _operation_id(verb: str, resource: Resource, namespaced: bool, suffix: str = "") -> str:
    group = "".join(p.capitalize() for p in (resource.group.split(".")[0] if resource.group else "core",))
    scope = "Namespaced" if namespaced else ""
    return f"{verb}{group}{resource.version.capitalize()}{scope}{resource.kind}{suffix}"


def _query(name: str, kind: str = "string") -> dict:
    return {"name": name, "in": "query", "schema": {"type": kind, "uniqueItems": True}}


def _operation(resource: Resource, verb: str, action: str, ref: str, namespaced: bool, body_types=()) -> dict:
    op = {"tags": [f"{resource.group.split('.')[0] or 'core'}_{resource.version}"],
          "description": f"{action} {resource.kind}",
          "operationId": _operation_id(verb, resource, namespaced),
          "parameters": [_query(p) for p in _WRITE_PARAMS] if body_types else [],
          "responses": {"200": {"description": "OK", "content": {
              "application/json": {"schema": {"$ref": ref}}}}},
          "x-kubernetes-action": action,
          "x-kubernetes-group-version-kind": {"group": resource.group, "version": resource.version,
                                              "kind": resource.kind}}
    if body_types:
        op["requestBody"] = {"content": {t: {"schema": {"$ref": ref}} for t in body_types}, "required": True}
    if action == "patch":
        op["parameters"].append(_query("force", "boolean"))
    return op


def _paths(resource: Resource, ref: str) -> dict:
    prefix = "/" + _gv_path(resource)
    scoped = f"{prefix}/namespaces/{{namespace}}/{resource.plural}" if resource.namespaced else \
        f"{prefix}/{resource.plural}"
    ns = resource.namespaced
    if not resource.stored:
        return {scoped: {"post": _operation(resource, "create", "post", ref, ns, _BODY_TYPES)}}
    paths = {scoped: {"get": _operation(resource, "list", "list", ref, ns),
                      "post": _operation(resource, "create", "post", ref, ns, _BODY_TYPES),
                      "delete": _operation(resource, "deleteCollection", "deletecollection", ref, ns)},
             f"{scoped}/{{name}}": {"get": _operation(resource, "read", "get", ref, ns),
                                    "put": _operation(resource, "replace", "put", ref, ns, _BODY_TYPES),
                                    "patch": _operation(resource, "patch", "patch", ref, ns, _PATCH_TYPES),
                                    "delete": _operation(resource, "delete", "delete", ref, ns)}}
    if ns:
        paths[f"{prefix}/{resource.plural}"] = {"get": _operation(resource, "list", "list", ref, False)}
    return paths


def _v3_refs(value):
    """The generated schemas use v2 refs (#/definitions/...); v3 keeps them under components.schemas."""
    if isinstance(value, dict):
        return {k: (_V3_REF + v[len(schema.REF):] if k == "$ref" else _v3_refs(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_v3_refs(v) for v in value]
    return value


@functools.lru_cache(maxsize=None)
def v2() -> bytes:
    data = schema.load()
    paths = {}
    for resource in RESOURCES:
        for path, ops in _paths(resource, schema.REF + schema.definition_of(resource)).items():
            for op in ops.values():         # v2 spells request bodies and responses differently
                body = op.pop("requestBody", None)
                if body is not None:
                    op["consumes"] = list(body["content"])
                    op["parameters"].insert(0, {"name": "body", "in": "body", "required": True,
                                                "schema": next(iter(body["content"].values()))["schema"]})
                for param in op["parameters"]:
                    if "schema" in param and param["in"] == "query":
                        param.update(param.pop("schema"))
                op["produces"] = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
                op["responses"] = {"200": {"description": "OK", "schema": op["responses"]["200"]["content"]
                                           ["application/json"]["schema"]}}
            paths.setdefault(path, {}).update(ops)
    return json.dumps({"swagger": "2.0", "info": _INFO, "paths": paths,
                       "definitions": data["definitions"]}).encode()


V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
V2_PROTOBUF_REPLY = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"     # what the server answers


def _pb_field(number: int, payload: bytes) -> bytes:
    length, encoded = len(payload), b""
    while True:
        byte, length = length & 0x7F, length >> 7
        encoded += bytes([byte | (0x80 if length else 0)])
        if not length:
            break
    return bytes([number << 3 | 2]) + encoded + payload


@functools.lru_cache(maxsize=None)
def v2_protobuf() -> bytes:
    """/openapi/v2 as client-go asks for it (a gnostic openapi_v2.Document): swagger and info, no paths or
    definitions. kubectl reads it only where the v3 documents do not answer (validating the create-only
    review kinds, which then have no schema to check client-side; the server still checks them)."""
    info = _pb_field(1, _INFO["title"].encode()) + _pb_field(2, _INFO["version"].encode())
    return _pb_field(1, b"2.0") + _pb_field(2, info)


def _reachable(names: list[str], definitions: dict) -> dict:
    found: dict = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found[name] = definitions[name]
        text = json.dumps(definitions[name])
        todo += [ref.split('"')[0] for ref in text.split(f'"$ref": "{schema.REF}')[1:]]
    return dict(sorted(found.items()))


@functools.lru_cache(maxsize=None)
def v3_documents() -> dict[str, bytes]:
    """One OpenAPI 3 document per group version, by its path under /openapi/v3."""
    data = schema.load()
    by_gv: dict[str, list[Resource]] = {}
    for resource in RESOURCES:
        by_gv.setdefault(_gv_path(resource), []).append(resource)
    documents = {}
    for gv, resources in by_gv.items():
        paths: dict = {}
        for resource in resources:
            for path, ops in _paths(resource, _V3_REF + schema.definition_of(resource)).items():
                paths.setdefault(path, {}).update(ops)
        schemas = _reachable([schema.definition_of(r) for r in resources], data["definitions"])
        documents[gv] = json.dumps({"openapi": "3.0.0", "info": _INFO, "paths": paths,
                                    "components": {"schemas": _v3_refs(copy.deepcopy(schemas))}}).encode()
    return documents


@functools.lru_cache(maxsize=None)
def v3_index() -> bytes:
    return json.dumps({"paths": {gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash="
                                      f"{hashlib.sha512(doc).hexdigest().upper()}"}
                                 for gv, doc in v3_documents().items()}}).encode()
