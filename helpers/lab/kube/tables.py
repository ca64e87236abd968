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
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return "<unknown>"
    then = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()
    return human_duration(now - then)


def _role(obj: dict) -> str:
    ref = obj.get("roleRef") or {}
    return f"{ref.get('kind', '')}/{ref.get('name', '')}"


_COLUMNS = {
    "namespaces": [("Status", "string", lambda o, n: (o.get("status") or {}).get("phase", ""))],
    "serviceaccounts": [("Secrets", "string", lambda o, n: len(o.get("secrets") or []))],
    "secrets": [("Type", "string", lambda o, n: o.get("type", "")),
                ("Data", "string", lambda o, n: len(o.get("data") or {}))],
    "configmaps": [("Data", "string", lambda o, n: len(o.get("data") or {}) + len(o.get("binaryData") or {}))],
    "clusterroles": [("Created At", "date", lambda o, n: o["metadata"].get("creationTimestamp", ""))],
    "roles": [("Created At", "date", lambda o, n: o["metadata"].get("creationTimestamp", ""))],
    "clusterrolebindings": [("Role", "string", lambda o, n: _role(o))],
    "rolebindings": [("Role", "string", lambda o, n: _role(o))],
}
_NO_AGE = {"clusterroles", "roles"}


def table(resource: Resource, items: list[dict], resource_version: str, now: float) -> dict:
    columns = [("Name", "string", lambda o, n: o["metadata"]["name"])] + _COLUMNS.get(resource.plural, [])
    if resource.plural not in _NO_AGE:
        columns.append(("Age", "string", _age))
    definitions = [{"name": name, "type": kind, "format": "name" if name == "Name" else "",
                    "description": "", "priority": 0} for name, kind, _ in columns]
    rows = [{"cells": [cell(obj, now) for _, _, cell in columns],
             "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": obj["metadata"]}} for obj in items]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": definitions, "rows": rows}
