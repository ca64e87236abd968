"""Objects, errors, discovery and RBAC through the official `kubernetes` client and raw HTTP: behaviour
the real kube-apiserver shares (this file is part of the contract suite)."""
from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request

import kubernetes
import pytest
from kubernetes.client import (AuthenticationV1Api, AuthorizationV1Api, CoreV1Api, RbacAuthorizationV1Api,
                               V1ConfigMap, V1ObjectMeta, V1PolicyRule, V1ResourceAttributes, V1Role,
                               V1RoleBinding, V1RoleRef, V1Secret, V1SelfSubjectAccessReview,
                               V1SelfSubjectAccessReviewSpec, V1SelfSubjectReview, V1ServiceAccount,
                               V1SubjectAccessReview, V1SubjectAccessReviewSpec, RbacV1Subject,
                               AuthenticationV1TokenRequest, V1TokenRequestSpec, VersionApi)
from kubernetes.client.exceptions import ApiException


@pytest.fixture(scope="module")
def api(kube_client):
    return kube_client


def status_of(err) -> dict:
    return json.loads(err.value.body)


def raw(lab, method: str, path: str, data: bytes | None = None, token: str | None = "admin",
        content_type: str = "application/json"):
    """(code, parsed body) for a raw HTTPS request."""
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {lab.admin_token if token == 'admin' else token}"
    request = urllib.request.Request(lab.kube_url + path, data=data, method=method, headers=headers)
    context = ssl.create_default_context(cafile=str(lab.ca_cert))
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            text = response.read().decode()
            code = response.status
    except urllib.error.HTTPError as exc:
        text, code = exc.read().decode(), exc.code
    try:
        return code, json.loads(text)
    except ValueError:
        return code, text


# --- discovery and health ---------------------------------------------------------------------------

def test_version_and_health(api, lab):
    info = VersionApi(api).get_code()
    assert info.major == "1" and info.git_version.startswith("v1.")
    for path in ("/healthz", "/readyz", "/livez"):
        assert raw(lab, "GET", path) == (200, "ok")


def test_discovery_lists_the_workshop_resources(lab):
    code, core = raw(lab, "GET", "/api/v1")
    assert code == 200 and core["kind"] == "APIResourceList"
    names = {r["name"]: r for r in core["resources"]}
    assert {"namespaces", "serviceaccounts", "serviceaccounts/token", "secrets", "configmaps"} <= set(names)
    assert names["serviceaccounts/token"]["kind"] == "TokenRequest"
    assert names["serviceaccounts/token"]["group"] == "authentication.k8s.io"
    code, groups = raw(lab, "GET", "/apis")
    assert code == 200 and groups["kind"] == "APIGroupList"
    assert {"authentication.k8s.io", "authorization.k8s.io", "rbac.authorization.k8s.io"} <= \
        {g["name"] for g in groups["groups"]}
    code, authn = raw(lab, "GET", "/apis/authentication.k8s.io/v1")
    assert "tokenreviews" in {r["name"] for r in authn["resources"]}


def test_issuer_discovery(lab):
    code, config = raw(lab, "GET", "/.well-known/openid-configuration")
    assert code == 200 and config["issuer"] == "https://kubernetes.default.svc.cluster.local"
    assert config["jwks_uri"].endswith("/openid/v1/jwks")
    code, jwks = raw(lab, "GET", "/openid/v1/jwks")
    assert code == 200 and jwks["keys"][0]["kty"] == "RSA" and jwks["keys"][0]["kid"]


def test_anonymous_may_check_health_but_not_read_objects(lab):
    assert raw(lab, "GET", "/healthz", token=None) == (200, "ok")
    assert raw(lab, "GET", "/version", token=None)[0] == 200
    code, status = raw(lab, "GET", "/api/v1/namespaces", token=None)
    assert code == 403
    assert status["message"] == ('namespaces is forbidden: User "system:anonymous" cannot list resource '
                                 '"namespaces" in API group "" at the cluster scope')


# --- objects ------------------------------------------------------------------------------------------

def test_system_namespaces_exist(core):
    names = {n.metadata.name for n in core.list_namespace().items}
    assert {"default", "kube-system", "kube-public"} <= names


def test_service_account_lifecycle(core, ns):
    created = core.create_namespaced_service_account(ns, V1ServiceAccount(metadata=V1ObjectMeta(
        name="app", labels={"team": "a"})))
    meta = created.metadata
    assert meta.uid and meta.resource_version and meta.creation_timestamp and meta.namespace == ns
    read = core.read_namespaced_service_account("app", ns)
    assert read.metadata.uid == meta.uid
    patched = core.patch_namespaced_service_account("app", ns, {"metadata": {"labels": {"team": "b"}}})
    assert patched.metadata.labels == {"team": "b"}
    assert int(patched.metadata.resource_version) > int(meta.resource_version)
    patched.metadata.annotations = {"note": "x"}
    replaced = core.replace_namespaced_service_account("app", ns, patched)
    assert replaced.metadata.annotations == {"note": "x"}
    assert [s.metadata.name for s in core.list_namespaced_service_account(ns, label_selector="team=b").items] == ["app"]
    assert "app" in {s.metadata.name for s in core.list_service_account_for_all_namespaces().items
                     if s.metadata.namespace == ns}
    core.delete_namespaced_service_account("app", ns)
    with pytest.raises(ApiException) as err:
        core.read_namespaced_service_account("app", ns)
    assert err.value.status == 404 and status_of(err)["message"] == 'serviceaccounts "app" not found'


def test_stale_update_is_a_conflict(core, ns):
    sa = core.create_namespaced_service_account(ns, V1ServiceAccount(metadata=V1ObjectMeta(name="conflict")))
    core.patch_namespaced_service_account("conflict", ns, {"metadata": {"labels": {"a": "1"}}})
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_service_account("conflict", ns, sa)
    assert err.value.status == 409 and status_of(err)["reason"] == "Conflict"


def test_secret_string_data_is_folded_into_base64_data(core, ns):
    secret = core.create_namespaced_secret(ns, V1Secret(metadata=V1ObjectMeta(name="db"),
                                                        string_data={"password": "s3cr3t"},
                                                        data={"user": base64.b64encode(b"app").decode()}))
    assert secret.type == "Opaque" and secret.string_data is None
    assert base64.b64decode(secret.data["password"]) == b"s3cr3t"
    assert base64.b64decode(secret.data["user"]) == b"app"
    assert core.read_namespaced_secret("db", ns).data == secret.data


def test_configmap_roundtrip(core, ns):
    core.create_namespaced_config_map(ns, V1ConfigMap(metadata=V1ObjectMeta(name="cfg"), data={"k": "v"}))
    assert core.read_namespaced_config_map("cfg", ns).data == {"k": "v"}


def test_duplicate_is_already_exists(core, ns):
    core.create_namespaced_config_map(ns, V1ConfigMap(metadata=V1ObjectMeta(name="dup")))
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map(ns, V1ConfigMap(metadata=V1ObjectMeta(name="dup")))
    status = status_of(err)
    assert err.value.status == 409 and status["reason"] == "AlreadyExists"
    assert status["message"] == 'configmaps "dup" already exists'
    assert status["details"] == {"name": "dup", "kind": "configmaps"}


def test_invalid_name_is_unprocessable(core, ns):
    with pytest.raises(ApiException) as err:
        core.create_namespaced_service_account(ns, V1ServiceAccount(metadata=V1ObjectMeta(name="Bad_Name")))
    status = status_of(err)
    assert err.value.status == 422 and status["reason"] == "Invalid"
    assert status["message"].startswith('ServiceAccount "Bad_Name" is invalid: metadata.name: Invalid value: '
                                        '"Bad_Name": a lowercase RFC 1123 subdomain must consist of')
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    assert status["details"]["causes"][0]["reason"] == "FieldValueInvalid"


def test_creating_in_a_missing_namespace_is_not_found(core):
    with pytest.raises(ApiException) as err:
        core.create_namespaced_service_account("no-such-ns", V1ServiceAccount(metadata=V1ObjectMeta(name="a")))
    assert err.value.status == 404 and status_of(err)["message"] == 'namespaces "no-such-ns" not found'


def test_errors_are_status_objects(lab, ns):
    code, status = raw(lab, "POST", f"/api/v1/namespaces/{ns}/serviceaccounts", b"{not json")
    assert code == 400 and status["kind"] == "Status" and status["reason"] == "BadRequest"
    code, status = raw(lab, "GET", "/api/v1/namespaces/default/widgets")
    assert code == 404 and status["kind"] == "Status" and status["reason"] == "NotFound"
    code, status = raw(lab, "PUT", f"/api/v1/namespaces/{ns}/serviceaccounts", b"{}")
    assert code == 405 and status["kind"] == "Status" and status["reason"] == "MethodNotAllowed"
    code, status = raw(lab, "POST", f"/api/v1/namespaces/{ns}/serviceaccounts", b"[1, 2]")
    assert code in (400, 422) and status["kind"] == "Status" and status["status"] == "Failure"


# --- RBAC and reviews ---------------------------------------------------------------------------------

def test_bootstrap_cluster_roles_exist(api):
    names = {r.metadata.name for r in RbacAuthorizationV1Api(api).list_cluster_role().items}
    assert {"cluster-admin", "admin", "edit", "view", "system:auth-delegator", "system:basic-user",
            "system:public-info-viewer"} <= names


def test_self_subject_review_names_the_admin(api):
    info = AuthenticationV1Api(api).create_self_subject_review(V1SelfSubjectReview()).status.user_info
    assert "system:masters" in info.groups and "system:authenticated" in info.groups


def test_role_binding_grants_secret_reads_in_its_namespace_only(api, lab, core, ns):
    rbac = RbacAuthorizationV1Api(api)
    core.create_namespaced_service_account(ns, V1ServiceAccount(metadata=V1ObjectMeta(name="reader")))
    core.create_namespaced_secret(ns, V1Secret(metadata=V1ObjectMeta(name="visible"), string_data={"a": "b"}))
    rbac.create_namespaced_role(ns, V1Role(metadata=V1ObjectMeta(name="secret-reader"), rules=[
        V1PolicyRule(api_groups=[""], resources=["secrets"], verbs=["get"], resource_names=["visible"])]))
    rbac.create_namespaced_role_binding(ns, V1RoleBinding(
        metadata=V1ObjectMeta(name="reader-binding"),
        role_ref=V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="secret-reader"),
        subjects=[RbacV1Subject(kind="ServiceAccount", name="reader", namespace=ns)]))
    token = core.create_namespaced_service_account_token(
        "reader", ns, AuthenticationV1TokenRequest(spec=V1TokenRequestSpec(audiences=[]))).status.token
    cfg = kubernetes.client.Configuration()
    cfg.host, cfg.ssl_ca_cert = lab.kube_url, str(lab.ca_cert)
    cfg.api_key, cfg.api_key_prefix = {"authorization": token}, {"authorization": "Bearer"}
    with kubernetes.client.ApiClient(cfg) as client:
        as_reader = CoreV1Api(client)
        assert base64.b64decode(as_reader.read_namespaced_secret("visible", ns).data["a"]) == b"b"
        with pytest.raises(ApiException) as err:
            as_reader.list_namespaced_secret(ns)
        assert err.value.status == 403
        assert status_of(err)["message"] == (
            f'secrets is forbidden: User "system:serviceaccount:{ns}:reader" cannot list resource "secrets" in '
            f'API group "" in the namespace "{ns}"')
        with pytest.raises(ApiException) as err:
            as_reader.read_namespaced_secret("visible", "default")
        assert err.value.status == 403
        review = AuthorizationV1Api(client).create_self_subject_access_review(V1SelfSubjectAccessReview(
            spec=V1SelfSubjectAccessReviewSpec(resource_attributes=V1ResourceAttributes(
                namespace=ns, verb="get", resource="secrets", name="visible"))))
        assert review.status.allowed is True


def test_subject_access_review_answers_for_another_user(api, ns):
    review = AuthorizationV1Api(api).create_subject_access_review(V1SubjectAccessReview(
        spec=V1SubjectAccessReviewSpec(user=f"system:serviceaccount:{ns}:nobody",
                                       groups=["system:serviceaccounts", "system:authenticated"],
                                       resource_attributes=V1ResourceAttributes(
                                           verb="create", group="authentication.k8s.io", resource="tokenreviews"))))
    assert review.status.allowed is False
    review = AuthorizationV1Api(api).create_subject_access_review(V1SubjectAccessReview(
        spec=V1SubjectAccessReviewSpec(user="someone", groups=["system:masters"],
                                       resource_attributes=V1ResourceAttributes(verb="delete", resource="secrets"))))
    assert review.status.allowed is True
