"""Server-side printing: the meta.k8s.io/v1 Table kubectl asks for on `kubectl get`, with the columns a
real API server prints for these kinds."""
from __future__ import annotations

import datetime as dt

from .resources import Resource


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration, as shown in the AGE column."""
    s = int(max(seconds, 0))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d{h % 24}h" if h % 24 else f"{h // 24}d"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    return f"{h // (24 * 365)}y{(h // 24) % 365}d"


def _age(obj: dict, now: float) -> str:
    return _since(obj["metadata"].get("creationTimestamp"), now)


def _since(stamp: str | None, now: float) -> str:
    """translateTimestampSince: an age, or <unknown> for an unset time."""
    if not stamp:
        return "<unknown>"
    stamp = stamp.split(".")[0].rstrip("Z") + "Z"
    then = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()
    return human_duration(now - then)


def _role(obj: dict) -> str:
    ref = obj.get("roleRef") or {}
    return f"{ref.get('kind', '')}/{ref.get('name', '')}"


def _subjects(obj: dict, kind: str) -> str:
    """rbac.SubjectsStrings: users and groups by name, ServiceAccounts as namespace/name."""
    names = [f"{s.get('namespace', '')}/{s.get('name', '')}" if kind == "ServiceAccount" else s.get("name", "")
             for s in obj.get("subjects") or [] if s.get("kind") == kind]
    return ", ".join(names)


def _labels(selector) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items())) or "<none>"


def _ports(obj: dict) -> str:
    ports = []
    for port in obj.get("spec", {}).get("ports") or []:
        number = f"{port.get('port')}:{port['nodePort']}" if port.get("nodePort") else f"{port.get('port')}"
        ports.append(f"{number}/{port.get('protocol', 'TCP')}")
    return ",".join(ports) or "<none>"


def _external_ip(obj: dict) -> str:
    spec = obj.get("spec", {})
    kind = spec.get("type", "ClusterIP")
    if kind == "ExternalName":
        return spec.get("externalName", "")
    ips = list(spec.get("externalIPs") or [])
    if kind == "LoadBalancer":
        ingress = [i.get("ip") or i.get("hostname") for i in (obj.get("status", {}).get("loadBalancer", {})
                                                               .get("ingress") or [])]
        ips = [i for i in ingress if i] + ips
        return ",".join(ips) or "<pending>"
    return ",".join(ips) or "<none>"


def _event_times(obj: dict, now: float) -> tuple[str, str, int]:
    first = _since(obj.get("firstTimestamp"), now) if obj.get("firstTimestamp") else _since(obj.get("eventTime"), now)
    last = _since(obj.get("lastTimestamp"), now) if obj.get("lastTimestamp") else first
    count = obj.get("count") or 0
    if obj.get("series"):
        last = _since(obj["series"].get("lastObservedTime"), now)
        count = obj["series"].get("count", 0)
    elif not count:
        count = 1           # singleton events of the new API carry no count
    return first, last, count


def _event_object(obj: dict) -> str:
    involved = obj.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    return f"{kind}/{involved['name']}" if involved.get("name") else kind


def _event_source(obj: dict) -> str:
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    instance = source.get("host") or obj.get("reportingInstance") or ""
    return f"{component}, {instance}" if instance else component


def _pod_status(obj: dict) -> str:
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    state = obj.get("status") or {}
    return state.get("reason") or state.get("phase") or ""


def _pod_ready(obj: dict) -> str:
    containers = obj.get("spec", {}).get("containers") or []
    ready = sum(1 for c in (obj.get("status") or {}).get("containerStatuses") or [] if c.get("ready"))
    return f"{ready}/{len(containers)}"


def _gates(obj: dict) -> str:
    gates = obj.get("spec", {}).get("readinessGates") or []
    return "<none>" if not gates else f"0/{len(gates)}"


def _created(o, n):
    return o["metadata"].get("creationTimestamp", "")


NAME = ("Name", "string", 0, lambda o, n: o["metadata"].get("name", ""))
AGE = ("Age", "string", 0, lambda o, n: _age(o, n))
_BINDING = [NAME, ("Role", "string", 0, lambda o, n: _role(o)), AGE,
            ("Users", "string", 1, lambda o, n: _subjects(o, "User")),
            ("Groups", "string", 1, lambda o, n: _subjects(o, "Group")),
            ("ServiceAccounts", "string", 1, lambda o, n: _subjects(o, "ServiceAccount"))]
_EVENT = [("Last Seen", "string", 0, lambda o, n: _event_times(o, n)[1]),
          ("Type", "string", 0, lambda o, n: o.get("type", "")),
          ("Reason", "string", 0, lambda o, n: o.get("reason", "")),
          ("Object", "string", 0, lambda o, n: _event_object(o)),
          ("Subobject", "string", 1, lambda o, n: (o.get("involvedObject") or {}).get("fieldPath", "")),
          ("Source", "string", 1, lambda o, n: _event_source(o)),
          ("Message", "string", 0, lambda o, n: (o.get("message") or "").strip()),
          ("First Seen", "string", 1, lambda o, n: _event_times(o, n)[0]),
          ("Count", "string", 1, lambda o, n: _event_times(o, n)[2]),
          ("Name", "string", 1, lambda o, n: o["metadata"].get("name", ""))]
_NONE = "<none>"

# (column, type, priority, cell) per resource, in the API server's printer order; priority 1 is -o wide
_COLUMNS = {
    "namespaces": [NAME, ("Status", "string", 0, lambda o, n: (o.get("status") or {}).get("phase", "")), AGE],
    "serviceaccounts": [NAME, ("Secrets", "string", 0, lambda o, n: len(o.get("secrets") or [])), AGE],
    "secrets": [NAME, ("Type", "string", 0, lambda o, n: o.get("type", "")),
                ("Data", "string", 0, lambda o, n: len(o.get("data") or {})), AGE],
    "configmaps": [NAME, ("Data", "string", 0, lambda o, n: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
                   AGE],
    "clusterroles": [NAME, ("Created At", "date", 0, _created)],
    "roles": [NAME, ("Created At", "date", 0, _created)],
    "clusterrolebindings": _BINDING,
    "rolebindings": _BINDING,
    "services": [NAME, ("Type", "string", 0, lambda o, n: o.get("spec", {}).get("type", "")),
                 ("Cluster-IP", "string", 0, lambda o, n: (o.get("spec", {}).get("clusterIPs") or [_NONE])[0]),
                 ("External-IP", "string", 0, lambda o, n: _external_ip(o)),
                 ("Port(s)", "string", 0, lambda o, n: _ports(o)), AGE,
                 ("Selector", "string", 1, lambda o, n: _labels(o.get("spec", {}).get("selector")))],
    "events": _EVENT,
    "pods": [NAME, ("Ready", "string", 0, lambda o, n: _pod_ready(o)),
             ("Status", "string", 0, lambda o, n: _pod_status(o)),
             ("Restarts", "string", 0, lambda o, n: sum(c.get("restartCount", 0) for c in
                                                        (o.get("status") or {}).get("containerStatuses") or [])),
             AGE,
             ("IP", "string", 1, lambda o, n: (o.get("status") or {}).get("podIP") or _NONE),
             ("Node", "string", 1, lambda o, n: o.get("spec", {}).get("nodeName") or _NONE),
             ("Nominated Node", "string", 1, lambda o, n: (o.get("status") or {}).get("nominatedNodeName") or _NONE),
             ("Readiness Gates", "string", 1, lambda o, n: _gates(o))],
}


def table(resource: Resource, items: list[dict], resource_version: str, now: float,
          view=lambda o: o) -> dict:
    """`view` turns a listed object into the shape the printer reads (an events.k8s.io Event into core's)."""
    columns = _COLUMNS.get(resource.plural, [NAME, AGE])
    definitions = [{"name": name, "type": kind, "format": "name" if name == "Name" else "",
                    "description": "", "priority": priority} for name, kind, priority, _ in columns]
    rows = [{"cells": [cell(view(obj), now) for _, _, _, cell in columns],
             "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": obj["metadata"]}} for obj in items]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": definitions, "rows": rows}
