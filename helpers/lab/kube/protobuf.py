"""Decoding of `application/vnd.kubernetes.protobuf` request bodies into the JSON shape.

kubectl sends built-in kinds as protobuf (a `k8s\\0` magic, then a runtime.Unknown envelope around the
object's message). The schemas below carry the field numbers of k8s.io/api's generated.proto for the
kinds the lab serves; fields holding Go zero values are dropped, as Go's `omitempty` JSON would.
Responses are always JSON, which every client's Accept header allows.
"""
from __future__ import annotations

import base64

from . import status

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

# field number -> (json name, type); a type is "string" | "bytes" | "int" | "bool" | a schema dict |
# ("repeated", type) | ("map", value type)
_TIME = {1: ("seconds", "int"), 2: ("nanos", "int")}
_TYPE_META = {1: ("apiVersion", "string"), 2: ("kind", "string")}
_OWNER = {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"), 5: ("apiVersion", "string"),
          6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")}
_META = {1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
         5: ("uid", "string"), 6: ("resourceVersion", "string"), 7: ("generation", "int"),
         8: ("creationTimestamp", _TIME), 9: ("deletionTimestamp", _TIME),
         11: ("labels", ("map", "string")), 12: ("annotations", ("map", "string")),
         13: ("ownerReferences", ("repeated", _OWNER)), 14: ("finalizers", ("repeated", "string"))}
_OBJECT_REF = {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"), 4: ("uid", "string"),
               5: ("apiVersion", "string"), 6: ("resourceVersion", "string"), 7: ("fieldPath", "string")}
_RESOURCE_ATTRS = {1: ("namespace", "string"), 2: ("verb", "string"), 3: ("group", "string"),
                   4: ("version", "string"), 5: ("resource", "string"), 6: ("subresource", "string"),
                   7: ("name", "string")}
_URL_ATTRS = {1: ("path", "string"), 2: ("verb", "string")}
_SAR_SPEC = {1: ("resourceAttributes", _RESOURCE_ATTRS), 2: ("nonResourceAttributes", _URL_ATTRS),
             3: ("user", "string"), 4: ("groups", ("repeated", "string")),
             5: ("extra", ("map", {1: ("items", ("repeated", "string"))})), 6: ("uid", "string")}
_RULE = {1: ("verbs", ("repeated", "string")), 2: ("apiGroups", ("repeated", "string")),
         3: ("resources", ("repeated", "string")), 4: ("resourceNames", ("repeated", "string")),
         5: ("nonResourceURLs", ("repeated", "string"))}
_BINDING = {1: ("metadata", _META),
            2: ("subjects", ("repeated", {1: ("kind", "string"), 2: ("apiGroup", "string"), 3: ("name", "string"),
                                          4: ("namespace", "string")})),
            3: ("roleRef", {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")})}

_SERVICE_PORT = {1: ("name", "string"), 2: ("protocol", "string"), 6: ("appProtocol", "string"), 3: ("port", "int"),
                 4: ("targetPort", "intorstr"), 5: ("nodePort", "int")}
_SERVICE_SPEC = {1: ("ports", ("repeated", _SERVICE_PORT)), 2: ("selector", ("map", "string")),
                 3: ("clusterIP", "string"), 18: ("clusterIPs", ("repeated", "string")), 4: ("type", "string"),
                 5: ("externalIPs", ("repeated", "string")), 7: ("sessionAffinity", "string"),
                 10: ("externalName", "string"), 11: ("externalTrafficPolicy", "string"),
                 19: ("ipFamilies", ("repeated", "string")), 17: ("ipFamilyPolicy", "string"),
                 20: ("allocateLoadBalancerNodePorts", "bool"), 22: ("internalTrafficPolicy", "string")}
_KEY_REF = {1: ("localObjectReference", {1: ("name", "string")}), 2: ("key", "string"), 3: ("optional", "bool")}
_ENV = {1: ("name", "string"), 2: ("value", "string"),
        3: ("valueFrom", {1: ("fieldRef", {1: ("apiVersion", "string"), 2: ("fieldPath", "string")}),
                          3: ("configMapKeyRef", _KEY_REF), 4: ("secretKeyRef", _KEY_REF)})}
_CONTAINER = {1: ("name", "string"), 2: ("image", "string"), 3: ("command", ("repeated", "string")),
              4: ("args", ("repeated", "string")), 5: ("workingDir", "string"),
              6: ("ports", ("repeated", {1: ("name", "string"), 2: ("hostPort", "int"), 3: ("containerPort", "int"),
                                         4: ("protocol", "string")})),
              7: ("env", ("repeated", _ENV)),
              8: ("resources", {1: ("limits", ("map", "quantity")), 2: ("requests", ("map", "quantity"))}),
              9: ("volumeMounts", ("repeated", {1: ("name", "string"), 2: ("readOnly", "bool"),
                                                3: ("mountPath", "string"), 4: ("subPath", "string")})),
              13: ("terminationMessagePath", "string"), 20: ("terminationMessagePolicy", "string"),
              14: ("imagePullPolicy", "string"), 16: ("stdin", "bool"), 17: ("stdinOnce", "bool"), 18: ("tty", "bool")}
_POD_SPEC = {2: ("containers", ("repeated", _CONTAINER)), 20: ("initContainers", ("repeated", _CONTAINER)),
             3: ("restartPolicy", "string"), 4: ("terminationGracePeriodSeconds", "int"), 6: ("dnsPolicy", "string"),
             7: ("nodeSelector", ("map", "string")), 8: ("serviceAccountName", "string"),
             9: ("serviceAccount", "string"), 21: ("automountServiceAccountToken", "bool"), 10: ("nodeName", "string"),
             15: ("imagePullSecrets", ("repeated", {1: ("name", "string")})), 19: ("schedulerName", "string"),
             30: ("enableServiceLinks", "bool")}
_EVENT = {1: ("metadata", _META), 2: ("involvedObject", _OBJECT_REF), 3: ("reason", "string"),
          4: ("message", "string"), 5: ("source", {1: ("component", "string"), 2: ("host", "string")}),
          8: ("count", "int"), 9: ("type", "string"), 12: ("action", "string"), 14: ("reportingComponent", "string"),
          15: ("reportingInstance", "string")}

SCHEMAS = {
    "Service": {1: ("metadata", _META), 2: ("spec", _SERVICE_SPEC)},
    "Pod": {1: ("metadata", _META), 2: ("spec", _POD_SPEC)},
    "Event": _EVENT,
    "Namespace": {1: ("metadata", _META), 2: ("spec", {1: ("finalizers", ("repeated", "string"))})},
    "ServiceAccount": {1: ("metadata", _META), 2: ("secrets", ("repeated", _OBJECT_REF)),
                       3: ("imagePullSecrets", ("repeated", {1: ("name", "string")})),
                       4: ("automountServiceAccountToken", "bool")},
    "Secret": {1: ("metadata", _META), 2: ("data", ("map", "bytes")), 3: ("type", "string"),
               4: ("stringData", ("map", "string")), 5: ("immutable", "bool")},
    "ConfigMap": {1: ("metadata", _META), 2: ("data", ("map", "string")), 3: ("binaryData", ("map", "bytes")),
                  4: ("immutable", "bool")},
    "TokenRequest": {1: ("metadata", _META), 2: ("spec", {
        1: ("audiences", ("repeated", "string")), 4: ("expirationSeconds", "int"),
        3: ("boundObjectRef", {1: ("kind", "string"), 2: ("apiVersion", "string"), 3: ("name", "string"),
                               4: ("uid", "string")})})},
    "TokenReview": {1: ("metadata", _META), 2: ("spec", {1: ("token", "string"),
                                                         2: ("audiences", ("repeated", "string"))})},
    "SelfSubjectReview": {1: ("metadata", _META)},
    "SelfSubjectAccessReview": {1: ("metadata", _META), 2: ("spec", {1: ("resourceAttributes", _RESOURCE_ATTRS),
                                                                     2: ("nonResourceAttributes", _URL_ATTRS)})},
    "SubjectAccessReview": {1: ("metadata", _META), 2: ("spec", _SAR_SPEC)},
    "LocalSubjectAccessReview": {1: ("metadata", _META), 2: ("spec", _SAR_SPEC)},
    "SelfSubjectRulesReview": {1: ("metadata", _META), 2: ("spec", {1: ("namespace", "string")})},
    "ClusterRole": {1: ("metadata", _META), 2: ("rules", ("repeated", _RULE))},
    "Role": {1: ("metadata", _META), 2: ("rules", ("repeated", _RULE))},
    "ClusterRoleBinding": _BINDING,
    "RoleBinding": _BINDING,
}
_UNKNOWN = {1: ("typeMeta", _TYPE_META), 2: ("raw", "bytes"), 3: ("contentEncoding", "string"),
            4: ("contentType", "string")}


class _Malformed(Exception):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise _Malformed("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes):
    """Yield (field number, wire type, value) where value is an int or bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise _Malformed("truncated field")
            value, pos = data[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = int.from_bytes(data[pos:pos + 8], "little"), pos + 8
        elif wire == 5:
            value, pos = int.from_bytes(data[pos:pos + 4], "little"), pos + 4
        else:
            raise _Malformed(f"unsupported wire type {wire}")
        yield number, wire, value


def _scalar(kind, value):
    if kind == "string":
        if not isinstance(value, bytes):
            raise _Malformed("expected a string")
        return value.decode("utf-8")
    if kind == "bytes":
        if not isinstance(value, bytes):
            raise _Malformed("expected bytes")
        return base64.b64encode(value).decode()
    if kind == "int":
        if not isinstance(value, int):
            raise _Malformed("expected an integer")
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "bool":
        return bool(value)
    if kind == "intorstr":          # intstr.IntOrString: {type, intVal, strVal}
        parsed = _message(value, {1: ("type", "int"), 2: ("intVal", "int"), 3: ("strVal", "string")})
        return parsed.get("strVal", "") if parsed.get("type") == 1 else parsed.get("intVal", 0)
    if kind == "quantity":          # resource.Quantity: {string}
        return _message(value, {1: ("string", "string")}).get("string", "")
    if isinstance(kind, dict):
        if not isinstance(value, bytes):
            raise _Malformed("expected a message")
        return _message(value, kind)
    raise _Malformed(f"unknown kind {kind!r}")


def _empty(value) -> bool:
    return value in ("", 0, False, None) or value == {} or value == []


def _message(data: bytes, schema: dict) -> dict:
    out: dict = {}
    for number, _wire, value in _fields(data):
        if number not in schema:
            continue                     # a field the lab does not use: ignored, as a newer client's would be
        name, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "repeated":
            out.setdefault(name, []).append(_scalar(kind[1], value))
        elif isinstance(kind, tuple) and kind[0] == "map":
            entry = _message(value, {1: ("key", "string"), 2: ("value", kind[1])}) if isinstance(value, bytes) else {}
            item = entry.get("value", "" if kind[1] in ("string", "bytes") else {})
            if isinstance(item, dict) and "items" in item:
                item = item["items"]
            out.setdefault(name, {})[entry.get("key", "")] = item
        else:
            out[name] = _scalar(kind, value)
    if "creationTimestamp" in out or "deletionTimestamp" in out:
        out.pop("creationTimestamp", None)       # server-owned; input values are ignored
        out.pop("deletionTimestamp", None)
    return {k: v for k, v in out.items() if not _empty(v) or k in _KEPT_EMPTY}


# optional fields whose zero value means something (Go *bool / maps that are sent even when empty)
_KEPT_EMPTY = ("data", "stringData", "automountServiceAccountToken", "readOnly", "resources")


def decode(raw: bytes, expected_kind: str) -> dict:
    """The JSON-shaped object inside a Kubernetes protobuf body. Raises ApiError 400/415."""
    if not raw.startswith(MAGIC):
        raise status.bad_request("the protobuf body does not start with the Kubernetes magic prefix (k8s\\0)")
    try:
        envelope = _message(raw[len(MAGIC):], _UNKNOWN)
        type_meta = envelope.get("typeMeta", {})
        kind = type_meta.get("kind") or expected_kind
        schema = SCHEMAS.get(kind)
        if schema is None:
            raise status.unsupported_media_type("application/json (the lab decodes protobuf only for the kinds it "
                                                "serves)")
        inner = base64.b64decode(envelope.get("raw", ""))
        obj = _message(inner, schema)
    except _Malformed as exc:
        raise status.bad_request(f"the protobuf body could not be decoded: {exc}") from None
    except UnicodeDecodeError:
        raise status.bad_request("the protobuf body could not be decoded: a string field is not UTF-8") from None
    obj["kind"] = kind
    if type_meta.get("apiVersion"):
        obj["apiVersion"] = type_meta["apiVersion"]
    return obj
