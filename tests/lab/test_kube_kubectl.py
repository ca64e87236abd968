"""The lab's kubeconfig works with an unmodified kubectl (part of the contract suite)."""
from __future__ import annotations

import base64
import json
import subprocess
import uuid

import pytest


@pytest.fixture(scope="module")
def k(kubectl, lab, tmp_path_factory):
    cache = tmp_path_factory.mktemp("kubectl-cache")

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([kubectl, "--kubeconfig", str(lab.kubeconfig), "--cache-dir", str(cache), *args],
                                capture_output=True, text=True, timeout=30)
        if ok:
            assert result.returncode == 0, result.stderr
        return result
    return run


@pytest.fixture(scope="module")
def ns(k):
    name = f"kctl-{uuid.uuid4().hex[:8]}"
    k("create", "namespace", name)
    yield name
    k("delete", "namespace", name, "--wait=false", ok=False)


def test_get_namespaces(k, ns):
    out = k("get", "ns").stdout
    assert out.split()[:3] == ["NAME", "STATUS", "AGE"]
    assert "default" in out and ns in out


def test_create_service_account_and_token(k, ns):
    assert "serviceaccount/app created" in k("-n", ns, "create", "sa", "app").stdout
    token = k("-n", ns, "create", "token", "app", "--duration=10m", "--audience=akeyless").stdout.strip()
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == f"system:serviceaccount:{ns}:app" and claims["aud"] == ["akeyless"]
    assert claims["exp"] - claims["iat"] == 600


def test_create_token_rejects_short_durations(k, ns):
    k("-n", ns, "create", "sa", "short")
    result = k("-n", ns, "create", "token", "short", "--duration=5m", ok=False)
    assert result.returncode != 0
    assert "may not specify a duration less than 10 minutes" in result.stderr


def test_invalid_names_are_refused(k, ns):
    result = k("-n", ns, "create", "sa", "Bad_Name", ok=False)
    assert result.returncode != 0 and 'ServiceAccount "Bad_Name" is invalid' in result.stderr


def test_auth_whoami_and_can_i(k, ns):
    assert "system:masters" in k("auth", "whoami").stdout
    assert k("auth", "can-i", "create", "tokenreviews").stdout.strip() == "yes"
    k("-n", ns, "create", "sa", "nobody")
    result = k("auth", "can-i", "create", "tokenreviews", f"--as=system:serviceaccount:{ns}:nobody", ok=False)
    assert result.stdout.strip() == "no"


def test_secret_generic_roundtrip(k, ns):
    k("-n", ns, "create", "secret", "generic", "creds", "--from-literal=password=s3cr3t")
    secret = json.loads(k("-n", ns, "get", "secret", "creds", "-o", "json").stdout)
    assert secret["type"] == "Opaque"
    assert base64.b64decode(secret["data"]["password"]) == b"s3cr3t"
    assert secret["metadata"]["uid"] and secret["metadata"]["resourceVersion"]


def test_get_missing_object(k, ns):
    result = k("-n", ns, "get", "sa", "missing", ok=False)
    assert result.returncode != 0 and 'serviceaccounts "missing" not found' in result.stderr


def test_delete_service_account(k, ns):
    k("-n", ns, "create", "sa", "gone")
    assert 'serviceaccount "gone" deleted' in k("-n", ns, "delete", "sa", "gone").stdout
