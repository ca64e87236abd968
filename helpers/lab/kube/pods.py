"""Pods, stored and never run: the API server's defaulting and validation, the status a new pod gets
(Pending, no node, its QoS class), and the ServiceAccount admission plugin (the `default` ServiceAccount,
the `kube-api-access-*` projected token volume and its mounts, automountServiceAccountToken honoured).

The lab has no nodes or kubelet, so a pod stays Pending; deleting one is immediate, as for any pod that was
never scheduled, and it invalidates the tokens bound to it.
"""
from __future__ import annotations

import random

from . import status
from .resources import PODS
from .status import FieldError

TOKEN_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_EXPIRATION = 3607     # what the admission plugin writes: an hour, plus the kubelet's 7 s of slack
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_TOLERATIONS = [{"effect": "NoExecute", "key": f"node.kubernetes.io/{taint}", "operator": "Exists",
                 "tolerationSeconds": 300} for taint in ("not-ready", "unreachable")]


def _image_pull_policy(image: str) -> str:
    tail = image.rsplit("/", 1)[-1]
    if "@" in tail:
        return "IfNotPresent"
    tag = tail.split(":", 1)[1] if ":" in tail else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _containers(spec: dict, field: str) -> list[FieldError]:
    containers = spec.get(field)
    if containers is None:
        return []
    if not isinstance(containers, list) or not all(isinstance(c, dict) for c in containers):
        raise status.bad_request(f"spec.{field} must be a list of Container objects")
    errors = []
    for i, container in enumerate(containers):
        where = f"spec.{field}[{i}]"
        if not container.get("name"):
            errors.append(FieldError(f"{where}.name", "FieldValueRequired"))
        if not container.get("image"):
            errors.append(FieldError(f"{where}.image", "FieldValueRequired"))
        else:
            container.setdefault("imagePullPolicy", _image_pull_policy(container["image"]))
        resources = container.setdefault("resources", {})
        if isinstance(resources, dict) and isinstance(resources.get("limits"), dict):
            # a limit without a request asks for as much as it limits (upstream's pod defaulting)
            requests = resources.setdefault("requests", {})
            if isinstance(requests, dict):
                for name, quantity in resources["limits"].items():
                    requests.setdefault(name, quantity)
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        for port in container.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
    return errors


def _qos(spec: dict) -> str:
    resources = [c.get("resources") or {} for c in spec.get("containers") or []]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(set((r.get("limits") or {})) >= {"cpu", "memory"}
                     and all((r.get("requests") or {}).get(k, v) == v for k, v in (r.get("limits") or {}).items())
                     for r in resources)
    return "Guaranteed" if guaranteed else "Burstable"


def defaults_and_errors(obj: dict) -> list[FieldError]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        if spec is not None:
            raise status.bad_request("spec must be a JSON object (PodSpec)")
        spec = obj["spec"] = {}
    errors = []
    if not spec.get("containers"):
        errors.append(FieldError("spec.containers", "FieldValueRequired"))
    errors += _containers(spec, "containers") + _containers(spec, "initContainers")
    automount = spec.get("automountServiceAccountToken")
    if automount is not None and not isinstance(automount, bool):
        raise status.bad_request("spec.automountServiceAccountToken must be true or false")
    for key, value in (("dnsPolicy", "ClusterFirst"), ("enableServiceLinks", True), ("restartPolicy", "Always"),
                       ("schedulerName", "default-scheduler"), ("securityContext", {}),
                       ("terminationGracePeriodSeconds", 30)):
        spec.setdefault(key, value)
    if spec.get("serviceAccountName"):
        spec["serviceAccount"] = spec["serviceAccountName"]     # the deprecated mirror field, kept in sync
    return errors


def admit_defaults(obj: dict) -> None:
    """The Priority and DefaultTolerationSeconds admission plugins: after the field manager has seen the
    request, so no manager owns what they add."""
    spec = obj["spec"]
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    tolerations = spec.setdefault("tolerations", [])
    for toleration in _TOLERATIONS:
        if not any(t.get("key") == toleration["key"] for t in tolerations if isinstance(t, dict)):
            tolerations.append(dict(toleration))


def new_status(obj: dict) -> None:
    obj["status"] = {"phase": "Pending", "qosClass": _qos(obj["spec"])}
    obj["metadata"]["generation"] = 1


def update_errors(old: dict, new: dict) -> list[FieldError]:
    """A pod's spec is immutable but for container images (and a few fields the lab's pods never use)."""
    def without_images(spec: dict) -> dict:
        spec = dict(spec)
        for field in ("containers", "initContainers"):
            spec[field] = [{k: v for k, v in c.items() if k != "image"} for c in spec.get(field) or []]
        return spec
    new["status"] = old.get("status")
    if without_images(old.get("spec") or {}) != without_images(new.get("spec") or {}):
        return [FieldError("spec", "FieldValueForbidden", detail=(
            "pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
            "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
            "previously negative)"))]
    return []


def admit_service_account(obj: dict, service_account: dict | None, namespace: str) -> None:
    """The ServiceAccount admission plugin, on create. Raises 403 when the ServiceAccount is missing."""
    spec = obj["spec"]
    name = spec.get("serviceAccountName") or "default"
    if service_account is None:
        raise status.forbidden(PODS, obj["metadata"]["name"],
                               f'error looking up service account {namespace}/{name}: serviceaccount "{name}" '
                               "not found")
    spec["serviceAccountName"] = spec["serviceAccount"] = name
    automount = spec.get("automountServiceAccountToken")
    if automount is None:
        automount = service_account.get("automountServiceAccountToken", True)
    if not automount:
        return
    volumes = spec.setdefault("volumes", [])
    volume = "kube-api-access-" + "".join(random.choice(_ALPHABET) for _ in range(5))
    volumes.append({"name": volume, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION, "path": "token"}},
        {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
        {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                    "path": "namespace"}]}}]}})
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or []:
            mounts = container.setdefault("volumeMounts", [])
            if not any(m.get("mountPath") == TOKEN_MOUNT for m in mounts):
                mounts.append({"mountPath": TOKEN_MOUNT, "name": volume, "readOnly": True})

