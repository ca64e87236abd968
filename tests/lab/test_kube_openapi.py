"""OpenAPI documents and fieldValidation, on both servers: the v3 index and documents kubectl reads, and
unknown fields refused (Strict), warned about (Warn, the default) or dropped (Ignore)."""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
import uuid

import pytest


def _call(lab, method: str, path: str, body=None, content_type: str = "application/json"):
    request = urllib.request.Request(lab.kube_url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {lab.admin_token}",
                                              "Content-Type": content_type, "Accept": "application/json"})
    context = ssl.create_default_context(cafile=str(lab.ca_cert))
    try:
        with urllib.request.urlopen(request, context=context, timeout=20) as response:
            return response.status, json.loads(response.read()), response.headers.get_all("Warning") or []
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), exc.headers.get_all("Warning") or []


@pytest.fixture(scope="module")
def ns(lab):
    name = f"oapi-{uuid.uuid4().hex[:8]}"
    assert _call(lab, "POST", "/api/v1/namespaces", {"metadata": {"name": name}})[0] == 201
    yield name
    _call(lab, "DELETE", f"/api/v1/namespaces/{name}")


def test_v3_documents_describe_the_served_kinds(lab):
    _, index, _ = _call(lab, "GET", "/openapi/v3")
    assert {"api/v1", "apis/rbac.authorization.k8s.io/v1", "apis/authentication.k8s.io/v1"} <= set(index["paths"])
    _, core, _ = _call(lab, "GET", index["paths"]["api/v1"]["serverRelativeURL"])
    account = core["components"]["schemas"]["io.k8s.api.core.v1.ServiceAccount"]
    assert account["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "ServiceAccount", "version": "v1"}]
    assert {"automountServiceAccountToken", "metadata", "secrets"} <= set(account["properties"])
    patch = core["paths"]["/api/v1/namespaces/{namespace}/serviceaccounts/{name}"]["patch"]
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]      # kubectl then validates server-side


@pytest.mark.parametrize("directive", ["Strict", "Warn", "Ignore"])
def test_unknown_fields(lab, ns, directive):
    name = f"typo-{directive.lower()}"
    code, body, warnings = _call(lab, "POST", f"/api/v1/namespaces/{ns}/serviceaccounts?fieldValidation={directive}",
                                 {"metadata": {"name": name, "lables": {"a": "b"}}, "automountServiceAccountTokens": 1})
    if directive == "Strict":
        assert code == 400 and body["message"] == (
            'ServiceAccount in version "v1" cannot be handled as a ServiceAccount: strict decoding error: '
            'unknown field "metadata.lables", unknown field "automountServiceAccountTokens"')
        assert _call(lab, "GET", f"/api/v1/namespaces/{ns}/serviceaccounts/{name}")[0] == 404
        return
    assert code == 201 and "lables" not in body["metadata"] and "automountServiceAccountTokens" not in body
    expected = ['299 - "unknown field \\"metadata.lables\\""',
                '299 - "unknown field \\"automountServiceAccountTokens\\""'] if directive == "Warn" else []
    assert warnings == expected


def test_a_strict_merge_patch_quotes_the_patched_object(lab, ns):
    _call(lab, "POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "c"}})
    code, body, _ = _call(lab, "PATCH", f"/api/v1/namespaces/{ns}/configmaps/c?fieldValidation=Strict",
                          {"dat": {"k": "v"}}, content_type="application/merge-patch+json")
    assert code == 422 and body["details"]["causes"][0]["field"] == "patch"
    assert body["message"].endswith('strict decoding error: unknown field "dat"')
    assert _call(lab, "GET", f"/api/v1/namespaces/{ns}/configmaps/c")[1].get("data") is None


def test_a_bad_directive_is_invalid(lab, ns):
    code, body, _ = _call(lab, "POST", f"/api/v1/namespaces/{ns}/configmaps?fieldValidation=Loose",
                          {"metadata": {"name": "x"}})
    assert code == 422 and body["details"]["kind"] == "CreateOptions"
