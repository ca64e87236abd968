"""What the API server does to an object before storing it: decoding checks, defaulting and validation,
per kind (Secret stringData folded into base64 data, default types, RBAC shape checks)."""
from __future__ import annotations

import base64
import binascii
import random

from . import events, pods, services, status
from .resources import (CLUSTERROLEBINDINGS, CONFIGMAPS, NAMESPACES, RBAC, RESOURCES, ROLEBINDINGS, SECRETS,
                        Resource)
from .status import FieldError
from .validation import key_errors, metadata_map_errors, name_errors, namespace_errors

_RBAC_KINDS = {r.plural for r in RESOURCES if r.group == RBAC}


def _random_suffix() -> str:
    # the same alphabet as apimachinery's rand.String (no vowels, no confusable digits)
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))


def check_kind(resource: Resource, kind, api_version) -> None:
    if kind not in (None, "", resource.kind):
        raise status.bad_request(f"the object's kind {kind!r} does not match the resource {resource.qualified} "
                                 f"(expected kind {resource.kind!r})")
    if api_version not in (None, "", resource.api_version):
        raise status.bad_request(f"the API version in the data ({api_version}) does not match the expected API "
                                 f"version ({resource.api_version})")


def prepare(resource: Resource, obj, namespace: str, url_name: str | None = None,
            also=None, report_as: Resource | None = None) -> dict:
    """Check and default a create/update body. Raises ApiError (400 BadRequest or 422 Invalid).
    `also(obj) -> [FieldError]` adds the checks of the API version asked for (events.k8s.io's strict ones);
    `report_as` is the resource the Invalid error names."""
    if not isinstance(obj, dict):
        raise status.bad_request(f"the request body must be a JSON object ({resource.kind}), not "
                                 f"{type(obj).__name__}")
    check_kind(resource, obj.get("kind"), obj.get("apiVersion"))
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    if not isinstance(meta, dict):
        raise status.bad_request("metadata must be a JSON object")
    obj["kind"], obj["apiVersion"] = resource.kind, resource.api_version
    meta.pop("generation", None)        # server-owned: set by admission (pods) or kept from the stored object

    if resource.namespaced:
        body_ns = meta.get("namespace")
        if body_ns not in (None, "") and body_ns != namespace:
            raise status.bad_request("the namespace of the provided object does not match the namespace sent on "
                                     "the request")
        meta["namespace"] = namespace
    name = meta.get("name") or ""
    if url_name is not None and name and name != url_name:
        raise status.bad_request(f"the name of the object ({name}) does not match the name on the URL ({url_name})")
    if url_name is not None:
        name = meta["name"] = url_name
    if not name and isinstance(meta.get("generateName"), str) and meta["generateName"]:
        name = meta["name"] = meta["generateName"] + _random_suffix()
    errors: list[FieldError] = []
    if not isinstance(name, str) or not name:
        errors.append(FieldError("metadata.name", "FieldValueRequired", detail="name or generateName is required"))
        name = ""
    else:
        errors += name_errors(resource, name)
    if resource.namespaced:
        errors += namespace_errors(namespace)
    errors += metadata_map_errors(meta, "labels") + metadata_map_errors(meta, "annotations")
    errors += _KIND_RULES.get(resource.plural, lambda o: [])(obj)
    if resource is SECRETS and url_name is None:
        errors += _secret_type_errors(obj)      # on updates, after the immutability checks (check_update)
    if also is not None:
        errors += also(obj)
    if errors:
        report_as = report_as or resource
        raise status.invalid(report_as.kind, report_as.group, name, errors)
    _omit_empty(obj, resource)
    return obj


# fields Go serialises with `omitempty`: an empty map or list sent by a client is not stored (a patch that
# removes the last label leaves no `labels: {}` behind)
_OMIT_EMPTY_META = ("labels", "annotations", "finalizers", "ownerReferences")
_OMIT_EMPTY = {"secrets": ("data",), "configmaps": ("data", "binaryData"),
               "serviceaccounts": ("secrets", "imagePullSecrets"),
               "rolebindings": ("subjects",), "clusterrolebindings": ("subjects",)}


def _omit_empty(obj: dict, resource: Resource) -> None:
    for owner, fields in ((obj["metadata"], _OMIT_EMPTY_META), (obj, _OMIT_EMPTY.get(resource.plural, ()))):
        for field in fields:
            if owner.get(field) in ({}, [], None) and field in owner:
                del owner[field]


def _namespace(obj: dict) -> list[FieldError]:
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    if not isinstance(spec, dict):
        raise status.bad_request("spec must be a JSON object (NamespaceSpec)")
    finalizers = spec.setdefault("finalizers", ["kubernetes"])
    if not isinstance(finalizers, list) or not all(isinstance(f, str) for f in finalizers):
        raise status.bad_request("spec.finalizers must be a list of strings")
    obj["status"] = {"phase": "Active"}
    # the API server's Namespace defaulting: this label always names the namespace, on create and on every
    # update, so a label selector can pick namespaces by name
    labels = obj["metadata"].get("labels")
    if not isinstance(labels, dict):
        labels = obj["metadata"]["labels"] = {}
    if obj["metadata"].get("name"):
        labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
    return []


def _b64_map(obj: dict, field: str) -> list[FieldError]:
    value = obj.get(field)
    if value is None:
        return []
    if not isinstance(value, dict):
        raise status.bad_request(f"{field} must be a map of key to base64-encoded value")
    for key, encoded in value.items():
        if not isinstance(encoded, str):
            raise status.bad_request(f"{field}[{key}] must be a base64-encoded string")
        try:
            base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            # the JSON decoder's error: it fails the whole body, naming the first bad byte as Go's base64 does
            raise status.bad_request(f'{obj.get("kind") or "Secret"} in version "v1" cannot be handled as a '
                                     f'{obj.get("kind") or "Secret"}: illegal base64 data at input byte '
                                     f"{_bad_base64_offset(encoded)}") from None
    return key_errors(value, field)


_B64 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _bad_base64_offset(text: str) -> int:
    """encoding/base64's CorruptInputError offset: the first byte outside the alphabet, else where the
    padding goes wrong."""
    for i, char in enumerate(text):
        if char not in _B64:
            if char == "=" and i >= len(text) - 2 and len(text) % 4 == 0 and i % 4 >= 2:
                continue
            return i
    return len(text) - len(text) % 4 if len(text) % 4 else len(text)


# keys a Secret of a built-in type must hold, checked on create and update (validation.ValidateSecret)
_SECRET_KEYS = {"kubernetes.io/tls": ("tls.crt", "tls.key"), "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
                "kubernetes.io/dockercfg": (".dockercfg",), "kubernetes.io/ssh-auth": ("ssh-privatekey",)}


def _string_map(obj: dict, field: str) -> dict:
    value = obj.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise status.bad_request(f"{field} must be a map of key to string value")
    return value


def _secret(obj: dict) -> list[FieldError]:
    errors = _b64_map(obj, "data")
    plain = _string_map(obj, "stringData")
    errors += key_errors(plain, "stringData")
    if plain:
        data = obj.get("data") or {}
        for key, value in plain.items():        # stringData wins over data, as on a real API server
            data[key] = base64.b64encode(value.encode()).decode()
        obj["data"] = data
    obj.pop("stringData", None)
    secret_type = obj.get("type")
    if secret_type in (None, ""):
        obj["type"] = "Opaque"
    elif not isinstance(secret_type, str):
        raise status.bad_request("type must be a string")
    return errors


def _service_account(obj: dict) -> list[FieldError]:
    for field in ("secrets", "imagePullSecrets"):
        value = obj.get(field)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
            raise status.bad_request(f"{field} must be a list of object references")
    automount = obj.get("automountServiceAccountToken")
    if automount is not None and not isinstance(automount, bool):
        raise status.bad_request("automountServiceAccountToken must be true or false")
    return []


def _configmap(obj: dict) -> list[FieldError]:
    errors = key_errors(_string_map(obj, "data"), "data")
    errors += _b64_map(obj, "binaryData")
    return errors


def _rules(obj: dict) -> list[FieldError]:
    rules = obj.get("rules")
    if rules is None:
        return []
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise status.bad_request("rules must be a list of PolicyRule objects")
    errors = []
    for i, rule in enumerate(rules):
        for field in ("verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"):
            value = rule.get(field)
            if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
                raise status.bad_request(f"rules[{i}].{field} must be a list of strings")
        if not rule.get("verbs"):
            errors.append(FieldError(f"rules[{i}].verbs", "FieldValueRequired",
                                     detail="verbs must contain at least one value"))
        if rule.get("nonResourceURLs"):
            if obj["kind"] == "Role":
                errors.append(FieldError(f"rules[{i}].nonResourceURLs", "FieldValueInvalid", rule["nonResourceURLs"],
                                         "namespaced rules cannot apply to non-resource URLs"))
            if rule.get("apiGroups") or rule.get("resources"):
                errors.append(FieldError(f"rules[{i}].nonResourceURLs", "FieldValueInvalid", rule["nonResourceURLs"],
                                         "rules cannot apply to both regular resources and non-resource URLs"))
        elif not rule.get("apiGroups") and "apiGroups" not in rule:
            errors.append(FieldError(f"rules[{i}].apiGroups", "FieldValueRequired",
                                     detail="resource rules must supply at least one api group"))
        elif not rule.get("resources"):
            errors.append(FieldError(f"rules[{i}].resources", "FieldValueRequired",
                                     detail="resource rules must supply at least one resource"))
    return errors


def _binding(obj: dict) -> list[FieldError]:
    errors = []
    ref = obj.get("roleRef")
    if not isinstance(ref, dict):
        return [FieldError("roleRef.name", "FieldValueRequired")]
    subjects = obj.get("subjects") or []
    # the RoleRef and Subject fields are Go strings: any other JSON type cannot be decoded (400)
    listed = subjects if isinstance(subjects, list) else []
    for where, fields in [("roleRef", ref)] + [(f"subjects[{i}]", s) for i, s in enumerate(listed)
                                               if isinstance(s, dict)]:
        for key, value in fields.items():
            if value is not None and not isinstance(value, str):
                raise status.bad_request(f'{obj["kind"]} in version "v1" cannot be handled as a {obj["kind"]}: '
                                         f"json: cannot unmarshal value into Go struct field {where}.{key} of "
                                         "type string")
    allowed = ["ClusterRole"] if obj["kind"] == "ClusterRoleBinding" else ["Role", "ClusterRole"]
    if ref.get("apiGroup") != RBAC:
        errors.append(FieldError("roleRef.apiGroup", "FieldValueNotSupported", ref.get("apiGroup", ""),
                                 f'supported values: "{RBAC}"'))
    if ref.get("kind") not in allowed:
        errors.append(FieldError("roleRef.kind", "FieldValueNotSupported", ref.get("kind", ""),
                                 "supported values: " + ", ".join(f'"{k}"' for k in allowed)))
    if not ref.get("name"):
        errors.append(FieldError("roleRef.name", "FieldValueRequired"))
    if not isinstance(subjects, list) or not all(isinstance(s, dict) for s in subjects):
        raise status.bad_request("subjects must be a list of Subject objects")
    for i, subject in enumerate(subjects):
        kind = subject.get("kind")
        if kind not in ("ServiceAccount", "User", "Group"):
            errors.append(FieldError(f"subjects[{i}].kind", "FieldValueNotSupported", kind or "",
                                     'supported values: "ServiceAccount", "User", "Group"'))
        if not subject.get("name"):
            errors.append(FieldError(f"subjects[{i}].name", "FieldValueRequired"))
        if kind == "ServiceAccount":
            if subject.get("apiGroup"):
                errors.append(FieldError(f"subjects[{i}].apiGroup", "FieldValueNotSupported", subject["apiGroup"],
                                         'supported values: ""'))
            if obj["kind"] == "ClusterRoleBinding" and not subject.get("namespace"):
                errors.append(FieldError(f"subjects[{i}].namespace", "FieldValueRequired"))
        elif kind in ("User", "Group") and subject.get("apiGroup") != RBAC:
            errors.append(FieldError(f"subjects[{i}].apiGroup", "FieldValueNotSupported",
                                     subject.get("apiGroup", ""), f'supported values: "{RBAC}"'))
    return errors


_KIND_RULES = {
    NAMESPACES.plural: _namespace,
    "serviceaccounts": _service_account,
    SECRETS.plural: _secret,
    CONFIGMAPS.plural: _configmap,
    "clusterroles": _rules,
    "roles": _rules,
    CLUSTERROLEBINDINGS.plural: _binding,
    ROLEBINDINGS.plural: _binding,
    "services": services.defaults_and_errors,
    "pods": pods.defaults_and_errors,
    "events": events.core_errors,
}


def _secret_type_errors(obj: dict) -> list[FieldError]:
    data = obj.get("data") or {}
    return [FieldError(f"data[{key}]", "FieldValueRequired") for key in _SECRET_KEYS.get(obj.get("type"), ())
            if key not in data]


def check_update(resource: Resource, old: dict, new: dict) -> None:
    """Fields the API server refuses to change once set."""
    errors = []
    if resource.plural in (CLUSTERROLEBINDINGS.plural, ROLEBINDINGS.plural) and old.get("roleRef") != new.get("roleRef"):
        ref = new.get("roleRef") or {}
        # upstream prints the internal RoleRef struct, whose fields carry no JSON names
        shown = {"APIGroup": ref.get("apiGroup", ""), "Kind": ref.get("kind", ""), "Name": ref.get("name", "")}
        errors.append(FieldError("roleRef", "FieldValueInvalid", shown, "cannot change roleRef"))
    if resource is SECRETS and old.get("type") != new.get("type"):
        errors.append(FieldError("type", "FieldValueInvalid", new.get("type"), "field is immutable"))
    if resource is SECRETS:
        errors += _secret_type_errors(new)
    if resource is NAMESPACES:
        new["status"] = old.get("status", {"phase": "Active"})
    if resource.plural == "services":
        errors += services.update_errors(old, new)
    if resource.plural == "pods":
        errors += pods.update_errors(old, new)
    if errors:
        raise status.invalid(resource.kind, resource.group, old["metadata"]["name"], errors)
