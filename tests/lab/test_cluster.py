"""helpers.cluster against the lab's Kubernetes API, through its kubeconfig only (as against any cluster)."""
from __future__ import annotations

import base64
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from helpers import tokens
from helpers.cluster import AUTH_DELEGATOR, Cluster, connect, service_account_user
from helpers.config import Settings
from helpers.errors import ClusterError, ConfigError

NS = "cluster-test"
REVIEWER_GROUP = "authentication.k8s.io"


@pytest.fixture(scope="module")
def cluster(lab, lab_settings) -> Cluster:
    return connect(lab_settings)


@pytest.fixture(scope="module")
def app(cluster):
    cluster.ensure_namespace(NS)
    return cluster.ensure_service_account(NS, "app")


def test_info_reports_version_server_and_the_kubeconfig_ca(cluster, lab):
    info = cluster.info()
    assert info.server == lab.kube_url
    assert info.version.startswith("v1.")
    assert info.tls_verified
    pem = lab.ca_cert.read_text()
    assert info.ca.pem == pem
    assert base64.b64decode(info.ca_b64).decode() == pem and "\n" not in info.ca_b64
    cert = x509.load_pem_x509_certificate(pem.encode())
    assert info.ca.sha256.replace(":", "") == cert.fingerprint(hashes.SHA256()).hex().upper()
    assert info.ca.subject == info.ca.issuer == "CN=akeyless-lab-ca"
    assert info.summary() == f"Kubernetes {info.version}; TLS verified with CA CN=akeyless-lab-ca"
    assert ("API server", lab.kube_url) in info.rows()


def test_the_kubeconfig_target_with_another_context_reaches_the_same_api(lab):
    settings = Settings.load(target="kubeconfig", kubeconfig=str(lab.kubeconfig), context="akeyless-lab-cert")
    other = connect(settings)
    assert other.context == "akeyless-lab-cert"
    assert other.info().server == lab.kube_url
    assert other.can_i("create", "tokenreviews", REVIEWER_GROUP).allowed  # the client cert is system:masters


def test_the_ca_can_come_from_a_certificate_authority_file(lab, tmp_path):
    config = json.loads(lab.kubeconfig.read_text())
    del config["clusters"][0]["cluster"]["certificate-authority-data"]
    config["clusters"][0]["cluster"]["certificate-authority"] = str(lab.ca_cert)
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    info = connect(Settings.load(target="kubeconfig", kubeconfig=str(path))).info()
    assert info.tls_verified and info.ca.pem == lab.ca_cert.read_text()


def test_unknown_context_and_missing_kubeconfig_are_config_errors(lab, tmp_path):
    with pytest.raises(ConfigError, match="context 'nope' is not in") as info:
        connect(Settings.load(target="kubeconfig", kubeconfig=str(lab.kubeconfig), context="nope"))
    assert "akeyless-lab" in info.value.hint
    with pytest.raises(ConfigError, match="does not exist"):
        connect(Settings.load(target="kubeconfig", kubeconfig=str(tmp_path / "missing")))


def test_a_wrong_ca_fails_tls_with_a_hint(lab, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "some-other-ca")])
    import datetime as dt
    now = dt.datetime.now(dt.timezone.utc)
    other_ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
    config = json.loads(lab.kubeconfig.read_text())
    config["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(
        other_ca.public_bytes(serialization.Encoding.PEM)).decode()
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    cluster = connect(Settings.load(target="kubeconfig", kubeconfig=str(path)))
    assert cluster.ca_certificate().subject == "CN=some-other-ca"
    with pytest.raises(ClusterError) as info:
        cluster.info()
    assert info.value.reason == "TLSError"
    assert "CERTIFICATE_VERIFY_FAILED" in info.value.message
    assert "CA" in info.value.hint


def test_namespace_and_service_account_are_idempotent(cluster):
    first = cluster.ensure_namespace("cluster-idem")
    again = cluster.ensure_namespace("cluster-idem")
    assert again.action == "existed" and again.uid == first.uid
    assert first.summary() == again.summary() == "Namespace cluster-idem is present"
    sa = cluster.ensure_service_account("cluster-idem", "worker")
    sa_again = cluster.ensure_service_account("cluster-idem", "worker")
    assert sa.uid and sa_again.uid == sa.uid and sa_again.action == "existed"
    assert sa.summary() == "ServiceAccount cluster-idem/worker is present"
    gone = cluster.delete_service_account("cluster-idem", "worker")
    assert gone.action == "deleted" and gone.summary() == "ServiceAccount cluster-idem/worker is absent"
    assert cluster.delete_service_account("cluster-idem", "worker").action == "absent"


def test_an_invalid_name_is_reported_with_the_field_to_fix(cluster):
    with pytest.raises(ClusterError) as info:
        cluster.ensure_namespace("Not_A_DNS_Label")
    assert info.value.status == 422 and info.value.reason == "Invalid"
    assert "metadata.name" in info.value.hint


def test_request_token_mints_a_bound_600s_token(cluster, app):
    result = cluster.request_token(NS, "app")
    assert result.ok
    claims = result.claims
    assert claims["sub"] == service_account_user(NS, "app")
    assert claims["kubernetes.io"]["namespace"] == NS
    assert claims["kubernetes.io"]["serviceaccount"] == {"name": "app", "uid": app.uid}
    assert claims["exp"] - claims["iat"] == 600
    assert result.summary() == (f"token for system:serviceaccount:{NS}:app, audiences {result.audiences}, "
                                f"valid 600 s")
    assert result.token not in repr(result) and result.token.split(".")[2] not in result._repr_html_()
    assert tokens.from_b64(result.b64) == result.token


def test_request_token_with_audiences(cluster, app):
    result = cluster.request_token(NS, "app", audiences=["akeyless"], expiration_seconds=3600)
    assert result.audiences == ["akeyless"]
    assert result.decoded.lifetime_seconds == 3600


def test_request_token_below_ten_minutes_is_refused_like_kubernetes(cluster, app):
    result = cluster.request_token(NS, "app", expiration_seconds=599)
    assert not result.ok and result.status == 422 and result.reason == "Invalid"
    assert "may not specify a duration less than 10 minutes" in result.error
    assert "spec.expirationSeconds" in result.hint
    with pytest.raises(ClusterError):
        result.raise_for_error()


def test_request_token_for_a_missing_service_account_quotes_the_api_server(cluster, app):
    result = cluster.request_token(NS, "ghost")
    assert not result.ok and result.status == 404
    assert result.error == 'serviceaccounts "ghost" not found'
    assert result.summary() == f'no token for system:serviceaccount:{NS}:ghost: serviceaccounts "ghost" not found'


def test_review_as_admin_authenticates_the_service_account(cluster, app):
    token = cluster.request_token(NS, "app").token
    review = cluster.review_token(token)
    assert review.ok and review.authenticated
    assert review.username == service_account_user(NS, "app")
    assert review.uid == app.uid
    assert {"system:serviceaccounts", f"system:serviceaccounts:{NS}", "system:authenticated"} <= set(review.groups)
    assert review.summary().startswith(f"authenticated as system:serviceaccount:{NS}:app, audiences [")


def test_review_checks_audiences(cluster, app):
    token = cluster.request_token(NS, "app", audiences=["akeyless"]).token
    matching = cluster.review_token(token, audiences=["akeyless"])
    assert matching.authenticated and list(matching.audiences) == ["akeyless"]
    wrong = cluster.review_token(token, audiences=["vault"])
    assert not wrong.authenticated and not wrong.refused
    assert wrong.error
    assert wrong.summary().startswith("not authenticated: ")


def test_review_rejects_a_tampered_token(cluster, app):
    token = cluster.request_token(NS, "app").token
    forged = tokens.tamper(token, {"kubernetes.io": {"namespace": "kube-system"}})
    review = cluster.review_token(forged)
    assert not review.authenticated and review.error


def test_review_rejects_tokens_of_a_recreated_service_account(cluster):
    cluster.ensure_service_account(NS, "short-lived")
    old_token = cluster.request_token(NS, "short-lived").token
    # no review of old_token before the recreation: a real kube-apiserver caches successful
    # authentications for 10 s and would accept it once more within that window
    recreated = cluster.recreate_service_account(NS, "short-lived")
    assert recreated.old_uid and recreated.new_uid != recreated.old_uid
    assert "new uid" in recreated.summary()
    rejected = cluster.review_token(old_token)
    assert not rejected.authenticated
    assert rejected.error == (f"[invalid bearer token, service account UID ({recreated.new_uid}) does not match "
                              f"claim ({recreated.old_uid})]")
    assert cluster.review_token(cluster.request_token(NS, "short-lived").token).authenticated


def test_reviewer_needs_auth_delegator(cluster, app):
    cluster.ensure_service_account(NS, "reviewer")
    reviewer_user = service_account_user(NS, "reviewer")
    cluster.unbind_token_reviewer(NS, "reviewer")
    app_token = cluster.request_token(NS, "app").token
    reviewer_token = cluster.request_token(NS, "reviewer").token

    refused = cluster.review_token(app_token, as_token=reviewer_token)
    assert not refused.ok and refused.refused and refused.status == 403
    assert refused.reviewer == reviewer_user
    assert refused.error == (f'tokenreviews.authentication.k8s.io is forbidden: User "{reviewer_user}" cannot '
                             f'create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope')
    assert AUTH_DELEGATOR in refused.hint
    denied = cluster.can_i("create", "tokenreviews", REVIEWER_GROUP, user=reviewer_user)
    assert not denied.allowed
    assert denied.summary() == f"{reviewer_user} cannot create tokenreviews.authentication.k8s.io (cluster-wide)"

    binding = cluster.bind_token_reviewer(NS, "reviewer")
    assert binding.name == f"{NS}-reviewer-token-reviewer"
    assert cluster.bind_token_reviewer(NS, "reviewer").action == "existed"
    assert cluster.can_i("create", "tokenreviews", REVIEWER_GROUP, user=reviewer_user).allowed
    accepted = cluster.review_token(app_token, as_token=reviewer_token)
    assert accepted.authenticated and accepted.username == service_account_user(NS, "app")

    assert cluster.unbind_token_reviewer(NS, "reviewer").action == "deleted"
    assert cluster.review_token(app_token, as_token=reviewer_token).status == 403
    assert cluster.unbind_token_reviewer(NS, "reviewer").action == "absent"


def test_bind_token_reviewer_repairs_a_binding_to_another_role(cluster, app):
    cluster.ensure_service_account(NS, "repaired")
    from kubernetes import client as k8s
    name = "cluster-test-repaired-binding"
    cluster.unbind_token_reviewer(NS, "repaired", name)
    cluster.rbac.create_cluster_role_binding(k8s.V1ClusterRoleBinding(
        metadata=k8s.V1ObjectMeta(name=name),
        role_ref=k8s.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="view"),
        subjects=[k8s.RbacV1Subject(kind="ServiceAccount", name="repaired", namespace=NS)]))
    fixed = cluster.bind_token_reviewer(NS, "repaired", name)
    assert fixed.action == "replaced"
    assert cluster.rbac.read_cluster_role_binding(name).role_ref.name == AUTH_DELEGATOR
    cluster.unbind_token_reviewer(NS, "repaired", name)


def test_as_identity_applies_the_tokens_rbac(cluster, app):
    token = cluster.request_token(NS, "app").token
    as_app = cluster.as_identity(token)
    assert as_app.identity == service_account_user(NS, "app")
    mine = as_app.can_i("get", "secrets", namespace=NS)
    assert not mine.allowed and mine.user == service_account_user(NS, "app")
    with pytest.raises(ClusterError) as info:
        as_app.read_secret(NS, "anything")
    assert info.value.status == 403 and info.value.reason == "Forbidden"
    assert f'User "{service_account_user(NS, "app")}" cannot get resource "secrets"' in info.value.message
    assert info.value.hint.startswith(f'grant "{service_account_user(NS, "app")}" the RBAC to get secrets in '
                                      f'namespace "{NS}"')
    assert cluster.can_i("get", "secrets", namespace=NS).allowed  # the admin may


def test_as_identity_with_a_revoked_token_is_unauthorized(cluster):
    cluster.ensure_service_account(NS, "revoked")
    token = cluster.request_token(NS, "revoked").token
    cluster.delete_service_account(NS, "revoked")
    with pytest.raises(ClusterError) as info:
        cluster.as_identity(token).list_secrets(NS)
    assert info.value.status == 401 and "expired" in info.value.hint


def test_write_read_and_replace_a_secret(cluster, app):
    written = cluster.write_secret(NS, "db", {"password": "s3cret"}, labels={"app": "db"},
                                   annotations={"workshop/owner": "test"})
    assert written.summary() == f"Secret {NS}/db holds keys ['password']"
    read = cluster.read_secret(NS, "db")
    assert read.value("password") == "s3cret"
    assert read.labels == {"app": "db"} and read.annotations == {"workshop/owner": "test"}
    assert "s3cret" not in read._repr_html_() and "s3cret" not in repr(read)
    assert "s3cret" in cluster.read_secret(NS, "db", reveal=True)._repr_html_()
    replaced = cluster.write_secret(NS, "db", {"password": "rotated", "user": "app"})
    assert replaced.action == "replaced"
    assert cluster.read_secret(NS, "db").data == {"password": "rotated", "user": "app"}
    raw = cluster.core.read_namespaced_secret("db", NS)
    assert raw.data["password"] == base64.b64encode(b"rotated").decode()


def test_reading_a_missing_secret_raises_not_found_with_a_hint(cluster, app):
    with pytest.raises(ClusterError) as info:
        cluster.read_secret(NS, "missing")
    assert info.value.status == 404 and info.value.reason == "NotFound"
    assert 'secrets "missing" not found' in info.value.message
    assert info.value.hint == 'secrets "missing" does not exist: create it first, or check the spelling'
    with pytest.raises(ClusterError) as info:
        cluster.write_secret("no-such-namespace", "x", {"k": "v"})
    assert info.value.hint == ('namespaces "no-such-namespace" does not exist: create it first, '
                                'or check the spelling')


def test_list_secrets_and_find_static_credentials(cluster):
    ns = "cluster-scan"
    cluster.ensure_namespace(ns)
    cluster.write_secret(ns, "app-config", {"password": "p", "url": "postgres://"})
    listing = cluster.list_secrets(ns)
    assert (ns, "app-config", "Opaque", ("password", "url")) in listing.items
    clean = cluster.find_static_credentials(ns)
    assert clean.ok and clean.summary() == f"no Secret in namespace {ns} holds a static Akeyless/API credential"

    cluster.write_secret(ns, "akeyless-creds", {"accessId": "p-abc", "accessKey": "k", "url": "https://gw"})
    cluster.write_secret(ns, "api", {"api-token": "t"})
    found = cluster.find_static_credentials(ns)
    assert not found.ok
    assert found.summary() == (f"2 Secret(s) in namespace {ns} look like static credentials: "
                               f"{ns}/akeyless-creds ['accessId', 'accessKey']; {ns}/api ['api-token']")
    assert "k" not in [value for _, value in found.rows()]
    everywhere = cluster.find_static_credentials()
    assert (ns, "akeyless-creds") in {(f[0], f[1]) for f in everywhere.findings}
    assert any(item[0] == ns for item in cluster.list_secrets().items)


def test_discovery_issuer_matches_the_tokens(cluster, app):
    found = cluster.discovery()
    assert found.ok and found.jwks_uri
    assert found.issuer == cluster.request_token(NS, "app").decoded.issuer
    assert found.summary() == f"issuer {found.issuer}"


def test_self_review_for_the_admin(cluster):
    allowed = cluster.can_i("create", "tokenreviews", REVIEWER_GROUP)
    assert allowed.allowed and allowed.user.startswith("kubeconfig user")


def test_as_identity_rejects_a_non_jwt(cluster):
    with pytest.raises(tokens.TokenError):
        cluster.as_identity("not-a-token")
