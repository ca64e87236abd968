"""Discovery documents (/version, /api, /apis, API resource lists, service-account issuer discovery),
built from the resource table so they never disagree with what is routed."""
from __future__ import annotations

import platform

from .resources import GROUPS, RESOURCES

KUBE_VERSION = "v1.34.4-lab"
_GROUP_NAMES = {"": "core"}


def version() -> dict:
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    major, minor = KUBE_VERSION.lstrip("v").split(".")[:2]
    return {"major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
            "minCompatibilityMajor": major, "minCompatibilityMinor": str(int(minor) - 1),
            "gitVersion": KUBE_VERSION, "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z",
            "goVersion": f"python{platform.python_version()}", "compiler": "gc",
            "platform": f"{platform.system().lower()}/{machine}"}


def core_versions(server_address: str) -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group(name: str) -> dict:
    versions = [{"groupVersion": f"{name}/{v}", "version": v} for v in GROUPS[name]]
    return {"name": name, "versions": versions, "preferredVersion": versions[0]}


def group_list() -> dict:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(g) for g in GROUPS if g]}


def group(name: str) -> dict | None:
    if not name or name not in GROUPS:
        return None
    return dict(_group(name), kind="APIGroup", apiVersion="v1")


def resource_list(group_name: str, version_name: str) -> dict | None:
    if version_name not in GROUPS.get(group_name, []):
        return None
    entries = []
    for r in RESOURCES:
        if r.group != group_name or r.version != version_name:
            continue
        entry = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                 "verbs": sorted(r.verbs)}
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        entries.append(entry)
        for sub, (kind, sub_group, sub_version, verbs) in r.subresources.items():
            entries.append({"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                            "group": sub_group, "version": sub_version, "kind": kind, "verbs": list(verbs)})
    group_version = f"{group_name}/{version_name}" if group_name else version_name
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": entries}


def openid_configuration(issuer: str, jwks_uri: str) -> dict:
    return {"issuer": issuer, "jwks_uri": jwks_uri, "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"]}
