"""Services: the API server's defaulting and validation for core/v1 Service, and its cluster-IP and
node-port allocators (the lab's service range is 10.0.0.0/24, as the real stack's --service-cluster-ip-range;
10.0.0.1 belongs to the `kubernetes` Service)."""
from __future__ import annotations

import ipaddress
import random

from . import status
from .status import FieldError

RANGE = ipaddress.ip_network("10.0.0.0/24")
KUBERNETES_IP = "10.0.0.1"
NODE_PORTS = range(30000, 32768)
TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
PROTOCOLS = ("TCP", "UDP", "SCTP")


def _quoted(values) -> str:
    return ", ".join(f'"{v}"' for v in values)


def defaults_and_errors(obj: dict) -> list[FieldError]:
    """Defaulting, then validation, of one Service body (no allocation: see `allocate`)."""
    spec = obj.get("spec")
    if spec is None:
        spec = obj["spec"] = {}
    if not isinstance(spec, dict):
        raise status.bad_request("spec must be a JSON object (ServiceSpec)")
    spec.setdefault("type", "ClusterIP")
    kind = spec["type"]
    errors = []
    if kind not in TYPES:
        errors.append(FieldError("spec.type", "FieldValueNotSupported", kind, f"supported values: {_quoted(TYPES)}"))
        return errors
    ports = spec.get("ports") or []
    if not isinstance(ports, list) or not all(isinstance(p, dict) for p in ports):
        raise status.bad_request("spec.ports must be a list of ServicePort objects")
    if kind == "ExternalName":
        if not spec.get("externalName"):
            errors.append(FieldError("spec.externalName", "FieldValueRequired"))
    else:
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        if kind in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        if kind == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
        if not ports and spec.get("clusterIP") != "None":
            errors.append(FieldError("spec.ports", "FieldValueRequired"))
    for i, port in enumerate(ports):
        port.setdefault("protocol", "TCP")
        number = port.get("port")
        if not isinstance(number, int) or isinstance(number, bool):
            raise status.bad_request(f"spec.ports[{i}].port must be an integer")
        if not 1 <= number <= 65535:
            errors.append(FieldError(f"spec.ports[{i}].port", "FieldValueInvalid", number,
                                     "must be between 1 and 65535, inclusive"))
        if port["protocol"] not in PROTOCOLS:
            errors.append(FieldError(f"spec.ports[{i}].protocol", "FieldValueNotSupported", port["protocol"],
                                     f"supported values: {_quoted(PROTOCOLS)}"))
        if kind != "ExternalName":
            port.setdefault("targetPort", number)
        if len(ports) > 1 and not port.get("name"):
            errors.append(FieldError(f"spec.ports[{i}].name", "FieldValueRequired"))
    obj["status"] = {"loadBalancer": {}}
    return errors


def allocate(obj: dict, existing: list[dict], old: dict | None = None) -> None:
    """Give a new (or type-changed) Service its cluster IP and node ports, avoiding those in use."""
    spec = obj["spec"]
    if spec["type"] == "ExternalName":
        return
    old_spec = (old or {}).get("spec") or {}
    if old_spec.get("clusterIP") and "clusterIP" not in spec:
        spec["clusterIP"], spec["clusterIPs"] = old_spec["clusterIP"], old_spec.get("clusterIPs")
    if spec.get("clusterIP") != "None":
        used = {s.get("spec", {}).get("clusterIP") for s in existing} | {KUBERNETES_IP}
        if not spec.get("clusterIP"):
            free = [str(ip) for ip in RANGE.hosts() if str(ip) not in used]
            if not free:
                raise status.ApiError(500, "InternalError", "Internal error occurred: failed to allocate a serviceIP: "
                                      "range is full", {"causes": [{"message": "failed to allocate a serviceIP: "
                                                                               "range is full"}]})
            spec["clusterIP"] = random.choice(free)
        spec["clusterIPs"] = [spec["clusterIP"]]
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    if spec["type"] in ("NodePort", "LoadBalancer"):
        taken = {p.get("nodePort") for s in existing for p in s.get("spec", {}).get("ports") or []}
        old_ports = {p.get("port"): p.get("nodePort") for p in old_spec.get("ports") or []}
        for port in spec.get("ports") or []:
            if not port.get("nodePort"):
                port["nodePort"] = old_ports.get(port["port"]) or random.choice(
                    [n for n in NODE_PORTS if n not in taken])
                taken.add(port["nodePort"])


# what the API server's allocators fill in (after the field manager has seen the request): nobody owns it
ALLOCATED = ("spec.clusterIPs", "spec.ipFamilies")


def kubernetes_service(secure_port: int) -> dict:
    """The `kubernetes` Service in `default`, as the API server's bootstrap controller keeps it."""
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": KUBERNETES_IP, "clusterIPs": [KUBERNETES_IP], "internalTrafficPolicy": "Cluster",
                     "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": secure_port}],
                     "sessionAffinity": "None", "type": "ClusterIP"},
            "status": {"loadBalancer": {}}}


def update_errors(old: dict, new: dict) -> list[FieldError]:
    """A Service's cluster IP cannot change once allocated (an update that leaves it out keeps it)."""
    was, now = old["spec"].get("clusterIP"), new["spec"].get("clusterIP")
    if was and now and was != now and old["spec"].get("type") != "ExternalName":
        return [FieldError("spec.clusterIPs[0]", "FieldValueInvalid", now, "may not change once set")]
    return []
