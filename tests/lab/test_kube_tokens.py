"""TokenRequest and TokenReview through the official `kubernetes` client: the contract the Akeyless
gateway relies on. Runs against the emulator and (WORKSHOP_LAB_KUBE=apiserver) the real kube-apiserver."""
from __future__ import annotations

import base64
import json
import time
import uuid

import kubernetes
import pytest
from kubernetes.client import (AuthenticationV1Api, AuthenticationV1TokenRequest, CoreV1Api, RbacAuthorizationV1Api, V1ClusterRoleBinding,
                               V1Namespace, V1ObjectMeta, V1RoleRef, V1ServiceAccount,
                               V1TokenRequestSpec, V1TokenReview, V1TokenReviewSpec, RbacV1Subject)
from kubernetes.client.exceptions import ApiException

ISSUER = "https://kubernetes.default.svc.cluster.local"


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def token_client(lab, token: str) -> kubernetes.client.ApiClient:
    cfg = kubernetes.client.Configuration()
    cfg.host = lab.kube_url
    cfg.ssl_ca_cert = str(lab.ca_cert)
    cfg.api_key = {"authorization": token}
    cfg.api_key_prefix = {"authorization": "Bearer"}
    return kubernetes.client.ApiClient(cfg)


def body(exc: ApiException) -> dict:
    return json.loads(exc.body)


@pytest.fixture(scope="module")
def api(kube_client):
    return kube_client


@pytest.fixture(scope="module")
def ns(api):
    name = f"tok-{uuid.uuid4().hex[:8]}"
    CoreV1Api(api).create_namespace(V1Namespace(metadata=V1ObjectMeta(name=name)))
    yield name
    CoreV1Api(api).delete_namespace(name)


def make_sa(api, ns: str, name: str | None = None) -> V1ServiceAccount:
    name = name or f"sa-{uuid.uuid4().hex[:6]}"
    return CoreV1Api(api).create_namespaced_service_account(ns, V1ServiceAccount(metadata=V1ObjectMeta(name=name)))


def mint(api, ns: str, sa: str, audiences=None, seconds: int = 3600) -> str:
    request = AuthenticationV1TokenRequest(spec=V1TokenRequestSpec(audiences=audiences or [], expiration_seconds=seconds))
    return CoreV1Api(api).create_namespaced_service_account_token(sa, ns, request).status.token


def review(api, token: str, audiences=None):
    spec = V1TokenReviewSpec(token=token, audiences=audiences)
    return AuthenticationV1Api(api).create_token_review(V1TokenReview(spec=spec)).status


@pytest.fixture(scope="module")
def reviewer(api, lab, ns):
    """A ServiceAccount bound to system:auth-delegator, as the Akeyless gateway's reviewer is."""
    sa = make_sa(api, ns, "token-reviewer")
    binding = f"{ns}-token-reviewer"
    RbacAuthorizationV1Api(api).create_cluster_role_binding(V1ClusterRoleBinding(
        metadata=V1ObjectMeta(name=binding),
        role_ref=V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="system:auth-delegator"),
        subjects=[RbacV1Subject(kind="ServiceAccount", name=sa.metadata.name, namespace=ns)]))
    client = token_client(lab, mint(api, ns, sa.metadata.name))
    yield client
    client.close()
    RbacAuthorizationV1Api(api).delete_cluster_role_binding(binding)


def test_token_request_mints_an_rs256_jwt_with_the_upstream_claims(api, ns):
    sa = make_sa(api, ns)
    response = CoreV1Api(api).create_namespaced_service_account_token(
        sa.metadata.name, ns, AuthenticationV1TokenRequest(spec=V1TokenRequestSpec(audiences=[], expiration_seconds=600)))
    token = response.status.token
    assert header(token)["alg"] == "RS256" and header(token)["kid"]
    c = claims(token)
    assert c["iss"] == ISSUER
    assert c["sub"] == f"system:serviceaccount:{ns}:{sa.metadata.name}"
    assert c["aud"] == [ISSUER]
    assert c["exp"] - c["iat"] == 600 and c["nbf"] == c["iat"]
    assert c["jti"]
    assert c["kubernetes.io"] == {"namespace": ns,
                                  "serviceaccount": {"name": sa.metadata.name, "uid": sa.metadata.uid}}
    assert response.spec.audiences == [ISSUER]
    assert abs(response.status.expiration_timestamp.timestamp() - c["exp"]) <= 1


def test_token_request_defaults_to_one_hour_and_keeps_custom_audiences(api, ns):
    sa = make_sa(api, ns)
    request = AuthenticationV1TokenRequest(spec=V1TokenRequestSpec(audiences=["akeyless"]))
    response = CoreV1Api(api).create_namespaced_service_account_token(sa.metadata.name, ns, request)
    c = claims(response.status.token)
    assert c["aud"] == ["akeyless"]
    assert response.spec.expiration_seconds == 3600 and c["exp"] - c["iat"] == 3600


def test_token_request_below_ten_minutes_is_invalid(api, ns):
    sa = make_sa(api, ns)
    with pytest.raises(ApiException) as err:
        mint(api, ns, sa.metadata.name, seconds=599)
    status = body(err.value)
    assert err.value.status == 422 and status["reason"] == "Invalid"
    assert status["message"] == ('TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: '
                                 'Invalid value: 599: may not specify a duration less than 10 minutes')
    assert status["details"]["causes"][0]["field"] == "spec.expirationSeconds"


def test_token_request_for_a_missing_service_account_is_not_found(api, ns):
    with pytest.raises(ApiException) as err:
        mint(api, ns, "no-such-sa")
    assert err.value.status == 404
    assert body(err.value)["message"] == 'serviceaccounts "no-such-sa" not found'


def test_token_review_authenticates_a_fresh_token(api, ns, reviewer):
    sa = make_sa(api, ns)
    token = mint(api, ns, sa.metadata.name, audiences=["akeyless"], seconds=600)
    status = review(reviewer, token, audiences=["akeyless"])
    assert status.authenticated is True and not status.error
    assert status.user.username == f"system:serviceaccount:{ns}:{sa.metadata.name}"
    assert status.user.uid == sa.metadata.uid
    assert status.user.groups == ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]
    assert status.user.extra["authentication.kubernetes.io/credential-id"] == [f"JTI={claims(token)['jti']}"]
    assert status.audiences == ["akeyless"]


def test_token_review_without_audiences_uses_the_api_audience(api, ns, reviewer):
    sa = make_sa(api, ns)
    status = review(reviewer, mint(api, ns, sa.metadata.name))
    assert status.authenticated is True and status.audiences == [ISSUER]


def test_token_review_rejects_a_wrong_audience(api, ns, reviewer):
    sa = make_sa(api, ns)
    status = review(reviewer, mint(api, ns, sa.metadata.name, audiences=["vault"]), audiences=["akeyless"])
    assert not status.authenticated
    assert status.error == ('[invalid bearer token, token audiences ["vault"] is invalid for the target audiences '
                            '["akeyless"]]')


def test_token_review_rejects_a_tampered_signature(api, ns, reviewer):
    sa = make_sa(api, ns)
    head, payload, signature = mint(api, ns, sa.metadata.name).split(".")
    flipped = ("A" if signature[10] != "A" else "B")
    status = review(reviewer, ".".join([head, payload, signature[:10] + flipped + signature[11:]]))
    assert not status.authenticated
    assert status.error == "[invalid bearer token, go-jose/go-jose: error in cryptographic primitive]"


def review_until_rejected(reviewer, token: str):
    """A real API server caches successful token authentications for 10 s (and its ServiceAccount informer
    may lag a deletion), so a token reviewed just before its ServiceAccount was deleted can pass a little
    longer there. The emulator has no such cache and rejects it at once."""
    deadline = time.monotonic() + 15
    while True:
        status = review(reviewer, token)
        if not status.authenticated or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def test_token_review_rejects_a_token_of_a_deleted_then_recreated_service_account(api, ns, reviewer):
    sa = make_sa(api, ns)
    token = mint(api, ns, sa.metadata.name)
    assert review(reviewer, token).authenticated is True
    CoreV1Api(api).delete_namespaced_service_account(sa.metadata.name, ns)
    status = review_until_rejected(reviewer, token)
    assert not status.authenticated
    assert status.error == f'[invalid bearer token, serviceaccounts "{sa.metadata.name}" not found]'

    again = make_sa(api, ns, sa.metadata.name)
    assert again.metadata.uid != sa.metadata.uid
    status = review_until_rejected(reviewer, token)
    assert not status.authenticated
    assert status.error == (f"[invalid bearer token, service account UID ({again.metadata.uid}) does not match "
                            f"claim ({sa.metadata.uid})]")
    assert review(reviewer, mint(api, ns, sa.metadata.name)).authenticated is True


def test_token_review_rejects_garbage(reviewer):
    status = review(reviewer, "not-a-jwt")
    assert not status.authenticated and status.error == "invalid bearer token"


def test_token_review_needs_auth_delegator(api, lab, ns):
    sa = make_sa(api, ns)
    with token_client(lab, mint(api, ns, sa.metadata.name)) as client:
        with pytest.raises(ApiException) as err:
            review(client, mint(api, ns, sa.metadata.name))
    assert err.value.status == 403
    status = body(err.value)
    assert status["reason"] == "Forbidden"
    assert status["message"] == (
        f'tokenreviews.authentication.k8s.io is forbidden: User "system:serviceaccount:{ns}:{sa.metadata.name}" '
        'cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope')


def test_minting_needs_create_on_serviceaccounts_token(api, lab, ns):
    sa = make_sa(api, ns)
    with token_client(lab, mint(api, ns, sa.metadata.name)) as client:
        with pytest.raises(ApiException) as err:
            mint(client, ns, sa.metadata.name)
    assert err.value.status == 403
    assert body(err.value)["message"] == (
        f'serviceaccounts "{sa.metadata.name}" is forbidden: User "system:serviceaccount:{ns}:{sa.metadata.name}" '
        f'cannot create resource "serviceaccounts/token" in API group "" in the namespace "{ns}"')


def test_a_bad_bearer_token_is_unauthorized(lab):
    with token_client(lab, "not-a-real-token") as client:
        with pytest.raises(ApiException) as err:
            CoreV1Api(client).list_namespace()
    assert err.value.status == 401
    status = body(err.value)
    assert (status["kind"], status["reason"], status["message"], status["code"]) == \
        ("Status", "Unauthorized", "Unauthorized", 401)


def test_a_token_for_another_audience_cannot_call_the_api(api, lab, ns):
    sa = make_sa(api, ns)
    with token_client(lab, mint(api, ns, sa.metadata.name, audiences=["akeyless"])) as client:
        with pytest.raises(ApiException) as err:
            CoreV1Api(client).list_namespaced_service_account(ns)
    assert err.value.status == 401
