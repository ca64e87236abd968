"""The failures users report from real AKS clusters, each run live on the lab: the exact error and its fix."""
from __future__ import annotations

import os

import pytest

from helpers import failures

NAMES = dict(namespace="fail-app", service_account="fail-sa", reviewer_namespace="fail-gw",
             reviewer_service_account="fail-reviewer", auth_method="/workshop/fail-k8s", k8s_conf_name="fail-conf",
             role="/workshop/fail-reader", secret_path="/fail/app/db-password", secret_rule="/fail/app/*",
             other_secret_path="/fail/other/token", k8s_secret="fail-secret", other_namespace="fail-other",
             api_key_auth_method="/workshop/fail-api-key", other_team_auth_method="/workshop/fail-other-team")


@pytest.fixture(scope="module")
def chapter(lab, lab_settings):
    saved = os.environ.get("WORKSHOP_LAB_DIR")
    os.environ["WORKSHOP_LAB_DIR"] = str(lab_settings.lab_dir)
    try:
        from helpers.chapters.kubernetes_auth import Chapter
        chapter = Chapter.open(kube=lab_settings.kube, **NAMES)
        chapter.seed_secret()
        chapter.request_token()
        chapter.create_auth_method()
        chapter.create_reviewer()
        chapter.create_gateway_config()
        chapter.create_role()
        assert chapter.authenticate(chapter.fresh_token()).ok   # the happy path works before we break it
        yield chapter
        chapter.cleanup()
    finally:
        if saved is None:
            os.environ.pop("WORKSHOP_LAB_DIR", None)
        else:
            os.environ["WORKSHOP_LAB_DIR"] = saved


def run(chapter, name):
    case = failures.run(chapter, name)
    assert case.reproduced, case.summary()
    assert case._repr_mimebundle_()["text/plain"] == case.summary() and "\n" not in case.summary()
    return case


def test_issuer_mismatch(chapter):
    case = run(chapter, "issuer mismatch")
    issuer = chapter.cluster.discovery().issuer
    assert case.error.startswith("authentication failed: ")
    assert "issuer validation failed" in case.error and failures.AKS_OIDC_ISSUER_EXAMPLE in case.error
    assert issuer in case.fix and "--disable-issuer-validation true" in case.fix
    assert chapter.authenticate(chapter.fresh_token()).ok       # the chapter's own config is untouched


def test_api_server_unreachable_from_the_gateway(chapter):
    case = run(chapter, "API server unreachable from the gateway")
    assert "failed to call the Kubernetes TokenReview API" in case.error
    assert "dial tcp" in case.error and "i/o timeout" in case.error     # as a Go gateway words it
    assert "--use-gw-service-account" in case.fix and "authorized-ip-ranges" in case.fix


def test_cluster_store_without_service_account_namespace(chapter):
    case = run(chapter, "ClusterSecretStore without serviceAccountRef.namespace")
    p = chapter.p
    assert (f'cannot request Kubernetes service account token for service account "{p.service_account}": '
            f'serviceaccounts "{p.service_account}" not found') in case.error
    assert f"serviceAccountRef.namespace: {p.namespace}" in case.fix


def test_gateway_url_on_the_wrong_path(chapter):
    case = run(chapter, "gateway URL on the wrong path")
    assert "authentication failed: " in case.error and "unknown command 'api/v1/auth'" in case.error
    assert "/api/v2" in case.fix and "404 page not found" in case.fix


def test_expired_reviewer_jwt(chapter):
    case = failures.run(chapter, "expired reviewer JWT")
    if chapter.settings.kube != "emulator":
        assert case.not_here and case.ok, "the real kube-apiserver's clock cannot move: said, not faked"
        return
    assert case.reproduced, case.summary()
    assert "rejected the TokenReview bearer (token-reviewer-jwt) with 401 Unauthorized" in case.error
    assert "gateway-update-k8s-auth-config" in case.fix
    assert chapter.authenticate(chapter.fresh_token()).ok       # clock back, chapter config still good


def test_eso_service_account_without_token_rbac(chapter):
    case = run(chapter, "ESO's ServiceAccount cannot create serviceaccounts/token")
    p = chapter.p
    assert (f'cannot request Kubernetes service account token for service account "{p.service_account}": ') in case.error
    assert 'cannot create resource "serviceaccounts/token"' in case.error
    assert "--resource=serviceaccounts/token" in case.fix
