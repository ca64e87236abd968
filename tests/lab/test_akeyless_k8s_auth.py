"""Kubernetes auth end to end: the lab's Akeyless gateway performs a real TokenReview against the
lab's Kubernetes API, driven by the official kubernetes client and the official akeyless SDK."""
from __future__ import annotations

import base64
import json
import uuid

import akeyless
import pytest
import requests
from akeyless.rest import ApiException
from kubernetes import client as k8s


@pytest.fixture(scope="module")
def kube(kube_client):
    return kube_client


@pytest.fixture(scope="module")
def api(akeyless_api):
    return akeyless_api


@pytest.fixture(scope="module")
def admin(akeyless_admin):
    return akeyless_admin


def mint(kube, namespace: str, sa: str, audiences=None, seconds: int = 3600) -> str:
    spec = k8s.V1TokenRequestSpec(audiences=audiences or [], expiration_seconds=seconds)
    out = k8s.CoreV1Api(kube).create_namespaced_service_account_token(
        sa, namespace, k8s.AuthenticationV1TokenRequest(spec=spec))
    return out.status.token


class Cluster:
    """One namespace with an app SA, and a reviewer SA bound to system:auth-delegator."""

    def __init__(self, kube):
        self.kube = kube
        self.core = k8s.CoreV1Api(kube)
        self.ns = f"app-{uuid.uuid4().hex[:6]}"
        self.other_ns = self.ns + "-other"
        for ns in (self.ns, self.other_ns):
            self.core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=ns)))
        for ns, sa in ((self.ns, "eso"), (self.ns, "reviewer"), (self.ns, "intruder"), (self.other_ns, "eso"),
                       (self.ns, "unbound-reviewer")):
            self.core.create_namespaced_service_account(ns, k8s.V1ServiceAccount(metadata=k8s.V1ObjectMeta(name=sa)))
        k8s.RbacAuthorizationV1Api(kube).create_cluster_role_binding(k8s.V1ClusterRoleBinding(
            metadata=k8s.V1ObjectMeta(name=f"{self.ns}-reviewer"),
            role_ref=k8s.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole",
                                   name="system:auth-delegator"),
            subjects=[k8s.RbacV1Subject(kind="ServiceAccount", name="reviewer", namespace=self.ns)]))
        self.reviewer_jwt = mint(kube, self.ns, "reviewer", seconds=24 * 3600)


@pytest.fixture(scope="module")
def cluster(kube):
    return Cluster(kube)


class Setup:
    def __init__(self, api, admin, lab, cluster, *, audience=None, reviewer="reviewer", ca=None, bound_sa=("eso",)):
        self.api, self.admin, self.lab = api, admin, lab
        self.name = f"/k8s/{uuid.uuid4().hex[:6]}"
        self.method = api.create_auth_method_k8_s(akeyless.CreateAuthMethodK8S(
            name=self.name, bound_namespaces=[cluster.ns, cluster.other_ns], bound_sa_names=list(bound_sa),
            audience=audience, token=admin))
        self.config = "conf-" + uuid.uuid4().hex[:6]
        jwt = {"reviewer": cluster.reviewer_jwt, "caller": None,
               "unbound": mint(cluster.kube, cluster.ns, "unbound-reviewer")}[reviewer]
        api.gateway_create_k8_s_auth_config(akeyless.GatewayCreateK8SAuthConfig(
            name=self.config, access_id=self.method.access_id, signing_key=self.method.prv_key,
            k8s_host=lab.kube_url, k8s_ca_cert=ca or base64.b64encode(lab.ca_cert.read_bytes()).decode(),
            token_reviewer_jwt=jwt, token=admin))

    def auth(self, jwt: str, *, encode=True, config=None, access_id=None):
        value = base64.b64encode(jwt.encode()).decode() if encode else jwt
        return self.api.auth(akeyless.Auth(access_id=access_id or self.method.access_id, access_type="k8s",
                                           k8s_auth_config_name=config or self.config,
                                           k8s_service_account_token=value))


def auth_error(call) -> str:
    with pytest.raises(ApiException) as info:
        call()
    assert info.value.status == 401, info.value.body
    return json.loads(info.value.body)["error"]


@pytest.fixture(scope="module")
def setup(api, admin, lab, cluster):
    return Setup(api, admin, lab, cluster)


def test_k8s_auth_issues_a_token_with_sub_claims(setup, cluster, api, admin):
    sa = cluster.core.read_namespaced_service_account("eso", cluster.ns)
    out = setup.auth(mint(cluster.kube, cluster.ns, "eso"))
    assert out.token.startswith("t-")
    claims = api.describe_sub_claims(akeyless.DescribeSubClaims(token=out.token)).sub_claims
    assert claims["namespace"] == [cluster.ns] and claims["service_account_name"] == ["eso"]
    assert claims["service_account_uid"] == [sa.metadata.uid] and claims["config_name"] == [setup.config]
    assert claims["access_id"] == [setup.method.access_id] and claims["aud"]
    assert out.creds.sub_claims == claims


def test_raw_jwt_is_accepted_too(setup, cluster):
    assert setup.auth(mint(cluster.kube, cluster.ns, "eso"), encode=False).token.startswith("t-")


def test_token_reviews_are_recorded_redacted(setup, cluster, api, admin):
    jwt = mint(cluster.kube, cluster.ns, "eso")
    setup.auth(jwt)
    out = api.api_client.call_api("/lab-only/token-reviews", "POST",
                                  body={"token": admin, "config_name": setup.config, "limit": 1},
                                  response_type="object", _return_http_data_only=True)
    [review] = out["reviews"]
    header, payload, _ = jwt.split(".")
    assert review["request"]["spec"]["token"] == f"{header}.{payload}.<masked>"
    assert review["bearer"] == "token-reviewer-jwt" and review["bearer_token"].endswith(".<masked>")
    assert review["url"] == setup.lab.kube_url + "/apis/authentication.k8s.io/v1/tokenreviews"
    assert review["http_status"] in (200, 201)
    assert review["response"]["status"]["user"]["username"] == f"system:serviceaccount:{cluster.ns}:eso"
    assert jwt not in json.dumps(out)


def test_unknown_config_and_wrong_access_id(setup, cluster, api, admin):
    jwt = mint(cluster.kube, cluster.ns, "eso")
    assert "k8s auth config 'nope' not found on this gateway" in auth_error(lambda: setup.auth(jwt, config="nope"))
    other = api.create_auth_method_k8_s(akeyless.CreateAuthMethodK8S(name=f"/k8s/{uuid.uuid4().hex[:6]}", token=admin))
    msg = auth_error(lambda: setup.auth(jwt, access_id=other.access_id))
    assert f"belongs to access id {setup.method.access_id}, not {other.access_id}" in msg


def test_tls_failure_to_the_cluster(api, admin, lab, cluster):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import datetime as dt
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "some-other-ca")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    wrong_ca = base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode()
    setup = Setup(api, admin, lab, cluster, ca=wrong_ca)
    msg = auth_error(lambda: setup.auth(mint(cluster.kube, cluster.ns, "eso")))
    assert "x509: certificate signed by unknown authority" in msg


def test_reviewer_without_auth_delegator_is_forbidden(api, admin, lab, cluster):
    setup = Setup(api, admin, lab, cluster, reviewer="unbound")
    msg = auth_error(lambda: setup.auth(mint(cluster.kube, cluster.ns, "eso")))
    assert "forbidden to create TokenReviews (403 Forbidden)" in msg
    assert f"system:serviceaccount:{cluster.ns}:unbound-reviewer" in msg        # the cluster's own message
    assert "system:auth-delegator" in msg


def test_callers_own_jwt_as_bearer(api, admin, lab, cluster):
    setup = Setup(api, admin, lab, cluster, reviewer="caller")
    msg = auth_error(lambda: setup.auth(mint(cluster.kube, cluster.ns, "eso")))
    assert "403 Forbidden" in msg and f"system:serviceaccount:{cluster.ns}:eso" in msg
    # the reviewer SA itself may review its own token, so with it as the caller the flow works
    setup_reviewer = Setup(api, admin, lab, cluster, reviewer="caller", bound_sa=("reviewer",))
    assert setup_reviewer.auth(cluster.reviewer_jwt).token.startswith("t-")


def test_invalid_token_reports_the_clusters_reason(setup, cluster):
    jwt = mint(cluster.kube, cluster.ns, "eso")
    header, payload, signature = jwt.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    msg = auth_error(lambda: setup.auth(tampered))
    assert "did not authenticate the service account token" in msg and "status.authenticated=false" in msg


def test_deleted_service_account_is_rejected(setup, cluster):
    cluster.core.create_namespaced_service_account(cluster.ns, k8s.V1ServiceAccount(metadata=k8s.V1ObjectMeta(name="gone")))
    jwt = mint(cluster.kube, cluster.ns, "gone")
    cluster.core.delete_namespaced_service_account("gone", cluster.ns)
    assert "did not authenticate" in auth_error(lambda: setup.auth(jwt))


def test_bounds_are_enforced(setup, cluster, kube):
    msg = auth_error(lambda: setup.auth(mint(kube, cluster.ns, "intruder")))
    assert "service account intruder is not in the auth method's bound-sa-names [eso]" in msg
    outside = f"outside-{uuid.uuid4().hex[:6]}"
    cluster.core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=outside)))
    cluster.core.create_namespaced_service_account(outside, k8s.V1ServiceAccount(metadata=k8s.V1ObjectMeta(name="eso")))
    msg = auth_error(lambda: setup.auth(mint(kube, outside, "eso")))
    assert f"namespace {outside} is not in the auth method's bound-namespaces" in msg


def test_audience_is_sent_and_enforced(api, admin, lab, cluster, kube):
    setup = Setup(api, admin, lab, cluster, audience="akeyless")
    out = setup.auth(mint(kube, cluster.ns, "eso", audiences=["akeyless"]))
    claims = api.describe_sub_claims(akeyless.DescribeSubClaims(token=out.token)).sub_claims
    assert claims["aud"] == ["akeyless"]
    msg = auth_error(lambda: setup.auth(mint(kube, cluster.ns, "eso")))       # the API server's default audience
    assert "did not authenticate" in msg
    out = api.api_client.call_api("/lab-only/token-reviews", "POST",
                                  body={"token": admin, "config_name": setup.config, "limit": 1},
                                  response_type="object", _return_http_data_only=True)
    assert out["reviews"][0]["request"]["spec"]["audiences"] == ["akeyless"]


def test_sub_claims_decide_access(setup, cluster, api, admin, kube):
    base = f"/k8s-items-{uuid.uuid4().hex[:6]}"
    api.create_secret(akeyless.CreateSecret(name=base + "/db", value="from-akeyless", token=admin))
    role = f"/k8s-role-{uuid.uuid4().hex[:6]}"
    api.create_role(akeyless.CreateRole(name=role, token=admin))
    api.set_role_rule(akeyless.SetRoleRule(role_name=role, path=base + "/*", capability=["read"], token=admin))
    api.assoc_role_auth_method(akeyless.AssocRoleAuthMethod(role_name=role, am_name=setup.name,
                                                            sub_claims={"namespace": cluster.ns}, token=admin))
    mine = setup.auth(mint(kube, cluster.ns, "eso")).token
    assert api.get_secret_value(akeyless.GetSecretValue(names=[base + "/db"], token=mine)) == {base + "/db": "from-akeyless"}
    theirs = setup.auth(mint(kube, cluster.other_ns, "eso")).token
    with pytest.raises(ApiException) as info:
        api.get_secret_value(akeyless.GetSecretValue(names=[base + "/db"], token=theirs))
    assert info.value.status == 401 and json.loads(info.value.body)["error"].endswith("Message: sub claim mismatch")


@pytest.mark.parametrize("prefix", ["", "/v2", "/api/v2"])
def test_eso_k8s_auth_body(setup, cluster, lab, kube, prefix):
    body = {"access-id": setup.method.access_id, "access-type": "k8s", "gcp-audience": "akeyless.io", "json": False,
            "oci-auth-type": "apikey", "k8s-auth-config-name": setup.config,
            "k8s-service-account-token": base64.b64encode(mint(kube, cluster.ns, "eso").encode()).decode()}
    response = requests.post(lab.akeyless_http_url + prefix + "/auth", json=body, timeout=15)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    assert response.json()["token"].startswith("t-")


def test_client_helpers_over_k8s_auth(setup, cluster, lab, kube):
    from helpers import akeyless_client as ak
    from helpers.errors import AkeylessError
    jwt = mint(kube, cluster.ns, "eso")
    token = ak.auth_with_k8s(lab.akeyless_url, setup.method.access_id, setup.config, jwt, ca_cert=str(lab.ca_cert))
    assert token.summary() == (f"authenticated with k8s: token t-{ak.mask_secret(token.token[2:])}; sub-claims "
                               f"aud={token.sub_claims['aud'][0]}, config_name={setup.config}, "
                               f"namespace={cluster.ns}, service_account_name=eso")
    assert ak.describe_sub_claims(token).sub_claims == token.sub_claims
    with pytest.raises(AkeylessError) as info:
        ak.auth_with_k8s(lab.akeyless_url, setup.method.access_id, setup.config, mint(kube, cluster.ns, "intruder"),
                         ca_cert=str(lab.ca_cert))
    assert info.value.status == 401 and "bound-sa-names" in str(info.value) and "bounds" in info.value.hint


def test_issuer_validation_when_enabled(api, admin, lab, cluster, kube):
    setup = Setup(api, admin, lab, cluster)
    jwt = mint(kube, cluster.ns, "eso")
    issuer = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))["iss"]

    def update(**kw):
        api.gateway_update_k8_s_auth_config(akeyless.GatewayUpdateK8SAuthConfig(
            name=setup.config, new_name=setup.config, access_id=setup.method.access_id,
            signing_key=setup.method.prv_key, k8s_host=lab.kube_url, token=admin, **kw))

    update(disable_issuer_validation="false")          # with the SDK's default issuer kubernetes/serviceaccount
    msg = auth_error(lambda: setup.auth(jwt))
    assert f"the token's iss is {issuer!r}, the config expects 'kubernetes/serviceaccount'" in msg
    update(disable_issuer_validation="false", k8s_issuer=issuer)
    assert setup.auth(jwt).token.startswith("t-")


def test_auth_is_audited_with_sub_claims(setup, cluster, api, admin, kube):
    setup.auth(mint(kube, cluster.ns, "eso"))
    out = api.api_client.call_api("/lab-only/audit-log", "POST",
                                  body={"token": admin, "command": "auth", "access_id": setup.method.access_id,
                                        "limit": 1}, response_type="object", _return_http_data_only=True)
    [entry] = out["entries"]
    assert entry["allowed"] and entry["auth_method"] == setup.name and entry["reason"] == "authenticated (k8s)"
    assert entry["sub_claims"]["namespace"] == [cluster.ns]
