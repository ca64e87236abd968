"""Seeded fuzzing of the Akeyless emulator (tests/lab/fuzzing.py): the bodies ESO's akeyless-go client sends
and the official akeyless SDK's models, mutated and sent with hostile encodings, at least MIN_REQUESTS per
run. Every answer is < 500, JSON in the {"error"} shape when refused, with no traceback; a refused request
writes nothing to the state journal; afterwards the SDK still works and the lab restarts from its journal."""
from __future__ import annotations

import base64
import json
import os
import random

import akeyless
import pytest

from helpers import lab as lab_runtime
from helpers.config import Settings
from tests.lab.fuzzing import SPECIAL_TEXT, Wire, batches, encode_headers, encoded, mutated

pytestmark = pytest.mark.skipif(os.environ.get("WORKSHOP_LAB_KUBE", "emulator") != "emulator",
                                reason="the gateway emulator is the same in both modes: fuzzed once, beside the "
                                       "Kubernetes emulator")

BATCH = 25
EXAMPLES = 200
MIN_REQUESTS = 5000
sent = {"requests": 0, "refused": 0, "5xx": 0}


class Target:
    def __init__(self, info, settings_):
        self.info, self.settings = info, settings_
        self.wire = Wire(info.akeyless_url, str(info.ca_cert))
        self.journal = info.dir / "state" / "akeyless.jsonl"

    def sdk(self, info=None) -> akeyless.V2Api:
        config = akeyless.Configuration(host=(info or self.info).akeyless_url)
        config.ssl_ca_cert = str((info or self.info).ca_cert)
        return akeyless.V2Api(akeyless.ApiClient(config))


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    settings_ = Settings.load(target="lab", lab_dir=str(tmp_path_factory.mktemp("fuzz-akeyless") / "lab"),
                              kube="emulator")
    info = lab_runtime.up(settings_)
    target = Target(info, settings_)
    api = target.sdk()
    creds = info.akeyless_admin()
    admin = api.auth(akeyless.Auth(access_id=creds["access_id"], access_key=creds["access_key"])).token
    k8s = api.create_auth_method_k8_s(akeyless.CreateAuthMethodK8S(name="/fz/k8s", bound_namespaces=["fuzz"],
                                                                    token=admin))
    api.gateway_create_k8_s_auth_config(akeyless.GatewayCreateK8SAuthConfig(
        name="fz-conf", access_id=k8s.access_id, signing_key=k8s.prv_key, k8s_host=info.kube_url,
        k8s_ca_cert=base64.b64encode(info.ca_cert.read_bytes()).decode(), token_reviewer_jwt=info.admin_token,
        token=admin))
    api.create_role(akeyless.CreateRole(name="/fz/role", token=admin))
    api.set_role_rule(akeyless.SetRoleRule(role_name="/fz/role", path="/fz/*", capability=["read", "list"],
                                           token=admin))
    assoc = api.assoc_role_auth_method(akeyless.AssocRoleAuthMethod(role_name="/fz/role", am_name="/fz/k8s",
                                                                    sub_claims={"namespace": "fuzz"}, token=admin))
    api.create_secret(akeyless.CreateSecret(name="/fz/db", value="fz-value", token=admin))
    target.admin, target.creds = admin, creds
    target.bases = _bases(api.api_client, admin, creds, k8s.access_id, assoc.assoc_id, info.admin_token)
    yield target
    lab_runtime.down(settings_)


def _bases(client, token: str, creds: dict, k8s_id: str, assoc_id: str, jwt: str) -> list[tuple[str, dict]]:
    """(command, body): ESO's bodies (reference section 6.5) and the SDK's models, serialised by the SDK."""
    s = client.sanitize_for_serialization
    return [
        # ESO: API-key and Kubernetes authentication, reads, PushSecret and DeleteSecret
        ("auth", {"access-id": creds["access_id"], "access-type": "access_key", "access-key": creds["access_key"]}),
        ("auth", {"access-id": k8s_id, "access-type": "k8s", "k8s-auth-config-name": "fz-conf",
                  "k8s-service-account-token": base64.b64encode(jwt.encode()).decode()}),
        ("get-secret-value", {"names": ["/fz/db"], "token": token}),
        ("describe-item", {"name": "/fz/db", "token": token}),
        ("list-items", {"path": "/fz", "token": token, "minimal-view": True}),
        ("create-secret", {"name": "/fz/pushed", "value": "v", "token": token, "tags": ["t"]}),
        ("update-secret-val", {"name": "/fz/db", "value": "w", "token": token, "keep-prev-version": "true"}),
        ("delete-item", {"name": "/fz/pushed", "token": token, "delete-immediately": True, "delete-in-days": -1}),
        # the SDK's models
        ("validate-token", s(akeyless.ValidateToken(token=token))),
        ("describe-sub-claims", s(akeyless.DescribeSubClaims(token=token))),
        ("create-auth-method", s(akeyless.CreateAuthMethod(name="/fz/new-am", jwt_ttl=60, access_expires=0,
                                                           token=token))),
        ("create-auth-method-k8s", s(akeyless.CreateAuthMethodK8S(name="/fz/new-k8s", audience="akeyless",
                                                                  bound_sa_names=["eso"], token=token))),
        ("update-auth-method-k8s", s(akeyless.UpdateAuthMethodK8S(name="/fz/k8s", new_name="/fz/k8s",
                                                                  bound_namespaces=["fuzz"], token=token))),
        ("get-auth-method", s(akeyless.GetAuthMethod(name="/fz/k8s", token=token))),
        ("list-auth-methods", s(akeyless.ListAuthMethods(filter="fz", token=token))),
        ("delete-auth-method", s(akeyless.DeleteAuthMethod(name="/fz/new-am", token=token))),
        ("gateway-create-k8s-auth-config", s(akeyless.GatewayCreateK8SAuthConfig(
            name="fz-conf-2", access_id=k8s_id, signing_key="not-a-key", k8s_host="https://127.0.0.1:1",
            token=token))),
        ("gateway-update-k8s-auth-config", s(akeyless.GatewayUpdateK8SAuthConfig(
            name="fz-conf", new_name="fz-conf", access_id=k8s_id, signing_key="x", k8s_host="https://h",
            token=token))),
        ("gateway-get-k8s-auth-config", s(akeyless.GatewayGetK8SAuthConfig(name="fz-conf", token=token))),
        ("gateway-delete-k8s-auth-config", s(akeyless.GatewayDeleteK8SAuthConfig(name="fz-conf-2", token=token))),
        ("create-role", s(akeyless.CreateRole(name="/fz/new-role", description="d", token=token))),
        ("get-role", s(akeyless.GetRole(name="/fz/role", token=token))),
        ("list-roles", s(akeyless.ListRoles(filter="fz", token=token))),
        ("delete-role", s(akeyless.DeleteRole(name="/fz/new-role", token=token))),
        ("set-role-rule", s(akeyless.SetRoleRule(role_name="/fz/role", path="/fz/x/*", capability=["read"],
                                                 ttl=0, token=token))),
        ("delete-role-rule", s(akeyless.DeleteRoleRule(role_name="/fz/role", path="/fz/x/*", token=token))),
        ("assoc-role-am", s(akeyless.AssocRoleAuthMethod(role_name="/fz/role", am_name="/fz/k8s",
                                                         sub_claims={"namespace": "a,b"}, token=token))),
        ("update-assoc", s(akeyless.UpdateAssoc(assoc_id=assoc_id, sub_claims={"namespace": "fuzz"},
                                                token=token))),
        ("delete-assoc", s(akeyless.DeleteRoleAssociation(assoc_id="ass-none", token=token))),
        ("lab-only/audit-log", {"token": token, "limit": 5, "since": 0, "command": "auth"}),
        ("lab-only/token-reviews", {"token": token, "limit": 5}),
    ]


def akeyless_request(r: random.Random, target: Target) -> tuple[str, bytes, dict]:
    command, body = r.choice(target.bases)
    if r.random() < 0.3:           # the token: another caller's, garbage, or a wrong type
        body = dict(body, token=r.choice(["", "t-" + "0" * 32, SPECIAL_TEXT[r.randrange(len(SPECIAL_TEXT))],
                                          ["t-x"], {"t": 1}, 7, None]))
    data, _, headers = encoded(r, mutated(r, body))
    path = r.choice(["", "/v2", "/api/v2"]) + "/" + command
    if r.random() < 0.03:
        path = r.choice(["/", "//api//v2//auth", "/lab-only/clock", "/lab-only/../auth", "/" + "x" * 3000])
    headers["Content-Type"] = r.choice(["application/json"] * 8 + ["text/plain", "", "application/yaml"])
    return path, data, encode_headers(headers)


def _check(target: Target, request) -> None:
    path, data, headers = request
    before = target.journal.stat().st_size
    code, text = target.wire.send("POST", path, data, headers)
    sent["requests"] += 1
    if code >= 500:
        sent["5xx"] += 1
    assert code < 500, (path, data[:300], headers, text[:500])
    assert "Traceback" not in text and 'File "' not in text, text[:500]
    if code >= 400:
        sent["refused"] += 1
        try:
            shape = set(json.loads(text))
        except ValueError:
            shape = None
        assert shape == {"error"}, (path, code, headers, text[:300])
        assert target.journal.stat().st_size == before, ("a refused request wrote to the journal", path, code,
                                                        text[:300])


@batches(20261202, EXAMPLES)
def _fuzz(target: Target, batch: int) -> None:
    r = random.Random(batch)
    for _ in range(BATCH):
        _check(target, akeyless_request(r, target))


def test_fuzz_akeyless(target):
    _fuzz(target)
    assert sent["requests"] >= MIN_REQUESTS and sent["5xx"] == 0, sent
    print(f"\nakeyless fuzz: {sent}")


def test_still_correct_after_fuzzing_and_a_restart(target):
    api = target.sdk()
    admin = api.auth(akeyless.Auth(access_id=target.creds["access_id"], access_key=target.creds["access_key"])).token
    api.create_secret(akeyless.CreateSecret(name="/after/fuzz", value="kept", token=admin))
    assert api.list_roles(akeyless.ListRoles(token=admin)).roles
    assert api.list_auth_methods(akeyless.ListAuthMethods(token=admin)).auth_methods
    lab_runtime.down(target.settings)
    info = lab_runtime.up(target.settings)
    api = target.sdk(info)
    admin = api.auth(akeyless.Auth(access_id=target.creds["access_id"], access_key=target.creds["access_key"])).token
    assert api.get_secret_value(akeyless.GetSecretValue(names=["/after/fuzz"], token=admin)) == {"/after/fuzz": "kept"}
    items = api.list_items(akeyless.ListItems(token=admin)).items
    assert items and all(item.item_name for item in items)
    for item in items:
        api.describe_item(akeyless.DescribeItem(name=item.item_name, token=admin))
    for line in target.journal.read_text(encoding="utf-8").splitlines():
        json.loads(line)
