"""Events: one storage, two APIs. core/v1 Event is what is stored; events.k8s.io/v1 Event is the same object
with renamed fields, converted as the API server's conversion functions do (involvedObject <-> regarding,
message <-> note, source <-> deprecatedSource, ...)."""
from __future__ import annotations

from . import status
from .resources import EVENTS_GROUP
from .status import FieldError

# core/v1 field -> events.k8s.io/v1 field; the others (reason, type, action, related, series, eventTime,
# reportingInstance) have one name in both
_RENAMED = {"involvedObject": "regarding", "message": "note", "reportingComponent": "reportingController",
            "source": "deprecatedSource", "firstTimestamp": "deprecatedFirstTimestamp",
            "lastTimestamp": "deprecatedLastTimestamp", "count": "deprecatedCount"}
_BACK = {v: k for k, v in _RENAMED.items()}


# events.k8s.io/v1 fields with `omitempty`: core/v1 prints them even empty, this API leaves them out
_OMITTED_EMPTY = ("reportingController", "reportingInstance", "action", "deprecatedSource", "deprecatedCount",
                  "related", "series", "reason", "type", "note")


def to_events_v1(obj: dict) -> dict:
    out = {"kind": "Event", "apiVersion": f"{EVENTS_GROUP}/v1"}
    for key, value in obj.items():
        if key in ("kind", "apiVersion"):
            continue
        key = _RENAMED.get(key, key)
        if key in _OMITTED_EMPTY and value in ("", 0, {}, None):
            continue
        out[key] = value
    return out


def from_events_v1(obj: dict) -> dict:
    if not isinstance(obj, dict):
        return obj
    out = {}
    for key, value in obj.items():
        if key == "apiVersion":
            out[key] = "v1" if value == f"{EVENTS_GROUP}/v1" else value
        else:
            out[_BACK.get(key, key)] = value
    return out


def core_errors(obj: dict) -> list[FieldError]:
    """core/v1 defaults (the Go struct's non-omitempty fields) and the legacy validation every Event passes:
    the involved object lives in the event's namespace; a new-style event (eventTime set) names its reporter."""
    involved = obj.get("involvedObject")
    if involved is None:
        involved = obj["involvedObject"] = {}
    if not isinstance(involved, dict):
        raise status.bad_request("involvedObject must be an ObjectReference")
    for field, empty in (("source", {}), ("reportingComponent", ""), ("reportingInstance", ""),
                         ("firstTimestamp", None), ("lastTimestamp", None), ("eventTime", None)):
        obj.setdefault(field, empty)
    namespace = obj["metadata"].get("namespace", "")
    mismatch = FieldError("involvedObject.namespace", "FieldValueInvalid", involved.get("namespace", ""),
                          "does not match event.namespace")
    errors = []
    if not obj.get("eventTime"):
        if (involved.get("namespace") or "") != namespace and not (not involved.get("namespace")
                                                                  and namespace in ("", "default")):
            errors.append(mismatch)
        return errors
    if not involved.get("namespace") and namespace not in ("default", "kube-system"):
        errors.append(mismatch)
    for core_field, field in (("reportingComponent", "reportingController"), ("reportingInstance", "reportingInstance"),
                              ("action", "action"), ("reason", "reason")):
        if not obj.get(core_field):
            errors.append(FieldError(field, "FieldValueRequired"))
    return errors


def events_v1_errors(obj: dict) -> list[FieldError]:
    """The strict checks of events.k8s.io/v1 creates, after the legacy ones (core_errors)."""
    errors = []
    if not obj.get("eventTime"):
        errors.append(FieldError("eventTime", "FieldValueRequired"))
    if obj.get("type") not in ("Normal", "Warning"):
        errors.append(FieldError("type", "FieldValueInvalid", "", f"has invalid value: {obj.get('type') or ''}"))
    for field, name in (("firstTimestamp", "firstTimestamp"), ("lastTimestamp", "lastTimestamp"),
                        ("count", "count"), ("source", "source")):
        if obj.get(field):
            errors.append(FieldError(name, "FieldValueInvalid", "", "needs to be unset"))
    return errors
