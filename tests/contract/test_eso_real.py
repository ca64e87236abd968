"""The real External Secrets Operator in the lab's real stack: what the chapter tells a learner ESO does,
checked on ESO itself (v0.16.2, out of cluster, as its own ServiceAccount with its chart's RBAC).

Waits are bounded (helpers.eso_controller.wait) and never assert durations: those are benchmarks.
"""
from __future__ import annotations

import copy
import time

import psutil
import pytest

from helpers import akeyless_client as ak
from helpers import eso, eso_controller, eso_trace, workload
from helpers import lab as lab_runtime
from helpers.doctor import run_doctor
from helpers.errors import ClusterError
from helpers.lab import eso as lab_eso

from .eso_stack import close_chapter, needs_real_stack, open_chapter

pytestmark = [pytest.mark.apiserver, needs_real_stack]
WAIT = 45.0


@pytest.fixture(scope="module")
def chapter(tmp_path_factory):
    chapter, patch = open_chapter(tmp_path_factory, "eso-real")
    yield chapter
    close_chapter(chapter, patch)


def _external(chapter, name: str, *, path: str | None = None, refresh: str = "1h", store=None) -> eso.Manifest:
    store = store or chapter.secret_store()
    manifest = eso.external_secret(name, chapter.p.namespace, store, name, {"password": path or chapter.p.secret_path},
                                   refresh_interval=refresh)
    return manifest


def _wait_for(predicate, timeout: float = WAIT, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def test_first_sync_writes_the_secret_with_esos_metadata(chapter):
    external = _external(chapter, "first-sync")
    live = eso_controller.sync_for_real(chapter.cluster, chapter.secret_store(), external, timeout=WAIT,
                                        audit_log=chapter.session.lab.apiserver_audit_log, akeyless=chapter.akeyless,
                                        progress=None)
    assert live.store.ok and live.store.reason == "Valid", live.store.summary()
    assert live.external.ok and live.external.reason == "SecretSynced", live.external.summary()
    assert live.secret.value("password") == "first-value"
    assert live.secret.labels[eso.MANAGED_LABEL] == "true"
    assert live.secret.labels[eso.OWNER_LABEL] == eso.object_hash(f"{chapter.p.namespace}/first-sync")
    assert live.secret.annotations[eso.HASH_ANNOTATION] == eso.data_hash({"password": "first-value"})
    [(api_version, kind, name, uid, controller)] = live.secret.owner_references
    assert (api_version, kind, name, uid, controller) == ("external-secrets.io/v1", "ExternalSecret", "first-sync",
                                                          live.external.uid, True)


def test_the_trace_shows_tokenrequest_auth_review_and_reads_in_order(chapter):
    since = time.time()
    external = _external(chapter, "traced")
    live = eso_controller.sync_for_real(chapter.cluster, chapter.secret_store(), external, timeout=WAIT,
                                        audit_log=chapter.session.lab.apiserver_audit_log, akeyless=chapter.akeyless,
                                        progress=None)
    assert live.ok
    trace = eso_trace.trace(chapter.session.lab.apiserver_audit_log, chapter.akeyless, since=since,
                            namespace=chapter.p.namespace)
    labels = [c.label.split()[0] for c in trace.calls]
    order = [labels.index(x) for x in ("TokenRequest", "/auth", "TokenReview", "/describe-item", "/get-secret-value")]
    assert order == sorted(order), labels
    token_request = next(c for c in trace.calls if c.label.startswith("TokenRequest"))
    assert f"aud={chapter.p.audience}" in token_request.label and "600 s" in token_request.label
    assert all(agent.startswith("eso-controller/") for agent in trace.user_agents(eso_trace.API)), trace.rows()
    assert trace.user_agents(eso_trace.GATEWAY) == {eso_trace.ESO_GATEWAY_AGENT}, trace.rows()
    assert all(c.latency_ms is not None for c in trace.calls)
    text = trace.mermaid()
    assert text.startswith("sequenceDiagram") and "ESO->>API: TokenRequest" in text and "ESO->>GW: /auth" in text


def test_rotation_reaches_the_secret_within_refresh_interval(chapter):
    external = _external(chapter, "rotating", refresh="2s")
    assert eso_controller.sync_for_real(chapter.cluster, chapter.secret_store(), external, timeout=WAIT,
                                        progress=None).ok
    ak.update_secret(chapter.akeyless, chapter.p.secret_path, "rotated-value")
    try:
        rotated = _wait_for(lambda: chapter.cluster.read_secret(chapter.p.namespace, "rotating").value("password")
                            == "rotated-value")
        assert rotated, "the Secret never followed the new value"
    finally:
        ak.update_secret(chapter.akeyless, chapter.p.secret_path, "first-value")


def test_force_sync_reads_akeyless_at_once(chapter):
    external = _external(chapter, "forced", refresh="1h")
    assert eso_controller.sync_for_real(chapter.cluster, chapter.secret_store(), external, timeout=WAIT,
                                        progress=None).ok
    ak.update_secret(chapter.akeyless, chapter.p.secret_path, "forced-value")
    try:
        since = eso_controller.force_sync(chapter.cluster, external)
        status = eso_controller.wait(chapter.cluster, external, since=since, timeout=WAIT, progress=None)
        assert status.ok
        value = _wait_for(lambda: chapter.cluster.read_secret(chapter.p.namespace, "forced").value("password")
                          == "forced-value")
        assert value
    finally:
        ak.update_secret(chapter.akeyless, chapter.p.secret_path, "first-value")


def test_deleting_the_owner_garbage_collects_the_secret(chapter):
    external = _external(chapter, "owned")
    assert eso_controller.sync_for_real(chapter.cluster, chapter.secret_store(), external, timeout=WAIT,
                                        progress=None).ok
    eso_controller.delete(chapter.cluster, external)

    def gone():
        try:
            chapter.cluster.read_secret(chapter.p.namespace, "owned")
        except ClusterError as exc:
            return exc.status == 404
        return False
    assert _wait_for(gone), "kube-controller-manager's garbage collector did not delete the owned Secret"


def test_a_path_outside_the_role_shows_on_the_external_secret(chapter):
    external = _external(chapter, "denied", path=chapter.p.other_secret_path)
    live = eso_controller.sync_for_real(chapter.cluster, chapter.secret_store(), external, timeout=WAIT, progress=None)
    assert not live.external.ok and not live.external.timed_out
    assert live.external.reason == "SecretSyncedError"
    assert chapter.p.other_secret_path in live.external.message
    assert any(e["type"] == "Warning" for e in live.external.events)


def test_reproduce_returns_esos_verdict_and_removes_the_broken_objects(chapter):
    store = chapter.secret_store()
    broken = _external(chapter, "unused", path=chapter.p.other_secret_path)
    verdict = eso_controller.reproduce(chapter.cluster, store, broken, name="broken-path", timeout=WAIT)
    assert verdict.reason == "SecretSyncedError" and "item does not exist" in verdict.message
    for kind in ("ExternalSecret", "SecretStore"):
        assert chapter.cluster.get_object(eso.API_VERSION, kind, chapter.p.namespace, "broken-path") is None


def test_without_create_serviceaccounts_token_eso_reports_its_own_error(chapter):
    role = chapter.cluster.get_object("rbac.authorization.k8s.io/v1", "ClusterRole", None,
                                      "external-secrets-controller")
    narrowed = copy.deepcopy(role)
    narrowed["rules"] = [r for r in role["rules"] if r["resources"] != ["serviceaccounts/token"]]
    for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
        narrowed["metadata"].pop(key, None)
    chapter.cluster.apply(narrowed, field_manager=lab_eso.FIELD_MANAGER)
    try:
        external = _external(chapter, "no-token-rights")
        live = eso_controller.sync_for_real(chapter.cluster, chapter.secret_store(), external, timeout=WAIT,
                                            progress=None)
        assert not live.external.ok and not live.external.timed_out
        assert "cannot request Kubernetes service account token" in live.external.message
        assert 'cannot create resource "serviceaccounts/token"' in live.external.message
    finally:
        chapter.cluster.apply({**narrowed, "rules": lab_eso.controller_rules()}, field_manager=lab_eso.FIELD_MANAGER)


def test_the_crd_schema_refuses_a_malformed_external_secret(chapter):
    body = copy.deepcopy(_external(chapter, "malformed").body)
    body["spec"]["data"] = [{"secretKey": "password", "remoteRef": {"property": "no key"}}]
    with pytest.raises(ClusterError) as refused:
        eso_controller.apply(chapter.cluster, body)
    assert refused.value.status == 422
    assert "spec.data[0].remoteRef.key" in refused.value.message and "Required value" in refused.value.message


def test_an_unreachable_gateway_is_reported_not_waited_for(chapter):
    method = chapter.auth_method()
    store = eso.secret_store("unreachable-store", chapter.p.namespace, "https://127.0.0.1:9/api/v2",
                             method.access_id, chapter.p.k8s_conf_name, chapter.p.service_account,
                             audiences=[chapter.p.audience], ca_bundle_pem=chapter.gateway_ca_pem())
    external = _external(chapter, "unreachable", store=store)
    live = eso_controller.sync_for_real(chapter.cluster, store, external, timeout=WAIT, progress=None)
    assert not live.store.timed_out and not live.store.ok
    assert "127.0.0.1:9" in live.store.message


def test_lab_status_reports_the_controllers(chapter):
    status = lab_runtime.status(chapter.settings)
    assert status.ok, status.detail
    assert "kube-controller-manager up" in status.detail and "external-secrets up" in status.detail
    assert chapter.session.lab.real_eso and "kube-controller-manager" in chapter.session.lab.stack


def test_the_controller_manager_gives_a_new_namespace_its_default_account_and_ca(chapter):
    chapter.cluster.ensure_namespace("kcm-check")
    assert _wait_for(lambda: chapter.cluster.get_object("v1", "ServiceAccount", "kcm-check", "default"))
    ca = _wait_for(lambda: chapter.cluster.get_object("v1", "ConfigMap", "kcm-check", "kube-root-ca.crt"))
    assert ca["data"]["ca.crt"].strip() == chapter.cluster.ca_certificate().pem.strip()


def test_step_one_pod_gets_the_projected_token_and_a_pod_bound_token(chapter):
    pod = workload.run_pod(chapter.cluster, chapter.p.namespace, chapter.p.service_account,
                           audience=chapter.p.audience)
    assert pod.phase == "Pending"
    [(volume, sources, mount)] = [v for v in pod.projected if v[0].startswith("kube-api-access-")]
    assert mount == "/var/run/secrets/kubernetes.io/serviceaccount"
    assert any(line.startswith("serviceAccountToken path=token") for line in sources)
    assert any(line == "configMap kube-root-ca.crt" for line in sources)
    assert pod.pod_claims == {"name": workload.POD_NAME, "uid": pod.uid}
    answer = chapter.authenticate(pod.token.token)
    assert answer.ok, answer.error
    assert answer.sub_claims.get("pod_name") == [workload.POD_NAME]
    assert chapter.cluster.delete_pod(chapter.p.namespace, workload.POD_NAME).action == "deleted"


# --- doctor: last, since they break the stack on purpose (the lab is restarted after) ------------------

def test_doctor_names_a_missing_crd(chapter):
    name = "clustersecretstores.external-secrets.io"
    crd = chapter.cluster.get_object("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, name)
    chapter.cluster.delete_object("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, name)
    try:
        assert _wait_for(lambda: chapter.cluster.get_object("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                                                            None, name) is None)
        report = run_doctor(chapter.settings)
        check = report.check("ESO CRDs established")
        assert check.status == "FAIL" and name in check.detail
    finally:
        for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"):
            crd["metadata"].pop(key, None)
        crd.pop("status", None)
        chapter.cluster.apply(crd, field_manager=lab_eso.FIELD_MANAGER)
        assert _wait_for(lambda: eso_controller.crds_established(chapter.cluster)["clustersecretstores"])


def test_doctor_names_a_stopped_controller(chapter):
    before = run_doctor(chapter.settings)
    assert before.check("ESO controller up").status == "PASS", before.as_text()
    [controller] = [p for p in psutil.Process(chapter.session.lab.pid).children() if p.name() == "eso-controller"]
    controller.kill()
    controller.wait(10)
    try:
        check = run_doctor(chapter.settings).check("ESO controller up")
        assert check.status == "FAIL" and "does not answer" in check.detail and "lab up --kube apiserver" in check.fix
    finally:
        lab_runtime.down(chapter.settings)
        chapter.session.lab = lab_runtime.up(chapter.settings)
