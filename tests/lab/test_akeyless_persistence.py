"""The lab's Akeyless state survives a SIGKILL of the lab process, and holds up under concurrent clients."""
from __future__ import annotations

import os
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor

import akeyless
import psutil
import pytest

from helpers import lab as lab_runtime
from helpers.config import Settings


@pytest.fixture()
def own_lab(tmp_path):
    settings = Settings.load(target="lab", lab_dir=str(tmp_path / "lab"))
    yield settings
    lab_runtime.down(settings)


def test_state_survives_sigkill(own_lab, sdk_for, admin_token_for):
    info = lab_runtime.up(own_lab)
    api = sdk_for(info)
    admin = admin_token_for(api, info)
    method = api.create_auth_method(akeyless.CreateAuthMethod(name="/p/reader", token=admin))
    k8s = api.create_auth_method_k8_s(akeyless.CreateAuthMethodK8S(name="/p/k8s", bound_namespaces=["app"],
                                                                    token=admin))
    api.gateway_create_k8_s_auth_config(akeyless.GatewayCreateK8SAuthConfig(
        name="p-conf", access_id=k8s.access_id, signing_key=k8s.prv_key, k8s_host=info.kube_url,
        k8s_ca_cert=__import__("base64").b64encode(info.ca_cert.read_bytes()).decode(), token=admin))
    api.create_role(akeyless.CreateRole(name="/p/role", token=admin))
    api.set_role_rule(akeyless.SetRoleRule(role_name="/p/role", path="/p/items/*", capability=["read"], token=admin))
    assoc = api.assoc_role_auth_method(akeyless.AssocRoleAuthMethod(role_name="/p/role", am_name="/p/reader",
                                                                    sub_claims={"team": "a,b"}, token=admin))
    api.create_secret(akeyless.CreateSecret(name="/p/items/db", value="one", token=admin))
    api.update_secret_val(akeyless.UpdateSecretVal(name="/p/items/db", value="two", token=admin))
    api.delete_role_rule(akeyless.DeleteRoleRule(role_name="/p/role", path="/p/items/*", token=admin))
    api.set_role_rule(akeyless.SetRoleRule(role_name="/p/role", path="/p/items/*", capability=["read", "list"],
                                           token=admin))

    proc = psutil.Process(info.pid)
    os.kill(info.pid, signal.SIGKILL)
    proc.wait(10)

    again = lab_runtime.up(own_lab)
    assert again.pid != info.pid
    api = sdk_for(again)
    assert api.validate_token(akeyless.ValidateToken(token=admin)).is_valid      # tokens persist too
    fresh = admin_token_for(api, again)
    token = api.auth(akeyless.Auth(access_id=method.access_id, access_key=method.access_key)).token
    assert token.startswith("t-")
    role = api.get_role(akeyless.GetRole(name="/p/role", token=fresh))
    assert [(r.path, r.capabilities) for r in role.rules.path_rules] == [("/p/items/*", ["read", "list"])]
    assert role.role_auth_methods_assoc[0].assoc_id == assoc.assoc_id
    assert role.role_auth_methods_assoc[0].auth_method_sub_claims == {"team": ["a", "b"]}
    item = api.describe_item(akeyless.DescribeItem(name="/p/items/db", token=fresh))
    assert item.last_version == 2
    assert api.get_secret_value(akeyless.GetSecretValue(names=["/p/items/db"], version=1, token=fresh)) == {"/p/items/db": "one"}
    config = api.gateway_get_k8_s_auth_config(akeyless.GatewayGetK8SAuthConfig(name="p-conf", token=fresh))
    assert config.auth_method_access_id == k8s.access_id
    got = api.get_auth_method(akeyless.GetAuthMethod(name="/p/k8s", token=fresh))
    assert got.access_info.k8s_access_rules.bound_namespaces == ["app"]
    audit = api.api_client.call_api("/lab-only/audit-log", "POST", body={"token": fresh, "limit": 1000,
                                                                         "command": "update-secret-val"},
                                    response_type="object", _return_http_data_only=True)
    assert [e["path"] for e in audit["entries"]] == ["/p/items/db"]
    # the journal was compacted at start: one record per live object, no history of the deleted rule
    journal = (own_lab.lab_dir / "state" / "akeyless.jsonl").read_text().splitlines()
    assert sum('"c":"roles"' in line for line in journal) == 1


def test_concurrent_clients(lab, sdk_for, admin_token_for):
    api = sdk_for(lab)
    admin = admin_token_for(api, lab)
    base = f"/conc-{uuid.uuid4().hex[:8]}"
    method = api.create_auth_method(akeyless.CreateAuthMethod(name=base + "/am", token=admin))
    api.create_role(akeyless.CreateRole(name=base + "/role", token=admin))
    api.set_role_rule(akeyless.SetRoleRule(role_name=base + "/role", path=base + "/*", capability=["read", "update"],
                                           token=admin))
    api.assoc_role_auth_method(akeyless.AssocRoleAuthMethod(role_name=base + "/role", am_name=base + "/am", token=admin))
    api.create_secret(akeyless.CreateSecret(name=base + "/shared", value="0", token=admin))
    workers, rounds = 16, 10

    def worker(n: int) -> int:
        client = sdk_for(lab)      # one connection pool per thread, like separate clients
        token = client.auth(akeyless.Auth(access_id=method.access_id, access_key=method.access_key)).token
        for i in range(rounds):
            client.update_secret_val(akeyless.UpdateSecretVal(name=base + "/shared", value=f"{n}-{i}", token=token))
            out = client.get_secret_value(akeyless.GetSecretValue(names=[base + "/shared"], token=token))
            assert out[base + "/shared"]
        return n

    with ThreadPoolExecutor(workers) as pool:
        assert sorted(pool.map(worker, range(workers))) == list(range(workers))
    item = api.describe_item(akeyless.DescribeItem(name=base + "/shared", token=admin))
    assert item.last_version == 1 + workers * rounds                   # no lost update
    values = {api.get_secret_value(akeyless.GetSecretValue(names=[base + "/shared"], version=v, token=admin))[base + "/shared"]
              for v in range(2, 2 + workers * rounds)}
    assert values == {f"{n}-{i}" for n in range(workers) for i in range(rounds)}
