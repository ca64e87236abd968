"""The lab's Akeyless emulator through the official `akeyless` SDK: every command, success and failure.

Kubernetes auth (which needs the cluster) is in test_akeyless_k8s_auth.py; raw ESO bodies in
test_akeyless_wire.py.
"""
from __future__ import annotations

import base64
import json
import os
import stat
import uuid

import akeyless
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
import pytest
from akeyless.rest import ApiException

from helpers.lab import advance_clock


@pytest.fixture(scope="module")
def api(akeyless_api):
    return akeyless_api


@pytest.fixture(scope="module")
def admin(akeyless_admin):
    return akeyless_admin


def uniq(prefix: str) -> str:
    return f"/{prefix}-{uuid.uuid4().hex[:8]}"


def error_of(exc: ApiException) -> str:
    body = json.loads(exc.body)
    assert set(body) == {"error"}
    return body["error"]


def failing(call, status: int) -> str:
    with pytest.raises(ApiException) as info:
        call()
    assert info.value.status == status, info.value.body
    assert info.value.headers["Content-Type"].startswith("application/json")
    return error_of(info.value)


def reader(api, admin, *rules, sub_claims=None):
    """A fresh API-key auth method whose role has `rules`: returns (token, access id, role name, method name)."""
    method_name, role_name = uniq("am/reader"), uniq("role/reader")
    created = api.create_auth_method(akeyless.CreateAuthMethod(name=method_name, token=admin))
    api.create_role(akeyless.CreateRole(name=role_name, token=admin))
    for path, caps in rules:
        api.set_role_rule(akeyless.SetRoleRule(role_name=role_name, path=path, capability=caps, token=admin))
    api.assoc_role_auth_method(akeyless.AssocRoleAuthMethod(role_name=role_name, am_name=method_name,
                                                            sub_claims=sub_claims, token=admin))
    token = api.auth(akeyless.Auth(access_id=created.access_id, access_key=created.access_key)).token
    return token, created.access_id, role_name, method_name


# --- bootstrap and authentication ------------------------------------------------------------------

def test_admin_credentials_file_is_private(lab):
    path = lab.dir / "akeyless-admin.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    creds = json.loads(path.read_text())
    assert creds["access_id"].startswith("p-") and len(creds["access_id"]) == 14 and creds["access_key"]


def test_api_key_auth(api, lab):
    creds = lab.akeyless_admin()
    out = api.auth(akeyless.Auth(access_id=creds["access_id"], access_key=creds["access_key"]))
    assert out.token.startswith("t-") and len(out.token) == 34
    assert out.creds.access_id == creds["access_id"] and out.expiration
    alias = api.auth(akeyless.Auth(access_id=creds["access_id"], access_key=creds["access_key"], access_type="api_key"))
    assert alias.token != out.token


def test_api_key_auth_failures(api, lab):
    creds = lab.akeyless_admin()
    msg = failing(lambda: api.auth(akeyless.Auth(access_id=creds["access_id"], access_key="wrong")), 401)
    assert "check your access id and access key" in msg
    msg = failing(lambda: api.auth(akeyless.Auth(access_id="p-doesnotexist", access_key="x")), 401)
    assert "p-doesnotexist" in msg
    msg = failing(lambda: api.auth(akeyless.Auth(access_id=creds["access_id"], access_type="saml")), 400)
    assert "access-type 'saml' is not supported" in msg


def test_validate_token_and_sub_claims(api, admin):
    out = api.validate_token(akeyless.ValidateToken(token=admin))
    assert out.is_valid and out.ttl > 3000 and out.expiration.endswith("Z")
    bad = api.validate_token(akeyless.ValidateToken(token="t-00000000000000000000000000000000"))
    assert bad.is_valid is False and "invalid" in bad.reason
    assert api.describe_sub_claims(akeyless.DescribeSubClaims(token=admin)).sub_claims == {}
    msg = failing(lambda: api.describe_sub_claims(akeyless.DescribeSubClaims(token="t-nope")), 401)
    assert "token is invalid" in msg


def test_expired_token(api, admin, lab, lab_settings):
    if lab.kube_mode != "emulator":
        pytest.skip("moves the lab clock, which only the emulated Kubernetes API follows (lab up --kube apiserver "
                    "cannot expire tokens early)")
    name = uniq("am/short")
    created = api.create_auth_method(akeyless.CreateAuthMethod(name=name, jwt_ttl=1, token=admin))
    token = api.auth(akeyless.Auth(access_id=created.access_id, access_key=created.access_key)).token
    assert api.validate_token(akeyless.ValidateToken(token=token)).is_valid
    advance_clock(90, lab_settings)
    out = api.validate_token(akeyless.ValidateToken(token=token))
    assert out.is_valid is False and out.reason == "token expired"
    msg = failing(lambda: api.list_items(akeyless.ListItems(token=token)), 401)
    assert "token expired at" in msg


def test_missing_token(api):
    msg = failing(lambda: api.list_items(akeyless.ListItems()), 401)
    assert "no token in the request" in msg


# --- auth methods ----------------------------------------------------------------------------------

def test_api_key_auth_method_lifecycle(api, admin):
    name = uniq("am/api")
    created = api.create_auth_method(akeyless.CreateAuthMethod(name=name, description="d", token=admin))
    assert created.access_id.startswith("p-") and created.access_key and created.name == name
    got = api.get_auth_method(akeyless.GetAuthMethod(name=name, token=admin))
    assert got.auth_method_name == name and got.auth_method_access_id == created.access_id
    assert got.access_info.rules_type == "api_key" and got.creation_date.year >= 2024
    listed = api.list_auth_methods(akeyless.ListAuthMethods(filter=name, token=admin)).auth_methods
    assert [m.auth_method_name for m in listed] == [name]
    assert failing(lambda: api.create_auth_method(akeyless.CreateAuthMethod(name=name, token=admin)), 409) \
        == f"auth method {name} already exists"
    assert api.delete_auth_method(akeyless.DeleteAuthMethod(name=name, token=admin)).name == name
    assert failing(lambda: api.get_auth_method(akeyless.GetAuthMethod(name=name, token=admin)), 404) \
        == f"auth method {name} not found"


def test_new_style_auth_method_commands(api, admin):
    name = uniq("am/new")
    created = api.auth_method_create_api_key(akeyless.AuthMethodCreateApiKey(name=name, token=admin))
    assert created.access_id.startswith("p-") and created.name == name
    assert api.auth_method_get(akeyless.AuthMethodGet(name=name, token=admin)).auth_method_access_id == created.access_id
    kinds = {m.access_info.rules_type for m in
             api.auth_method_list(akeyless.AuthMethodList(type=["api_key"], token=admin)).auth_methods}
    assert kinds == {"api_key"}
    assert api.auth_method_delete(akeyless.AuthMethodDelete(name=name, token=admin)).name == name


def test_admin_method_cannot_be_deleted(api, admin, lab):
    creds = lab.akeyless_admin()
    name = next(m.auth_method_name for m in api.list_auth_methods(akeyless.ListAuthMethods(token=admin)).auth_methods
                if m.auth_method_access_id == creds["access_id"])
    assert "cannot be deleted" in failing(lambda: api.delete_auth_method(
        akeyless.DeleteAuthMethod(name=name, token=admin)), 400)


def test_k8s_auth_method_generates_a_key_pair(api, admin):
    name = uniq("k8s/eso")
    out = api.create_auth_method_k8_s(akeyless.CreateAuthMethodK8S(
        name=name, bound_namespaces=["app"], bound_sa_names=["eso"], audience="akeyless", token=admin))
    assert out.access_id.startswith("p-")
    key = serialization.load_pem_private_key(base64.b64decode(out.prv_key), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048   # prv_key is base64 of a PEM RSA-2048 key
    got = api.get_auth_method(akeyless.GetAuthMethod(name=name, token=admin))
    rules = got.access_info.k8s_access_rules
    assert rules.bound_namespaces == ["app"] and rules.bound_service_account_names == ["eso"]
    assert rules.audience == "akeyless" and rules.pub_key.startswith("-----BEGIN PUBLIC KEY-----")
    new = api.auth_method_create_k8s(akeyless.AuthMethodCreateK8s(name=uniq("k8s/new"), token=admin))
    assert new.prv_key and new.name.startswith("/k8s/new")


def test_k8s_auth_method_with_own_public_key(api, admin):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    out = api.create_auth_method_k8_s(akeyless.CreateAuthMethodK8S(
        name=uniq("k8s/own"), gen_key="false", public_key=base64.b64encode(pub).decode(), token=admin))
    assert out.prv_key in ("", None)
    msg = failing(lambda: api.create_auth_method_k8_s(akeyless.CreateAuthMethodK8S(
        name=uniq("k8s/nokey"), gen_key="false", token=admin)), 400)
    assert "public-key is missing" in msg


def test_update_k8s_auth_method(api, admin):
    name = uniq("k8s/upd")
    api.create_auth_method_k8_s(akeyless.CreateAuthMethodK8S(name=name, bound_namespaces=["a"], token=admin))
    api.update_auth_method_k8_s(akeyless.UpdateAuthMethodK8S(name=name, bound_namespaces=["b", "c"], token=admin))
    got = api.get_auth_method(akeyless.GetAuthMethod(name=name, token=admin))
    assert got.access_info.k8s_access_rules.bound_namespaces == ["b", "c"]


# --- gateway k8s auth configs ----------------------------------------------------------------------

@pytest.fixture()
def k8s_method(api, admin):
    out = api.create_auth_method_k8_s(akeyless.CreateAuthMethodK8S(name=uniq("k8s/cfg"), token=admin))
    return out


def test_gateway_config_lifecycle(api, admin, lab, k8s_method):
    name = "cfg-" + uuid.uuid4().hex[:6]
    ca = base64.b64encode(lab.ca_cert.read_bytes()).decode()
    out = api.gateway_create_k8_s_auth_config(akeyless.GatewayCreateK8SAuthConfig(
        name=name, access_id=k8s_method.access_id, signing_key=k8s_method.prv_key, k8s_host=lab.kube_url,
        k8s_ca_cert=ca, token_reviewer_jwt="a.b.c", token=admin))
    assert out.cluster_id
    got = api.gateway_get_k8_s_auth_config(akeyless.GatewayGetK8SAuthConfig(name=name, token=admin))
    assert got.name == name and got.auth_method_access_id == k8s_method.access_id
    assert got.k8s_host == lab.kube_url and got.k8s_ca_cert == ca and got.am_token_expiration == 300
    assert got.k8s_issuer == "kubernetes/serviceaccount" and got.k8s_token_reviewer_jwt == "a.b.c"
    renamed = name + "-2"
    api.gateway_update_k8_s_auth_config(akeyless.GatewayUpdateK8SAuthConfig(
        name=name, new_name=renamed, access_id=k8s_method.access_id, signing_key=k8s_method.prv_key,
        k8s_host=lab.kube_url + "/", token_exp=600, token=admin))
    got = api.gateway_get_k8_s_auth_config(akeyless.GatewayGetK8SAuthConfig(name=renamed, token=admin))
    assert got.am_token_expiration == 600 and got.k8s_ca_cert == ca and got.k8s_host == lab.kube_url
    assert failing(lambda: api.gateway_get_k8_s_auth_config(
        akeyless.GatewayGetK8SAuthConfig(name=name, token=admin)), 404) == f"k8s auth config {name!r} not found on this gateway"
    api.gateway_delete_k8_s_auth_config(akeyless.GatewayDeleteK8SAuthConfig(name=renamed, token=admin))
    failing(lambda: api.gateway_delete_k8_s_auth_config(akeyless.GatewayDeleteK8SAuthConfig(name=renamed, token=admin)), 404)


def test_gateway_config_validation(api, admin, lab, k8s_method):
    other = api.create_auth_method_k8_s(akeyless.CreateAuthMethodK8S(name=uniq("k8s/other"), token=admin))

    def create(**kw):
        args = dict(name="cfg-" + uuid.uuid4().hex[:6], access_id=k8s_method.access_id,
                    signing_key=k8s_method.prv_key, k8s_host=lab.kube_url, token=admin)
        args.update(kw)
        return lambda: api.gateway_create_k8_s_auth_config(akeyless.GatewayCreateK8SAuthConfig(**args))

    assert "signing-key does not belong to auth method" in failing(create(signing_key=other.prv_key), 400)
    assert "not an unencrypted private key" in failing(create(signing_key="bm90IGEga2V5"), 400)
    assert "k8s-ca-cert is not a base64 PEM" in failing(create(k8s_ca_cert="bm90IGEgY2VydA=="), 400)
    assert "must be a URL" in failing(create(k8s_host="kube:6443"), 400)
    assert "not found" in failing(create(access_id="p-missing"), 404)
    api_key = api.create_auth_method(akeyless.CreateAuthMethod(name=uniq("am/notk8s"), token=admin))
    assert "not k8s" in failing(create(access_id=api_key.access_id), 400)
    assert "no service account of its own" in failing(create(use_gw_service_account=True), 400)


def test_gateway_config_needs_admin(api, admin, lab, k8s_method):
    token, access_id, _, _ = reader(api, admin, ("/*", ["read"]))
    msg = failing(lambda: api.gateway_get_k8_s_auth_config(akeyless.GatewayGetK8SAuthConfig(name="x", token=token)), 401)
    assert f"access id {access_id} is not a gateway admin" in msg


# --- roles -----------------------------------------------------------------------------------------

def test_role_lifecycle(api, admin):
    name, method = uniq("role/life"), uniq("am/life")
    api.create_auth_method(akeyless.CreateAuthMethod(name=method, token=admin))
    assert api.create_role(akeyless.CreateRole(name=name, description="d", token=admin)) == {}
    failing(lambda: api.create_role(akeyless.CreateRole(name=name, token=admin)), 409)
    api.set_role_rule(akeyless.SetRoleRule(role_name=name, path="/demo/app/*", capability=["read", "list"], token=admin))
    api.set_role_rule(akeyless.SetRoleRule(role_name=name, path="demo/block", capability=["deny"], token=admin))
    assoc = api.assoc_role_auth_method(akeyless.AssocRoleAuthMethod(
        role_name=name, am_name=method, sub_claims={"namespace": "app,web"}, case_sensitive="false", token=admin))
    assert assoc.assoc_id.startswith("ass-")
    role = api.get_role(akeyless.GetRole(name=name, token=admin))
    assert role.role_name == name and role.comment == "d"
    assert [(r.path, r.capabilities, r.type) for r in role.rules.path_rules] == [
        ("/demo/app/*", ["read", "list"], "item-rule"), ("/demo/block", ["deny"], "item-rule")]
    [a] = role.role_auth_methods_assoc
    assert a.auth_method_name == method and a.auth_method_sub_claims == {"namespace": ["app", "web"]}
    assert a.sub_claims_case_sensitive is False
    am = api.get_auth_method(akeyless.GetAuthMethod(name=method, token=admin))
    assert am.auth_method_roles_assoc[0].role_name == name
    assert [r.role_name for r in api.list_roles(akeyless.ListRoles(filter=name, token=admin)).roles] == [name]
    out = api.delete_role_rule(akeyless.DeleteRoleRule(role_name=name, path="/demo/block", token=admin))
    assert out.deleted is True
    assert "has no item-rule" in failing(lambda: api.delete_role_rule(
        akeyless.DeleteRoleRule(role_name=name, path="/demo/block", token=admin)), 404)
    api.delete_role_association(akeyless.DeleteRoleAssociation(assoc_id=assoc.assoc_id, token=admin))
    assert not api.get_role(akeyless.GetRole(name=name, token=admin)).role_auth_methods_assoc
    failing(lambda: api.delete_role_association(akeyless.DeleteRoleAssociation(assoc_id=assoc.assoc_id, token=admin)), 404)
    api.delete_role(akeyless.DeleteRole(name=name, token=admin))
    assert failing(lambda: api.get_role(akeyless.GetRole(name=name, token=admin)), 404) == f"role {name} not found"


def test_role_validation(api, admin):
    name = uniq("role/val")
    api.create_role(akeyless.CreateRole(name=name, token=admin))
    assert "unknown capability write" in failing(lambda: api.set_role_rule(akeyless.SetRoleRule(
        role_name=name, path="/x", capability=["write"], token=admin)), 400)
    assert "unknown rule-type" in failing(lambda: api.set_role_rule(akeyless.SetRoleRule(
        role_name=name, path="/x", capability=["read"], rule_type="bogus-rule", token=admin)), 400)
    assert "auth method /nope not found" == failing(lambda: api.assoc_role_auth_method(akeyless.AssocRoleAuthMethod(
        role_name=name, am_name="/nope", token=admin)), 404)
    assert "role /nope-role not found" == failing(lambda: api.set_role_rule(akeyless.SetRoleRule(
        role_name="/nope-role", path="/x", capability=["read"], token=admin)), 404)


# --- items -----------------------------------------------------------------------------------------

def test_secret_lifecycle_and_versions(api, admin):
    name = uniq("demo/app") + "/db"
    assert api.create_secret(akeyless.CreateSecret(name=name, value="v1", tags=["team", "k8s-external-secrets"],
                                                   description="the db", token=admin)).name == name
    failing(lambda: api.create_secret(akeyless.CreateSecret(name=name, value="x", token=admin)), 409)
    item = api.describe_item(akeyless.DescribeItem(name=name, token=admin))
    assert item.item_name == name and item.item_type == "STATIC_SECRET" and item.item_sub_type == "generic"
    assert item.item_tags == ["team", "k8s-external-secrets"] and item.last_version == 1
    assert item.item_metadata == "the db" and isinstance(item.item_id, int) and item.creation_date.tzinfo
    assert set(item.client_permissions) >= {"read", "list"}
    api.update_secret_val(akeyless.UpdateSecretVal(name=name, value="v2", token=admin))
    api.update_secret_val(akeyless.UpdateSecretVal(name=name, value="v2b", keep_prev_version="false", token=admin))
    api.update_secret_val(akeyless.UpdateSecretVal(name=name, value="v3", keep_prev_version="true", token=admin))
    item = api.describe_item(akeyless.DescribeItem(name=name, token=admin))
    assert item.last_version == 3 and [v.version for v in item.item_versions] == [1, 2, 3]
    get = lambda **kw: api.get_secret_value(akeyless.GetSecretValue(names=[name], token=admin, **kw))
    assert get() == {name: "v3"} and get(version=0) == {name: "v3"}
    assert get(version=1) == {name: "v1"} and get(version=2) == {name: "v2b"}
    assert "has no version 9" in failing(lambda: get(version=9), 404)
    out = api.delete_item(akeyless.DeleteItem(name=name, version=2, token=admin))
    assert out.version_deleted == 2
    assert [v.version for v in api.describe_item(akeyless.DescribeItem(name=name, token=admin)).item_versions] == [1, 3]
    out = api.delete_item(akeyless.DeleteItem(name=name, token=admin))
    assert out.item_name == name and out.version_deleted == -1
    msg = failing(lambda: api.describe_item(akeyless.DescribeItem(name=name, token=admin)), 404)
    assert msg.endswith(f"failed to obtain item {name}") and "Status 404 Not Found, Error: NotFound" in msg


def test_get_secret_value_keys_by_requested_name(api, admin):
    base = uniq("demo/names")
    api.create_secret(akeyless.CreateSecret(name=base + "/a", value="A", token=admin))
    api.create_secret(akeyless.CreateSecret(name=base + "/b", value='{"k": 1}', token=admin))
    out = api.get_secret_value(akeyless.GetSecretValue(names=[base.lstrip("/") + "/a", base + "/b"], token=admin))
    assert out == {base.lstrip("/") + "/a": "A", base + "/b": '{"k": 1}'}
    msg = failing(lambda: api.get_secret_value(akeyless.GetSecretValue(names=[base + "/zz"], token=admin)), 404)
    assert f"failed to obtain item {base}/zz" in msg


def test_list_items_filters(api, admin):
    base = uniq("demo/list")
    for suffix, tags in (("/app/db", ["db"]), ("/app/api", ["web"]), ("/other/db", ["db"])):
        api.create_secret(akeyless.CreateSecret(name=base + suffix, value="x", tags=tags, token=admin))
    names = lambda **kw: [i.item_name for i in (api.list_items(akeyless.ListItems(token=admin, **kw)).items or [])]
    assert names(path=base) == [base + "/app/api", base + "/app/db", base + "/other/db"]
    assert names(path=base, filter="db") == [base + "/app/db", base + "/other/db"]
    assert names(path=base, tag="db") == [base + "/app/db", base + "/other/db"]
    assert names(path=base, tag="", filter="") == names(path=base)
    assert names(path=base + "/app", current_folder=True) == [base + "/app/api", base + "/app/db"]
    assert names(path=base, type=["dynamic-secret"]) == []
    out = api.list_items(akeyless.ListItems(path=base, token=admin))
    assert out.folders == [base + "/app", base + "/other"] and out.next_page == ""
    empty = api.list_items(akeyless.ListItems(path=uniq("empty"), token=admin))
    assert empty.items is None and empty.folders is None and empty.next_page == ""


def test_create_secret_needs_value():
    with pytest.raises(ValueError):      # the SDK itself refuses; the wire test covers the server side
        akeyless.CreateSecret(name="/x", value=None)


# --- authorisation ---------------------------------------------------------------------------------

def test_role_rules_authorise_items(api, admin):
    base = uniq("demo/authz")
    api.create_secret(akeyless.CreateSecret(name=base + "/app/db", value="ok", token=admin))
    api.create_secret(akeyless.CreateSecret(name=base + "/app/blocked", value="no", token=admin))
    api.create_secret(akeyless.CreateSecret(name=base + "/web/db", value="no", token=admin))
    token, access_id, role, _ = reader(api, admin, (base + "/app/*", ["read", "list"]),
                                       (base + "/app/blocked", ["deny"]))
    assert api.get_secret_value(akeyless.GetSecretValue(names=[base + "/app/db"], token=token)) == {base + "/app/db": "ok"}
    item = api.describe_item(akeyless.DescribeItem(name=base + "/app/db", token=token))
    assert item.client_permissions == ["read", "list"]
    for denied in (base + "/web/db", base + "/app/blocked", base + "/web/missing"):
        msg = failing(lambda: api.get_secret_value(akeyless.GetSecretValue(names=[denied], token=token)), 401)
        assert "Error: UnauthorizedAccess" in msg and f"unauthorized access for access id {access_id}" in msg
    msg = failing(lambda: api.describe_item(akeyless.DescribeItem(name=base + "/app/missing", token=token)), 404)
    assert msg.startswith("failed to obtain item description: Desc: Failed to get item. Status 404")
    listed = [i.item_name for i in api.list_items(akeyless.ListItems(path=base, token=token)).items]
    assert listed == [base + "/app/db"]
    assert "UnauthorizedAccess" in failing(lambda: api.create_secret(akeyless.CreateSecret(
        name=base + "/app/new", value="x", token=token)), 401)
    assert "UnauthorizedAccess" in failing(lambda: api.create_role(akeyless.CreateRole(name=uniq("r"), token=token)), 401)
    # a rule added later applies to the same token at once
    api.set_role_rule(akeyless.SetRoleRule(role_name=role, path=base + "/app/new", capability=["create"], token=admin))
    api.create_secret(akeyless.CreateSecret(name=base + "/app/new", value="x", token=token))


def test_sub_claim_mismatch_is_401(api, admin):
    base = uniq("demo/claims")
    api.create_secret(akeyless.CreateSecret(name=base + "/db", value="x", token=admin))
    token, _, _, _ = reader(api, admin, (base + "/*", ["read"]), sub_claims={"namespace": "app"})
    msg = failing(lambda: api.get_secret_value(akeyless.GetSecretValue(names=[base + "/db"], token=token)), 401)
    assert msg.endswith("Status 401 Unauthorized, Error: UnauthorizedAccess. Message: sub claim mismatch")


def test_audit_log_records_allowed_and_denied(api, admin, lab):
    base = uniq("demo/audit")
    api.create_secret(akeyless.CreateSecret(name=base + "/db", value="x", token=admin))
    token, access_id, _, method = reader(api, admin, (base + "/other", ["read"]))
    failing(lambda: api.get_secret_value(akeyless.GetSecretValue(names=[base + "/db"], token=token)), 401)
    client = api.api_client
    out = client.call_api("/lab-only/audit-log", "POST", body={"token": admin, "access_id": access_id},
                          response_type="object", _return_http_data_only=True)
    last = out["entries"][-1]
    assert last["command"] == "get-secret-value" and last["allowed"] is False and last["status"] == 401
    assert last["auth_method"] == method and last["path"] == base + "/db" and "grants read" in last["reason"]
    with pytest.raises(ApiException) as info:
        client.call_api("/lab-only/audit-log", "POST", body={"token": token}, response_type="object")
    assert info.value.status == 401


def test_update_assoc_changes_sub_claims(api, admin):
    base = uniq("demo/upd-assoc")
    api.create_secret(akeyless.CreateSecret(name=base + "/db", value="x", token=admin))
    token, _, role, _ = reader(api, admin, (base + "/*", ["read"]), sub_claims={"team": "blue"})
    failing(lambda: api.get_secret_value(akeyless.GetSecretValue(names=[base + "/db"], token=token)), 401)
    [assoc] = api.get_role(akeyless.GetRole(name=role, token=admin)).role_auth_methods_assoc
    api.update_assoc(akeyless.UpdateAssoc(assoc_id=assoc.assoc_id, sub_claims={}, token=admin))
    assert api.get_secret_value(akeyless.GetSecretValue(names=[base + "/db"], token=token)) == {base + "/db": "x"}
